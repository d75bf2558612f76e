/* Collection from the kernel: ring buffer events and the mmapped slots. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect.h"
#include "stacks.h"
#include "where.h"
#include "pfwatch.skel.h"

static bool listed(const struct exited_slot *list, size_t nr, __u32 slot)
{
	for (size_t i = 0; i < nr; i++)
		if (list[i].slot == slot)
			return true;
	return false;
}

static void remember_exit(struct collector *collector, __u32 slot, __u32 tgid,
			  bool moved)
{
	if (slot == OVERFLOW_SLOT || slot >= MAX_PROC_SLOTS ||
	    collector->nr_exited == MAX_PROC_SLOTS ||
	    listed(collector->exited, collector->nr_exited, slot) ||
	    listed(collector->draining, collector->nr_draining, slot))
		return;
	collector->exited[collector->nr_exited].slot = slot;
	collector->exited[collector->nr_exited].moved = moved;
	collector->exited[collector->nr_exited++].tgid = tgid;
}

static void format_perms(char perms[5], bool read, bool write, bool exec,
			 bool shared)
{
	perms[0] = read ? 'r' : '-';
	perms[1] = write ? 'w' : '-';
	perms[2] = exec ? 'x' : '-';
	perms[3] = shared ? 's' : 'p';
	perms[4] = '\0';
}

static void describe_from_kernel(struct invalid_fault *fault,
				 const struct fault_vma *vma)
{
	static const char *const kinds[] = {
		[VMA_ANON] = "anon", [VMA_HEAP] = "heap", [VMA_STACK] = "stack",
		[VMA_FILE] = "file",
	};

	fault->mapped = true;
	snprintf(fault->mapping_kind, sizeof(fault->mapping_kind), "%s",
		 vma->kind <= VMA_FILE ? kinds[vma->kind] : "anon");
	format_perms(fault->perms, vma->flags & 1, vma->flags & 2,
		     vma->flags & 4, vma->flags & 8);
	snprintf(fault->path, sizeof(fault->path), "%.*s", VMA_NAME_LEN,
		 vma->file_name);
}

static void describe_from_maps(struct invalid_fault *fault, const struct mapping *m)
{
	fault->mapped = true;
	snprintf(fault->mapping_kind, sizeof(fault->mapping_kind), "%s",
		 mapping_kind_name(m->kind));
	format_perms(fault->perms, m->readable, m->writable, m->executable,
		     m->shared);
	/* Long paths are cut: this is a hint for a person, not a key. */
	snprintf(fault->path, sizeof(fault->path), "%.*s",
		 (int)sizeof(fault->path) - 1, m->path);
}

/*
 * The kernel read the vma at the fault (it names a file only by its last
 * component); /proc/PID/maps, while the process lives, gives the full
 * path, and stands in where the kernel could not look.
 */
static void record_invalid(struct collector *collector,
			   const struct fault_event *event)
{
	struct invalid_fault fault = { .event = *event };
	bool want_maps = event->vma.kind == VMA_FILE ||
			 (event->vma.kind == VMA_NONE &&
			  event->fault_class != FAULT_SEGV_MAPERR);
	const struct mapping *m = NULL;

	if (event->vma.kind != VMA_NONE)
		describe_from_kernel(&fault, &event->vma);
	/* Only listed faults need it, and a miss re-reads the maps file. */
	if (want_maps && collector->agg->nr_invalid < MAX_INVALID_KEPT)
		m = maps_cache_find(&collector->maps, (pid_t)event->tgid,
				    event->address);
	if (m)
		describe_from_maps(&fault, m);
	aggregate_add_invalid(collector->agg, &fault);
}

/* Streamed faults come in runs from one process: remember the last name. */
static const char *comm_of(struct collector *collector, __u32 tgid)
{
	const struct process_record *proc;
	char path[32];
	FILE *file;

	if (tgid == collector->last_tgid)
		return collector->last_comm;
	collector->last_tgid = tgid;
	proc = aggregate_find(collector->agg, tgid);
	if (proc) {
		memcpy(collector->last_comm, proc->comm, COMM_LEN);
		return collector->last_comm;
	}
	snprintf(collector->last_comm, COMM_LEN, "?");
	snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
	file = fopen(path, "re");
	if (file) {
		if (fgets(collector->last_comm, COMM_LEN, file))
			collector->last_comm[strcspn(collector->last_comm, "\n")] = '\0';
		fclose(file);
	}
	return collector->last_comm;
}

