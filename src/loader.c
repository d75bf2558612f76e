/* Load and attach: pick a backend the kernel allows, fall back in order. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "options.h"
#include "pfwatch.skel.h"

/* The kernel's internal "not supported", leaked by some BPF paths. */
#define ENOTSUPP 524

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

static int verbose_print(enum libbpf_print_level level, const char *fmt,
			 va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* The hooks that time a fault's waits, where this kernel has them. */
static void select_wait_programs(struct pfwatch_bpf *skel,
				 const struct kernel_features *features)
{
	bool compaction = features->compaction_tp;
	bool contention = features->lock_contention_tp;

	bpf_program__set_autoload(skel->progs.sched_switch, true);
	bpf_program__set_autoload(skel->progs.direct_reclaim_begin, true);
	bpf_program__set_autoload(skel->progs.direct_reclaim_end, true);
	bpf_program__set_autoload(skel->progs.memcg_reclaim_begin, true);
	bpf_program__set_autoload(skel->progs.memcg_reclaim_end, true);
	bpf_program__set_autoload(skel->progs.compaction_begin, compaction);
	bpf_program__set_autoload(skel->progs.compaction_end, compaction);
	bpf_program__set_autoload(skel->progs.lock_contended, contention);
	bpf_program__set_autoload(skel->progs.lock_acquired, contention);
	bpf_program__set_autoload(skel->progs.balance_dirty_pages, true);
	bpf_program__set_autoload(skel->progs.folio_wait_writeback,
				  features->folio_writeback_tp);
	bpf_program__set_autoload(skel->progs.wait_on_page_writeback,
				  !features->folio_writeback_tp &&
				  features->page_writeback_tp);
}

/* The programs one backend needs, besides the shared entry and lifecycle. */
static void select_programs(struct pfwatch_bpf *skel, enum backend backend,
			    const struct kernel_features *features)
{
	struct bpf_program *prog;
	bool tp_btf = features->entry == ENTRY_TP_BTF;
	bool renames = features->task_rename_tp;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	bpf_program__set_autoload(skel->progs.page_fault_user, tp_btf);
	bpf_program__set_autoload(skel->progs.page_fault_kernel, tp_btf);
	bpf_program__set_autoload(skel->progs.page_fault_user_tp, !tp_btf);
	bpf_program__set_autoload(skel->progs.page_fault_kernel_tp, !tp_btf);
	bpf_program__set_autoload(skel->progs.signal_generate, features->find_vma);
	bpf_program__set_autoload(skel->progs.signal_generate_plain, !features->find_vma);
	bpf_program__set_autoload(skel->progs.task_newtask, true);
	bpf_program__set_autoload(skel->progs.sched_process_fork, true);
	/* task_rename sees exec's renames too; without it, only those. */
	bpf_program__set_autoload(skel->progs.task_rename, renames);
	bpf_program__set_autoload(skel->progs.sched_process_exec, !renames);
	bpf_program__set_autoload(skel->progs.sched_process_exit, true);
	bpf_program__set_autoload(skel->progs.cgroup_attach_task, true);
	/* Swap-cache hits show in the RSS counters, on every backend. */
	bpf_program__set_autoload(skel->progs.rss_stat, true);
	/* Every allocation passes it (about 16 ns a fault): only where a
	 * fault can get a huge page. */
	bpf_program__set_autoload(skel->progs.page_alloc, features->huge_pages);
	skel->rodata->huge_order = features->huge_order;
	skel->rodata->numa_balancing = features->numa_balancing;
	select_wait_programs(skel, features);
	switch (backend) {
	case BACKEND_FEXIT:
		bpf_program__set_autoload(skel->progs.handle_mm_fault_exit, true);
		break;
	case BACKEND_KPROBE:
		bpf_program__set_autoload(skel->progs.handle_mm_fault_entry, true);
		bpf_program__set_autoload(skel->progs.handle_mm_fault_return, true);
		break;
	default:
		skel->rodata->perf_outcome = true;
		bpf_program__set_autoload(skel->progs.perf_minor_fault, features->find_vma);
		bpf_program__set_autoload(skel->progs.perf_major_fault, features->find_vma);
		bpf_program__set_autoload(skel->progs.perf_minor_fault_plain,
					  !features->find_vma);
		bpf_program__set_autoload(skel->progs.perf_major_fault_plain,
					  !features->find_vma);
		bpf_program__set_autoload(skel->progs.filemap_fault,
					  features->filemap_fault_tp);
		break;
	}
}

/* Before Linux 5.11: the threads' states in a bounded hash by thread id. */
static int hash_thread_states(struct pfwatch_bpf *skel,
			      const struct kernel_features *features)
{
	struct bpf_map *map = skel->maps.task_states;

	if (features->task_storage)
		return 0;
	skel->rodata->task_storage = false;
	/* Preallocated: perf_event programs may use no other kind there. */
	if (bpf_map__set_type(map, BPF_MAP_TYPE_HASH) ||
	    bpf_map__set_map_flags(map, 0) ||
	    bpf_map__set_max_entries(map, MAX_HASHED_THREADS))
		return -errno;
	return 0;
}

static void set_filters(struct pfwatch_bpf *skel,
			const struct tracer_config *config)
{
	struct pfwatch_bpf__rodata *rodata = skel->rodata;

	rodata->filter_by_tgid = config->nr_pids > 0 || config->follow_launcher;
	rodata->launcher_tgid = config->follow_launcher ? (__u32)getpid() : 0;
	rodata->filter_tid = (__u32)config->tid;
	rodata->filter_cgroup_id = config->cgroup_id;
	rodata->memcg_v1_ids = config->memcg_v1_ids;
	rodata->filter_by_comm = config->comm && config->comm[0];
	if (rodata->filter_by_comm)
		strncpy((char *)rodata->filter_comm, config->comm, COMM_LEN - 1);
}

/*
 * A streamed fault is a 32-byte record (40 with its header): 8 MiB holds
 * about 0.4 s of the fastest single-process fault storm measured here,
 * time enough for the reader to wake.
 * Each CPU wakes the reader after submitting a share of the ring, so that
 * all of them together cannot fill it unseen.
 */
#define STREAM_RING_BYTES (8u << 20)
#define WAKEUP_MIN_BYTES (4u << 10)
#define WAKEUP_MAX_BYTES (64u << 10)

/* What goes through the ring buffer (streams, stacks), and its size. */
static int configure_stream(struct pfwatch_bpf *skel, const struct tracer_config *config)
{
	__u32 ring_bytes = bpf_map__max_entries(skel->maps.events);
	int nr_cpus = libbpf_num_possible_cpus();
	__u64 share;

	if (nr_cpus <= 0)
		return nr_cpus ? nr_cpus : -EINVAL;
	skel->rodata->stream_faults = config->stream_records;
	skel->rodata->stream_min_latency_ns = config->stream_min_latency_ns;
	skel->rodata->stack_every = config->stack_every;
	skel->rodata->stack_majors = config->stack_majors;
	/* Run by the reader, on a CPU, to send a partial batch of faults. */
	bpf_program__set_autoload(skel->progs.flush_fault_batch, config->stream_records);
	bpf_program__set_autoattach(skel->progs.flush_fault_batch, false);
	/* Records per fault (or per sampled fault) need the larger ring. */
	if (config->stream_records || config->stack_every || config->stack_majors) {
		ring_bytes = STREAM_RING_BYTES;
		if (bpf_map__set_max_entries(skel->maps.events, ring_bytes))
			return -errno;
	}
	share = ring_bytes / 4 / (__u64)nr_cpus;
	skel->rodata->wakeup_bytes = share < WAKEUP_MIN_BYTES ? WAKEUP_MIN_BYTES
				   : share > WAKEUP_MAX_BYTES ? WAKEUP_MAX_BYTES
				   : share;
	return 0;
}

static int fill_maps(struct pfwatch_bpf *skel, const struct tracer_config *config)
{
	int queue_fd = bpf_map__fd(skel->maps.free_slots);
	int tgids_fd = bpf_map__fd(skel->maps.traced_tgids);
	__u8 traced = 1;

	for (__u32 slot = OVERFLOW_SLOT + 1; slot < MAX_PROC_SLOTS; slot++)
		if (bpf_map_update_elem(queue_fd, NULL, &slot, BPF_ANY))
			return -errno;
	for (int i = 0; i < config->nr_pids; i++) {
		__u32 tgid = (__u32)config->pids[i];

		if (bpf_map_update_elem(tgids_fd, &tgid, &traced, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int open_perf_event(__u64 config, int cpu)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = config,
		.sample_period = 1,
	};

	return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

/* perf backend: the kernel's fault accounting events, on every CPU. */
static int attach_perf_events(struct tracer *tracer)
{
	static const __u64 configs[] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN, PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};
	bool find_vma = bpf_program__autoload(tracer->skel->progs.perf_minor_fault);
	struct bpf_program *progs[] = {
		find_vma ? tracer->skel->progs.perf_minor_fault
			 : tracer->skel->progs.perf_minor_fault_plain,
		find_vma ? tracer->skel->progs.perf_major_fault
			 : tracer->skel->progs.perf_major_fault_plain,
	};
	int nr_cpus = libbpf_num_possible_cpus();

	if (nr_cpus <= 0)
		return -EINVAL;
	tracer->perf_fds = calloc((size_t)nr_cpus * 2, sizeof(int));
	tracer->perf_links = calloc((size_t)nr_cpus * 2, sizeof(*tracer->perf_links));
	if (!tracer->perf_fds || !tracer->perf_links)
		return -ENOMEM;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		for (int kind = 0; kind < 2; kind++) {
			int fd = open_perf_event(configs[kind], cpu);
			struct bpf_link *link;

			if (fd < 0 && errno == ENODEV)
				continue;	/* CPU offline */
			if (fd < 0)
				return -errno;
			tracer->perf_fds[tracer->nr_perf_events] = fd;
			link = bpf_program__attach_perf_event(progs[kind], fd);
			if (!link)
				return -errno;
			tracer->perf_links[tracer->nr_perf_events++] = link;
		}
	}
	return 0;
}

static void detach(struct tracer *tracer)
{
	kretprobe_detach(&tracer->outcome_probe, TRACEFS);
	for (int i = 0; i < tracer->nr_perf_events; i++) {
		bpf_link__destroy(tracer->perf_links[i]);
		close(tracer->perf_fds[i]);
	}
	free(tracer->perf_links);
	free(tracer->perf_fds);
	tracer->perf_links = NULL;
	tracer->perf_fds = NULL;
	tracer->nr_perf_events = 0;
	if (tracer->slots)
		munmap(tracer->slots, tracer->slots_size);
	tracer->slots = NULL;
	free(tracer->batches);
	tracer->batches = NULL;
	pfwatch_bpf__destroy(tracer->skel);
	tracer->skel = NULL;
}

static int map_slots(struct tracer *tracer)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = MAX_PROC_SLOTS * sizeof(struct proc_stats);
	void *mem;

	size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(tracer->skel->maps.proc_stats), 0);
	if (mem == MAP_FAILED)
		return -errno;
	tracer->slots = mem;
	tracer->slots_size = size;
	/* Many processes share the overflow slot: its adds are always atomic. */
	tracer->slots[OVERFLOW_SLOT].threaded = 1;
	return 0;
}

