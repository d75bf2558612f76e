/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The floor's hooks: an index into its per-CPU counters each. */
#ifndef PFWATCH_FLOOR_H
#define PFWATCH_FLOOR_H

enum floor_hook {
	HOOK_ENTRY,	/* tp_btf/page_fault_user */
	HOOK_PERF,	/* PAGE_FAULTS_MIN/MAJ software events, every CPU */
	HOOK_RSS,	/* tp_btf/rss_stat */
	HOOK_ALLOC,	/* tp_btf/mm_page_alloc */
	HOOK_SWITCH,	/* tp_btf/sched_switch */
	HOOK_FILEMAP,	/* tp_btf/mm_filemap_fault */
	HOOK_MAP_PAGES,	/* tp_btf/mm_filemap_map_pages */
	HOOK_WAITS,	/* the vmscan, compaction, lock and writeback brackets */
	NR_FLOOR_HOOKS,
};

#endif /* PFWATCH_FLOOR_H */
