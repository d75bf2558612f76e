// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pfwatch kernel side. A fault's life: an entry tracepoint stamps the
 * thread's task storage; an outcome hook (fexit or kretprobe on
 * handle_mm_fault, or the perf page-fault events, or signal_generate for
 * faults that end in a signal) classifies it and adds it to the process's
 * slot in proc_stats. Userspace reads proc_stats through mmap.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pfwatch.h"
#include "classify.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define VM_SHARED	0x00000008UL
#define E2BIG		7	/* a full hash refuses an update with -E2BIG */

/* Filters and modes, fixed before load so the verifier prunes what is off. */
const volatile bool filter_by_tgid = false;	/* traced_tgids decides */
const volatile __u32 filter_tid = 0;
const volatile __u64 filter_cgroup_id = 0;
const volatile bool filter_by_comm = false;
const volatile char filter_comm[COMM_LEN] = {};
const volatile __u32 launcher_tgid = 0;	/* pfwatch -- CMD: trace its child */
const volatile __u64 wakeup_bytes = 64 * 1024;
const volatile bool perf_outcome = false;	/* the perf backend is in use */
const volatile bool stream_faults = false;	/* --min-latency or --where */
const volatile __u64 stream_min_latency_ns = 0;
/* --stacks: a user stack with 1 in stack_every faults, or with each major
 * and invalid one; 0 and false: no stacks. */
const volatile __u32 stack_every = 0;
const volatile bool stack_majors = false;
const volatile bool count_threads = false;	/* the live view's thread rows */
const volatile bool numa_balancing = false;	/* on when pfwatch started */
/* false before Linux 5.11, where task_states is a hash by thread id. */
const volatile bool task_storage = true;
const volatile __u32 huge_order = 9;	/* a PMD's worth of pages, as an order */
/* Group by v1's memory controller's cgroups: cgroup v2 is not mounted. */
const volatile bool memcg_v1_ids = false;

enum task_filter { FILTER_UNKNOWN, FILTER_TRACED, FILTER_IGNORED };

/* What every fault reads and writes comes first, in one cache line. */
struct task_state {
	__u64 entry_ns;		/* 0: no fault in flight */
	__u64 address;
	__u64 ip;
	__u32 error_code;
	__u32 slot;
	__u32 tgid;		/* the thread's ids, for streamed records */
	__u32 tid;
	__u32 fault_flags;	/* kprobe backend: flags seen on entry */
	__u8 filter;		/* enum task_filter: at the first fault, again
				 * after a rename (--comm) or a move (--cgroup) */
	__u8 waited;		/* the causes this fault waited on, a bit each */
	__u8 open_wait;		/* 1 + the cause being timed now; 0: none */
	__u8 writeback_next;	/* the next I/O sleep waits for writeback */
	struct fault_hints hints;
	__u32 stack_countdown;	/* --stacks N: faults until the next stack */
	__u64 numa_base;	/* the thread's NUMA fault count at entry */
	__u64 filter_cgroup;	/* --cgroup: the thread's cgroup when decided */
	/* Only a fault that waits touches these. */
	__u64 wait_start_ns;
	__u64 wait_ns[NR_WAIT_CAUSES];
	struct vm_area_struct *vma;	/* kprobe backend: the fault's vma */
	/* The live view: this thread's own counts (only it writes them). */
	__u64 thread_latency_ns;
	__u64 thread_count[NR_FAULT_CLASSES];
	__s32 rss_events;	/* kernels before 6.2: the thread's RSS batch */
	__s32 rss_base[NR_MM_COUNTERS];	/* at fault entry */
};

/*
 * Before 6.2 a thread batches its RSS changes in task->rss_stat and folds
 * them into the mm (firing rss_stat) only every 64 faults, so there the
 * perf backend compares the batch at entry and at the outcome instead.
 */
