# SPDX-License-Identifier: GPL-2.0
# CommonWA apps written with the guest SDK: arguments, environment,
# resources by URL, logging, random numbers, and two apps talking over
# ipc-broadcast://.
. ./guest-lib.sh

expect_status 0 "cwa-echo" -- cvctl run cwa-echo.wasm -- hello "big world"
expect_grep '^hello big world$' out "startup_arg_at sees the arguments"
expect_status 1 "cwa-env" -- cvctl run --clear-env --env COLOR=blue cwa-env.wasm -- COLOR SHAPE
printf 'COLOR=blue\nSHAPE is not set\n' > want
expect_file_eq out want "env_get finds a variable and reports a missing one"
long=$(head -c 3000 /dev/zero | tr '\0' x)
expect_status 0 "a value longer than the first buffer" -- cvctl run --env LONG=$long cwa-env.wasm -- LONG
[ "$(wc -c < out)" = 3006 ] || fail "the long value was cut"
ok "env_get's retry with the needed size"

echo "file contents" > plain.txt
expect_status 0 "cwa-cat over several URLs" -- cvctl run cwa-cat.wasm -- file://plain.txt null:// file:///work/plain.txt
printf 'file contents\nfile contents\n' > want
expect_file_eq out want "file:// (relative and absolute) and null://"
expect_status 1 "a missing file" -- cvctl run cwa-cat.wasm -- file:///no/such/file
expect_grep 'not found' err "is reported as not found (-4)"
expect_status 1 "an unknown scheme" -- cvctl run cwa-cat.wasm -- gopher://x
expect_status 1 "a malformed URL" -- cvctl run cwa-cat.wasm -- not-a-url
expect_grep 'invalid argument' err "is an invalid argument (-2)"
echo "from stdin" | cvctl run cwa-cat.wasm > out || fail "cwa-cat from stdin"
expect_grep '^from stdin$' out "io_get_stdin reads the caller's stdin"

expect_status 0 "cwa-random" -- cvctl run cwa-random.wasm -- 4
[ "$(head -n1 out | wc -w)" = 4 ] && [ "$(sed -n 2p out | wc -c)" = 9 ] || fail "random output shape"
first=$(cat out)
cvctl run cwa-random.wasm -- 4 > out2
[ "$first" != "$(cat out2)" ] || fail "two runs gave the same random numbers"
ok "random_i32 and random:// give fresh values"

# log:// and log_write reach the kernel log, prefixed with the instance.
expect_status 0 "log:// and log_write" -- cvctl run --name logger cwa-log.wasm
dmesg | grep -q 'cervus: instance [0-9]* (logger): unit: first line' || fail "first log line"
dmesg | grep -q 'cervus: instance [0-9]* (logger): unit: second' || fail "partial line flushed at close"
dmesg | grep -q 'cervus: instance [0-9]* (logger): a warning from wasm' || fail "log_write"
ok "lines reach dmesg, prefixed with the instance and the resource's prefix"

expect_status 134 "closing a resource that is not open is fatal, as the spec says" -- cvctl run cwa-badclose.wasm
expect_grep 'resource_close: resource 7 is not open in function 1 \(main\)' err "and the trap says why and where"

# Two apps talk over ipc-broadcast://.
cvctl run cwa-bcast-recv.wasm -- news > recv1.out &
r1=$!
cvctl run cwa-bcast-recv.wasm -- news > recv2.out &
r2=$!
for f in recv1.out recv2.out; do
    i=0; while [ "$(head -n1 $f 2>/dev/null)" != ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
expect_status 0 "the sender" -- cvctl run cwa-bcast-send.wasm -- news 50
wait $r1 || fail "receiver 1"
wait $r2 || fail "receiver 2"
for f in recv1.out recv2.out; do
    [ "$(grep -c '^message' $f)" = 50 ] && [ "$(sed -n 2p $f)" = "message 0" ] && [ "$(tail -n1 $f)" = "message 49" ] ||
        { cat $f; fail "$f did not get the 50 messages in order"; }
done
ok "both receivers got all 50 messages, in order"

# 10 000 resources: the app hits the per-instance limit and gets an error.
expect_status 3 "an app opening 10 000 resources" -- cvctl run cwa-hog.wasm -- 10000
expect_grep '^opened 1023 of 10000: quota exceeded$' out "stops at the limit with an error code"
expect_grep '^after closing: open works$' out "and can open again after closing"
[ "$(cvctl_info live_instances)" = 0 ] || fail "instances left"
ok "no instance left behind"