/* --min-latency: every fault to the sink, placed while the process lives. */
static void stream_fault(struct collector *collector, const struct fault_record *record,
			 const __u32 *wait_ns)
{
	char mapping[PATH_MAX + 24], function[128], source[128];
	struct streamed_fault fault = {
		.record = record, .wait_ns = wait_ns, .mapping = mapping,
		.function = function, .source = source,
	};

	where_describe(&collector->maps, &collector->symbols, record, mapping,
		       sizeof(mapping), function, sizeof(function), source,
		       sizeof(source));
	if (!source[0])
		snprintf(source, sizeof(source), "-");
	fault.comm = comm_of(collector, record->tgid);
	collector->sink.on_fault(&fault, collector->sink.context);
}

/* @wait_ns: the fault's waits, NULL if it had none. */
static void handle_fault(struct collector *collector, const struct fault_record *record,
			 const __u32 *wait_ns)
{
	collector->streamed++;
	if (collector->sink.on_fault && record->latency_ns >= collector->sink.min_latency_ns)
		stream_fault(collector, record, wait_ns);
	if (collector->where)
		where_add(collector->where, &collector->maps, &collector->symbols,
			  record, comm_of(collector, record->tgid));
}

int collector_handle_event(void *ctx, void *data, size_t size)
{
	struct collector *collector = ctx;
	const struct event_header *header = data;

	if (size < sizeof(*header))
		return 0;
	if (header->type == EVENT_FAULT_BATCH) {
		const struct fault_batch *batch = data;
		size_t room = size < sizeof(*batch) ? size : sizeof(*batch);
		size_t fits = room < offsetof(struct fault_batch, records) ? 0
			      : (room - offsetof(struct fault_batch, records)) /
				sizeof(batch->records[0]);

		for (size_t i = 0; i < batch->count && i < fits; i++)
			handle_fault(collector, &batch->records[i], NULL);
	} else if (header->type == EVENT_FAULT && size >= sizeof(struct fault_record)) {
		handle_fault(collector, data, NULL);
	} else if (header->type == EVENT_FAULT_WAITS &&
		   size >= sizeof(struct fault_waits_record)) {
		const struct fault_waits_record *record = data;

		handle_fault(collector, &record->fault, record->wait_ns);
	} else if (header->type == EVENT_FAULT_STACK &&
		   size >= sizeof(struct fault_stack_record)) {
		const struct fault_stack_record *record = data;

		if (collector->stacks)
			stacks_add(collector->stacks, &collector->maps, &collector->symbols,
				   record, comm_of(collector, record->fault.tgid));
		/* When every fault is streamed, this one came only this way. */
		if (collector->sink.on_fault || collector->where)
			handle_fault(collector, &record->fault, NULL);
	} else if (header->type == EVENT_PROC_EXIT && size >= sizeof(struct proc_exit_event)) {
		const struct proc_exit_event *exit_event = data;

		/* Its maps stay until the slot is recycled: faults it took on
		 * other CPUs may still be in their batches. */
		remember_exit(collector, exit_event->slot, exit_event->tgid, false);
	} else if (header->type == EVENT_INVALID_FAULT &&
		   size >= sizeof(struct fault_event)) {
		record_invalid(collector, data);
	}
	return 0;
}

int collector_init(struct collector *collector, struct tracer *tracer,
		   struct aggregate *agg)
{
	memset(collector, 0, sizeof(*collector));
	collector->tracer = tracer;
	collector->agg = agg;
	maps_cache_init(&collector->maps);
	if (symbolizer_init(&collector->symbols, NULL))
		return -ENOMEM;
	if (!tracer)
		return 0;
	collector->ring = ring_buffer__new(tracer_events_fd(tracer),
					   collector_handle_event, collector, NULL);
	return collector->ring ? 0 : -errno;
}

