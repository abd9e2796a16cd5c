# SPDX-License-Identifier: GPL-2.0
# The wasm virtio-net driver carries real traffic: one VM, two virtio-net
# NICs on one QEMU hub, one driven by the wasm driver, the other by the
# in-tree virtio_net inside a network namespace. Ping both ways, ARP, tiny
# and MTU-size frames, 64 MiB TCP transfers checksummed at both ends, link
# down/up from the QEMU monitor, interface down/up, unload under traffic and
# reload.
# vm: --monitor --timeout 900
# vm: --qemu -netdev --qemu hubport,id=hp0,hubid=1 --qemu -netdev --qemu hubport,id=hp1,hubid=1
# vm: --qemu -device --qemu virtio-net-pci,id=wasmnic,netdev=hp0,disable-legacy=on,addr=04,mac=52:54:00:00:00:10,romfile=
# vm: --qemu -device --qemu virtio-net-pci,id=peernic,netdev=hp1,disable-legacy=on,addr=05,mac=52:54:00:00:00:11,romfile=
. ./guest-lib.sh

expect_status 0 "the wasm virtio-net driver takes the first NIC" -- \
    cvctl driver load vnet virtio_net.wasm --slot 00:04.0 --rebind
dmesg | grep -q 'cervus: instance [0-9]* (vnet): virtio-net 52:54:00:00:00:10, MsiX(3) interrupts' ||
    fail "probe log"
WASM=$(net_iface 04)
[ -n "$WASM" ] || fail "no interface for the wasm NIC"
[ "$(cat /sys/class/net/$WASM/address)" = 52:54:00:00:00:10 ] || fail "MAC"
ok "$WASM is registered with the device's MAC, on MSI-X"
./drv-ioctl ethtool "$WASM" > out
expect_grep '^driver: cervus_wasm$' out "ethtool -i: the driver"
expect_grep '^bus-info: 0000:00:04.0$' out "ethtool -i: the bus address"
cvctl driver list > list
expect_grep "vnet .* running .* $WASM " list "cvctl driver list shows the interface"

net_peer_setup 05
net_local_setup "$WASM"
wait_carrier "$WASM" 1
ok "the carrier comes up when the interface is opened"
ping -c 3 -W 5 192.168.100.2 > out || { cat out; fail "ping the peer"; }
in_peer ping -c 3 -W 5 192.168.100.1 > out || { cat out; fail "ping from the peer"; }
ok "ping both ways"
arping -c 2 -w 5 -I "$WASM" 192.168.100.2 > out || { cat out; fail "arping"; }
ok "ARP"
ping -c 3 -s 1472 192.168.100.2 > out || fail "MTU-size frames"
in_peer ping -c 3 -s 1472 192.168.100.1 > out || fail "MTU-size frames from the peer"
ping -c 3 -s 0 192.168.100.2 > out || fail "tiny frames"
ok "MTU-size (1514-byte) and tiny (42-byte) frames both ways"

transfer_check 0 64
ok "64 MiB TCP from the wasm NIC: checksums equal ($(awk '{print $8 " MiB/s"}' send.out))"
transfer_check 1 64
ok "64 MiB TCP to the wasm NIC: checksums equal ($(awk '{print $8 " MiB/s"}' send.out))"
rx=$(cat /sys/class/net/$WASM/statistics/rx_packets)
tx=$(cat /sys/class/net/$WASM/statistics/tx_packets)
[ "$rx" -gt 40000 ] && [ "$tx" -gt 40000 ] || fail "statistics: rx $rx tx $tx"
ok "interface statistics count the frames (rx $rx, tx $tx)"

qemu_monitor "set_link wasmnic off"
wait_carrier "$WASM" 0
ping -c 2 -W 1 192.168.100.2 > out 2>&1 && fail "ping with the link down"
qemu_monitor "set_link wasmnic on"
wait_carrier "$WASM" 1
wait_ping 192.168.100.2
ok "link down/up from the QEMU monitor are carrier changes; traffic resumes"

ip link set "$WASM" down
ip link set "$WASM" up
wait_carrier "$WASM" 1
wait_ping 192.168.100.2
ok "interface down (device reset) and up (re-initialised)"

ping -i 0.1 -c 600 192.168.100.2 > bg-ping.out 2>&1 &
bg=$!
sleep 2
expect_status 0 "unload while a ping runs" -- cvctl driver unload vnet
[ ! -e "/sys/class/net/$WASM" ] || [ "$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")" = virtio-pci ] ||
    fail "the interface is still the wasm driver's"
expect_status 0 "reload" -- cvctl driver load vnet virtio_net.wasm --slot 00:04.0 --rebind
WASM=$(net_iface 04)
net_local_setup "$WASM"
wait_carrier "$WASM" 1
ping -c 3 -W 5 192.168.100.2 > out || fail "ping after the reload"
kill $bg 2>/dev/null
wait $bg 2>/dev/null
ok "after unload and reload traffic resumes"
expect_status 0 "a last transfer" -- transfer_check 0 8
kill "$NS"
