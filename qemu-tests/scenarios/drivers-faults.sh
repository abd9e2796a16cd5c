# SPDX-License-Identifier: GPL-2.0
# A misbehaving driver gets error codes for bad requests, and is stopped
# with its device quiesced when it traps, loops or panics the engine; the
# kernel, the device and the other instances go on.
# vm: --qemu -device --qemu edu --module-args test_hooks=1 --timeout 600
. ./guest-lib.sh

abuse() {
    ./drv-ioctl abuse /dev/drvabuse "$1" "$2"
}

# expect_abuse OP ARG WANT WHAT
expect_abuse() {
    got=$(abuse "$1" "$2")
    [ "$got" = "$3" ] || fail "$4: got $got, wanted $3"
    ok "$4 ($3)"
}

expect_status 0 "the abuse driver loads" -- cvctl driver load drvabuse drv-abuse.wasm --pci 1234:11e8
expect_abuse 1 0 0 "an MMIO read inside BAR 0"
expect_abuse 1 1048576 -7 "past the BAR: OutOfBounds"
expect_abuse 1 1048574 -7 "straddling its end: OutOfBounds"
expect_abuse 1 2 -8 "misaligned: Misaligned"
expect_abuse 2 3 -2 "width 3: InvalidArgument"
expect_abuse 3 12345 -6 "a forged handle: BadHandle"
expect_abuse 4 65534 -5 "a result pointer outside linear memory: BadPointer"
expect_abuse 12 2 -7 "a batch with one bad op: OutOfBounds, nothing runs"
expect_abuse 9 4096 -7 "configuration space past its end"
expect_abuse 10 16 -3 "writing BAR 0 in configuration space: PermissionDenied"
command=$(( $(abuse 9 4) & 0xffff ))
expect_abuse 11 $(( command ^ 0x100 )) -3 "changing SERR in the command register: PermissionDenied"
expect_abuse 11 $(( command | 0x4 )) 0 "turning bus mastering on"
h=$(abuse 6 8192)
[ "$h" -gt 0 ] || fail "dma_alloc: $h"
expect_abuse 7 "$h" 0 "freeing a DMA buffer"
expect_abuse 7 "$h" -6 "freeing it again: BadHandle"
expect_abuse 8 "$h" -6 "using it after free: BadHandle"
expect_abuse 6 8388608 -9 "more DMA than the quota: QuotaExceeded"
expect_abuse 17 2000000 -2 "sleeping over a second: InvalidArgument"
cvctl driver list > list
expect_grep 'drvabuse .* running' list "errors are not faults: still running"

expect_status 125 "another driver cannot take the device meanwhile" -- cvctl driver load edu edu.wasm
expect_grep 'no free PCI device 1234:11e8: device or resource busy' err "a bound device is not taken twice"

if abuse 20 0 > out 2>&1; then :; fi
expect_grep 'No such device' out "a trap in an ioctl fails the call with ENODEV"
cvctl driver list > list
expect_grep 'drvabuse .* dead' list "the driver is listed dead"
expect_grep 'drvabuse: cervus_chr_ioctl trapped' list "with the reason"
dmesg | grep -q 'cervus: driver drvabuse stopped: cervus_chr_ioctl trapped.*0000:00:04.0 quiesced' || fail "log"
ok "the kernel log says so, once"
grep -q 'cervus:drvabuse' /proc/interrupts && fail "interrupt still requested"
ok "its interrupt is freed"
expect_status 0 "a dead driver unloads" -- cvctl driver unload drvabuse

expect_status 0 "loaded again" -- cvctl driver load drvabuse drv-abuse.wasm --pci 1234:11e8
expect_abuse 18 1 0 "arm an endless loop in the interrupt handler"
expect_abuse 19 65536 0 "raise an interrupt"
i=0
until cvctl driver list | grep -q 'drvabuse .* dead'; do
    [ $i -lt 300 ] || fail "the looping driver was not stopped"
    sleep 0.1
    i=$((i + 1))
