// SPDX-License-Identifier: GPL-2.0
/*
 * Host services for the Cervus engine that need C: inline kernel functions
 * and task state. Called from the engine on its private stack, in the
 * context of the task that called into the engine. File operations are in
 * files.c.
 */

#include <linux/capability.h>
#include <linux/hrtimer.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>

#include "cervus_host.h"

/* Let other tasks run between execution slices. */
void cervus_host_yield(void)
{
	cond_resched();
}

/* Clocks, numbered as WASI's clockid: realtime, monotonic, process CPU
 * time, thread CPU time (the calling thread's, for both). */
u64 cervus_host_now(u32 clock)
{
	switch (clock) {
	case 0:
		return ktime_get_real_ns();
	case 1:
		return ktime_get_ns();
	default:
		return current->se.sum_exec_runtime;
	}
}

/* Sleeps up to @ns; false if a signal (or a kill, see below) woke us. */
bool cervus_host_sleep_ns(u64 ns)
{
	ktime_t expires = ns_to_ktime(ns);

	set_current_state(TASK_INTERRUPTIBLE);
	schedule_hrtimeout(&expires, HRTIMER_MODE_REL);
	return !signal_pending(current);
}

void cervus_host_random(u8 *buf, size_t len)
{
	get_random_bytes(buf, len);
}

bool cervus_host_capable_sys_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

/*
 * Makes @task's interruptible waits return as if a signal were pending, so
 * a killed instance stops waiting for input. TIF_NOTIFY_SIGNAL delivers no
 * signal: it is cleared when the task returns to user space. (The inline
 * set_notify_signal() needs wake_up_state(), which modules cannot use;
 * wake_up_process() may wake an uninterruptible sleeper too, which its wait
 * loop tolerates.) The caller guarantees @task is running an instance, so
 * it cannot exit meanwhile.
 */
void cervus_host_interrupt_task(unsigned long task)
{
	struct task_struct *t = (struct task_struct *)task;

	set_tsk_thread_flag(t, TIF_NOTIFY_SIGNAL);
	wake_up_process(t);
	kick_process(t);
}
