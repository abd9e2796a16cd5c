// SPDX-License-Identifier: GPL-2.0
/*
 * Code memory for the Cervus JIT (see jit_arena.S for why it is an arena in
 * this module's text) and entering compiled code.
 *
 * The engine allocates regions of the arena itself; here are the
 * operations that need the kernel: writing a region, and running code with
 * the FPU usable.
 *
 * Security argument. Compiled code comes only from the in-kernel compiler
 * (userspace hands over wasm, never machine code). The arena's own mapping
 * is read-only + executable and stays so; bytes reach it only through
 * cervus_host_jit_write(), which maps the affected pages a second time,
 * writable and non-executable (vmap() with PAGE_KERNEL), copies, and
 * unmaps the alias before returning, flushing vmap's lazily kept TLB
 * entries too (vm_unmap_aliases()): at no point is any mapping both
 * writable and executable, and the alias does not outlive the call, not
 * even in a TLB. Every CPU then executes a serializing instruction, so none
 * runs stale bytes.
 * Code is entered only through cervus_jit_call() (jit_arena.S), at entries
 * that begin with endbr64; the rest of the arena is int3, so a stray
 * indirect branch into it stops at once.
 */

#include <asm/fpu/api.h>
#include <asm/sync_core.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "cervus_host.h"

extern u8 cervus_jit_arena[];
extern const u64 cervus_jit_arena_size;

void cervus_jit_call(const void *entry, void *vmctx, u64 *values);

/* The arena's first byte; its size in *@size. */
void *cervus_host_jit_arena(size_t *size)
{
	*size = cervus_jit_arena_size;
	return cervus_jit_arena;
}

static void cervus_sync_core(void *unused)
{
	sync_core();
}

/*
 * Writes @len bytes from @src (or int3 bytes if @src is NULL) at @dst, which
 * lies in the arena, through a temporary writable alias.
 */
long cervus_host_jit_write(void *dst, const void *src, size_t len)
{
	unsigned long start = (unsigned long)dst & PAGE_MASK;
	unsigned long end = PAGE_ALIGN((unsigned long)dst + len);
	unsigned long arena = (unsigned long)cervus_jit_arena;
	unsigned int n = (end - start) >> PAGE_SHIFT, i;
	struct page **pages;
	u8 *alias;

	if (len == 0)
		return 0;
	if ((unsigned long)dst < arena || (unsigned long)dst + len > arena + cervus_jit_arena_size)
		return -EINVAL;
	pages = kmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pages[i] = vmalloc_to_page((void *)(start + i * PAGE_SIZE));
		if (!pages[i]) {
			kfree(pages);
			return -EFAULT;
		}
	}
	alias = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	kfree(pages);
	if (!alias)
		return -ENOMEM;
	if (src)
		memcpy(alias + offset_in_page(dst), src, len);
	else
		memset(alias + offset_in_page(dst), 0xcc, len);
	vunmap(alias);
	vm_unmap_aliases();
	on_each_cpu(cervus_sync_core, NULL, 1);
	return 0;
}

/*
 * Whether this CPU is in an FPU section the engine opened. A section keeps
 * preemption off, so while it is open the flag belongs to the task in it.
 */
static DEFINE_PER_CPU(bool, cervus_fpu_open);

void cervus_host_fpu_begin(void)
{
	kernel_fpu_begin();
	this_cpu_write(cervus_fpu_open, true);
}

void cervus_host_fpu_end(void)
{
	this_cpu_write(cervus_fpu_open, false);
	kernel_fpu_end();
}

/*
 * Runs compiled code: @entry with @vmctx and @values. Code that uses float
 * registers (@fpu) runs inside a kernel FPU section, which the engine ends
 * (cervus_host_fpu_end) before anything that may sleep and starts again
 * after. Returns -EBUSY, running nothing, if the FPU is not usable here.
 */
long cervus_host_jit_enter(const void *entry, void *vmctx, u64 *values, bool fpu)
{
	if (fpu) {
		if (!irq_fpu_usable())
			return -EBUSY;
		cervus_host_fpu_begin();
	}
	cervus_jit_call(entry, vmctx, values);
	if (fpu)
		cervus_host_fpu_end();
	return 0;
}

/*
 * After an engine panic (the trampoline returned TRAMPOLINE_ABORTED): ends
 * the FPU section the panicking call left open, if it left one. Called by
 * the glue at once, so this is still the CPU the section was opened on (it
 * kept preemption off); if no section is open, the flag read is this
 * CPU's own and false.
 */
void cervus_host_jit_abort(void)
{
	if (this_cpu_read(cervus_fpu_open))
		cervus_host_fpu_end();
}
