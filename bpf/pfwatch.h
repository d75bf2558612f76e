/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs and the userspace loader:
 * fault classes, histogram geometry, map values and ring buffer events.
 * Nothing here may be defined a second time on either side.
 */
#ifndef PFWATCH_H
#define PFWATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Order matters: minor classes, then major, then invalid, then the rest. */
enum fault_class {
	FAULT_ANON_ZERO,	/* first touch of anonymous memory */
	FAULT_ANON_THP,		/* first touch, mapped with a huge page */
	FAULT_COW,		/* write to a present read-only private page */
	FAULT_FILE_CACHED,	/* file page already in the page cache */
	FAULT_SWAP_CACHE,	/* anonymous page found in the swap cache */
	FAULT_NUMA_HINT,	/* NUMA balancing's hinting fault */
	FAULT_UFFD,		/* resolved by a userfaultfd handler; the
				 * kernel may count it major (uffd_major) */
	FAULT_FILE_READ,	/* file page read from storage */
	FAULT_SWAP_IN,		/* anonymous page read back from swap */
	FAULT_SEGV_MAPERR,	/* no mapping at the address */
	FAULT_SEGV_ACCERR,	/* mapping forbids the access */
	FAULT_SIGBUS,		/* mapping exists, backing does not */
	FAULT_OTHER_ERROR,	/* OOM, HWPOISON, anything else that failed */
	NR_FAULT_CLASSES,
};

#define FAULT_FIRST_MAJOR	FAULT_FILE_READ
#define FAULT_FIRST_INVALID	FAULT_SEGV_MAPERR

/*
 * Where a fault's time went. The waits are timed in the kernel while the
 * fault is in flight, each interval charged to one cause only; the rest
 * of its latency (CAUSE_CPU, the kernel's own work) is what the waits
 * leave, so a fault's causes add up to its latency.
 */
enum fault_cause {
	CAUSE_IO,		/* asleep in I/O: a read from a file or swap */
	CAUSE_DIRECT_RECLAIM,	/* freeing memory for its allocation */
	CAUSE_MEMCG_RECLAIM,	/* its memory cgroup at its limit */
	CAUSE_COMPACTION,	/* assembling a huge page */
	CAUSE_MMAP_LOCK,	/* the address-space lock, held by another */
	CAUSE_WRITEBACK,	/* a page under writeback, or dirty throttling */
	CAUSE_RUNQUEUE,		/* preempted, waiting for a CPU */
	CAUSE_SLEEP,		/* asleep for anything else: a userfaultfd
				 * handler's reply, another lock */
	NR_WAIT_CAUSES,
	CAUSE_CPU = NR_WAIT_CAUSES,
	NR_FAULT_CAUSES,
};

/*
 * Log-linear latency histogram: values below 2^HIST_SUB_BITS get a bucket
 * each; above, every power of two is split into 2^HIST_SUB_BITS equal
 * sub-buckets, so a bucket is at most 1/4 of its lower bound wide and the
 * bucket middle is within 12.5% of any value in it.
 */
#define HIST_SUB_BITS		2
#define HIST_SUB_BUCKETS	(1u << HIST_SUB_BITS)
#define HIST_MAX_POW2		35	/* 2^36 ns = 68.7 s; larger values clamp */
#define HIST_BUCKETS	\
	((HIST_MAX_POW2 - HIST_SUB_BITS + 2) * HIST_SUB_BUCKETS)

static inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0;

	/* Branchy on purpose: BPF has no count-leading-zeros instruction. */
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

static inline __u32 hist_bucket(__u64 value)
{
	__u32 pow2, sub;

	if (value < HIST_SUB_BUCKETS)
		return (__u32)value;
	pow2 = hist_log2(value);
	if (pow2 > HIST_MAX_POW2)
		return HIST_BUCKETS - 1;
	sub = (__u32)(value >> (pow2 - HIST_SUB_BITS)) & (HIST_SUB_BUCKETS - 1);
	return (pow2 - HIST_SUB_BITS + 1) * HIST_SUB_BUCKETS + sub;
}

