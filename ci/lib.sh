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