done
cvctl driver list > list
expect_grep 'cervus_irq used up its budget' list "the looping interrupt handler is stopped by its budget"
expect_status 0 "apps still run" -- cvctl run proof.wasm
expect_file_eq out expected/proof.out "with the right results"
expect_status 0 "unload" -- cvctl driver unload drvabuse

# trap_test BIT EXPORT TRIGGER...: arms a trap in EXPORT of a fresh
# drv-abuse, runs TRIGGER, and checks that the driver dies quiesced.
trap_test() {
    bit=$1 export=$2
    shift 2
    cvctl driver load drvabuse drv-abuse.wasm --pci 1234:11e8 || fail "load to test $export"
    [ "$(abuse 25 "$bit")" = 0 ] || fail "arming a trap in $export"
    "$@" > /dev/null 2>&1
    i=0
    until cvctl driver list | grep -q "drvabuse: $export trapped"; do
        [ $i -lt 50 ] || fail "a trap in $export did not stop the driver"
        sleep 0.1
        i=$((i + 1))
    done
    grep -q 'cervus:drvabuse' /proc/interrupts && fail "$export: the interrupt is still requested"
    cvctl driver unload drvabuse || fail "unload after a trap in $export"
    ok "a trap in $export stops the driver, quiesced"
}
trap_test 1 cervus_irq ./drv-ioctl abuse /dev/drvabuse 19 65536
trap_test 2 cervus_timer ./drv-ioctl abuse /dev/drvabuse 14 0
trap_test 4 cervus_chr_open cat /dev/drvabuse
trap_test 8 cervus_chr_read cat /dev/drvabuse
trap_test 16 cervus_chr_write sh -c 'echo x > /dev/drvabuse'
trap_test 32 cervus_chr_release true
cvctl driver load drvabuse drv-abuse.wasm --pci 1234:11e8 || fail "load to test cervus_remove"
[ "$(abuse 25 64)" = 0 ] || fail "arming a trap in cervus_remove"
expect_status 0 "a trap in cervus_remove still unloads" -- cvctl driver unload drvabuse
dmesg | grep -q 'cervus: driver drvabuse: cervus_remove trapped' || fail "the remove trap is not logged"
ok "and is logged"
expect_status 125 "a trap in cervus_probe fails the load" -- cvctl driver load badprobe drv-badprobe.wasm --pci 1234:11e8
expect_grep 'cervus_probe trapped' err "with the reason"
[ ! -e /sys/bus/pci/devices/0000:00:04.0/driver ] || fail "the device is still bound"
grep -q 'cervus:badprobe' /proc/interrupts && fail "its interrupt is still requested"
[ -z "$(cvctl driver list | sed 1d)" ] || fail "it is listed"
ok "the device is released, its interrupt freed"

expect_status 0 "a driver that panics the engine loads" -- cvctl driver load drvpanic drv-panic.wasm --pci 1234:11e8
if ./drv-ioctl abuse /dev/drvpanic 1 0 > out 2>&1; then :; fi
expect_grep 'No such device' out "its panicking ioctl fails with ENODEV"
dmesg | grep -q 'cervus: engine panic: instance [0-9]* called cervus_test.engine_panic' || fail "panic log"
cvctl driver list > list
expect_grep 'drvpanic .* dead .*' list "it is dead"
expect_status 0 "and unloads (its lock was released)" -- cvctl driver unload drvpanic

expect_status 0 "after all that the edu driver loads on the same device" -- cvctl driver load edu edu.wasm
echo 9 > /dev/edu
[ "$(cat /dev/edu)" = 362880 ] || fail "9!"
expect_status 0 "and does DMA" -- ./drv-ioctl edu-dma /dev/edu
ok "the device still works"
expect_status 0 "unload" -- cvctl driver unload edu
