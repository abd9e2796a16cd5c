;; Loads 4 bytes that end one byte past the end of memory: a bounds trap.
(module
  (memory (export "memory") 1)
  (func (export "_start") (result i32)
    (i32.load (i32.const 65533))))