/*
 * The kprobe backend's return probe, with room for a fault asleep on every
 * thread; where tracefs cannot make it, libbpf's, with the kernel's
 * default number of instances (docs/backends.md).
 */
static int attach_return_probe(struct tracer *tracer, bool verbose)
{
	struct bpf_program *prog = tracer->skel->progs.handle_mm_fault_return;
	struct bpf_link *link;
	int err = ensure_tracefs()
		? kretprobe_attach(&tracer->outcome_probe, TRACEFS, prog, "handle_mm_fault")
		: -ENOENT;

	if (!err)
		return 0;
	if (verbose)
		fprintf(stderr, "pfwatch: cannot make the return probe in %s/kprobe_events (%s): using the kernel's default number of instances\n",
			TRACEFS, strerror(-err));
	link = bpf_program__attach(prog);
	if (!link)
		return -errno;
	tracer->skel->links.handle_mm_fault_return = link;
	return 0;
}

/* One backend, all the way; on failure says which step and why. */
static int try_backend(struct tracer *tracer, enum backend backend,
		       const struct tracer_config *config,
		       const struct kernel_features *features,
		       const char **step)
{
	int err;

	*step = "open the BPF object";
	tracer->skel = pfwatch_bpf__open();
	if (!tracer->skel)
		return -errno;
	select_programs(tracer->skel, backend, features);
	bpf_program__set_autoattach(tracer->skel->progs.handle_mm_fault_return, false);
	/* Only the live view reads per-thread counts: others skip keeping them. */
	bpf_program__set_autoload(tracer->skel->progs.dump_threads,
				  config->thread_counts);
	tracer->skel->rodata->count_threads = config->thread_counts;
	set_filters(tracer->skel, config);
	*step = "keep thread states in a hash";
	err = hash_thread_states(tracer->skel, features);
	if (err)
		return err;
	*step = "size the ring buffer";
	err = configure_stream(tracer->skel, config);
	if (err)
		return err;
	*step = "load the BPF programs";
	err = pfwatch_bpf__load(tracer->skel);
	if (err)
		return err;
	*step = "fill the maps";
	err = fill_maps(tracer->skel, config);
	if (err)
		return err;
	*step = "map the counters";
	err = map_slots(tracer);
	if (err)
		return err;
	*step = backend == BACKEND_KPROBE ? "attach kprobes to handle_mm_fault"
					  : "attach the programs";
	err = pfwatch_bpf__attach(tracer->skel);
	if (err)
		return err;
	if (backend == BACKEND_KPROBE) {
		*step = "attach a return probe to handle_mm_fault";
		err = attach_return_probe(tracer, config->verbose);
	}
	if (backend == BACKEND_PERF) {
		*step = "open the perf page-fault events";
		err = attach_perf_events(tracer);
	}
	return err;
}