struct task_rss_stat___batched {
	int events;
	int count[NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct task_struct___batched {
	struct task_rss_stat___batched rss_stat;
} __attribute__((preserve_access_index));

static __always_inline bool rss_batched(struct task_struct *task)
{
	return bpf_core_field_exists(((struct task_struct___batched *)task)->rss_stat);
}

/*
 * NUMA balancing counts each hint fault in the thread's own locality
 * counters (task_numa_fault); a fault that changed them was one. They are
 * reset at most once per scan period, which could hide one fault in a
 * period that saw no other.
 */
static __always_inline __u64 numa_faults_seen(struct task_struct *task)
{
	unsigned long seen[3] = {};

	if (!numa_balancing || !bpf_core_field_exists(task->numa_faults_locality))
		return 0;
	bpf_core_read(seen, sizeof(seen), &task->numa_faults_locality);
	return seen[0] + seen[1] + seen[2];
}

/* Userspace makes it a hash by thread id where tracing programs have no
 * task storage (before Linux 5.11), bounded by MAX_HASHED_THREADS. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_states SEC(".maps");

/* A fresh thread's state, for the hash to copy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_state);
} blank_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRACED_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PROC_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} slot_by_tgid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, MAX_PROC_SLOTS);
	__type(value, __u32);
} free_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MAX_PROC_SLOTS);
	__type(key, __u32);
	__type(value, struct proc_stats);
} proc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_DIAG_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} diag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Each CPU's batch of streamed faults. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_batch);
} fault_batches SEC(".maps");

/* Bytes each CPU submitted since it last woke the reader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unwoken_bytes SEC(".maps");

static __always_inline void diag_add(__u32 counter, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&diag, &counter);

	if (value)
		*value += n;
}

static __always_inline void diag_inc(__u32 counter)
{
	diag_add(counter, 1);
}

/*
 * The current task. Before Linux 5.11 only as a plain address: its fields
 * are then read with BPF_CORE_READ, which works on both.
 */
static __always_inline struct task_struct *current_task(void)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* A thread's state: its task storage, or its entry in the hash. */
static __always_inline struct task_state *state_of(struct task_struct *task,
						   bool create)
{
	struct task_state *state, *blank;
	__u32 tid, zero = 0;

	if (task_storage)
		return bpf_task_storage_get(&task_states, task, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	tid = BPF_CORE_READ(task, pid);
	state = bpf_map_lookup_elem(&task_states, &tid);
	if (state || !create)
		return state;
	blank = bpf_map_lookup_elem(&blank_state, &zero);
	if (!blank)
		return NULL;
	if (bpf_map_update_elem(&task_states, &tid, blank, BPF_NOEXIST) == -E2BIG)
		diag_inc(DIAG_THREADS_UNTRACKED);
	return bpf_map_lookup_elem(&task_states, &tid);
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* @cgroup: the thread's v2 cgroup id, read under --cgroup only. */
static __always_inline bool task_wanted(struct task_struct *task, __u64 cgroup)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	char comm[COMM_LEN];

	if (filter_tid && BPF_CORE_READ(task, pid) != filter_tid)
		return false;
	if (filter_by_tgid && !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return false;
	if (filter_cgroup_id && cgroup != filter_cgroup_id)
		return false;
	if (filter_by_comm) {
		BPF_CORE_READ_STR_INTO(&comm, task, comm);
		if (!comm_matches(comm))
			return false;
	}
	return true;
}

/*
 * The current task's cgroup in the hierarchy faults are grouped by: v2's,
 * else v1's memory controller's (there every task is in v2's root).
 */
static __always_inline __u64 grouped_cgroup_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cgroups;
	int memory;

	if (!memcg_v1_ids)
		return bpf_get_current_cgroup_id();
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	cgroups = BPF_CORE_READ(task, cgroups);
	bpf_core_read(&css, sizeof(css), &cgroups->subsys[memory]);
	return BPF_CORE_READ(css, cgroup, kn, id);
}

/* Fill a fresh slot; tgid goes last since userspace reads 0 as free. */
static __always_inline void slot_init(struct proc_stats *stats,
				      struct task_struct *task, __u64 start_ns)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid innermost = {};

	/* numbers[level] is the PID the process's own namespace sees. */
	bpf_core_read(&innermost, sizeof(innermost), &pid->numbers[level]);
	stats->ns_pid = innermost.nr;
	stats->start_ns = start_ns;
	stats->cgroup_id = grouped_cgroup_id(task);
	BPF_CORE_READ_STR_INTO(&stats->comm, task, group_leader, comm);
	/* Threads made from now on set it in task_newtask. */
	stats->threaded = BPF_CORE_READ(task, signal, nr_threads) > 1;
	stats->tgid = BPF_CORE_READ(task, tgid);
}

/*
 * The process's slot, allocated from free_slots on its first fault. The
 * leader's start time tells a reused PID from the process that had it.
 */
static __always_inline __u32 proc_slot(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid), slot;
	__u64 start_ns = BPF_CORE_READ(task, group_leader, start_time);
	struct proc_stats *stats;
	__u32 *known;
	__u64 update = BPF_NOEXIST;

	known = bpf_map_lookup_elem(&slot_by_tgid, &tgid);
	if (known) {
		slot = *known;
		stats = bpf_map_lookup_elem(&proc_stats, &slot);
		if (stats && stats->start_ns == start_ns)
			return slot;
		update = BPF_ANY;
	}
	if (bpf_map_pop_elem(&free_slots, &slot)) {
		diag_inc(DIAG_SLOTS_EXHAUSTED);
		return OVERFLOW_SLOT;
	}
	stats = bpf_map_lookup_elem(&proc_stats, &slot);
	if (!stats)
		return OVERFLOW_SLOT;
	slot_init(stats, task, start_ns);
	if (bpf_map_update_elem(&slot_by_tgid, &tgid, &slot, update)) {
		/* Another thread of this process won the race: use its slot. */
		stats->tgid = 0;
		bpf_map_push_elem(&free_slots, &slot, BPF_EXIST);
		known = bpf_map_lookup_elem(&slot_by_tgid, &tgid);
		return known ? *known : OVERFLOW_SLOT;
	}
	return slot;
}

/* A cgroup of the hierarchy faults are grouped by (grouped_cgroup_id()). */
static __always_inline bool grouped_hierarchy(struct cgroup *cgroup)
{
	int memory;

	if (!memcg_v1_ids)	/* v2's default hierarchy is number 0 */
		return BPF_CORE_READ(cgroup, root, hierarchy_id) == 0;
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return false;
	memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	return BPF_CORE_READ(cgroup, root, subsys_mask) & (1u << memory);
}

/*
 * The slot a thread's fault goes to. If the process moved to another
 * cgroup since the thread took its slot (the slot says moved, or was
 * recycled since), the process's new slot: a fault counts in the cgroup
 * it was made in. Both fields share the slot's first cache line with
 * what every fault reads there anyway.
 */
static __always_inline struct proc_stats *fault_slot(struct task_state *state)
{
	__u32 slot = state->slot;
	struct proc_stats *stats = bpf_map_lookup_elem(&proc_stats, &slot);

	if (!stats || slot == OVERFLOW_SLOT ||
	    (!stats->moved && stats->tgid == state->tgid))
		return stats;
	slot = proc_slot(current_task());
	state->slot = slot;
	return bpf_map_lookup_elem(&proc_stats, &slot);
}

/* The calling thread's state if it is traced, deciding that once. */
static __always_inline struct task_state *traced_state(struct task_struct *task)
{
	struct task_state *state;
	__u64 cgroup;

	state = state_of(task, true);
	if (!state)
		return NULL;
	/* --cgroup: a thread that has joined or left since its decision,
	 * alone or with its whole process, is decided again between faults. */
	if (filter_cgroup_id && !state->entry_ns) {
		cgroup = bpf_get_current_cgroup_id();
		if (cgroup != state->filter_cgroup)
			state->filter = FILTER_UNKNOWN;
		state->filter_cgroup = cgroup;
	}
	if (state->filter == FILTER_UNKNOWN) {
		if (task_wanted(task, state->filter_cgroup)) {
			state->slot = proc_slot(task);
			state->tgid = BPF_CORE_READ(task, tgid);
			state->tid = BPF_CORE_READ(task, pid);
			state->filter = FILTER_TRACED;
		} else {
			state->filter = FILTER_IGNORED;
		}
	}
	return state->filter == FILTER_TRACED ? state : NULL;
}

/* The current thread's state while one of its faults is in flight. */
static __always_inline struct task_state *in_flight(struct task_struct *task)
{
	struct task_state *state = state_of(task, false);

	return state && state->entry_ns ? state : NULL;
}

/* The waits of a fault that ended, or never did: the next starts clean. */
static __always_inline void forget_waits(struct task_state *state)
{
	state->waited = 0;
	state->open_wait = 0;
	state->writeback_next = 0;
	__builtin_memset(state->wait_ns, 0, sizeof(state->wait_ns));
}

static __always_inline void fault_entry(__u64 address, __u64 ip,
					__u32 error_code)
{
	struct task_struct *task = current_task();
	struct task_state *state = traced_state(task);

	if (!state)
		return;
	if (state->entry_ns)
		diag_inc(DIAG_UNRESOLVED);
	state->address = address;
	state->ip = ip;
	state->error_code = error_code;
	state->hints = (struct fault_hints){};
	if (state->waited || state->open_wait)	/* a fault that never ended */
		forget_waits(state);
	state->numa_base = numa_faults_seen(task);
	if (rss_batched(task)) {
		struct task_struct___batched *t = (void *)task;

		state->rss_events = BPF_CORE_READ(t, rss_stat.events);
		bpf_core_read(state->rss_base, sizeof(state->rss_base),
			      &t->rss_stat.count);
	}
	state->entry_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	fault_entry(address, regs->ip, error_code);
	return 0;
}

/* copy_to_user() into a fresh buffer faults in kernel mode on a user page. */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(page_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if ((long)address < 0)
		return 0;
	fault_entry(address, regs->ip, error_code);
	return 0;
}

/* Classic tracepoints, for kernels without BTF-typed tracepoints. */
struct page_fault_args {
	struct trace_entry ent;
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
};

SEC("tracepoint/exceptions/page_fault_user")
int page_fault_user_tp(struct page_fault_args *args)
{
	fault_entry(args->address, args->ip, args->error_code);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_kernel")
int page_fault_kernel_tp(struct page_fault_args *args)
{
	if ((long)args->address < 0)
		return 0;
	fault_entry(args->address, args->ip, args->error_code);
	return 0;
}

/*
 * Causes. A wait opens where a tracepoint brackets it (reclaim,
 * compaction, the address-space lock) or where the thread leaves its CPU,
 * and closes at the bracket's end or when the thread is back. One wait is
 * open at a time: the outer one owns what happens inside it, so no
 * nanosecond is charged twice and a fault's waits never exceed its
 * latency. A fault that never waits touches none of this.
 */
#define OFF_CPU_CAUSES ((1u << CAUSE_IO) | (1u << CAUSE_WRITEBACK) | \
			(1u << CAUSE_RUNQUEUE) | (1u << CAUSE_SLEEP))

static __always_inline void wait_open(struct task_state *state, __u32 cause,
				      __u64 now)
{
	if (state->open_wait)
		return;
	state->open_wait = cause + 1;
	state->wait_start_ns = now;
}

static __always_inline void wait_close(struct task_state *state, __u64 now)
{
	__u32 cause = state->open_wait - 1;

	if (cause >= NR_WAIT_CAUSES)
		return;
	state->wait_ns[cause] += now - state->wait_start_ns;
	state->waited |= 1u << cause;
	state->open_wait = 0;
}

static __always_inline void bracket_begin(__u32 cause)
{
	struct task_state *state = in_flight(current_task());

	if (state)
		wait_open(state, cause, bpf_ktime_get_ns());
}

static __always_inline void bracket_end(__u32 cause)
{
	struct task_state *state = in_flight(current_task());

	if (state && state->open_wait == cause + 1)
		wait_close(state, bpf_ktime_get_ns());
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin)
{
	bracket_begin(CAUSE_DIRECT_RECLAIM);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end)
{
	bracket_end(CAUSE_DIRECT_RECLAIM);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin)
{
	bracket_begin(CAUSE_MEMCG_RECLAIM);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end)
{
	bracket_end(CAUSE_MEMCG_RECLAIM);
	return 0;
}

/* In a fault, compaction is direct: kcompactd's runs fault nothing. */
SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(compaction_begin)
{
	bracket_begin(CAUSE_COMPACTION);
	return 0;
}

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(compaction_end)
{
	bracket_end(CAUSE_COMPACTION);
	return 0;
}

/* Lock waits fire only when contended (Linux 5.19+): the fault's own
 * address-space lock is the one a cause is kept for. */
static __always_inline bool own_mmap_lock(struct task_struct *task, void *lock)
{
	__u64 mm = (__u64)BPF_CORE_READ(task, mm);

	return mm && (__u64)lock == mm + bpf_core_field_offset(struct mm_struct, mmap_lock);
}

SEC("tp_btf/contention_begin")
int BPF_PROG(lock_contended, void *lock)
{
	struct task_struct *task = current_task();
	struct task_state *state = in_flight(task);

	if (state && own_mmap_lock(task, lock))
		wait_open(state, CAUSE_MMAP_LOCK, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(lock_acquired, void *lock)
{
	struct task_struct *task = current_task();
	struct task_state *state = in_flight(task);

	if (state && state->open_wait == CAUSE_MMAP_LOCK + 1 &&
	    own_mmap_lock(task, lock))
		wait_close(state, bpf_ktime_get_ns());
	return 0;
}

/* The next I/O sleep of the fault is for writeback, not a read. */
static __always_inline void writeback_ahead(void)
{
	struct task_state *state = in_flight(current_task());

	if (state)
		state->writeback_next = 1;
}

SEC("tp_btf/folio_wait_writeback")
int BPF_PROG(folio_wait_writeback)
{
	writeback_ahead();
	return 0;
}

/* The same wait before folios (Linux 5.16). */
SEC("tp_btf/wait_on_page_writeback")
int BPF_PROG(wait_on_page_writeback)
{
	writeback_ahead();
	return 0;
}

/* A write to a shared file mapping throttled for dirty pages. */
SEC("tp_btf/balance_dirty_pages")
int BPF_PROG(balance_dirty_pages)
{
	writeback_ahead();
	return 0;
}

/* The thread leaves its CPU mid-fault: why. */
static __always_inline void left_cpu(struct task_state *state,
				     struct task_struct *prev, bool preempt)
{
	__u32 cause = CAUSE_SLEEP;

	if (preempt) {
		cause = CAUSE_RUNQUEUE;
	} else if (BPF_CORE_READ_BITFIELD_PROBED(prev, in_iowait)) {
		cause = state->writeback_next ? CAUSE_WRITEBACK : CAUSE_IO;
		state->writeback_next = 0;
	}
	wait_open(state, cause, bpf_ktime_get_ns());
}

static __always_inline void back_on_cpu(struct task_state *state)
{
	if (state->open_wait && ((OFF_CPU_CAUSES >> (state->open_wait - 1)) & 1))
		wait_close(state, bpf_ktime_get_ns());
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct task_state *state = in_flight(prev);

	if (state)
		left_cpu(state, prev, preempt);
	state = in_flight(next);
	if (state)
		back_on_cpu(state);
	return 0;
}

#define VM_ACCESS_FLAGS 0xfUL	/* VM_READ | VM_WRITE | VM_EXEC | VM_SHARED */

static long describe_vma(struct task_struct *task, struct vm_area_struct *vma,
			 struct fault_vma *out)
{
	struct mm_struct *mm = vma->vm_mm;
	struct file *file = vma->vm_file;

	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->pgoff = vma->vm_pgoff;
	out->flags = vma->vm_flags & VM_ACCESS_FLAGS;
	if (file) {
		out->kind = VMA_FILE;
		bpf_probe_read_kernel_str(out->file_name, sizeof(out->file_name),
					  BPF_CORE_READ(file, f_path.dentry, d_name.name));
	} else if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk) {
		out->kind = VMA_HEAP;
	} else if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack) {
		out->kind = VMA_STACK;
	} else {
		out->kind = VMA_ANON;
	}
	return 0;
}

/*
 * Waking the reader costs microseconds per event: each CPU wakes it once
 * it has submitted wakeup_bytes (a per-CPU count, cheaper than asking the
 * ring); the reader also drains the ring whenever its wait ends.
 */
static __always_inline __u64 wakeup_flag(__u32 size)
{
	__u32 zero = 0;
	__u64 *pending = bpf_map_lookup_elem(&unwoken_bytes, &zero);

	if (!pending)
		return BPF_RB_NO_WAKEUP;
	*pending += size;
	if (*pending < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	*pending = 0;
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * bpf_find_vma (Linux 5.17) takes a callback, and kernels before 5.13
 * refuse a program that holds one even where it never runs: the programs
 * that look up a vma come twice, @find_vma false in the plain twin.
 */
static __always_inline void emit_invalid(struct task_state *state,
					 struct task_struct *task,
					 __u32 fault_class, __u64 latency_ns,
					 int signal_code, bool find_vma)
{
	struct fault_event *event;
	struct fault_vma vma;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		diag_inc(DIAG_LOST_INVALID);
		return;
	}
	event->header.type = EVENT_INVALID_FAULT;
	event->tgid = BPF_CORE_READ(task, tgid);
	event->tid = BPF_CORE_READ(task, pid);
	event->fault_class = fault_class;
	event->address = state->address;
	event->ip = state->ip;
	event->latency_ns = latency_ns;
	event->error_code = state->error_code;
	event->signal_code = signal_code;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	/* Costly (tens of us), but invalid faults are rare, and the process
	 * may be gone before userspace could read its maps. */
	__builtin_memset(&vma, 0, sizeof(vma));
	if (find_vma && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma))
		bpf_find_vma(task, state->address, describe_vma, &vma, 0);
	event->vma = vma;	/* the callback may only write to the stack */
	bpf_ringbuf_submit(event, wakeup_flag(sizeof(*event)));
}

static __always_inline void fill_record(struct fault_record *record,
					struct task_state *state, __u16 type,
					__u32 fault_class, __u64 latency_ns)
{
	record->header.type = type;
	record->fault_class = fault_class;
	record->tgid = state->tgid;
	record->tid = state->tid;
	record->latency_ns = latency_ns > 0xffffffffULL ? 0xffffffffU : latency_ns;
	record->address = state->address;
	record->ip = state->ip;
}

/* --stacks: whether this fault carries its user stack. */
static __always_inline bool wants_stack(struct task_state *state, __u32 fault_class)
{
	if (stack_majors)
		return fault_class >= FAULT_FIRST_MAJOR;
	if (!stack_every || ++state->stack_countdown < stack_every)
		return false;
	state->stack_countdown = 0;
	return true;
}

/* A fault and its user stack (frame pointers), for the folded output. */
static __always_inline void stream_stack(struct task_state *state,
					 __u32 fault_class, __u64 latency_ns)
{
	struct fault_stack_record *record;
	long bytes;

	record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
	if (!record) {
		diag_inc(DIAG_LOST_STACK);
		return;
	}
	fill_record(&record->fault, state, EVENT_FAULT_STACK, fault_class, latency_ns);
	bytes = bpf_get_task_stack(current_task(), record->frames,
				   sizeof(record->frames), BPF_F_USER_STACK);
	record->nr_frames = bytes > 0 ? bytes / sizeof(__u64) : 0;
	bpf_ringbuf_submit(record, wakeup_flag(sizeof(*record)));
}

/* Hand a CPU's gathered faults to the ring buffer; the caller holds its claim. */
static __always_inline void send_batch(struct fault_batch *batch)
{
	__u32 count = batch->count;
	__u64 size;

	if (!count)
		return;
	if (count > FAULT_BATCH_RECORDS)
		count = FAULT_BATCH_RECORDS;
	size = sizeof(*batch) - sizeof(batch->records) +
	       count * sizeof(batch->records[0]);
	batch->header.type = EVENT_FAULT_BATCH;
	if (bpf_ringbuf_output(&events, batch, size, wakeup_flag(size)))
		diag_add(DIAG_LOST_FAULT, count);
	batch->count = 0;
}

/*
 * This CPU's batch, claimed; NULL if another program holds it. A test and
 * a store would not do: an fexit program runs under migrate_disable()
 * only, so on a preemptible kernel another task's program on this CPU can
 * run between them and claim the batch too. Each claimant instead adds
 * itself with one atomic add and owns the batch only if it is the one
 * claimant: whoever comes second sees two, and at worst both give way.
 * An add without a fetch is the oldest BPF atomic (every supported
 * kernel), where a compare-and-exchange needs Linux 5.12.
 */
static __always_inline struct cpu_batch *claim_batch(void)
{
	__u32 zero = 0;
	struct cpu_batch *cpu = bpf_map_lookup_elem(&fault_batches, &zero);

	if (!cpu)
		return NULL;
	__sync_fetch_and_add(&cpu->claimants, 1);
	barrier();	/* the count is read, and the batch, after the add */
	if (cpu->claimants == 1)
		return cpu;
	__sync_fetch_and_add(&cpu->claimants, -1);
	return NULL;
}

/* Only programs on this CPU claim its batch, and a CPU sees its own
 * stores in order: the batch's stores stay above the release. */
static __always_inline void release_batch(struct cpu_batch *cpu)
{
	barrier();
	__sync_fetch_and_add(&cpu->claimants, -1);
}

/* Add a fault to this CPU's batch; false if another program holds it. */
static __always_inline bool batch_fault(struct task_state *state,
					__u32 fault_class, __u64 latency_ns)
{
	struct cpu_batch *cpu = claim_batch();
	__u32 count;

	if (!cpu)
		return false;
	count = cpu->batch.count;
	if (count < FAULT_BATCH_RECORDS) {
		fill_record(&cpu->batch.records[count], state, EVENT_FAULT,
			    fault_class, latency_ns);
		cpu->batch.count = count + 1;
	}
	if (cpu->batch.count >= FAULT_BATCH_RECORDS)
		send_batch(&cpu->batch);
	release_batch(cpu);
	return true;
}

/* A fault that waited goes alone, with its waits. */
static __always_inline void stream_waits(struct task_state *state,
					 __u32 fault_class, __u64 latency_ns)
{
	struct fault_waits_record *record;

	record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
	if (!record) {
		diag_inc(DIAG_LOST_FAULT);
		return;
	}
	fill_record(&record->fault, state, EVENT_FAULT_WAITS, fault_class, latency_ns);
	for (int cause = 0; cause < NR_WAIT_CAUSES; cause++)
		record->wait_ns[cause] = state->wait_ns[cause] > 0xffffffffULL
					 ? 0xffffffffU : state->wait_ns[cause];
	bpf_ringbuf_submit(record, wakeup_flag(sizeof(*record)));
}

/* --min-latency, --where, --stacks: hand one completed fault to userspace. */
static __always_inline void stream_fault(struct task_state *state,
					 __u32 fault_class, __u64 latency_ns)
{
	struct fault_record *record;

	if ((stack_every || stack_majors) && wants_stack(state, fault_class)) {
		stream_stack(state, fault_class, latency_ns);
		return;
	}
	if (!stream_faults || latency_ns < stream_min_latency_ns)
		return;
	if (state->waited) {
		stream_waits(state, fault_class, latency_ns);
		return;
	}
	/* Major and invalid faults go alone, in the order the CPUs take them:
	 * the file views tell sequential reads by it, and they are slow. */
	if (fault_class < FAULT_FIRST_MAJOR && batch_fault(state, fault_class, latency_ns))
		return;
	record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
	if (!record) {
		diag_inc(DIAG_LOST_FAULT);
		return;
	}
	fill_record(record, state, EVENT_FAULT, fault_class, latency_ns);
	bpf_ringbuf_submit(record, wakeup_flag(sizeof(*record)));
}

/* An atomic add costs tens of ns: only where two threads may meet. */
static __always_inline void counter_add(__u64 *counter, __u64 value, bool shared)
{
	if (shared)
		__sync_fetch_and_add(counter, value);
	else
		*counter += value;
}

/* Where the fault's time went, by the causes it waited on. */
static __always_inline void add_waits(struct proc_stats *stats,
				      struct task_state *state,
				      __u32 fault_class, bool shared)
{
	for (__u32 cause = 0; cause < NR_WAIT_CAUSES; cause++) {
		if (!(state->waited & (1u << cause)))
			continue;
		counter_add(&stats->cause_ns[fault_class][cause],
			    state->wait_ns[cause], shared);
		counter_add(&stats->cause_faults[fault_class][cause], 1, shared);
	}
}

/* The fault is over: close its open wait, see if NUMA balancing ran. */
static __always_inline void settle_fault(struct task_state *state,
					 struct task_struct *task)
{
	if (state->open_wait)
		wait_close(state, bpf_ktime_get_ns());
	state->hints.numa = numa_faults_seen(task) != state->numa_base;
}

/*
 * It waited off the CPU, asleep or preempted: in a registered range, a
 * userfaultfd handler's reply. A thread preempted after it woke the
 * handler finds the reply there when it runs again, and never sleeps.
 */
static __always_inline bool waited_off_cpu(const struct task_state *state)
{
	return state->waited & ((1u << CAUSE_SLEEP) | (1u << CAUSE_RUNQUEUE));
}

static __always_inline bool uffd_registered(struct vm_area_struct *vma)
{
	if (!bpf_core_field_exists(vma->vm_userfaultfd_ctx))
		return false;
	return BPF_CORE_READ(vma, vm_userfaultfd_ctx.ctx) != NULL;
}

/*
 * Add a finished fault to its process's slot; no latency without entry.
 * @major: the kernel counted it major (rusage's majflt).
 */
static __always_inline __u64 account(struct task_state *state, __u32 fault_class,
				     bool major)
{
	struct proc_stats *stats = fault_slot(state);
	__u64 latency_ns = 0;
	__u32 bucket;
	bool shared;

	if (!stats || fault_class >= NR_FAULT_CLASSES)
		return 0;
	shared = stats->threaded;
	if (state->entry_ns) {
		latency_ns = bpf_ktime_get_ns() - state->entry_ns;
		bucket = hist_bucket(latency_ns);
		/* One register for the check and the index: older verifiers
		 * (6.1) lose the bound between two copies of it. */
		barrier_var(bucket);
		if (bucket < HIST_BUCKETS)
			counter_add(&stats->hist[fault_class][bucket], 1, shared);
		counter_add(&stats->latency_sum_ns[fault_class], latency_ns, shared);
		if (state->waited)
			add_waits(stats, state, fault_class, shared);
	} else {
		counter_add(&stats->untimed[fault_class], 1, shared);
		diag_inc(DIAG_NO_ENTRY);
	}
	if (state->hints.huge_fallback)
		counter_add(&stats->thp_fallbacks, 1, shared);
	if (fault_class == FAULT_UFFD && major)
		counter_add(&stats->uffd_major, 1, shared);
	if (count_threads) {
		state->thread_count[fault_class]++;
		state->thread_latency_ns += latency_ns;
	}
	if (stream_faults || stack_every || stack_majors)
		stream_fault(state, fault_class, latency_ns);
	if (state->waited)
		forget_waits(state);
	state->entry_ns = 0;
	return latency_ns;
}

/*
 * Kernels before 6.2: which batched RSS counter the fault changed. A fold
 * into the mm on the way (it resets the events count, then the fault adds
 * its own change) leaves the batch holding this fault's change alone.
 */
static __always_inline void batched_rss_hint(struct task_state *state,
					     struct task_struct *task)
{
	struct task_struct___batched *t = (void *)task;
	int now[NR_MM_COUNTERS] = {};
	bool folded;

