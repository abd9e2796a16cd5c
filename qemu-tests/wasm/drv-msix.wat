;; A driver for QEMU's virtio-net-pci that checks the host hides the MSI-X
;; table and pending-bit array: QEMU puts them at offsets 0 and 0x800 of
;; BAR 1. Its probe succeeds only if reading either is PermissionDenied (-3)
;; while BAR 1 itself is mapped; it returns -100 - n for failed check n.
(module
  (import "cervus_drv" "mmio_map" (func $mmio_map (param i32) (result i32)))
  (import "cervus_drv" "mmio_read" (func $mmio_read (param i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cervus_probe") (result i32)
    (local $bar i32)
    (local.set $bar (call $mmio_map (i32.const 1)))
    (if (i32.lt_s (local.get $bar) (i32.const 0)) (then (return (i32.const -101))))
    (if (i32.ne (call $mmio_read (local.get $bar) (i64.const 0) (i32.const 4) (i32.const 0)) (i32.const -3))
      (then (return (i32.const -102))))
    (if (i32.ne (call $mmio_read (local.get $bar) (i64.const 0x800) (i32.const 8) (i32.const 0)) (i32.const -3))
      (then (return (i32.const -103))))
    (i32.const 0))
)
