/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entering the Cervus engine on a private stack, and leaving it after a
 * panic.
 *
 * cervus_call_on_stack() keeps a frame-pointer frame on the caller's stack,
 * so objtool and the ORC unwinder see an ordinary function whose frame is
 * addressed through %rbp while %rsp points into the private stack.
 *
 * cervus_stack_abort() is the panic path: it restores %rsp to the frame the
 * trampoline saved and returns from cervus_call_on_stack() with
 * TRAMPOLINE_ABORTED (1), abandoning everything on the private stack.
 */

#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/orc_types.h>
#include <asm/unwind_hints.h>

	.text

/*
 * long cervus_call_on_stack(struct EngineCall *call, void *stack_top,
 *			     unsigned long *abort_frame)
 *
 * Saves the callee-saved registers, stores the resulting %rsp in
 * *abort_frame, switches to stack_top and calls cervus_engine_entry(call).
 */
SYM_FUNC_START(cervus_call_on_stack)
	pushq	%rbp
	movq	%rsp, %rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdx)
	movq	%rsi, %rsp
	call	cervus_engine_entry
	leaq	-40(%rbp), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	RET
SYM_FUNC_END(cervus_call_on_stack)

/*
 * void cervus_stack_abort(unsigned long frame) __noreturn
 *
 * @frame: the value cervus_call_on_stack() stored in *abort_frame for a
 * call still running on this task. Called only from the engine's panic
 * handler, directly.
 */
SYM_CODE_START(cervus_stack_abort)
	UNWIND_HINT_FUNC
	ANNOTATE_NOENDBR
	movq	%rdi, %rsp
	/* Now in cervus_call_on_stack()'s frame: 5 registers, %rbp, return address. */
	UNWIND_HINT sp_reg=ORC_REG_SP sp_offset=56 type=UNWIND_HINT_TYPE_CALL
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	movl	$1, %eax
	RET
SYM_CODE_END(cervus_stack_abort)