	state->hints.rss = HINT_UNKNOWN;	/* rss_stat fired only for a fold */
	if (bpf_core_read(now, sizeof(now), &t->rss_stat.count))
		return;
	folded = BPF_CORE_READ(t, rss_stat.events) <= state->rss_events;
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		now[i] -= folded ? 0 : state->rss_base[i];
	if (now[MM_SWAPENTS] < 0)
		state->hints.rss = HINT_SWAP;
	else if (now[MM_ANONPAGES] > 0)
		state->hints.rss = HINT_ANON;
	else if (now[MM_FILEPAGES] > 0 || now[MM_SHMEMPAGES] > 0)
		state->hints.rss = HINT_FILE;
}

static long uffd_range(struct task_struct *task, struct vm_area_struct *vma,
		       bool *registered)
{
	*registered = uffd_registered(vma);
	return 0;
}

/* perf backend: whether the fault's address is in a userfaultfd range. */
static __always_inline bool uffd_at(struct task_struct *task, __u64 address)
{
	bool registered = false;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma))
		bpf_find_vma(task, address, uffd_range, &registered, 0);
	return registered;
}

/* perf backend: the kernel's own accounting of a completed fault. */
static __always_inline int fault_counted(bool major, bool find_vma)
{
	struct task_struct *task = current_task();
	struct task_state *state = in_flight(task);

	if (!state)
		return 0;
	if (rss_batched(task))
		batched_rss_hint(state, task);
	settle_fault(state, task);
	if (find_vma && waited_off_cpu(state))
		state->hints.uffd = uffd_at(task, state->address);
	account(state, completed_class(major, state->error_code, &state->hints), major);
	return 0;
}

