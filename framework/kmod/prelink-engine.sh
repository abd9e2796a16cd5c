#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Links the engine staticlib into one relocatable object (see Kbuild):
#
#   prelink-engine.sh OUT LIB ENTRY
#
# with LD, OBJCOPY, NM and CC from the environment (Kbuild's tools).
#
# Besides linking, it tells objtool to skip functions it cannot model, the
# way the kernel's STACK_FRAME_NON_STANDARD() does: an entry in
# .discard.func_stack_frame_non_standard. The engine annotates the ones it
# can name itself (framework/engine/src/objtool.rs); the ones below are
# private generic functions of third-party crates, known only by their
# mangled names, so they are found here with nm:
#
# - bumpalo's Bump::alloc_layout_slow (instantiated in regalloc2, the JIT's
#   register allocator) calls allocation_size_overflow::<usize>(), which
#   returns `usize` in its signature but always panics. objtool sees that
#   it never returns and reports the code the compiler placed after the
#   call as unreachable.
set -eu
out=$1 lib=$2 entry=$3
nonstandard='4Bump17alloc_layout_slow'

"$LD" -r -u "$entry" -o "$out.linked.o" "$lib"
syms=$("$NM" "$out.linked.o" | awk -v re="$nonstandard" '$2 ~ /^[tT]$/ && $3 ~ re { print $3 }' | sort -u)
{
    echo '.pushsection .discard.func_stack_frame_non_standard, "aw"'
    echo '.balign 8'
    for s in $syms; do echo ".quad $s"; done
    echo '.popsection'
} > "$out.annotations.S"
for s in $syms; do "$OBJCOPY" --globalize-symbol="$s" "$out.linked.o"; done
"$CC" -c -x assembler -o "$out.annotations.o" "$out.annotations.S"
"$LD" -r -o "$out" "$out.linked.o" "$out.annotations.o"
rm -f "$out.linked.o" "$out.annotations.o" "$out.annotations.S"
