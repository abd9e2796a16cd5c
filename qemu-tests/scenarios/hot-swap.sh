# SPDX-License-Identifier: GPL-2.0
# Hot swap: a running driver's module is replaced without reboot. The wasm
# NIC keeps its interface (name, index, address, carrier) and a TCP transfer
# over it survives 20 swaps; broken versions (a probe that traps, a link that
# never comes up) are rolled back and traffic goes on; the edu driver is
# swapped under an open /dev/edu and the next read works; a ping flood loses
# at most what was in flight during the blackout. The blackouts (pause to
# resume) and frame gaps (the old version's last frame to the new one's
# first) are printed; qemu-tests/bench/net measures them too.
# vm: --timeout 1200 --qemu -device --qemu edu
# vm: --qemu -netdev --qemu hubport,id=hp0,hubid=1 --qemu -netdev --qemu hubport,id=hp1,hubid=1
# vm: --qemu -device --qemu virtio-net-pci,id=wasmnic,netdev=hp0,disable-legacy=on,addr=05,mac=52:54:00:00:00:10,romfile=
# vm: --qemu -device --qemu virtio-net-pci,id=peernic,netdev=hp1,disable-legacy=on,addr=06,mac=52:54:00:00:00:11,romfile=
. ./guest-lib.sh

hash_of() {
    sha256sum "$1" | cut -c1-16
}
listed() {
    cvctl driver list | awk -v n="$1" -v c="$2" '$2 == n { print $c }'
}

expect_status 0 "load the wasm virtio-net driver" -- cvctl driver load vnet virtio_net.wasm --slot 00:05.0 --rebind
WASM=$(net_iface 05)
net_peer_setup 06
net_local_setup "$WASM"
wait_carrier "$WASM" 1
ping -c 2 -W 5 192.168.100.2 > out || fail "ping"
index=$(cat /sys/class/net/$WASM/ifindex)
changes=$(cat /sys/class/net/$WASM/carrier_changes)
[ "$(listed vnet 17)" = "$(hash_of virtio_net.wasm)" ] || fail "listed hash is not the file's sha256"
ok "cvctl driver list shows the module's hash (its sha256 prefix)"

in_peer ./netbench recv 5001 > recv.out &
receiver=$!
sleep 0.3
./netbench send 192.168.100.2 5001 128 > send.out &
sender=$!
# Pings keep frames flowing should the transfer end before the last swap.
ping -q -i 0.02 192.168.100.2 > /dev/null &
pinger=$!
sleep 2
# The file changes every swap, the engine every other swap: each swap
# changes the module, the engine or both.
for i in $(seq 20); do
    if [ $((i % 2)) = 1 ]; then file=virtio_net_alt.wasm; else file=virtio_net.wasm; fi
    if [ $((i / 2 % 2)) = 1 ]; then engine=interp; else engine=jit; fi
    cvctl driver swap vnet "$file" --engine $engine >> swaps.out || { cat swaps.out; fail "swap $i"; }
    [ "$(listed vnet 17)" = "$(hash_of $file)" ] || fail "swap $i: the listed hash is not $file's"
    [ "$(listed vnet 3)" = $engine ] || fail "swap $i: the listed engine is not $engine"
    sleep 0.3
