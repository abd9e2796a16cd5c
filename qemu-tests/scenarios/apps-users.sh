# SPDX-License-Identifier: GPL-2.0
# Users: /dev/cvctl's mode decides who may run apps; apps open files with
# their caller's credentials; only an instance's owner (or CAP_SYS_ADMIN)
# may kill it; cvctl ps shows who runs what.
. ./guest-lib.sh

expect_status 125 "an unprivileged user cannot open the 0600 device" -- as_user cvctl run hello.wasm
expect_grep 'Permission denied' err "and is told why"
chmod 666 /dev/cvctl
expect_status 0 "with /dev/cvctl 0666 an unprivileged user runs apps" -- as_user cvctl run hello.wasm

echo "root only" > /work/private.txt
chmod 600 /work/private.txt
expect_status 1 "file:// opens with the caller's credentials" -- as_user cvctl run cwa-cat.wasm -- file:///work/private.txt
expect_grep 'permission denied' err "so a user cannot read root's file (-3)"
expect_status 0 "root can" -- cvctl run cwa-cat.wasm -- file:///work/private.txt

# Instances of two users.
as_user cvctl run --name user-busy busy.wasm > /dev/null 2> user.err &
user_pid=$!
cvctl run --name root-busy busy.wasm > /dev/null 2> root.err &
root_pid=$!
user_id=$(wait_for_instance user-busy) || fail "user's instance did not start"
root_id=$(wait_for_instance root-busy) || fail "root's instance did not start"
cvctl ps > ps.out
cat ps.out
awk -v id=$user_id '$1 == id && $5 == "running" && $6 == 1000' ps.out | grep -q . || fail "ps: user's instance"
awk -v id=$root_id '$1 == id && $5 == "running" && $6 == 0' ps.out | grep -q . || fail "ps: root's instance"
ok "cvctl ps lists both, with owner, state and engine"
as_user cvctl ps | grep -q root-busy || fail "users see every instance"
ok "a user sees all instances"

expect_status 125 "a user cannot kill root's instance" -- as_user cvctl kill $root_id
expect_grep 'belongs to another user' err "and is told why"
expect_status 125 "nor one that does not exist" -- as_user cvctl kill 99999
expect_status 0 "a user kills its own instance" -- as_user cvctl kill $user_id
wait $user_pid
[ $? = 137 ] || fail "the killed app's cvctl exit status"
expect_grep 'killed by uid 1000' user.err "the killed app's caller is told who killed it"
expect_status 0 "root kills any instance" -- cvctl kill $root_id
wait $root_pid
[ $? = 137 ] || fail "root's app exit status"
[ "$(cvctl_info live_instances)" = 0 ] || fail "instances left"
ok "no instance left"

# Killing an app that is blocked reading its input.
# (a FIFO kept open for writing, so that `wait` waits for cvctl alone)
mkfifo input
cvctl run --name reader cat.wasm < input > /dev/null 2> reader.err &
reader=$!
exec 3> input
reader_id=$(wait_for_instance reader) || fail "reader did not start"
sleep 0.3
start=$(now_cs)
expect_status 0 "kill an app blocked in fd_read" -- cvctl kill $reader_id
wait $reader
[ $? = 137 ] || fail "blocked reader exit status"
took=$(( $(now_cs) - start ))
[ $took -lt 200 ] || fail "the blocked reader took $((took * 10)) ms to stop"
ok "it stops at once ($((took * 10)) ms)"
exec 3>&-
