// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of the overhead benchmark: the hooks pfwatch's perf backend
 * uses, with programs that only bump a per-CPU counter. Whatever pfwatch
 * costs above this is its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int bump(void)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&hits, &zero);

	if (count)
		(*count)++;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(entry_only)
{
	return bump();
}

SEC("perf_event")
int fault_event(struct bpf_perf_event_data *ctx)
{
	return bump();
}

/* The perf backend also watches RSS counters, which most faults change. */
SEC("tp_btf/rss_stat")
int BPF_PROG(rss_only)
{
	return bump();
}
