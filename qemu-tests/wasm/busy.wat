;; Spins forever without any import: only the engine's slices can stop it.
(module
  (func (export "_start")
    (loop (br 0))))
