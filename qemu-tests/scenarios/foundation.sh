# SPDX-License-Identifier: GPL-2.0
# Foundation proof: the module loads, runs wasm built from Rust in the kernel,
# refuses malformed wasm, does not leak over 100 runs, and unloads.
. ./guest-lib.sh

grep -q '^cervus ' /proc/modules || fail "cervus.ko is not loaded"
ok "cervus.ko loaded"
[ -c /dev/cvctl ] || fail "/dev/cvctl missing"
mode=$(stat -c '%a %U' /dev/cvctl)
[ "$mode" = "600 root" ] || fail "/dev/cvctl is '$mode', wanted '600 root'"
ok "/dev/cvctl is 0600 root"

expect_status 0 "cvctl version" -- cvctl version
expect_grep '^cvctl [0-9.]+ \(ABI [0-9]+\)$' out "cvctl prints its version"
expect_grep '^cervus.ko [0-9.]+ \(ABI [0-9]+\), engines: wasmi 2' out "the module reports its version and engine"
[ "$(sed -n 's/^cvctl .*(ABI \([0-9]*\))$/\1/p' out)" = "$(sed -n 's/^cervus.ko .*(ABI \([0-9]*\)),.*/\1/p' out)" ] ||
    fail "cvctl and the module speak different ABI versions"
ok "cvctl and the module speak the same ABI version"

expect_status 0 "cvctl run hello.wasm" -- cvctl run hello.wasm
expect_grep '^hello from the kernel: 2 \+ 2 = 4$' out "hello.wasm greets"

expect_status 0 "cvctl run proof.wasm" -- cvctl run proof.wasm
expect_file_eq out expected/proof.out "proof.wasm prints the right integer, f64 and recursion results"

# Standard output is the caller's: a pipe, a file (with its position and
# O_APPEND), /dev/null.
cvctl run proof.wasm | cat > piped.out || fail "cvctl run into a pipe"
expect_file_eq piped.out expected/proof.out "output through a pipe"
cvctl run proof.wasm > file.out && cvctl run proof.wasm >> file.out || fail "cvctl run into a file"
cat expected/proof.out expected/proof.out > twice.out
expect_file_eq file.out twice.out "output into a file, then appended"
expect_status 0 "output into /dev/null" -- sh -c 'cvctl run proof.wasm > /dev/null'
if dmesg | grep -q 'not supported for file'; then
    dmesg | grep 'not supported for file' | head -3
    fail "the kernel refused a write to the caller's stdout"
fi
ok "every write reached its file"

head -c 4096 /dev/urandom > garbage.wasm
expect_status 126 "cvctl run garbage.wasm is refused" -- cvctl run garbage.wasm
expect_grep 'invalid module' err "the refusal names the problem"
printf '\0asm\1\0\0\0\1\377' > truncated.wasm
expect_status 126 "a truncated module is refused" -- cvctl run truncated.wasm
expect_grep 'invalid module' err "the refusal names the problem"

# Warm up once, then 100 runs must leave the engine's heap where it was.
cvctl run proof.wasm > /dev/null || fail "warm-up run"
bytes_before=$(cvctl_info heap_bytes)
allocs_before=$(cvctl_info heap_allocations)
i=0
while [ $i -lt 100 ]; do
    cvctl run proof.wasm > /dev/null || fail "run $i failed"
    i=$((i + 1))
done
bytes_after=$(cvctl_info heap_bytes)
allocs_after=$(cvctl_info heap_allocations)
[ "$bytes_before" = "$bytes_after" ] && [ "$allocs_before" = "$allocs_after" ] ||
    fail "heap moved over 100 runs: $bytes_before B/$allocs_before allocs -> $bytes_after B/$allocs_after allocs"
ok "100 runs leave the heap at $bytes_after bytes in $allocs_after allocations"
[ "$(cvctl_info live_instances)" = 0 ] || fail "instances left alive"
ok "no instance left alive"

rmmod cervus || fail "rmmod cervus"
ok "rmmod cervus"
[ ! -e /dev/cvctl ] || fail "/dev/cvctl still exists after rmmod"
dmesg | grep -q 'cervus: engine stopped: 0 bytes in 0 allocations still held' ||
    { dmesg | grep cervus; fail "the engine did not free everything at unload"; }
ok "the engine freed everything at unload"
