# SPDX-License-Identifier: GPL-2.0
# Helpers for scenarios, sourced in the guest: `. ./guest-lib.sh`.
# Every check prints one line; the first failed check ends the scenario.

# fail MESSAGE: end the scenario.
fail() {
    echo "FAIL: $*"
    exit 1
}

# ok MESSAGE: report a passed check.
ok() {
    echo "ok - $*"
}

# expect_status N DESCRIPTION -- COMMAND...: run COMMAND, output to
# $out/$err files (out, err), and require exit status N.
expect_status() {
    want=$1; what=$2; shift 3
    "$@" > out 2> err
    got=$?
    if [ "$got" != "$want" ]; then
        echo "stdout:"; cat out; echo "stderr:"; cat err
        fail "$what: exit status $got, wanted $want"
    fi
    ok "$what (exit $got)"
}

# expect_file_eq FILE EXPECTED DESCRIPTION: FILE must equal EXPECTED.
expect_file_eq() {
    if ! cmp -s "$1" "$2"; then
        echo "got:"; cat "$1"; echo "wanted:"; cat "$2"
        fail "$3"
    fi
    ok "$3"
}

# expect_grep PATTERN FILE DESCRIPTION: FILE must contain PATTERN (grep -E).
expect_grep() {
    if ! grep -Eq -- "$1" "$2"; then
        echo "$2:"; cat "$2"
        fail "$3: /$1/ not found"
    fi
    ok "$3"
}

# cvctl_info KEY: one value of `cvctl info`.
cvctl_info() {
    cvctl info | sed -n "s/^$1: //p"
}

# now_cs: the time since boot, in centiseconds.
now_cs() {
    cut -d' ' -f1 /proc/uptime | tr -d .
}

# as_user COMMAND...: runs COMMAND as uid/gid 1000.
as_user() {
    ./run-as 1000 "$@"
}

# wait_for_instance NAME: waits (up to 10 s) until `cvctl ps` lists NAME;
# prints its id.
wait_for_instance() {
    i=0
    while [ $i -lt 100 ]; do
        id=$(cvctl ps | awk -v n="$1" '$2 == n { print $1 }' | head -n1)
        if [ -n "$id" ]; then
            echo "$id"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# --- Networking (two virtio-net NICs on one QEMU hub) ---

# net_iface SLOT: the interface of the PCI device 00:SLOT.0, whichever
# driver holds it (a virtio-pci NIC's is one level down).
net_iface() {
    ls /sys/bus/pci/devices/0000:00:$1.0/net/ 2>/dev/null ||
        ls /sys/bus/pci/devices/0000:00:$1.0/virtio*/net/ 2>/dev/null
}

# net_peer_setup SLOT: moves the interface of 00:SLOT.0 into a new network
# namespace as 192.168.100.2/24 (so traffic to it crosses the NICs, not
# loopback). Sets NS to the namespace's pid; `in_peer CMD...` runs there.
net_peer_setup() {
    peer=$(net_iface "$1")
    [ -n "$peer" ] || fail "no interface on 00:$1.0"
    unshare -n sleep 100000 &
    NS=$!
    sleep 0.2
    ip link set "$peer" netns "$NS" || fail "moving $peer into the namespace"
    in_peer sh -c "ip link set lo up && ip addr add 192.168.100.2/24 dev $peer && ip link set $peer up" ||
        fail "configuring $peer"
}

in_peer() {
    nsenter -t "$NS" -n "$@"
}

# net_local_setup IFACE: 192.168.100.1/24 on IFACE, up.
net_local_setup() {
    ip addr add 192.168.100.1/24 dev "$1" && ip link set "$1" up || fail "configuring $1"
}

# wait_carrier IFACE 0|1: waits (up to 10 s) for the carrier state.
wait_carrier() {
    i=0
    while [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" != "$2" ]; do
        [ $i -lt 100 ] || fail "carrier of $1 is not $2"
        sleep 0.1
        i=$((i + 1))
    done
}

# wait_ping ADDR: pings ADDR once a second until a reply comes, at most 10
# times; fails with ping's last output and the neighbour table if none
# does. After a carrier change the first frames may be dropped (the kernel
# brings the queueing discipline back from its link-watch work, after the
# carrier already reads up), so "traffic resumes" means a reply within 10 s.
wait_ping() {
    i=0
    until ping -c 1 -W 1 "$1" > out 2>&1; do
        i=$((i + 1))
        [ $i -lt 10 ] || { cat out; ip neigh; fail "no reply from $1 in 10 s"; }
    done
}

# qemu_monitor COMMAND: runs a QEMU monitor command (needs `# vm: --monitor`).
qemu_monitor() {
    stty -F /dev/ttyS1 raw -echo 2>/dev/null
    printf '%s\n' "$*" > /dev/ttyS1
}

# transfer_check FROM_PEER MIB: a MIB MiB TCP transfer to the other side
# (from the peer namespace if FROM_PEER is 1), checksummed at both ends.
transfer_check() {
    if [ "$1" = 1 ]; then
        ./netbench recv 5001 > recv.out &
        sleep 0.3
        in_peer ./netbench send 192.168.100.1 5001 "$2" > send.out || fail "send"
    else
        in_peer ./netbench recv 5001 > recv.out &
        sleep 0.3
        ./netbench send 192.168.100.2 5001 "$2" > send.out || fail "send"
    fi
    wait $! || fail "receive"
    sent=$(awk '{ print $2, $4 }' send.out)
    received=$(awk '{ print $2, $4 }' recv.out)
    [ -n "$sent" ] && [ "$sent" = "$received" ] || fail "sent '$sent', received '$received'"
}
