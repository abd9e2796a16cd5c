# SPDX-License-Identifier: GPL-2.0
# The wasm virtio-net driver without MSI-X (QEMU vectors=0): one shared,
# level-triggered INTx line, whose ISR the host's hard handler reads (which
# acknowledges it) and passes to the driver.
# vm: --timeout 600
# vm: --qemu -netdev --qemu hubport,id=hp0,hubid=1 --qemu -netdev --qemu hubport,id=hp1,hubid=1
# vm: --qemu -device --qemu virtio-net-pci,netdev=hp0,disable-legacy=on,vectors=0,addr=04,mac=52:54:00:00:00:10,romfile=
# vm: --qemu -device --qemu virtio-net-pci,netdev=hp1,disable-legacy=on,addr=05,mac=52:54:00:00:00:11,romfile=
. ./guest-lib.sh

expect_status 0 "the wasm driver takes a NIC without MSI-X" -- \
    cvctl driver load vnet virtio_net.wasm --slot 00:04.0 --rebind
dmesg | grep -q 'cervus: instance [0-9]* (vnet): virtio-net 52:54:00:00:00:10, Intx interrupts' || fail "not INTx"
grep 'cervus:vnet' /proc/interrupts > irqline || fail "no interrupt requested"
expect_grep 'IO-APIC' irqline "it uses an IO-APIC line"
WASM=$(net_iface 04)
net_peer_setup 05
net_local_setup "$WASM"
wait_carrier "$WASM" 1
ping -c 3 -W 5 192.168.100.2 > out || { cat out; fail "ping"; }
in_peer ping -c 3 -W 5 192.168.100.1 > out || { cat out; fail "ping from the peer"; }
ok "ping both ways"
transfer_check 0 16
ok "16 MiB TCP from the wasm NIC: checksums equal"
transfer_check 1 16
ok "16 MiB TCP to the wasm NIC: checksums equal"
dmesg > log
if grep -Eq 'nobody cared|Disabling IRQ' log; then
    fail "the interrupt line was disabled"
fi
ok "no interrupt storm"
kill "$NS"
