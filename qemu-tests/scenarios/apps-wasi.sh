# SPDX-License-Identifier: GPL-2.0
# WASI preview 1: unmodified Rust std programs run in the kernel with the
# caller's arguments, environment, standard streams and exit status, and
# files only beneath the directories preopened for them.
. ./guest-lib.sh

expect_status 0 "hello" -- cvctl run hello-wasi.wasm
expect_grep '^Hello from WASI, running inside the Linux kernel!$' out "println! reaches the caller's stdout"

expect_status 0 "args and environment" -- cvctl run --clear-env --env GREETING=hi --env EMPTY= args-env.wasm -- one "two words" ''
cat > want <<'WANT'
arg[0]=args-env.wasm
arg[1]=one
arg[2]=two words
arg[3]=
env EMPTY=
env GREETING=hi
WANT
expect_file_eq out want "env::args and env::vars see exactly what was passed"
expect_status 0 "the caller's environment is inherited" -- env CERVUS_TEST=inherited cvctl run args-env.wasm
expect_grep '^env CERVUS_TEST=inherited$' out "an inherited variable is visible"

for code in 0 1 7 42 255; do
    expect_status $code "process::exit($code) is cvctl's exit status" -- cvctl run exit-code.wasm -- $code
done

mkdir -p box/sub outside
echo "top secret" > outside/secret
printf 'some data\n%.0s' $(seq 100) > box/data.txt
ln -s ../outside/secret box/up-link
ln -s /etc/hostname box/abs-link
ln -s data.txt box/good-link
expect_status 0 "file copy within a preopen" -- cvctl run --dir box::/data copy.wasm -- /data/data.txt /data/copy.txt
expect_file_eq box/copy.txt box/data.txt "the copy has the same bytes"
expect_status 0 "directory listing" -- cvctl run --dir box::/data ls.wasm -- /data
cat > want <<'WANT'
l        0 abs-link
f     1000 copy.txt
f     1000 data.txt
l        0 good-link
d        0 sub
l        0 up-link
WANT
expect_file_eq out want "read_dir sees the entries, their types and sizes"

expect_status 0 "create, write, seek, append, truncate, rename, symlink, stat, unlink, rmdir" -- \
    cvctl run --dir box/sub::/work fsops.wasm -- /work
expect_file_eq out expected/fsops.out "every file-system step behaves"
[ -z "$(ls box/sub)" ] || fail "fsops left files behind"

expect_status 0 "escapes are refused" -- cvctl run --dir box::/data escape.wasm -- \
    /data/up-link /data/abs-link /data/../outside/secret /data/sub/../../outside/secret /etc/hostname /data/../../etc/hostname
cat out
grep -q '^read' out && fail "an escape attempt succeeded"
[ "$(grep -c '^blocked /data/.*Capabilities insufficient' out)" = 5 ] || fail "escapes not refused with ENOTCAPABLE"
ok "'..', absolute symbolic links and links leading out are refused with ENOTCAPABLE"
expect_status 1 "a link that stays inside is followed" -- cvctl run --dir box::/data escape.wasm -- /data/good-link
expect_grep '^read /data/good-link: some data' out "(one file read)"
expect_status 0 "without --dir there is nothing to open" -- cvctl run escape.wasm -- /box/data.txt /work/box/data.txt
expect_status 125 "a preopen that does not exist is refused" -- cvctl run --dir nonexistent::/x hello.wasm
expect_grep "cannot preopen directory: nonexistent" err "and the error names it"

# Pipes and redirections.
cvctl run cat.wasm < box/data.txt > piped.out || fail "cat.wasm with redirections"
expect_file_eq piped.out box/data.txt "stdin and stdout redirected to files"
[ "$(seq 1000 | cvctl run cat.wasm | wc -l)" = 1000 ] || fail "cat.wasm in a pipeline"
ok "cat.wasm in the middle of a pipeline"
[ "$(cvctl run cwa-cat.wasm -- file:///etc/hostname | wc -c)" = "$(wc -c < /etc/hostname)" ] || fail "cwa-cat | wc -c"
ok "cvctl run cwa-cat.wasm file:///etc/hostname | wc -c"

# poll_oneoff: stdin readiness and clocks.
expect_status 0 "poll_oneoff sees ready input" -- sh -c 'echo x | cvctl run poll.wasm'
expect_grep '^stdin is readable$' out "fd_read event"
expect_grep '^slept at least 100 ms: true$' out "clock subscriptions sleep long enough"
# Standard input is a FIFO whose writer stays open and silent until the app
# is done, however long compiling it takes (the JIT under TCG needs seconds).
mkfifo idle.fifo
sleep 600 > idle.fifo &
writer=$!
start=$(now_cs)
expect_status 0 "poll_oneoff times out without input" -- sh -c 'cvctl run poll.wasm < idle.fifo'
waited=$(( $(now_cs) - start ))
kill $writer
expect_grep '^timed out$' out "clock event"
[ "$waited" -ge 200 ] || fail "poll_oneoff returned after ${waited} cs, before its 2 s clock"
ok "the clock subscription waited its 2 s"

# Floats: the kernel's soft-float build gives what hardware floats give.
expect_status 0 "f32/f64 semantics" -- cvctl run floats.wasm
expect_file_eq out expected/floats.out "identical to wasmi with hardware floats in user space"