done
sleep 0.5
kill $pinger
wait $sender || fail "the sender failed during the swaps"
wait $receiver || fail "the receiver failed during the swaps"
sent=$(awk '{ print $2, $4 }' send.out)
received=$(awk '{ print $2, $4 }' recv.out)
[ -n "$sent" ] && [ "$sent" = "$received" ] || fail "sent '$sent', received '$received'"
ok "a 128 MiB TCP transfer survived 20 swaps (between versions and between interp and jit), checksums equal"
[ "$(listed vnet 18)" = 20 ] || fail "swap count: $(listed vnet 18)"
[ "$(cat /sys/class/net/$WASM/ifindex)" = "$index" ] || fail "the interface index changed"
[ "$(net_iface 05)" = "$WASM" ] || fail "the interface name changed"
ip addr show "$WASM" | grep -q 192.168.100.1 || fail "the address is gone"
[ "$(cat /sys/class/net/$WASM/carrier_changes)" = "$changes" ] || fail "the carrier flapped"
ok "same interface name, index and address; the carrier never dropped; 20 swaps listed"
awk '{ sub(/.*blackout /, ""); print $1 }' swaps.out | sort -n > blackouts
echo "blackouts (ms): min $(head -n1 blackouts), median $(sed -n 10p blackouts), max $(tail -n1 blackouts)"
dmesg | grep -c 'cervus: driver vnet swapped: .* blackout [0-9]* us' > n
[ "$(cat n)" -ge 20 ] || fail "swaps are not all logged"
ok "every swap is logged with its blackout"
[ "$(grep -c 'state and running device handed over' swaps.out)" = 20 ] || fail "a swap did not hand the running device over"
[ "$(dmesg | grep -c 'virtio-net: took over the running device')" -ge 20 ] || fail "the new versions did not take the queues over"
ok "every swap handed the running device and its queues over (no reset)"
# The frame gap: from the old version's last frame to the new one's first.
dmesg | sed -n 's/.*cervus: driver vnet: first frames after the swap ([0-9]*) \([0-9]*\) us after.*/\1/p' |
    sort -n > gaps
[ "$(wc -l < gaps)" -ge 20 ] || fail "the frame gaps of the swaps are not all logged: $(wc -l < gaps)"
echo "frame gaps (us): min $(head -n1 gaps), median $(sed -n 10p gaps), max $(tail -n1 gaps); the last three:"
dmesg | grep 'first frames after the swap' | tail -n3
ok "every swap under traffic logs its frame gap"

expect_status 125 "a version that traps at start" -- cvctl driver swap vnet virtio_net_trap-at-start.wasm
expect_grep 'cervus_probe trapped.*rolled back' err "is rolled back, with the reason"
dmesg | grep -q 'virtio-net: no running device to take over' || fail "the old version did not set the stopped device up again"
ok "the old version, back, sets up the device the failed version left stopped"
ping -c 3 -W 5 192.168.100.2 > out || fail "ping after the rollback"
ok "traffic continues"
expect_status 125 "a version whose link never comes up" -- cvctl driver swap vnet virtio_net_no-link.wasm
expect_grep 'the link did not come up within 2000 ms.*rolled back' err "is rolled back after the timeout"
wait_carrier "$WASM" 1
ping -c 3 -W 5 192.168.100.2 > out || fail "ping after the second rollback"
transfer_check 0 4
ok "traffic continues, data intact"
[ "$(listed vnet 6)" = running ] || fail "the driver is not running"

ping -q -i 0.01 -c 400 192.168.100.2 > flood.out &
flood=$!
sleep 1
cvctl driver swap vnet virtio_net_alt.wasm > swap.out || fail "swap under a ping flood"
wait $flood
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' flood.out)
got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' flood.out)
blackout=$(sed -n 's/.*blackout \([0-9.]*\) ms.*/\1/p' swap.out)
echo "ping flood: $sent sent, $got received; swap: $(cat swap.out)"
[ $((sent - got)) -le 10 ] || fail "lost $((sent - got)) of $sent pings in a swap with a ${blackout} ms blackout"
ok "a swap under a 10 ms ping flood lost $((sent - got)) pings"

expect_status 0 "load the edu driver" -- cvctl driver load edu edu.wasm
echo 8 > /dev/edu
exec 3< /dev/edu
expect_status 0 "swap it while a process holds /dev/edu open" -- cvctl driver swap edu edu.wasm
expect_grep 'state handed over' out "the state is handed over"
[ "$(cat <&3)" = 40320 ] || fail "the next read after the swap"
exec 3<&-
echo 9 > /dev/edu
[ "$(cat /dev/edu)" = 362880 ] || fail "a new computation after the swap"
ok "the open file reads the result computed before the swap; new work goes on"
kill "$NS"
