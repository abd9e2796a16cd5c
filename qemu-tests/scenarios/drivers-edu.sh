# SPDX-License-Identifier: GPL-2.0
# The edu wasm driver drives QEMU's edu device end to end: MMIO, MSI
# interrupts, DMA, a timer and /dev/edu with read, write, ioctl and poll.
# Only CAP_SYS_ADMIN loads drivers; unloading gives the device back intact.
# vm: --qemu -device --qemu edu
. ./guest-lib.sh

edu_stat() {
    ./drv-ioctl edu-stats /dev/edu | awk -v k="$1" '$1 == k { print $2 }'
}

# wait_stat NAME VALUE: waits (up to 5 s) until the edu counter NAME is VALUE.
wait_stat() {
    i=0
    while [ "$(edu_stat "$1")" != "$2" ]; do
        [ $i -lt 50 ] || fail "edu counter $1 is $(edu_stat "$1"), wanted $2"
        sleep 0.1
        i=$((i + 1))
    done
}

chmod 666 /dev/cvctl
expect_status 125 "an unprivileged user cannot load a driver, even with /dev/cvctl open to all" -- \
    as_user cvctl driver load edu edu.wasm
expect_grep 'needs CAP_SYS_ADMIN' err "and is told why"
[ ! -e /sys/bus/pci/devices/0000:00:04.0/driver ] || fail "the device was touched"

expect_status 0 "the edu driver loads (device found by its match table)" -- cvctl driver load edu edu.wasm
dmesg | grep -q 'cervus: instance [0-9]* (edu): edu 1.0 ready: Msi interrupts' || fail "probe log"
ok "its probe identified the device and chose MSI"
[ -c /dev/edu ] || fail "/dev/edu is not a character device"
ok "/dev/edu is a character device"
[ "$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")" = cervus_wasm ] || fail "driver link"
ok "the device is bound to cervus_wasm"
grep -q 'cervus:edu' /proc/interrupts || fail "no cervus:edu interrupt"
ok "its interrupt vector is requested"
expect_status 0 "cvctl driver list" -- cvctl driver list
expect_grep "^ +[0-9]+ edu +${CERVUS_ENGINE:-jit} +0000:00:04.0 +1234:11e8 running" out "lists it running on the edu device, on its engine"

for n in 0 1 5 10 12; do
    echo $n > /dev/edu || fail "write $n"
    got=$(cat /dev/edu)
    want=$(awk -v n=$n 'BEGIN { f = 1; for (i = 2; i <= n; i++) f *= i; printf "%d", f }')
    [ "$got" = "$want" ] || fail "$n! read back as '$got', wanted $want"
done
ok "factorials computed by the device, delivered by its interrupt"
[ "$(edu_stat factorials)" = 5 ] || fail "factorials counter"
[ "$(edu_stat missed)" = 0 ] || fail "the watchdog had to step in"
[ "$(edu_stat irqs)" -ge 5 ] || fail "fewer interrupts than factorials"
ok "every factorial completed by its interrupt, none by the watchdog"

if echo 13 > /dev/edu 2> err; then fail "13! accepted"; fi
expect_grep 'Invalid argument' err "13! does not fit 32 bits: EINVAL"
if echo twelve > /dev/edu 2> err; then fail "text accepted"; fi
ok "non-numbers: EINVAL"

echo 7 > /dev/edu
[ "$(./drv-ioctl poll /dev/edu in 2000)" = ready ] || fail "poll for input"
[ "$(./drv-ioctl nonblock-read /dev/edu)" = 5040 ] || fail "non-blocking read"
ok "poll reports the result ready; a non-blocking read gets it"

expect_status 0 "a DMA round trip through the device" -- ./drv-ioctl edu-dma /dev/edu
expect_status 0 "and another" -- ./drv-ioctl edu-dma /dev/edu
[ "$(edu_stat dma_round_trips)" = 2 ] || fail "DMA counter"
[ "$(./drv-ioctl edu-liveness /dev/edu 0x12345678)" = 0xedcba987 ] || fail "liveness"
ok "the liveness register inverts"
irqs=$(edu_stat irqs)
for i in 1 2 3; do
    ./drv-ioctl edu-raise /dev/edu 0x10000 || fail "raise"
    wait_stat raised $i
done
[ "$(edu_stat irqs)" -ge $((irqs + 3)) ] || fail "the interrupt counter did not grow by 3"
ok "interrupts raised by software reach the driver and are counted"
cvctl driver list > list
expect_grep '^ +[0-9]+ edu .* running +[1-9][0-9]* +[1-9]' list "interrupt counters in the listing"

expect_status 125 "an unprivileged user cannot unload it" -- as_user cvctl driver unload edu
exec 3< /dev/edu
expect_status 0 "unload with /dev/edu held open" -- cvctl driver unload edu
if cat <&3 > out 2> err; then fail "reading the stale file succeeded"; fi
expect_grep 'No such device' err "the open file answers ENODEV"
exec 3<&-
[ ! -e /dev/edu ] || fail "/dev/edu remains"
[ ! -e /sys/bus/pci/devices/0000:00:04.0/driver ] || fail "still bound"
grep -q 'cervus:edu' /proc/interrupts && fail "the vector is still requested"
ok "/dev/edu, the binding and the interrupt are gone"
dmesg | grep -q 'cervus: instance [0-9]* (edu): edu stopped after 6 factorials, 2 DMA round trips' || fail "remove log"
ok "its remove ran"
expect_status 0 "it loads again" -- cvctl driver load edu edu.wasm
expect_status 0 "and unloads" -- cvctl driver unload edu

expect_status 0 "it loads again on the same device" -- cvctl driver load edu2 edu.wasm --pci 1234:11e8
echo 11 > /dev/edu
[ "$(cat /dev/edu)" = 39916800 ] || fail "11!"
ok "and works; left loaded, so the module unloads it at rmmod"
