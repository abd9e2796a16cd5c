;; A driver for QEMU's edu device that misuses its capabilities on request,
;; to test that the host refuses each misuse with the documented error and
;; that the device, the kernel and other drivers go on.
;;
;; It registers /dev/drvabuse. Each ioctl is `_IOWR('T', op, [i32; 2])`:
;; the driver reads the argument from the first i32, does operation `op`
;; with it, and writes the hostcall's result to the second i32. Operations:
;;
;;   1 mmio_read 4 bytes at offset ARG        2 mmio_read ARG bytes at 0
;;   3 mmio_read with handle ARG              4 mmio_read into pointer ARG
;;   5 mmio_write 4 bytes at offset ARG       6 dma_alloc ARG bytes
;;   7 dma_free handle ARG                    8 dma_write 16 bytes to handle ARG
;;   9 pci_config_read 4 bytes at ARG        10 pci_config_write 4 bytes at ARG
;;  11 pci_config_write command := ARG       12 mmio_batch of ARG ops (#2 is OOB)
;;  13 irq_alloc kinds ARG                   14 timer_start id ARG
;;  15 chrdev_register name of ARG bytes     16 user_read into pointer ARG
;;  17 sleep_us ARG                          18 loop forever in cervus_irq if ARG
;;  19 raise edu interrupt bits ARG          20 trap (unreachable)
;;  21 loop forever                          22 dma_bus_addr handle ARG
;;  23 interrupts handled so far             24 dma_set_mask ARG bits
;;  25 trap in the callbacks whose bits are set in ARG: 1 cervus_irq,
;;     2 cervus_timer, 4 cervus_chr_open, 8 cervus_chr_read,
;;     16 cervus_chr_write, 32 cervus_chr_release, 64 cervus_remove
;;
;; Reads return end of file; writes take everything.
(module
  (import "cervus_drv" "pci_config_read" (func $pci_config_read (param i32 i32) (result i64)))
  (import "cervus_drv" "pci_config_write" (func $pci_config_write (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "mmio_map" (func $mmio_map (param i32) (result i32)))
  (import "cervus_drv" "mmio_read" (func $mmio_read (param i32 i64 i32 i32) (result i32)))
  (import "cervus_drv" "mmio_write" (func $mmio_write (param i32 i64 i32 i64) (result i32)))
  (import "cervus_drv" "mmio_batch" (func $mmio_batch (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "dma_set_mask" (func $dma_set_mask (param i32) (result i32)))
  (import "cervus_drv" "dma_alloc" (func $dma_alloc (param i64) (result i32)))
  (import "cervus_drv" "dma_free" (func $dma_free (param i32) (result i32)))
  (import "cervus_drv" "dma_bus_addr" (func $dma_bus_addr (param i32) (result i64)))
  (import "cervus_drv" "dma_write" (func $dma_write (param i32 i64 i32 i32) (result i32)))
  (import "cervus_drv" "irq_alloc" (func $irq_alloc (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "irq_mode" (func $irq_mode (result i32)))
  (import "cervus_drv" "irq_intx_config" (func $irq_intx_config (param i32 i64 i64 i32) (result i32)))
  (import "cervus_drv" "timer_start" (func $timer_start (param i32 i64 i64) (result i32)))
  (import "cervus_drv" "chrdev_register" (func $chrdev_register (param i32 i32) (result i32)))
  (import "cervus_drv" "user_read" (func $user_read (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "user_write" (func $user_write (param i32 i32 i32) (result i32)))
  (import "cervus_drv" "sleep_us" (func $sleep_us (param i64) (result i32)))
  (memory (export "memory") 1)
  ;; 0x100: an mmio_batch of two reads: the identification, then past the BAR.
  (data (i32.const 0x100)
    "\00\04\00\00" "\00\00\00\00" "\00\00\00\00\00\00\00\00"
    "\00\04\00\00" "\00\00\10\00" "\00\00\00\00\00\00\00\00")
  ;; 0x200: the device name, then a name with a slash.
  (data (i32.const 0x200) "drvabuse/x")
  (global $mmio (mut i32) (i32.const 0))
  (global $loop_in_irq (mut i32) (i32.const 0))
  (global $irqs (mut i32) (i32.const 0))
  (global $trap_in (mut i32) (i32.const 0))

  ;; Traps if callback bit `bit` was armed by operation 25.
  (func $maybe_trap (param $bit i32)
    (if (i32.and (global.get $trap_in) (local.get $bit)) (then unreachable)))

  (func $check (param i32)
    (if (i32.lt_s (local.get 0) (i32.const 0)) (then unreachable)))

  (func (export "cervus_probe") (result i32)
    (global.set $mmio (call $mmio_map (i32.const 0)))
    (call $check (global.get $mmio))
    (call $check (call $dma_set_mask (i32.const 28)))
    ;; MSI or INTx; INTx is acknowledged by the host from the edu's
    ;; interrupt status (0x24) and acknowledge (0x64) registers.
    (call $check (call $irq_alloc (i32.const 6) (i32.const 1) (i32.const 1)))
    (if (i32.eq (call $irq_mode) (i32.const 4))
      (then (call $check (call $irq_intx_config (global.get $mmio) (i64.const 0x24) (i64.const 0x64) (i32.const 4)))))
    ;; Bus mastering on: MSI messages are memory writes by the device.
    (call $check (call $pci_config_write (i32.const 4) (i32.const 2)
      (i32.or (i32.wrap_i64 (call $pci_config_read (i32.const 4) (i32.const 2))) (i32.const 6))))
    ;; Raise an interrupt when a factorial is done (status bit 7).
    (call $check (call $mmio_write (global.get $mmio) (i64.const 0x20) (i32.const 4) (i64.const 0x80)))
    (call $chrdev_register (i32.const 0x200) (i32.const 8)))

  (func (export "cervus_irq") (param $vector i32) (param $status i32) (param $count i32)
    (local $bits i32)
    (call $maybe_trap (i32.const 1))
    (if (global.get $loop_in_irq) (then (loop $forever (br $forever))))
    (global.set $irqs (i32.add (global.get $irqs) (local.get $count)))
    ;; MSI: acknowledge what the device raised.
    (if (i32.eqz (local.get $status))
      (then
        (drop (call $mmio_read (global.get $mmio) (i64.const 0x24) (i32.const 4) (i32.const 0x40)))
        (drop (call $mmio_write (global.get $mmio) (i64.const 0x64) (i32.const 4)
          (i64.extend_i32_u (i32.load (i32.const 0x40))))))))

  (func $op (param $op i32) (param $arg i32) (result i32)
    (block $unknown
      (block $25 (block $24 (block $23 (block $22 (block $21 (block $20 (block $19 (block $18 (block $17
      (block $16 (block $15 (block $14 (block $13 (block $12 (block $11 (block $10 (block $9
      (block $8 (block $7 (block $6 (block $5 (block $4 (block $3 (block $2 (block $1
        (br_table $unknown $1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22 $23 $24
                  $25 $unknown (local.get $op)))
        (return (call $mmio_read (global.get $mmio) (i64.extend_i32_s (local.get $arg)) (i32.const 4) (i32.const 0x40))))
      (return (call $mmio_read (global.get $mmio) (i64.const 0) (local.get $arg) (i32.const 0x40))))
      (return (call $mmio_read (local.get $arg) (i64.const 0) (i32.const 4) (i32.const 0x40))))
      (return (call $mmio_read (global.get $mmio) (i64.const 0) (i32.const 4) (local.get $arg))))
      (return (call $mmio_write (global.get $mmio) (i64.extend_i32_s (local.get $arg)) (i32.const 4) (i64.const 0))))
      (return (call $dma_alloc (i64.extend_i32_s (local.get $arg)))))
      (return (call $dma_free (local.get $arg))))
      (return (call $dma_write (local.get $arg) (i64.const 0) (i32.const 0x200) (i32.const 16))))
      (return (i32.wrap_i64 (call $pci_config_read (local.get $arg) (i32.const 4)))))
      (return (call $pci_config_write (local.get $arg) (i32.const 4) (i32.const 0))))
      (return (call $pci_config_write (i32.const 4) (i32.const 2) (local.get $arg))))
      (return (call $mmio_batch (global.get $mmio) (i32.const 0x100) (local.get $arg))))
      (return (call $irq_alloc (local.get $arg) (i32.const 1) (i32.const 1))))
      (return (call $timer_start (local.get $arg) (i64.const 1000000) (i64.const 0))))
      (return (call $chrdev_register (i32.const 0x200) (local.get $arg))))
      (return (call $user_read (i32.const 0) (local.get $arg) (i32.const 8))))
      (return (call $sleep_us (i64.extend_i32_s (local.get $arg)))))
      (global.set $loop_in_irq (local.get $arg))
      (return (i32.const 0)))
      (return (call $mmio_write (global.get $mmio) (i64.const 0x60) (i32.const 4) (i64.extend_i32_u (local.get $arg)))))
      unreachable)
      (loop $forever (br $forever))
      (return (i32.const 0)))
      (return (i32.wrap_i64 (call $dma_bus_addr (local.get $arg)))))
      (return (global.get $irqs)))
      (return (call $dma_set_mask (local.get $arg))))
      (global.set $trap_in (local.get $arg))
      (return (i32.const 0)))
    (i32.const -12))

  (func (export "cervus_timer") (param i32)
    (call $maybe_trap (i32.const 2)))
  (func (export "cervus_chr_open") (param i32) (result i32)
    (call $maybe_trap (i32.const 4))
    (i32.const 0))
  (func (export "cervus_chr_read") (param i32 i32 i64) (result i32)
    (call $maybe_trap (i32.const 8))
    (i32.const 0))
  (func (export "cervus_chr_write") (param i32 i32 i64) (result i32)
    (call $maybe_trap (i32.const 16))
    (local.get 1))
  (func (export "cervus_chr_release") (param i32)
    (call $maybe_trap (i32.const 32)))
  (func (export "cervus_remove")
    (call $maybe_trap (i32.const 64)))

  (func (export "cervus_chr_ioctl") (param $file i32) (param $cmd i32) (param $len i32) (result i32)
    (local $n i32)
    (if (i32.ne (local.get $len) (i32.const 8)) (then (return (i32.const -2))))
    (local.set $n (call $user_read (i32.const 0) (i32.const 0x10) (i32.const 8)))
    (if (i32.ne (local.get $n) (i32.const 8)) (then (return (i32.const -5))))
    (i32.store (i32.const 0x14)
      (call $op (i32.and (local.get $cmd) (i32.const 0xff)) (i32.load (i32.const 0x10))))
    (local.set $n (call $user_write (i32.const 0) (i32.const 0x10) (i32.const 8)))
    (if (i32.ne (local.get $n) (i32.const 8)) (then (return (i32.const -5))))
    (i32.const 0))
)