const char *failure_hint(enum backend backend, int err)
{
	if (backend == BACKEND_FEXIT && (err == -EPERM || err == -ENOTSUPP ||
					 err == -EOPNOTSUPP || err == -EINVAL))
		return "this kernel does not allow fentry/fexit programs";
	if (backend == BACKEND_KPROBE && (err == -ENOENT || err == -EOPNOTSUPP))
		return "kprobes are not enabled in this kernel (CONFIG_KPROBES)";
	return strerror(-err);
}

enum backend next_backend(enum backend requested, enum backend tried,
			  bool kprobe_first)
{
	if (requested != BACKEND_AUTO)
		return tried == BACKEND_AUTO ? requested : BACKEND_AUTO;
	switch (tried) {
	case BACKEND_AUTO:
		return kprobe_first ? BACKEND_KPROBE : BACKEND_FEXIT;
	case BACKEND_FEXIT:
		return kprobe_first ? BACKEND_PERF : BACKEND_KPROBE;
	case BACKEND_KPROBE:
		return kprobe_first ? BACKEND_FEXIT : BACKEND_PERF;
	default:
		return BACKEND_AUTO;
	}
}

const char *backend_unsupported(enum backend backend,
				const struct kernel_features *features)
{
	if (backend != BACKEND_PERF && !features->handle_mm_fault)
		return "find handle_mm_fault in the kernel's BTF";
	return NULL;
}

