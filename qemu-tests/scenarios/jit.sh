# SPDX-License-Identifier: GPL-2.0
# The JIT in the kernel: modules are compiled in the module (no machine
# code from user space), every app gives the same output, errors and exit
# status under both engines, traps are reported alike, float code runs in
# FPU sections that end at every slice (a float busy loop is preempted and
# killed like any other), and compiled code is freed with its module.
# (The app scenarios run again on the JIT in apps-*-jit.sh, the drivers on
# the interpreter in drivers-*-interp.sh and net-virtio-interp.sh.)
. ./guest-lib.sh

expect_status 0 "cvctl version" -- cvctl version
expect_grep 'engines: wasmi 2.0.0 \(interp\), cranelift 0.135.8 \(jit\)$' out "both engines are built in"

# same NAME [cvctl run options and args]: stdout, stderr and status equal
# under both engines; stdin is `input`.
printf 'line one\nline two\n' > input
same() {
    name=$1
    shift
    for e in interp jit; do
        rm -rf box && mkdir -p box/sub && echo "some data" > box/data.txt
        cvctl run --engine $e "$@" < input > $e.out 2> $e.err
        echo $? > $e.status
    done
    if ! cmp -s interp.out jit.out || ! cmp -s interp.err jit.err || ! cmp -s interp.status jit.status; then
        for e in interp jit; do echo "$e: status $(cat $e.status)"; cat $e.out $e.err; done
        fail "$name: the engines disagree"
    fi
    ok "$name: same output and status ($(cat jit.status)) on both engines"
}
same "hello" hello.wasm
same "hello-wasi" hello-wasi.wasm
same "proof (integers, f64, recursion)" proof.wasm
same "floats (IEEE corner cases)" floats.wasm
same "args and environment" --clear-env --env GREETING=hi --env EMPTY= args-env.wasm -- one "two words" ''
same "exit status" exit-code.wasm -- 3
same "stdin" cat.wasm
same "CommonWA arguments" cwa-echo.wasm -- hello "big world"
same "CommonWA environment" --clear-env --env COLOR=blue cwa-env.wasm -- COLOR SHAPE
same "CommonWA resources" cwa-cat.wasm -- file://input null:// file:///no/such/file
same "files in a preopened directory" --dir box/sub::/work fsops.wasm -- /work
same "directory listing" --dir box::/data ls.wasm -- /data
same "copying a file" --dir box::/data copy.wasm -- /data/data.txt /data/copy.txt
same "sandbox escapes refused" --dir box::/data escape.wasm -- /data/../../etc/passwd /etc/passwd
same "memory growth up to the cap" --memory 1M grow.wasm
same "a memory hog at its cap" --memory 8M memhog.wasm -- try
for e in interp jit; do cvctl run --engine $e sha256.wasm -- 1 | head -n1 > $e.hash; done
[ -s jit.hash ] && cmp -s interp.hash jit.hash || fail "SHA-256: $(cat interp.hash) vs $(cat jit.hash)"
ok "SHA-256 of 1 MiB: the same digest on both engines"
same "a trap: out of bounds" trap-oob.wasm
same "a trap: INT_MIN / -1" trap-div.wasm
same "a trap: a closed resource" cwa-badclose.wasm
same "a link error: unknown import" unknown-import.wasm

expect_status 134 "endless recursion on the JIT" -- cvctl run --engine jit recurse.wasm
expect_grep 'call stack exhausted' err "traps at the stack limit (no guard page hit)"
expect_status 134 "endless recursion on the interpreter" -- cvctl run --engine interp recurse.wasm
expect_grep 'call stack exhausted' err "traps the same way"

# A float busy loop: preempted (the shell stays responsive), listed with its
# engine, stopped by a signal and by cvctl kill.
cvctl run --engine jit --name fbusy fbusy.wasm > /dev/null 2> err &
pid=$!
id=$(wait_for_instance fbusy) || fail "fbusy did not start"
start=$(now_cs)
for i in 1 2 3 4 5; do cvctl ps > ps.out; done
took=$(($(now_cs) - start))
[ $took -lt 300 ] || fail "5 x cvctl ps took $((took * 10)) ms next to a JIT float loop"
expect_grep "^ +$id fbusy +app +jit +running" ps.out "cvctl ps lists it on the JIT"
sleep 3
cvctl kill "$id" || fail "cvctl kill"
wait $pid
status=$?
[ $status = 137 ] || { cat err; fail "killed: exit $status, wanted 137"; }
ok "a JIT float busy loop is preempted and killed"
cvctl run --engine jit fbusy.wasm > /dev/null 2>&1 &
pid=$!
sleep 2
kill -TERM $pid
wait $pid
[ $? = 143 ] || fail "SIGTERM did not stop the JIT float loop"
ok "and stopped by a signal"

# Compile statistics and code memory: every run's code is freed.
before=$(cvctl_info jit_modules)
for i in $(seq 20); do cvctl run --engine jit hello.wasm > /dev/null || fail "run $i"; done
[ $(($(cvctl_info jit_modules) - before)) = 20 ] || fail "20 runs compiled $(($(cvctl_info jit_modules) - before)) modules"
[ "$(cvctl_info jit_code_bytes)" = 0 ] || fail "$(cvctl_info jit_code_bytes) bytes of code still loaded with no instance alive"
ok "20 runs compiled 20 modules; no code is left loaded"
kib=$(($(cvctl_info jit_wasm_bytes) / 1024))
ms=$(($(cvctl_info jit_compile_ns) / 1000000))
echo "compiled in the kernel: $(cvctl_info jit_modules) modules, $kib KiB of wasm in $ms ms"

head -c 4096 /dev/urandom > garbage.wasm
expect_status 126 "garbage is refused by the JIT too" -- cvctl run --engine jit garbage.wasm
expect_grep 'invalid module' err "the refusal names the problem"
dmesg | grep -q 'cervus.*JIT code region.*leaked' && fail "a code region leaked"
ok "no code region leaked"
