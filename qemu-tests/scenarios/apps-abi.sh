# SPDX-License-Identifier: GPL-2.0
# The /dev/cvctl ABI refuses malformed calls with the documented errno and
# keeps working: wrong versions, reserved fields, oversized or unmapped
# buffers, corrupt and random payloads.
. ./guest-lib.sh

./abi-abuse || fail "abi-abuse"
expect_status 0 "apps still run" -- cvctl run hello.wasm
