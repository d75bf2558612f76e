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
};

/*
 * Checks privileges, the kernel's version (5.11 at least), BTF, and for
 * the classic tracepoint tracefs (mounting it when it is missing).
 * Returns 0, or prints one line naming the problem and the fix and
 * returns -1.
 */
int probe_kernel(struct kernel_features *features);

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
