;; A driver whose probe traps after taking interrupts and DMA memory: the
;; load must fail, and the device be released with nothing left behind.
(module
  (import "cervus_drv" "irq_alloc" (func $irq_alloc (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "dma_alloc" (func $dma_alloc (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "cervus_probe") (result i32)
    (drop (call $irq_alloc (i32.const 6) (i32.const 1) (i32.const 1)))
    (drop (call $dma_alloc (i64.const 65536)))
    unreachable)
)