void blind_spots(enum backend backend, const struct kernel_features *features,
		 unsigned *unseparated_classes, unsigned *unmeasured_causes)
{
	unsigned classes = 0, causes = 0;

	/* perf has no vma in hand: bpf_find_vma (5.17+) looks it up. */
	if (backend == BACKEND_PERF && !features->find_vma)
		classes |= 1u << FAULT_UFFD;
	/* Read only when on at start: a hint fault made later is missed.
	 * One node has no hint faults to miss. */
	if (features->numa_nodes && !features->numa_balancing)
		classes |= 1u << FAULT_NUMA_HINT;
	if (!features->lock_contention_tp)
		causes |= 1u << CAUSE_MMAP_LOCK;
	if (!features->compaction_tp)
		causes |= 1u << CAUSE_COMPACTION;
	if (!features->folio_writeback_tp && !features->page_writeback_tp)
		causes |= 1u << CAUSE_WRITEBACK;
	*unseparated_classes = classes;
	*unmeasured_causes = causes;
}

int tracer_start(struct tracer *tracer, const struct tracer_config *config,
		 const struct kernel_features *features)
{
	/* A preempted fexit program makes the trampoline skip the faults
	 * after it on that CPU; kprobes run with preemption off. */
	bool kprobe_first = features->preempts_kernel;
	enum backend backend = next_backend(config->backend, BACKEND_AUTO, kprobe_first), next;
	const char *step;
	int err;

	memset(tracer, 0, sizeof(*tracer));
	libbpf_set_print(config->verbose ? verbose_print : silent_print);
	if ((config->stack_every || config->stack_majors) && !features->task_storage) {
		fprintf(stderr, "pfwatch: --stacks needs Linux 5.11 or later (a user stack of the current task's BTF); this kernel is %s\n",
			features->release);
		return -1;
	}
	for (; backend != BACKEND_AUTO; backend = next) {
		next = next_backend(config->backend, backend, kprobe_first);
		step = backend_unsupported(backend, features);
		err = step ? -ENOENT
			   : try_backend(tracer, backend, config, features, &step);
		if (!err) {
			tracer->backend = backend;
			tracer->entry_hook = entry_hook_name(features->entry);
			return 0;
		}
		detach(tracer);
		if (next == BACKEND_AUTO) {
			fprintf(stderr, "pfwatch: backend %s: cannot %s: %s%s\n",
				backend_name(backend), step,
				failure_hint(backend, err),
				config->backend == BACKEND_AUTO ? "" :
				"; try --backend auto");
			return -1;
		}
		if (config->verbose)
			fprintf(stderr, "pfwatch: backend %s: cannot %s: %s; trying the next backend\n",
				backend_name(backend), step,
				failure_hint(backend, err));
	}
	return -1;
}