SEC("perf_event")
int perf_minor_fault(struct bpf_perf_event_data *ctx)
{
	return fault_counted(false, true);
}

SEC("perf_event")
int perf_major_fault(struct bpf_perf_event_data *ctx)
{
	return fault_counted(true, true);
}

/* Without bpf_find_vma: userfaultfd faults are not told apart. */
SEC("perf_event")
int perf_minor_fault_plain(struct bpf_perf_event_data *ctx)
{
	return fault_counted(false, false);
}

SEC("perf_event")
int perf_major_fault_plain(struct bpf_perf_event_data *ctx)
{
	return fault_counted(true, false);
}

/*
 * perf backend: which RSS counter a fault changed says what it mapped.
 * A swap-in bumps MM_ANONPAGES, then drops MM_SWAPENTS: the last one wins.
 */
SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *task = current_task();
	struct task_state *state;

	if (BPF_CORE_READ(task, mm) != mm)
		return 0;
	state = in_flight(task);
	if (!state)
		return 0;
	if (member == MM_ANONPAGES)
		state->hints.rss = HINT_ANON;
	else if (member == MM_SWAPENTS)
		state->hints.rss = HINT_SWAP;
	else
		state->hints.rss = HINT_FILE;
	if (state->hints.vma == HINT_FILE && state->hints.rss == HINT_ANON)
		state->hints.private_copy = 1;
	return 0;
}

