// SPDX-License-Identifier: GPL-2.0

//! Annotations for objtool, which validates every function of `cervus.o`.
//!
//! `alloc::alloc::handle_alloc_error` calls the allocator shim
//! `__rust_alloc_error_handler`, which never returns: it tail-calls the
//! default handler, which panics (and our panic handler leaves through
//! `cervus_stack_abort`). objtool 7.3 cannot follow a tail call between two
//! local symbols when it infers which functions never return (it records a
//! call destination for the `jmp` but looks for a jump destination), so it
//! takes the call for one that returns and reports that
//! `handle_alloc_error` "falls through to next function". The kernel's
//! answer for functions objtool cannot model is `STACK_FRAME_NON_STANDARD`,
//! which is exactly this section entry: objtool skips the function.
//! The kernel's own Rust code never meets this, because the kernel does not
//! build `alloc`.

core::arch::global_asm!(
    ".pushsection .discard.func_stack_frame_non_standard, \"aw\"",
    ".balign 8",
    ".quad {handle_alloc_error}",
    ".popsection",
    handle_alloc_error = sym alloc::alloc::handle_alloc_error,
);