void collector_free(struct collector *collector)
{
	ring_buffer__free(collector->ring);
	collector->ring = NULL;
	maps_cache_free(&collector->maps);
	symbolizer_free(&collector->symbols);
	cgroup_names_free(&collector->cgroup_names);
}

/* At most this often, streamed faults are placed in freshly read maps. */
#define MAPS_REFRESH_NS 50000000ULL
/* While wakeups keep coming, partial batches are flushed this often. */
#define BATCH_FLUSH_NS 20000000ULL

/* At most this often, the slots are looked at for memory-cgroup reclaim
 * and for cgroups not yet named. */
#define CGROUP_CHECK_NS 100000000ULL

static bool reclaimed_in_cgroup(const struct proc_stats *stats)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (stats->cause_ns[c][CAUSE_MEMCG_RECLAIM])
			return true;
	return false;
}

/*
 * The memcg_reclaim hint names the cgroup and its limit: read them while
 * the process lives, once, when its faults first reclaimed there.
 */
static void note_cgroups(struct collector *collector)
{
	struct cgroup_table *table = &collector->cgroups;
	const struct proc_stats *slots = collector->tracer->slots;

	for (__u32 slot = OVERFLOW_SLOT + 1; slot < MAX_PROC_SLOTS; slot++) {
		__u32 tgid = slots[slot].tgid;

		if (table->nr == MAX_CGROUPS_KEPT)
			return;
		if (!tgid || cgroup_table_find(table, tgid) ||
		    !reclaimed_in_cgroup(&slots[slot]))
			continue;
		if (!cgroup_memory_read(CGROUP_ROOT, (pid_t)tgid, &table->entries[table->nr]))
			table->nr++;
	}
}

/*
 * New slots' cgroups are named between reads of the slots too: a
 * short-lived container's cgroup may be gone by the next one.
 */
static int name_cgroups(struct collector *collector)
{
	const struct proc_stats *slots = collector->tracer->slots;

	for (__u32 slot = OVERFLOW_SLOT + 1; slot < MAX_PROC_SLOTS; slot++) {
		int err;

		if (!slots[slot].tgid)
			continue;
		err = cgroup_names_learn(&collector->cgroup_names, collector->cgroup_hierarchy,
					 slots[slot].cgroup_id);
		if (err)
			return err;
	}
	return 0;
}

/* Every event so far, with the faults still waiting in their CPU's batch. */
static int drain(struct collector *collector)
{
	int err = tracer_flush_batches(collector->tracer);

	if (err)
		return err;
	return ring_buffer__consume(collector->ring);
}

int collector_poll(struct collector *collector, int timeout_ms)
{
	struct timespec now;
	__u64 now_ns;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec;
	if (now_ns - collector->maps_read_ns >= MAPS_REFRESH_NS) {
		maps_cache_new_generation(&collector->maps);
		collector->maps_read_ns = now_ns;
	}
	if (now_ns - collector->cgroups_read_ns >= CGROUP_CHECK_NS) {
		note_cgroups(collector);
		collector->cgroups_read_ns = now_ns;
		err = name_cgroups(collector);
		if (err)
			return err;
	}
	err = ring_buffer__poll(collector->ring, timeout_ms);

	if (err == -EINTR)
		return 0;
	/* Events are submitted without a wakeup below a threshold, and
	 * faults wait in their CPU's batch: take them when the wait ends
	 * quietly, or when a busy CPU's wakeups keep it from ending so. */
	if (err == 0 || (err > 0 && now_ns - collector->flushed_ns >= BATCH_FLUSH_NS)) {
		collector->flushed_ns = now_ns;
		err = drain(collector);
	}
	if (collector->sink.flush)
		collector->sink.flush(collector->sink.context);
	if (err < 0)
		return err;
	/* A fork storm: recycle slots now rather than at the next table. */
	if (collector->nr_exited >= MAX_PROC_SLOTS / 4)
		return collector_sync(collector);
	return 0;
}

int collector_fd(const struct collector *collector)
{
	return ring_buffer__epoll_fd(collector->ring);
}