/* perf backend, where the kernel has it: the fault reached a file's pages. */
SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(filemap_fault, struct address_space *mapping, unsigned long index)
{
	struct task_state *state = in_flight(current_task());

	if (state)
		state->hints.vma = HINT_FILE;
	return 0;
}

/*
 * Every backend: a fault that allocated a huge page (the kernel counts it
 * in thp_fault_alloc), or wanted one and got none (thp_fault_fallback).
 * Most allocations are single pages: they leave at the first test.
 */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc, struct page *page, unsigned int order)
{
	struct task_state *state;

	if (order < huge_order)
		return 0;
	state = in_flight(current_task());
	if (!state)
		return 0;
	if (page)
		state->hints.huge = 1;
	else
		state->hints.huge_fallback = 1;
	return 0;
}

/* fexit and kretprobe: count what handle_mm_fault decided, unless its
 * retry or signal_generate will. */
static __always_inline void mm_fault_done(struct task_state *state,
					  struct vm_area_struct *vma,
					  __u32 ret, __u32 flags)
{
	struct task_struct *task = current_task();
	__u32 fault_class;

	if (rss_batched(task))
		batched_rss_hint(state, task);
	settle_fault(state, task);
	/* A handler's fault waits and retries. */
	if (waited_off_cpu(state) || (ret & VM_FAULT_RETRY))
		state->hints.uffd |= uffd_registered(vma);
	fault_class = outcome_class(ret, flags, state->error_code, &state->hints);
	if (fault_class != FAULT_NOT_MINE)
		account(state, fault_class, outcome_major(ret, flags));
}

