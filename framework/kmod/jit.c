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
 * unmaps the alias before returning: at no point is any mapping both
 * writable and executable, and the alias never outlives the call. Every
 * CPU then executes a serializing instruction, so none runs stale bytes.
 * Code is entered only through cervus_jit_call() (jit_arena.S), at entries
 * that begin with endbr64; the rest of the arena is int3, so a stray
 * indirect branch into it stops at once.
 */

#include <asm/fpu/api.h>
#include <asm/sync_core.h>
#include <linux/mm.h>
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
	on_each_cpu(cervus_sync_core, NULL, 1);
	return 0;
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
		kernel_fpu_begin();
	}
	cervus_jit_call(entry, vmctx, values);
	if (fpu)
		kernel_fpu_end();
	return 0;
}

void cervus_host_fpu_begin(void)
{
	kernel_fpu_begin();
}

void cervus_host_fpu_end(void)
{
	kernel_fpu_end();
}
