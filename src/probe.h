/* Kernel feature probing: what this kernel lets pfwatch hook, and how. */
#ifndef PFWATCH_PROBE_H
#define PFWATCH_PROBE_H

#include <stdbool.h>

/* Where pfwatch sees a fault begin. */
enum entry_hook {
	ENTRY_TP_BTF,		/* tp_btf/page_fault_user */
	ENTRY_TRACEPOINT,	/* the classic exceptions:page_fault_user */
};

struct kernel_features {
	char release[65];
	enum entry_hook entry;
	bool filemap_fault_tp;	/* mm_filemap_fault exists (Linux 6.10+) */
	bool task_rename_tp;	/* task_rename exists: prctl renames followed */
	bool handle_mm_fault;	/* the function is in BTF: fexit/kprobe target */
	/* What the causes and kinds need, where kernels differ. */
	bool lock_contention_tp;	/* lock:contention_* (5.19+): mmap_lock */
	bool folio_writeback_tp;	/* folio_wait_writeback (5.16+) */
	bool page_writeback_tp;		/* wait_on_page_writeback, before it */
	bool compaction_tp;		/* CONFIG_COMPACTION */
	bool find_vma;			/* bpf_find_vma (5.17+): perf sees uffd */
	bool numa_balancing;		/* kernel.numa_balancing is on */
	bool task_storage;		/* task storage and the current task's
					 * BTF (5.11+): else --stacks is off */
	bool numa_nodes;		/* more than one node online: NUMA
					 * balancing has hint faults to make */
	unsigned huge_order;		/* a transparent huge page, as an order */
	bool preempts_kernel;		/* preemption full or lazy (debugfs's
					 * sched/preempt): fexit may miss */
	bool huge_pages;		/* THP not "never" at start: anon_thp
					 * needs mm_page_alloc */
};

/*
 * Checks privileges, the kernel's version (5.11 at least), BTF, and for
 * the classic tracepoint tracefs (mounting it when it is missing).
 * Returns 0, or prints one line naming the problem and the fix and
 * returns -1.
 */
int probe_kernel(struct kernel_features *features);

#define TRACEFS "/sys/kernel/tracing"
/*
 * Classic tracepoints need tracefs (libbpf reads their IDs there), and so
 * does the kprobe backend's return probe (kretprobe.h); mounts it if it
 * can. true when it is there.
 */
bool ensure_tracefs(void);

/*
 * The entry hook: tp_btf when the kernel's BTF has it, else the classic
 * tracepoint; @forced (PFWATCH_ENTRY; NULL or "": no preference) names
 * one, so that tests can run the classic one on any kernel.
 * 0; -EINVAL when @forced names no hook, -ENOENT when it names tp_btf
 * and the kernel lacks it.
 */
int choose_entry(const char *forced, bool btf_tracepoints, enum entry_hook *entry);
const char *entry_hook_name(enum entry_hook entry);

#endif