SEC("fexit/handle_mm_fault")
int BPF_PROG(handle_mm_fault_exit, struct vm_area_struct *vma,
	     unsigned long address, unsigned int flags, struct pt_regs *regs,
	     vm_fault_t ret)
{
	struct task_struct *task = current_task();
	struct task_state *state = traced_state(task);

	if (!state)
		return 0;
	if (!regs) {	/* get_user_pages: no entry tracepoint fired */
		state->entry_ns = 0;
		state->error_code = 0;
	}
	/* The vma is trusted here: read directly, no helper call. */
	hint_vma(&state->hints, vma->vm_file != NULL, vma->vm_flags & VM_SHARED,
		 flags);
	mm_fault_done(state, vma, ret, flags);
	return 0;
}

SEC("kprobe/handle_mm_fault")
int BPF_KPROBE(handle_mm_fault_entry, struct vm_area_struct *vma,
	       unsigned long address, unsigned int flags, struct pt_regs *regs)
{
	struct task_struct *task = current_task();
	struct task_state *state = traced_state(task);

	if (!state)
		return 0;
	if (!regs) {	/* get_user_pages: time it from here */
		state->error_code = 0;
		state->entry_ns = bpf_ktime_get_ns();
	}
	/* kretprobe cannot see the arguments: keep what it needs here. */
	state->fault_flags = flags;
	state->vma = vma;
	hint_vma(&state->hints, BPF_CORE_READ(vma, vm_file) != NULL,
		 BPF_CORE_READ(vma, vm_flags) & VM_SHARED, flags);
	return 0;
}

