;; Imports a function nobody provides.
(module
  (import "nowhere" "nothing" (func))
  (func (export "_start")))