/* Smallest value that lands in bucket @b (the inverse of hist_bucket). */
static inline __u64 hist_bucket_low(__u32 b)
{
	__u32 pow2;

	if (b < HIST_SUB_BUCKETS)
		return b;
	pow2 = b / HIST_SUB_BUCKETS + HIST_SUB_BITS - 1;
	return ((__u64)HIST_SUB_BUCKETS + b % HIST_SUB_BUCKETS)
		<< (pow2 - HIST_SUB_BITS);
}

/*
 * Per-process counters, one array slot per live traced process, not per-CPU
 * (its memory does not grow with the number of CPUs). A process that has
 * ever had a second thread (or the overflow slot, shared by many) is
 * updated with atomic adds; a single-threaded one with plain adds, since
 * only its one thread writes. The fields a fault touches first share the
 * slot's first cache line; a class's count is its histogram's total plus
 * its untimed faults.
 */
#define MAX_PROC_SLOTS		1024
#define OVERFLOW_SLOT		0	/* processes that found no free slot */
#define COMM_LEN		16

struct proc_stats {
	__u32 tgid;		/* 0: slot is free */
	__u32 ns_pid;		/* the PID in its own namespace (a container's) */
	__u64 start_ns;		/* leader's start time: tells PID reuse apart */
	__u64 cgroup_id;
	char comm[COMM_LEN];
	__u32 threaded;		/* 1: more than one thread may write */
	__u32 moved;		/* 1: the process moved to another cgroup, and
				 * faults on in a new slot: this one is done */
	__u64 latency_sum_ns[NR_FAULT_CLASSES];
	__u64 untimed[NR_FAULT_CLASSES];	/* faults seen without entry */
	__u64 hist[NR_FAULT_CLASSES][HIST_BUCKETS];
	/* Touched only by the faults they count. */
	__u64 thp_fallbacks;	/* a huge page was wanted, a small one mapped */
	__u64 uffd_major;	/* FAULT_UFFD faults the kernel counted major */
	__u64 cause_ns[NR_FAULT_CLASSES][NR_WAIT_CAUSES];
	__u64 cause_faults[NR_FAULT_CLASSES][NR_WAIT_CAUSES];	/* that waited */
};

/* Before Linux 5.11: the threads whose state the kernel keeps at once
 * (preallocated: about 5 MiB). */
#define MAX_HASHED_THREADS	16384

/* Processes -p and -- CMD trace at once, with their children. */
#define MAX_TRACED_TGIDS	8192

/* Why a fault's class could not be decided, and other counted mishaps. */
enum diag_counter {
	/* Events lost because the ring buffer was full, by what they carried. */
	DIAG_LOST_EXIT,		/* a process exit */
	DIAG_LOST_INVALID,	/* an invalid fault's details */
	DIAG_LOST_FAULT,	/* a --where / --min-latency fault record */
	DIAG_LOST_STACK,	/* a --stacks fault record with its stack */
	DIAG_SLOTS_EXHAUSTED,	/* processes accounted to the overflow slot */
	DIAG_UNRESOLVED,	/* entries that never saw an outcome */
	DIAG_NO_ENTRY,		/* outcomes without an entry (get_user_pages) */
	DIAG_UNTRACED_CHILDREN,	/* children of traced processes left untraced:
				 * traced_tgids was full */
	DIAG_THREADS_UNTRACKED,	/* before Linux 5.11: threads the thread
				 * table had no room for; their faults are
				 * in no count */
	DIAG_OUTCOMES_MISSED,	/* filled by userspace: runs the kernel
				 * skipped of an outcome program (its
				 * recursion_misses), one a fault each */
	NR_DIAG_COUNTERS,
	NR_LOST_KINDS = DIAG_LOST_STACK + 1,
};

enum event_type {
	EVENT_PROC_EXIT = 1,	/* last thread of a traced process exited */
	EVENT_INVALID_FAULT,	/* a fault that raised a signal */
	EVENT_FAULT,		/* --min-latency, --where: one completed fault */
	EVENT_FAULT_STACK,	/* --stacks: a fault with its user stack */
	EVENT_FAULT_BATCH,	/* --min-latency, --where: a CPU's minor faults */
	EVENT_FAULT_WAITS,	/* --min-latency, --where: a fault that waited */
};