SEC("kretprobe/handle_mm_fault")
int BPF_KRETPROBE(handle_mm_fault_return, vm_fault_t ret)
{
	struct task_state *state = in_flight(current_task());

	if (state)
		mm_fault_done(state, state->vma, ret, state->fault_flags);
	return 0;
}

/* A fault the kernel refused ends in SIGSEGV or SIGBUS sent to itself. */
static __always_inline int signal_generated(int sig, struct kernel_siginfo *info,
					    struct task_struct *target,
					    bool find_vma)
{
	struct task_struct *task = current_task();
	struct task_state *state;
	__u32 fault_class;
	__u64 latency_ns;
	int code;

	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) carry no siginfo. */
	if (target != task || (unsigned long)info <= 1)
		return 0;
	code = BPF_CORE_READ(info, si_code);
	fault_class = signal_class(sig, code);
	if (fault_class == FAULT_NOT_MINE)
		return 0;
	state = in_flight(task);
	if (!state)
		return 0;
	settle_fault(state, task);
	latency_ns = account(state, fault_class, false);
	emit_invalid(state, task, fault_class, latency_ns, code, find_vma);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *target)
{
	return signal_generated(sig, info, target, true);
}

/* Without bpf_find_vma: the mapping is read from /proc/PID/maps. */
SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate_plain, int sig, struct kernel_siginfo *info,
	     struct task_struct *target)
{
	return signal_generated(sig, info, target, false);
}

