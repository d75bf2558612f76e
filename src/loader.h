/* Loading the BPF programs and attaching them to the chosen backend. */
#ifndef PFWATCH_LOADER_H
#define PFWATCH_LOADER_H

#include <stdbool.h>
#include <sys/types.h>
#include "kretprobe.h"
#include "pfwatch.h"
#include "probe.h"

struct tracer_config {
	enum backend backend;		/* BACKEND_AUTO tries them in order */
	const pid_t *pids;		/* trace these tgids and their children */
	int nr_pids;
	bool follow_launcher;		/* trace the children pfwatch forks */
	pid_t tid;
	const char *comm;		/* "" for any */
	unsigned long long cgroup_id;	/* 0 for any */
	bool stream_records;		/* a ring buffer record per fault... */
	unsigned long long stream_min_latency_ns;	/* ...this slow or slower */
	unsigned stack_every;		/* --stacks N: 1 in N faults; 0: off */
	bool stack_majors;		/* --stacks major */
	bool thread_counts;		/* load the per-thread iterator */
	bool memcg_v1_ids;		/* cgroup v2 is not mounted: record the v1
					 * memory controller's cgroup ids */
	bool verbose;
};

struct tracer {
	struct pfwatch_bpf *skel;
	enum backend backend;		/* the one that attached */
	const char *entry_hook;		/* "tp_btf" or "tracepoint" */
	struct proc_stats *slots;	/* proc_stats map, mmapped */
	size_t slots_size;
	int nr_perf_events;
	int *perf_fds;
	struct bpf_link **perf_links;
	void *batches;			/* each CPU's fault batch, as last read */
	struct kretprobe outcome_probe;	/* kprobe backend, made in tracefs */
};

/*
 * The backend to try after @tried (BACKEND_AUTO: the first) when the user
 * asked for @requested: auto tries fexit, kprobe, then perf, or with
 * @kprobe_first (a kernel that preempts kernel code) kprobe, fexit, perf.
 * BACKEND_AUTO when none is left.
 */
enum backend next_backend(enum backend requested, enum backend tried,
			  bool kprobe_first);
/* The step @backend cannot take on this kernel, or NULL. */
const char *backend_unsupported(enum backend backend,
				const struct kernel_features *features);
/*
 * What @backend cannot see on this kernel: a bit (1u << fault_class) for
 * each class whose faults it files under others, and (1u << fault_cause)
 * for each cause whose time it counts as another (docs/backends.md).
 */
void blind_spots(enum backend backend, const struct kernel_features *features,
		 unsigned *unseparated_classes, unsigned *unmeasured_causes);
/* Why @backend failed with -errno @err, in words for its message. */
const char *failure_hint(enum backend backend, int err);

/* Returns 0, or -1 after printing one line on stderr. */
int tracer_start(struct tracer *tracer, const struct tracer_config *config,
		 const struct kernel_features *features);
void tracer_stop(struct tracer *tracer);

int tracer_events_fd(const struct tracer *tracer);
int tracer_recycle_slot(struct tracer *tracer, __u32 slot, __u32 tgid);
/* Sends each CPU's partial batch of streamed faults to the ring; -errno. */
int tracer_flush_batches(struct tracer *tracer);
/*
 * Each diagnostic counter summed over the CPUs and, if @lost_per_cpu is
 * given (libbpf_num_possible_cpus() of them), each CPU's lost events of
 * all kinds. 0, or -errno when a counter could not be read (it reads 0).
 */
int tracer_read_diag(const struct tracer *tracer, __u64 diag[NR_DIAG_COUNTERS],
		     __u64 *lost_per_cpu);

#endif