/* How every ring buffer event begins: the reader tells them apart by it. */
struct event_header {
	__u16 type;		/* enum event_type */
};

/* A streamed fault: kept small, there may be one per fault. */
struct fault_record {
	struct event_header header;
	__u16 fault_class;
	__u32 tgid;
	__u32 tid;
	__u32 latency_ns;	/* saturates at 4.29 s; 0: not timed */
	__u64 address;
	__u64 ip;
};

_Static_assert(sizeof(struct fault_record) == 32,
	       "a batch of fault records fills whole cache lines");

/*
 * Streamed minor faults travel in batches: each CPU gathers its records
 * and hands them to the ring buffer together, which costs about what one
 * record alone would. The reader flushes partial batches when it polls.
 */
#define FAULT_BATCH_RECORDS 32

struct fault_batch {
	struct event_header header;	/* EVENT_FAULT_BATCH */
	__u16 pad;
	__u32 count;		/* records in use; only those are sent */
	struct fault_record records[FAULT_BATCH_RECORDS];
};

/*
 * A CPU's batch in its map. A program that finds it claimed (it preempted
 * or interrupted the one filling it, on the same CPU) leaves it alone: its
 * fault goes to the ring buffer by itself.
 */
struct cpu_batch {
	__u32 claimants;	/* programs on this CPU claiming the batch */
	__u32 pad;
	struct fault_batch batch;
};

/* A streamed fault that waited, with its waits (ns, saturating). */
struct fault_waits_record {
	struct fault_record fault;	/* its header says EVENT_FAULT_WAITS */
	__u32 wait_ns[NR_WAIT_CAUSES];
};

#define MAX_STACK_FRAMES 32

/* A sampled fault with the return addresses of its user stack. */
struct fault_stack_record {
	struct fault_record fault;	/* its header says EVENT_FAULT_STACK */
	__u32 nr_frames;		/* frames[0] is the faulting ip */
	__u32 pad;
	__u64 frames[MAX_STACK_FRAMES];
};

struct proc_exit_event {
	struct event_header header;
	__u16 pad;
	__u32 tgid;
	__u32 slot;
	__u32 exit_code;
};

/* The mapping an invalid fault hit, read in the kernel while it exists. */
enum vma_kind { VMA_NONE, VMA_ANON, VMA_HEAP, VMA_STACK, VMA_FILE };

#define VMA_NAME_LEN 64

struct fault_vma {
	__u64 start;
	__u64 end;
	__u64 pgoff;		/* file offset of start, in pages */
	__u32 flags;		/* VM_READ 1, VM_WRITE 2, VM_EXEC 4, VM_SHARED 8 */
	__u32 kind;		/* enum vma_kind; VMA_NONE: no vma or not looked up */
	char file_name[VMA_NAME_LEN];	/* the file's last path component */
};

struct fault_event {
	struct event_header header;
	__u16 pad;
	__u32 tgid;
	__u32 tid;
	__u32 fault_class;
	__u64 address;
	__u64 ip;
	__u64 latency_ns;
	__u32 error_code;
	__u32 signal_code;
	char comm[COMM_LEN];
	struct fault_vma vma;
};

/*
 * A traced thread's counts since pfwatch started, one record per thread
 * from the thread iterator: the live view's per-thread rows.
 */
struct thread_stats {
	__u32 tid;
	__u32 tgid;
	char comm[COMM_LEN];	/* the thread's own name */
	__u64 count[NR_FAULT_CLASSES];
	__u64 latency_sum_ns;
};

/* Which hook decides a fault's outcome. */
enum backend {
	BACKEND_AUTO,
	BACKEND_FEXIT,
	BACKEND_KPROBE,
	BACKEND_PERF,
};

/* x86 page fault error code bits (arch/x86/include/asm/trap_pf.h). */
#define PF_ERR_PROT	(1u << 0)
#define PF_ERR_WRITE	(1u << 1)
#define PF_ERR_USER	(1u << 2)
#define PF_ERR_INSTR	(1u << 4)

#endif /* PFWATCH_H */