/* A slot whose process is gone without an exit event (event lost). */
static bool slot_orphaned(const struct proc_stats *stats)
{
	return kill((pid_t)stats->tgid, 0) && errno == ESRCH;
}

static int recycle_drained(struct collector *collector)
{
	for (size_t i = 0; i < collector->nr_draining; i++) {
		const struct exited_slot *gone = &collector->draining[i];
		int err;

		if (!gone->moved)
			maps_cache_forget(&collector->maps, (pid_t)gone->tgid);
		err = gone->moved ? aggregate_release_moved(collector->agg, gone->slot)
				  : aggregate_release_slot(collector->agg, gone->slot, true);
		if (!err)
			err = tracer_recycle_slot(collector->tracer, gone->slot,
						  gone->tgid);
		if (err)
			return err;
	}
	memcpy(collector->draining, collector->exited,
	       collector->nr_exited * sizeof(collector->exited[0]));
	collector->nr_draining = collector->nr_exited;
	collector->nr_exited = 0;
	return 0;
}

static bool slot_empty(const struct proc_stats *stats)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (slot_class_count(stats->untimed[c], stats->hist[c]))
			return false;
	return true;
}

/* A new record names its cgroup at once: it may not exist for long. */
static int update_slot(struct collector *collector, __u32 slot,
		       const struct proc_stats *stats)
{
	const struct process_record *before = collector->agg->by_slot[slot];
	int err = aggregate_update_slot(collector->agg, slot, stats);

	if (err || slot == OVERFLOW_SLOT || collector->agg->by_slot[slot] == before)
		return err;
	return cgroup_names_learn(&collector->cgroup_names, collector->cgroup_hierarchy,
				  stats->cgroup_id);
}

int collector_sync(struct collector *collector)
{
	struct proc_stats *slots = collector->tracer->slots;
	int err;

	/* Drain first so that exits seen now get one more read below. */
	err = drain(collector);
	if (err < 0)
		return err;
	for (__u32 slot = 0; slot < MAX_PROC_SLOTS; slot++) {
		const struct proc_stats *stats = &slots[slot];

		if (slot == OVERFLOW_SLOT ? slot_empty(stats) : !stats->tgid)
			continue;
		err = update_slot(collector, slot, stats);
		if (err)
			return err;
		/* A moved process's old slot is done, like an exited one's. */
		if (slot != OVERFLOW_SLOT && (stats->moved || slot_orphaned(stats)))
			remember_exit(collector, slot, stats->tgid, stats->moved);
	}
	return recycle_drained(collector);
}

int collector_sync_last(struct collector *collector)
{
	int err = collector_sync(collector);

	return err ? err : recycle_drained(collector);
}

static int by_tid(const void *a, const void *b)
{
	__u32 x = ((const struct thread_stats *)a)->tid;
	__u32 y = ((const struct thread_stats *)b)->tid;

	return x < y ? -1 : x > y;
}

/* The iterator's whole output; records may straddle read() calls. */
static int read_all(int fd, char **out, size_t *size)
{
	size_t capacity = 64 * sizeof(struct thread_stats), used = 0;
	char *buf = malloc(capacity), *bigger;
	ssize_t got;

	while (buf) {
		if (used == capacity) {
			bigger = realloc(buf, capacity * 2);
			if (!bigger)
				break;
			buf = bigger;
			capacity *= 2;
		}
		got = read(fd, buf + used, capacity - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (!got) {
			*out = buf;
			*size = used;
			return 0;
		}
		used += (size_t)got;
	}
	free(buf);
	return -ENOMEM;
}

int collector_read_threads(struct collector *collector,
			   struct thread_stats **threads, size_t *nr_threads)
{
	struct bpf_link *link = collector->tracer->skel->links.dump_threads;
	char *bytes = NULL;
	size_t size = 0;
	int fd, err;

	if (!link)
		return -ENOTSUP;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	err = read_all(fd, &bytes, &size);
	close(fd);
	if (err)
		return err;
	*threads = (struct thread_stats *)bytes;
	*nr_threads = size / sizeof(**threads);
	qsort(*threads, *nr_threads, sizeof(**threads), by_tid);
	return 0;
}
