/*
 * Collection: drains the ring buffer (process exits, invalid faults) and
 * copies the kernel's per-process slots into the aggregate, recycling the
 * slots of processes that have exited.
 */
#ifndef PFWATCH_COLLECT_H
#define PFWATCH_COLLECT_H

#include "aggregate.h"
#include "cgroup_names.h"
#include "loader.h"
#include "proc_cgroup.h"
#include "proc_maps.h"
#include "symbols.h"

/* A streamed fault, placed: what a --min-latency line shows. */
struct streamed_fault {
	const struct fault_record *record;
	const __u32 *wait_ns;	/* [NR_WAIT_CAUSES]: what it waited on, or
				 * NULL: it did not wait */
	const char *comm;
	const char *mapping;	/* where_describe()'s: "[heap]", "/lib/x.so+0x1000" */
	const char *function;	/* "?" without a symbol */
	const char *source;	/* "file.c:123", "-" without a line */
};

/* Where streamed faults go (--min-latency); nowhere while on_fault is NULL. */
struct fault_sink {
	void (*on_fault)(const struct streamed_fault *fault, void *context);
	void (*flush)(void *context);	/* after each poll, if not NULL */
	void *context;
	__u64 min_latency_ns;	/* only faults at least this slow */
};

struct collector {
	struct tracer *tracer;
	struct aggregate *agg;
	struct ring_buffer *ring;
	/*
	 * Slots whose process exited. A slot is recycled one sync after its
	 * exit was seen: threads still leaving may fault until then.
	 */
	struct exited_slot {
		__u32 slot;
		__u32 tgid;
		bool moved;	/* to another cgroup: the process goes on */
	} exited[MAX_PROC_SLOTS], draining[MAX_PROC_SLOTS];
	size_t nr_exited;
	size_t nr_draining;
	struct maps_cache maps;	/* where invalid and streamed faults landed */
	struct symbolizer symbols;	/* the functions that faulted */
	__u64 maps_read_ns;	/* when the maps cache last aged */
	__u64 flushed_ns;	/* when the CPUs' fault batches were last sent */
	struct fault_sink sink;	/* --min-latency: every fault slow enough */
	struct where_table *where;	/* --where: faults placed, else NULL */
	struct stack_table *stacks;	/* --stacks: folded stacks, else NULL */
	__u64 streamed;		/* fault records received */
	struct cgroup_table cgroups;	/* of processes that reclaimed in theirs */
	__u64 cgroups_read_ns;	/* when the slots were last looked at for it */
	/* Where the records' cgroup ids are named, each while it exists;
	 * NULL: no cgroup hierarchy is mounted. */
	const struct cgroup_hierarchy *cgroup_hierarchy;
	struct cgroup_names cgroup_names;
	__u32 last_tgid;	/* comm_of()'s memory */
	char last_comm[COMM_LEN];
};

/*
 * 0, or -errno if the ring buffer cannot be opened. Without @tracer the
 * collector only parses what collector_handle_event() is handed.
 */
int collector_init(struct collector *collector, struct tracer *tracer,
		   struct aggregate *agg);
void collector_free(struct collector *collector);
/* Waits up to timeout_ms for events and handles them; -errno on failure. */
int collector_poll(struct collector *collector, int timeout_ms);
/*
 * One ring buffer record: a process exit, an invalid fault, a streamed
 * fault (alone, with its waits or its stack, or a CPU's batch). Records too
 * short for their type are ignored. Always 0 (the ring buffer goes on).
 */
int collector_handle_event(void *ctx, void *data, size_t size);
/* Readable when events wait past the wakeup threshold. */
int collector_fd(const struct collector *collector);
/* Reads every slot into the aggregate and recycles exited ones. */
int collector_sync(struct collector *collector);
/*
 * The last read: processes that exited or moved to another cgroup since
 * the one before are closed now rather than a read later, so that the
 * summary and files say so.
 */
int collector_sync_last(struct collector *collector);
/*
 * Every live traced thread's counts, sorted by TID, in a malloc'd array
 * the caller frees; -errno on failure (-ENOTSUP: not loaded).
 */
int collector_read_threads(struct collector *collector,
			   struct thread_stats **threads, size_t *nr_threads);

#endif
