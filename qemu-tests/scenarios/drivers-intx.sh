# SPDX-License-Identifier: GPL-2.0
# With MSI disabled (pci=nomsi) the edu driver gets a shared, level-triggered
# INTx line. The host's hard handler reads the status register the driver
# declared, acknowledges it (so the line drops) and passes the status to the
# driver; an interrupt that is not the device's is left to the line's other
# handlers.
# vm: --qemu -device --qemu edu --append pci=nomsi
. ./guest-lib.sh

edu_stat() {
    ./drv-ioctl edu-stats /dev/edu | awk -v k="$1" '$1 == k { print $2 }'
}

expect_status 0 "the edu driver loads" -- cvctl driver load edu edu.wasm
dmesg | grep -q 'cervus: instance [0-9]* (edu): edu 1.0 ready: Intx interrupts' || fail "not INTx"
grep 'cervus:edu' /proc/interrupts > irqline || fail "no cervus:edu interrupt"
expect_grep 'IO-APIC' irqline "it chose INTx, an IO-APIC line"

for n in 3 6 9 12; do
    echo $n > /dev/edu || fail "write $n"
    got=$(cat /dev/edu)
    want=$(awk -v n=$n 'BEGIN { f = 1; for (i = 2; i <= n; i++) f *= i; printf "%d", f }')
    [ "$got" = "$want" ] || fail "$n! read back as '$got', wanted $want"
done
ok "factorials completed by INTx interrupts"
[ "$(edu_stat missed)" = 0 ] || fail "the watchdog had to step in"
for i in 1 2 3; do
    ./drv-ioctl edu-raise /dev/edu 0x20000 || fail "raise"
done
i=0
until [ "$(edu_stat raised)" = 3 ]; do
    [ $i -lt 50 ] || fail "raised interrupts: $(edu_stat raised), wanted 3"
    sleep 0.1
    i=$((i + 1))
done
ok "raised interrupts arrive with their status, acknowledged by the host"
expect_status 0 "a DMA round trip, completed by INTx" -- ./drv-ioctl edu-dma /dev/edu
expect_status 0 "unload" -- cvctl driver unload edu
dmesg > log
if grep -Eq 'nobody cared|Disabling IRQ' log; then
    cat log
    fail "the interrupt line was disabled"
fi
ok "no interrupt storm: the line was never disabled"
