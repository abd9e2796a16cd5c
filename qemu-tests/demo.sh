# SPDX-License-Identifier: GPL-2.0
# What `ci/demo` shows, run inside the VM: a wasm app in the kernel, then
# the headline: a wasm virtio-net driver bringing up a Linux interface that
# carries traffic to a second NIC (driven by the in-tree virtio_net, in a
# network namespace) on the same QEMU hub, hot-swapped twice under traffic
# and once to a broken version that is rolled back.
set -e
. ./guest-lib.sh
banner() { printf '\n==== %s\n' "$*"; }
banner "cervus.ko is loaded: $(grep '^cervus ' /proc/modules | cut -d' ' -f1-2)"
cvctl version
banner "cvctl run proof.wasm  (Rust compiled to wasm, running inside the kernel)"
cvctl run proof.wasm
banner "a malformed module is refused"
head -c 64 /dev/urandom > junk.wasm
cvctl run junk.wasm || echo "(exit status $?)"

banner "two virtio-net NICs; the in-tree driver holds both"
for slot in 04 05; do
    echo "00:$slot.0 -> $(basename "$(readlink /sys/bus/pci/devices/0000:00:$slot.0/driver)"), $(net_iface $slot)"
done
banner "cvctl driver load vnet virtio_net.wasm --slot 00:04.0 --rebind"
cvctl driver load vnet virtio_net.wasm --slot 00:04.0 --rebind
WASM=$(net_iface 04)
echo "00:04.0 -> $(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)"), $WASM"
./drv-ioctl ethtool "$WASM"
banner "peer NIC into a namespace (192.168.100.2); $WASM up as 192.168.100.1"
net_peer_setup 05
net_local_setup "$WASM"
wait_carrier "$WASM" 1
ip addr show "$WASM"
banner "ping across the wasm driver"
ping -c 4 192.168.100.2
banner "16 MiB over TCP, checksummed at both ends"
transfer_check 0 16
echo "sender:   $(cat send.out)"
echo "receiver: $(cat recv.out)"
banner "hot swap: replace the driver's module while a 32 MiB transfer runs"
changes=$(cat /sys/class/net/$WASM/carrier_changes)
in_peer ./netbench recv 5001 > recv.out &
receiver=$!
sleep 0.3
./netbench send 192.168.100.2 5001 32 > send.out &
sender=$!
sleep 1
cvctl driver swap vnet virtio_net_alt.wasm
cvctl driver swap vnet virtio_net.wasm
wait $sender; wait $receiver
echo "sender:   $(cat send.out)"
echo "receiver: $(cat recv.out)"
echo "carrier changes during the swaps: $(( $(cat /sys/class/net/$WASM/carrier_changes) - changes ))"
banner "a broken new version (its probe traps) is rolled back"
cvctl driver swap vnet virtio_net_trap-at-start.wasm || echo "(exit status $?)"
ping -c 2 192.168.100.2
banner "interface and driver counters"
echo "rx_packets $(cat /sys/class/net/$WASM/statistics/rx_packets), tx_packets $(cat /sys/class/net/$WASM/statistics/tx_packets)"
cvctl driver list
grep cervus /proc/interrupts
banner "cvctl driver unload vnet: the NIC goes back to virtio-pci"
cvctl driver unload vnet
echo "00:04.0 -> $(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")"
kill "$NS"
banner "kernel log"
dmesg | grep cervus
