;; A driver for QEMU's edu device that panics the engine from its ioctl
;; (through the cervus_test hook, cervus.ko test_hooks=1): the driver must
;; die with its device quiesced and its lock released, and everything else
;; go on. It registers /dev/drvpanic and enables MSI or INTx interrupts.
(module
  (import "cervus_test" "engine_panic" (func $engine_panic))
  (import "cervus_drv" "mmio_map" (func $mmio_map (param i32) (result i32)))
  (import "cervus_drv" "irq_alloc" (func $irq_alloc (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "chrdev_register" (func $chrdev_register (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "drvpanic")
  (func (export "cervus_probe") (result i32)
    (if (i32.lt_s (call $mmio_map (i32.const 0)) (i32.const 0)) (then (return (i32.const -4))))
    (if (i32.lt_s (call $irq_alloc (i32.const 2) (i32.const 1) (i32.const 1)) (i32.const 0))
      (then (return (i32.const -4))))
    (call $chrdev_register (i32.const 0) (i32.const 8)))
  (func (export "cervus_chr_ioctl") (param i32 i32 i32) (result i32)
    (call $engine_panic)
    (i32.const 0))
)
