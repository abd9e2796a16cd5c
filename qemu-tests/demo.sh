# SPDX-License-Identifier: GPL-2.0
# What `ci/demo` shows, run inside the VM.
set -e
banner() { printf '\n==== %s\n' "$*"; }
banner "cervus.ko is loaded: $(grep '^cervus ' /proc/modules | cut -d' ' -f1-2)"
ls -l /dev/cvctl
banner "cvctl version"
cvctl version
banner "cvctl run proof.wasm  (Rust compiled to wasm, running inside the kernel)"
cvctl run proof.wasm
banner "a malformed module is refused"
head -c 64 /dev/urandom > junk.wasm
cvctl run junk.wasm || echo "(exit status $?)"
banner "engine counters"
cvctl info
banner "kernel log"
dmesg | grep cervus