void tracer_stop(struct tracer *tracer)
{
	detach(tracer);
}

int tracer_events_fd(const struct tracer *tracer)
{
	return bpf_map__fd(tracer->skel->maps.events);
}

/* The process has gone and its slot was read: hand it back to the kernel. */
int tracer_recycle_slot(struct tracer *tracer, __u32 slot, __u32 tgid)
{
	int by_tgid = bpf_map__fd(tracer->skel->maps.slot_by_tgid);
	__u32 bound;

	if (slot == OVERFLOW_SLOT || slot >= MAX_PROC_SLOTS)
		return -EINVAL;
	/* A reused PID may already own a new slot: leave that binding. */
	if (!bpf_map_lookup_elem(by_tgid, &tgid, &bound) && bound == slot &&
	    bpf_map_delete_elem(by_tgid, &tgid))
		return -errno;
	memset(&tracer->slots[slot], 0, sizeof(tracer->slots[slot]));
	if (bpf_map_update_elem(bpf_map__fd(tracer->skel->maps.free_slots),
				NULL, &slot, BPF_ANY))
		return -errno;
	return 0;
}

int tracer_flush_batches(struct tracer *tracer)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .flags = BPF_F_TEST_RUN_ON_CPU);
	int nr_cpus = libbpf_num_possible_cpus(), prog_fd, map_fd;
	size_t stride = (sizeof(struct cpu_batch) + 7) & ~(size_t)7;
	__u32 zero = 0;

	if (!tracer->skel || !tracer->skel->rodata->stream_faults)
		return 0;
	if (nr_cpus <= 0)
		return nr_cpus ? nr_cpus : -EINVAL;
	if (!tracer->batches) {
		tracer->batches = calloc((size_t)nr_cpus, stride);
		if (!tracer->batches)
			return -ENOMEM;
	}
	map_fd = bpf_map__fd(tracer->skel->maps.fault_batches);
	if (bpf_map_lookup_elem(map_fd, &zero, tracer->batches))
		return -errno;
	prog_fd = bpf_program__fd(tracer->skel->progs.flush_fault_batch);
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		const struct cpu_batch *batch =
			(const void *)((const char *)tracer->batches + (size_t)cpu * stride);

		if (!batch->batch.count)
			continue;
		run.cpu = (__u32)cpu;
		/* A CPU gone offline took no faults since: nothing to flush. */
		if (bpf_prog_test_run_opts(prog_fd, &run) && errno != ENXIO)
			return -errno;
	}
	return 0;
}

/*
 * A trampoline skips a program while another run of it on the same CPU
 * is unfinished: a preempted fexit program (fully preemptible kernels)
 * costs the faults that come by meanwhile their outcome. A return probe
 * misses a return when no instance is free.
 */
static __u64 outcome_misses(const struct tracer *tracer)
{
	struct bpf_program *progs[] = {
		tracer->skel->progs.handle_mm_fault_exit,
		tracer->skel->progs.handle_mm_fault_return,
	};
	__u64 misses = 0;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_prog_info info = {};
		__u32 length = sizeof(info);
		int fd = bpf_program__fd(progs[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &length))
			misses += info.recursion_misses;
	}
	return misses + kretprobe_missed(&tracer->outcome_probe, TRACEFS);
}

int tracer_read_diag(const struct tracer *tracer, __u64 diag[NR_DIAG_COUNTERS],
		     __u64 *lost_per_cpu)
{
	int nr_cpus = libbpf_num_possible_cpus(), fd = bpf_map__fd(tracer->skel->maps.diag);
	__u64 *values;
	int err = 0;

	memset(diag, 0, NR_DIAG_COUNTERS * sizeof(*diag));
	if (nr_cpus <= 0)
		return nr_cpus ? nr_cpus : -EINVAL;
	values = calloc((size_t)nr_cpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	if (lost_per_cpu)
		memset(lost_per_cpu, 0, (size_t)nr_cpus * sizeof(*lost_per_cpu));
	for (__u32 counter = 0; counter < NR_DIAG_COUNTERS; counter++) {
		if (bpf_map_lookup_elem(fd, &counter, values)) {
			err = -errno;	/* it reads as 0; the others still count */
			continue;
		}
		for (int cpu = 0; cpu < nr_cpus; cpu++) {
			diag[counter] += values[cpu];
			if (lost_per_cpu && counter < NR_LOST_KINDS)
				lost_per_cpu[cpu] += values[cpu];
		}
	}
	free(values);
	diag[DIAG_OUTCOMES_MISSED] = outcome_misses(tracer);
	return err;
}
