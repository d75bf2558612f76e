/* Kernel feature probing: what this kernel lets pfwatch hook, and how. */
#ifndef PFWATCH_PROBE_H
#define PFWATCH_PROBE_H

#include <stdbool.h>

struct kernel_features {
	char release[65];
	bool btf_tracepoints;	/* tp_btf/page_fault_user can attach */
	bool filemap_fault_tp;	/* mm_filemap_fault exists (Linux 6.10+) */
	bool handle_mm_fault;	/* the function is in BTF: fexit/kprobe target */
	bool tracefs;		/* mounted, for classic tracepoints */
};

/*
 * Checks privileges, the kernel's version (5.11 at least), BTF and
 * tracefs (mounting it when it is missing).
 * Returns 0, or prints one line naming the problem and the fix and
 * returns -1.
 */
int probe_kernel(struct kernel_features *features);

#endif
