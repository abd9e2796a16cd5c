;; Divides INT_MIN by -1: an integer-overflow trap, never a CPU exception.
(module
  (func (export "_start") (result i32)
    (i32.div_s (i32.const 0x80000000) (i32.const -1))))
