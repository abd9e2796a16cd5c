/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Executable memory for the Cervus JIT, and the way into it.
 *
 * Linux 7.3 gives a module no way to make memory executable: it exports no
 * execmem_alloc(), set_memory_x()/set_memory_rox() or
 * __vmalloc_node_range(), and vmap() forces NX. What a module does get
 * executable is its own text. So the JIT's code lives in an arena reserved
 * inside this module's text: a PROGBITS "ax" section of int3 bytes, which
 * the module loader maps read-only and executable like the rest of the
 * text (STRICT_MODULE_RWX). jit.c writes code into it through a temporary
 * writable, non-executable alias of the same pages (vmap(PAGE_KERNEL)),
 * removed right after: no mapping is ever writable and executable.
 * Freed regions are filled with int3 again.
 *
 * The arena must be PROGBITS: objtool crashes on an executable NOBITS
 * section. Its size is fixed here and adds to cervus.ko's size (the int3
 * bytes compress to almost nothing in the initramfs).
 */

#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/nospec-branch.h>

#define CERVUS_JIT_ARENA_SIZE (8 * 1024 * 1024)

	.pushsection .text.cervus_jit_arena, "ax", @progbits
	.balign 4096
SYM_CODE_START(cervus_jit_arena)
	/* Referenced as data by jit.c; never entered here. */
	ANNOTATE_NOENDBR
	.fill CERVUS_JIT_ARENA_SIZE, 1, 0xcc
SYM_CODE_END(cervus_jit_arena)
	.popsection

	.section .rodata
	.balign 8
SYM_DATA(cervus_jit_arena_size, .quad CERVUS_JIT_ARENA_SIZE)

	.text

/*
 * void cervus_jit_call(const void *entry, void *vmctx, u64 *values)
 *
 * Calls the array-call entry @entry of JIT-compiled code with @vmctx and
 * @values (System V ABI). A direct call of an assembly function: kCFI
 * checks no type hash on the way in, and the indirect call below lands on
 * the endbr64 every compiled entry starts with (IBT). The compiled code
 * keeps frame pointers, so the frame set up here chains to it.
 */
SYM_FUNC_START(cervus_jit_call)
	pushq	%rbp
	movq	%rsp, %rbp
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	CALL_NOSPEC rax
	popq	%rbp
	RET
SYM_FUNC_END(cervus_jit_call)