#define CLONE_THREAD 0x00010000

/*
 * A new thread makes its process's slot shared before it first runs.
 * task_newtask, unlike sched_process_fork, also sees the kernel's own
 * threads in a process (io_uring workers), which fault on its memory too.
 */
SEC("tp_btf/task_newtask")
int BPF_PROG(task_newtask, struct task_struct *task, unsigned long clone_flags)
{
	__u32 tgid = task->tgid;
	struct proc_stats *stats;
	__u32 *slot;

	if (!(clone_flags & CLONE_THREAD))
		return 0;
	slot = bpf_map_lookup_elem(&slot_by_tgid, &tgid);
	stats = slot ? bpf_map_lookup_elem(&proc_stats, slot) : NULL;
	if (stats)
		stats->threaded = 1;
	return 0;
}

/* Children of traced processes are traced from their first instruction. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u8 traced = 1;

	if (!filter_by_tgid || parent_tgid == child_tgid)
		return 0;
	if (parent_tgid != launcher_tgid &&
	    !bpf_map_lookup_elem(&traced_tgids, &parent_tgid))
		return 0;
	/* The table is full: the child goes untraced, and is counted. */
	if (bpf_map_update_elem(&traced_tgids, &child_tgid, &traced, BPF_ANY))
		diag_inc(DIAG_UNTRACED_CHILDREN);
	return 0;
}

/*
 * A thread took a new name (exec, prctl PR_SET_NAME, a write to
 * /proc/PID/comm): the slot follows its process's leader, and a comm
 * filter decides again for the thread, at its next fault.
 */
static __always_inline void task_renamed(struct task_struct *task,
					 const char *comm)
{
	struct task_state *state = state_of(task, false);
	struct proc_stats *stats;
	__u32 slot;

	if (!state)
		return;
	if (state->filter == FILTER_TRACED && task->pid == task->tgid) {
		slot = state->slot;
		stats = bpf_map_lookup_elem(&proc_stats, &slot);
		if (stats && slot != OVERFLOW_SLOT)
			bpf_probe_read_kernel_str(stats->comm, sizeof(stats->comm), comm);
	}
	if (filter_by_comm && state->filter != FILTER_TRACED)
		state->filter = FILTER_UNKNOWN;
}

/* Fires before the name is copied: @comm is the new one. */
SEC("tp_btf/task_rename")
int BPF_PROG(task_rename, struct task_struct *task, const char *comm)
{
	task_renamed(task, comm);
	return 0;
}

/* For kernels without task_rename: exec's renames at least. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task)
{
	task_renamed(task, task->comm);
	return 0;
}

/*
 * A traced process moved to another cgroup of the grouped hierarchy: its
 * slot is done (userspace reads it a last time and recycles it, as after
 * an exit), and its next fault takes a new slot, which records the new
 * cgroup. Fires once per move, with the leader when a whole process moves
 * (cgroup.procs), else with the one thread (cgroup.threads, v1's tasks).
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_task, struct cgroup *dst, const char *path,
	     struct task_struct *task, bool threadgroup)
{
	__u32 tgid = task->tgid, *slot;
	struct proc_stats *stats;

	if (!grouped_hierarchy(dst))
		return 0;
	slot = bpf_map_lookup_elem(&slot_by_tgid, &tgid);
	stats = slot ? bpf_map_lookup_elem(&proc_stats, slot) : NULL;
	if (!stats || *slot == OVERFLOW_SLOT ||
	    stats->cgroup_id == BPF_CORE_READ(dst, kn, id))
		return 0;
	stats->moved = 1;
	bpf_map_delete_elem(&slot_by_tgid, &tgid);
	return 0;
}

/* The last thread out tells userspace the slot can be read and recycled. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid, tid = task->pid;
	struct proc_exit_event *event;
	__u32 *slot;

	if (!task_storage)	/* every thread's exit frees its entry */
		bpf_map_delete_elem(&task_states, &tid);
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (filter_by_tgid)
		bpf_map_delete_elem(&traced_tgids, &tgid);
	slot = bpf_map_lookup_elem(&slot_by_tgid, &tgid);
	if (!slot)
		return 0;
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		diag_inc(DIAG_LOST_EXIT);
		return 0;
	}
	event->header.type = EVENT_PROC_EXIT;
	event->tgid = tgid;
	event->slot = *slot;
	event->exit_code = task->exit_code;
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * Run by the reader on each CPU whose batch holds faults (a test run on
 * that CPU), so that a CPU gone quiet does not keep them.
 */
SEC("raw_tp")
int flush_fault_batch(void *ctx)
{
	struct cpu_batch *cpu = claim_batch();

	if (!cpu)
		return 0;
	send_batch(&cpu->batch);
	release_batch(cpu);
	return 0;
}

/* The traced threads' counts, read by userspace through an iterator. */
SEC("iter/task")
int dump_threads(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct thread_stats out = {};
	struct task_state *state;

	if (!task)
		return 0;
	state = state_of(task, false);
	if (!state || state->filter != FILTER_TRACED)
		return 0;
	out.tid = task->pid;
	out.tgid = task->tgid;
	bpf_probe_read_kernel_str(out.comm, sizeof(out.comm), task->comm);
	__builtin_memcpy(out.count, state->thread_count, sizeof(out.count));
	out.latency_sum_ns = state->thread_latency_ns;
	bpf_seq_write(ctx->meta->seq, &out, sizeof(out));
	return 0;
}
