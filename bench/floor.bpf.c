// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of the overhead benchmark: the hooks pfwatch's perf backend
 * uses, with programs that only bump a per-CPU counter (one per hook, so
 * floor can say how often each ran). Whatever pfwatch costs above this
 * is its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "floor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_FLOOR_HOOKS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int bump(__u32 hook)
{
	__u64 *count = bpf_map_lookup_elem(&hits, &hook);

	if (count)
		(*count)++;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(entry_only)
{
	return bump(HOOK_ENTRY);
}

SEC("perf_event")
int fault_event(struct bpf_perf_event_data *ctx)
{
	return bump(HOOK_PERF);
}

/* Most faults change an RSS counter: the perf backend's file/anon/swap. */
SEC("tp_btf/rss_stat")
int BPF_PROG(rss_only)
{
	return bump(HOOK_RSS);
}

/* Every page allocation, a zero-fill's included: pfwatch's huge pages. */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_only)
{
	return bump(HOOK_ALLOC);
}

/* Every context switch, system-wide: pfwatch's off-CPU causes. */
SEC("tp_btf/sched_switch")
int BPF_PROG(switch_only)
{
	return bump(HOOK_SWITCH);
}

/* A fault that reached a file's pages through ->fault (Linux 6.10+). */
SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(filemap_fault_only)
{
	return bump(HOOK_FILEMAP);
}

/* Fault-around mapping cached file pages (Linux 6.10+): not used by
 * pfwatch, measured as a candidate in rss_stat's place. */
SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(map_pages_only)
{
	return bump(HOOK_MAP_PAGES);
}

/* The waits pfwatch brackets: they fire only when a fault waits. */
SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(compaction_begin_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/mm_compaction_end")
int BPF_PROG(compaction_end_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/contention_begin")
int BPF_PROG(contention_begin_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/contention_end")
int BPF_PROG(contention_end_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/folio_wait_writeback")
int BPF_PROG(folio_wait_writeback_only) { return bump(HOOK_WAITS); }
SEC("tp_btf/balance_dirty_pages")
int BPF_PROG(balance_dirty_pages_only) { return bump(HOOK_WAITS); }
