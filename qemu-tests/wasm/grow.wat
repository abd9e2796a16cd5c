;; Grows memory one page at a time until memory.grow fails; returns the
;; number of pages it reached (the cap, in 64 KiB pages).
(module
  (memory (export "memory") 1)
  (func (export "_start") (result i32)
    (block $full
      (loop $more
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $more)))
    (i32.and (memory.size) (i32.const 255))))
