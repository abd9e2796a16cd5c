# SPDX-License-Identifier: GPL-2.0
# Shared settings for the ci/ scripts: where things live and how they are named.
# Sourced, not run.

CERVUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CERVUS_CACHE=${CERVUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cervus}
CERVUS_LLVM_SUFFIX=-19
KERNEL_PACKAGE=linux-source-7.3
KERNEL_SUITE=trixie-backports

export PATH="$HOME/.cargo/bin:$PATH"
export LIBCLANG_PATH=/usr/lib/llvm${CERVUS_LLVM_SUFFIX}/lib

# Print a progress line with the elapsed time of the whole script.
step() {
    printf '[%4ss] %s\n' "$SECONDS" "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Build cervus.ko against the kernel build $1 with the engine library $2,
# into $3 (build/ or a directory under it): $3/kmod/ holds the objects,
# $3/kmod.log the output, $3/cervus.ko the module. Any warning fails it.
build_module() {
    local kout=$1 engine_lib=$2 dir=$3 src
    src=$(cat "$CERVUS_CACHE/src/current")
    mkdir -p "$dir/kmod"
    step "module: Kbuild for $(basename "$kout") (LLVM=$CERVUS_LLVM_SUFFIX)"
    make -s -C "$src" O="$kout" M="$CERVUS_ROOT" MO="$dir/kmod" LLVM="$CERVUS_LLVM_SUFFIX" \
        CERVUS_ENGINE_LIB="$engine_lib" modules 2>&1 | tee "$dir/kmod.log"
    if grep -Eiq 'warning|error' "$dir/kmod.log"; then
        die "the module build printed warnings (objtool, modpost or compiler): see $dir/kmod.log"
    fi
    cp "$dir/kmod/cervus.ko" "$dir/cervus.ko"
}
