# SPDX-License-Identifier: GPL-2.0
# Drivers take a device from its kernel driver only when asked (--rebind),
# and give it back when they are unloaded or their probe fails: here the
# in-tree virtio-net driver's interface disappears and comes back. The
# MSI-X table of the device is out of a wasm driver's reach.
# vm: --qemu -netdev --qemu user,id=n0,restrict=on --qemu -device --qemu virtio-net-pci,disable-legacy=on,netdev=n0,addr=05
. ./guest-lib.sh

dev=/sys/bus/pci/devices/0000:00:05.0
driver_of() {
    basename "$(readlink "$dev/driver")"
}

[ "$(driver_of)" = virtio-pci ] || fail "virtio-pci does not hold the device at boot"
[ -e /sys/class/net/eth0 ] || fail "no eth0 at boot"
ok "at boot the in-tree driver holds the device and eth0 exists"

expect_status 125 "a device bound to a kernel driver is not taken without --rebind" -- \
    cvctl driver load msix drv-msix.wasm --slot 00:05.0
dmesg | grep -q '1af4:1041 is bound to virtio-pci; load with --rebind to take it' || fail "no hint in the log"
[ "$(driver_of)" = virtio-pci ] || fail "the device changed hands"
ok "the log says why; the device stays with virtio-pci"

expect_status 0 "with --rebind it is taken (and its MSI-X table is refused to the driver)" -- \
    cvctl driver load msix drv-msix.wasm --slot 00:05.0 --rebind
[ "$(driver_of)" = cervus_wasm ] || fail "not bound to cervus_wasm"
[ ! -e /sys/class/net/eth0 ] || fail "eth0 still exists"
ok "eth0 is gone while the wasm driver holds the device"
expect_status 0 "unload" -- cvctl driver unload msix
[ "$(driver_of)" = virtio-pci ] || fail "not given back to virtio-pci"
[ -e /sys/class/net/eth0 ] || fail "eth0 did not come back"
ok "the device is back with virtio-pci and eth0 is back"

expect_status 125 "a driver whose probe refuses the device" -- cvctl driver load edu edu.wasm --slot 00:05.0 --rebind
expect_grep 'probe failed: cervus_probe returned -4' err "fails with its probe's error (no BAR 0: NotFound)"
[ "$(driver_of)" = virtio-pci ] || fail "not given back after the failed probe"
[ -e /sys/class/net/eth0 ] || fail "eth0 did not come back"
ok "and the device goes back to virtio-pci"
