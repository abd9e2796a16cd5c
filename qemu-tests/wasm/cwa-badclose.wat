;; Closes resource 7, which was never opened: a fatal error in CommonWA.
(module
  (import "cwa" "resource_close" (func $close (param i32)))
  (func $main (export "__app_main")
    (call $close (i32.const 7))))
