# SPDX-License-Identifier: GPL-2.0
# An engine panic kills only the instance that caused it: the caller gets an
# error, the kernel logs it, and the module keeps working and unloads.
# vm: --module-args test_hooks=1
. ./guest-lib.sh

expect_status 125 "an app that panics the engine fails with a clear error" -- cvctl run engine_panic.wasm
expect_grep 'about to panic' out "the app ran up to the panic"
expect_grep 'engine panic: .*killed: the engine panicked: instance [0-9]+ called cervus_test.engine_panic' err \
    "the error names the instance and the panic"
dmesg | grep -q 'cervus: engine panic: instance [0-9]* called cervus_test.engine_panic' || fail "panic not logged"
dmesg | grep -q 'cervus: instance [0-9]* (engine_panic.wasm) killed after an engine panic' || fail "kill not logged"
ok "the panic and the kill are logged"
[ "$(cvctl_info engine_panics)" = 1 ] || fail "engine_panics counter"
[ "$(cvctl_info live_instances)" = 0 ] || fail "the dead instance still holds a slot"
ok "counted, and the slot is free"

expect_status 0 "the module still runs apps" -- cvctl run proof.wasm
expect_file_eq out expected/proof.out "with the right results"
expect_status 125 "a second panic is survived too" -- cvctl run engine_panic.wasm
expect_status 0 "and apps still run" -- cvctl run proof.wasm
[ "$(cvctl_info engine_panics)" = 2 ] || fail "engine_panics counter"
ok "two panics counted"
