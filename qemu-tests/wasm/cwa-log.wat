;; Writes two lines (the second unterminated) to log://?prefix=unit, closes
;; it, and logs a warning with log_write.
(module
  (import "cwa" "resource_open" (func $open (param i32 i32) (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "cwa" "resource_close" (func $close (param i32)))
  (import "cwa" "log_write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "log://?prefix=unit")
  (data (i32.const 32) "first line\nsecond")
  (data (i32.const 64) "a warning from wasm")
  (func (export "__app_main")
    (local $id i32)
    (local.set $id (call $open (i32.const 0) (i32.const 18)))
    (drop (call $write (local.get $id) (i32.const 32) (i32.const 17)))
    (call $close (local.get $id))
    (call $log (i32.const 3) (i32.const 64) (i32.const 19))))
