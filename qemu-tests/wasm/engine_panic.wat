;; Calls the test hook that panics inside the engine (cervus.ko test_hooks=1).
(module
  (import "cervus_test" "engine_panic" (func $engine_panic))
  (import "cervus" "stdio_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "about to panic\n")
  (func (export "_start") (result i32)
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 15)))
    (call $engine_panic)
    (i32.const 0)))
