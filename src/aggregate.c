/* Aggregation of per-slot kernel counters into per-process records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"
#include "hist.h"

static const char *const class_names[NR_FAULT_CLASSES] = {
	[FAULT_ANON_ZERO] = "anon_zero",
	[FAULT_ANON_THP] = "anon_thp",
	[FAULT_COW] = "cow",
	[FAULT_FILE_CACHED] = "file_cached",
	[FAULT_SWAP_CACHE] = "swap_cache",
	[FAULT_NUMA_HINT] = "numa_hint",
	[FAULT_UFFD] = "uffd",
	[FAULT_FILE_READ] = "file_read",
	[FAULT_SWAP_IN] = "swap_in",
	[FAULT_SEGV_MAPERR] = "segv_maperr",
	[FAULT_SEGV_ACCERR] = "segv_accerr",
	[FAULT_SIGBUS] = "sigbus",
	[FAULT_OTHER_ERROR] = "other_error",
};

const char *fault_class_name(enum fault_class fault_class)
{
	if ((unsigned)fault_class >= NR_FAULT_CLASSES)
		return "unknown";
	return class_names[fault_class];
}

const char *fault_cause_name(enum fault_cause cause)
{
	static const char *const names[NR_FAULT_CAUSES] = {
		[CAUSE_IO] = "io",
		[CAUSE_DIRECT_RECLAIM] = "direct_reclaim",
		[CAUSE_MEMCG_RECLAIM] = "memcg_reclaim",
		[CAUSE_COMPACTION] = "compaction",
		[CAUSE_MMAP_LOCK] = "mmap_lock",
		[CAUSE_WRITEBACK] = "writeback",
		[CAUSE_RUNQUEUE] = "runqueue",
		[CAUSE_SLEEP] = "sleep",
		[CAUSE_CPU] = "cpu",
	};

	return (unsigned)cause < NR_FAULT_CAUSES ? names[cause] : "unknown";
}

const char *class_kind_name(enum class_kind kind)
{
	static const char *const names[] = {
		[KIND_MINOR] = "minor", [KIND_MAJOR] = "major",
		[KIND_INVALID] = "invalid", [KIND_ERROR] = "error",
	};

	return (unsigned)kind <= KIND_ERROR ? names[kind] : "unknown";
}

enum class_kind fault_class_kind(enum fault_class fault_class)
{
	if (fault_class < FAULT_FIRST_MAJOR)
		return KIND_MINOR;
	if (fault_class < FAULT_FIRST_INVALID)
		return KIND_MAJOR;
	if (fault_class < FAULT_OTHER_ERROR)
		return KIND_INVALID;
	return KIND_ERROR;
}

enum class_kind class_shown_kind(enum fault_class fault_class)
{
	enum class_kind kind = fault_class_kind(fault_class);

	return kind == KIND_ERROR ? KIND_INVALID : kind;
}

__u64 class_counts_total(const __u64 count[NR_FAULT_CLASSES])
{
	__u64 sum = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		sum += count[c];
	return sum;
}

__u64 class_counts_of_kind(const __u64 count[NR_FAULT_CLASSES],
			   enum class_kind shown)
{
	__u64 sum = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (class_shown_kind(c) == shown)
			sum += count[c];
	return sum;
}

const char *lost_kind_name(enum diag_counter kind)
{
	static const char *const names[NR_LOST_KINDS] = {
		[DIAG_LOST_EXIT] = "exits",
		[DIAG_LOST_INVALID] = "invalid_faults",
		[DIAG_LOST_FAULT] = "fault_records",
		[DIAG_LOST_STACK] = "stacks",
	};

	return (unsigned)kind < NR_LOST_KINDS ? names[kind] : "unknown";
}

__u64 run_lost_events(const struct run_info *run)
{
	__u64 lost = 0;

	for (int kind = 0; kind < NR_LOST_KINDS; kind++)
		lost += run->diag[kind];
	return lost;
}

void aggregate_init(struct aggregate *agg)
{
	memset(agg, 0, sizeof(*agg));
}

void aggregate_free(struct aggregate *agg)
{
	for (size_t i = 0; i < agg->nr_records; i++) {
		free(agg->records[i]->shown);
		free(agg->records[i]);
	}
	free(agg->records);
	memset(agg, 0, sizeof(*agg));
}

struct process_record *aggregate_add_record(struct aggregate *agg)
{
	struct process_record *record;

	if (agg->nr_records == agg->capacity) {
		size_t capacity = agg->capacity ? agg->capacity * 2 : 64;
		void *grown = realloc(agg->records, capacity * sizeof(*agg->records));

		if (!grown)
			return NULL;
		agg->records = grown;
		agg->capacity = capacity;
	}
	record = calloc(1, sizeof(*record));
	if (record)
		agg->records[agg->nr_records++] = record;
	return record;
}

static struct process_record *add_record(struct aggregate *agg,
					 const struct proc_stats *stats)
{
	struct process_record *record = aggregate_add_record(agg);

	if (record) {
		record->tgid = stats->tgid;
		record->start_ns = stats->start_ns;
	}
	return record;
}

__u64 slot_class_count(__u64 untimed, const __u64 hist[HIST_BUCKETS])
{
	__u64 count = untimed;

	for (unsigned int b = 0; b < HIST_BUCKETS; b++)
		count += hist[b];
	return count;
}

/* Counts summed from the copied histogram, so that a fault landing
 * meanwhile cannot set the two apart. */
static void copy_stats(struct fault_stats *to, const struct proc_stats *from)
{
	memcpy(to->latency_sum_ns, from->latency_sum_ns,
	       sizeof(to->latency_sum_ns));
	memcpy(to->hist, from->hist, sizeof(to->hist));
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		to->count[c] = slot_class_count(from->untimed[c], to->hist[c]);
		for (int cause = 0; cause < NR_WAIT_CAUSES; cause++) {
			to->cause_ns[c][cause] = from->cause_ns[c][cause];
			to->cause_faults[c][cause] = from->cause_faults[c][cause];
		}
	}
	to->thp_fallbacks = from->thp_fallbacks;
	to->uffd_major = from->uffd_major;
	stats_settle_cpu(to);
}

__u64 stats_wait_ns(const struct fault_stats *stats, int fault_class)
{
	__u64 sum = 0;

	for (int cause = 0; cause < NR_WAIT_CAUSES; cause++)
		sum += stats->cause_ns[fault_class][cause];
	return sum;
}

/*
 * Read while faults land, a class's waits may run ahead of its sum (a
 * fault's waits are added before its latency): they are cut to the sum,
 * so that the causes always add up to it, and the next read is whole.
 */
void stats_settle_cpu(struct fault_stats *stats)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		__u64 left = stats->latency_sum_ns[c], timed = 0;

		for (int cause = 0; cause < NR_WAIT_CAUSES; cause++) {
			__u64 *ns = &stats->cause_ns[c][cause];

			if (*ns > left)
				*ns = left;
			left -= *ns;
		}
		for (unsigned b = 0; b < HIST_BUCKETS; b++)
			timed += stats->hist[c][b];
		stats->cause_ns[c][CAUSE_CPU] = left;
		stats->cause_faults[c][CAUSE_CPU] = timed;
	}
}

int aggregate_update_slot(struct aggregate *agg, __u32 slot,
			  const struct proc_stats *stats)
{
	struct process_record *record;

	if (slot >= MAX_PROC_SLOTS)
		return -EINVAL;
	record = agg->by_slot[slot];
	if (!record || record->tgid != stats->tgid ||
	    record->start_ns != stats->start_ns) {
		record = add_record(agg, stats);
		if (!record)
			return -ENOMEM;
		agg->by_slot[slot] = record;
	}
	record->cgroup_id = stats->cgroup_id;
	record->ns_pid = stats->ns_pid;
	memcpy(record->comm, stats->comm, COMM_LEN);
	record->comm[COMM_LEN - 1] = '\0';
	if (slot == OVERFLOW_SLOT)
		strcpy(record->comm, OVERFLOW_COMM);
	copy_stats(&record->stats, stats);
	return 0;
}

/*
 * The record that gathers exited processes named @comm in cgroup
 * @cgroup_id; past MAX_FOLDED_COMMS of them, the rest's (no cgroup).
 */
static struct process_record *folded_record(struct aggregate *agg,
					    const char *comm, __u64 cgroup_id)
{
	struct process_record *record;

	if (agg->nr_folded >= MAX_FOLDED_COMMS) {
		comm = FOLDED_REST_COMM;
		cgroup_id = 0;
	}
	for (size_t i = 0; i < agg->nr_records; i++) {
		record = agg->records[i];
		if (record->folded && record->cgroup_id == cgroup_id &&
		    !strcmp(record->comm, comm))
			return record;
	}
	record = aggregate_add_record(agg);
	if (!record)
		return NULL;
	snprintf(record->comm, COMM_LEN, "%s", comm);
	record->cgroup_id = cgroup_id;
	record->exited = true;
	record->shown_final = true;	/* never a row of the periodic table */
	agg->nr_folded++;
	return record;
}

static int fold_oldest_exited(struct aggregate *agg)
{
	struct process_record *oldest = NULL, *into;
	size_t at = 0;

	for (size_t i = 0; i < agg->nr_records; i++) {
		struct process_record *record = agg->records[i];

		if ((record->exited || record->moved) && !record->folded &&
		    (!oldest || record->exit_seq < oldest->exit_seq)) {
			oldest = record;
			at = i;
		}
	}
	if (!oldest)
		return 0;
	into = folded_record(agg, oldest->comm, oldest->cgroup_id);
	if (!into)
		return -ENOMEM;
	stats_add(&into->stats, &oldest->stats);
	into->folded++;
	memmove(&agg->records[at], &agg->records[at + 1],
		(agg->nr_records - at - 1) * sizeof(*agg->records));
	agg->nr_records--;
	agg->nr_exited_kept--;
	free(oldest->shown);
	free(oldest);
	return 0;
}

/* @record's counts are final: kept, then folded in the order they closed. */
static int close_record(struct aggregate *agg, struct process_record *record)
{
	record->exit_seq = ++agg->exits;
	if (++agg->nr_exited_kept <= MAX_EXITED_KEPT)
		return 0;
	return fold_oldest_exited(agg);
}

int aggregate_release_slot(struct aggregate *agg, __u32 slot, bool exited)
{
	struct process_record *record;

	if (slot >= MAX_PROC_SLOTS || !agg->by_slot[slot])
		return 0;
	record = agg->by_slot[slot];
	agg->by_slot[slot] = NULL;
	if (!exited)
		return 0;
	record->exited = true;
	return close_record(agg, record);
}

int aggregate_release_moved(struct aggregate *agg, __u32 slot)
{
	struct process_record *record;

	if (slot >= MAX_PROC_SLOTS || !agg->by_slot[slot])
		return 0;
	record = agg->by_slot[slot];
	agg->by_slot[slot] = NULL;
	record->moved = true;
	return close_record(agg, record);
}

void aggregate_add_invalid(struct aggregate *agg, const struct invalid_fault *fault)
{
	agg->invalid_events++;
	if (agg->nr_invalid < MAX_INVALID_KEPT)
		agg->invalid[agg->nr_invalid++] = *fault;
}

void aggregate_retain(struct aggregate *agg,
		      bool (*keep)(const struct process_record *, const void *),
		      const void *context)
{
	size_t kept = 0;

	for (size_t i = 0; i < agg->nr_records; i++) {
		struct process_record *record = agg->records[i];

		if (keep(record, context)) {
			agg->records[kept++] = record;
			continue;
		}
		for (__u32 slot = 0; slot < MAX_PROC_SLOTS; slot++)
			if (agg->by_slot[slot] == record)
				agg->by_slot[slot] = NULL;
		free(record->shown);
		free(record);
	}
	agg->nr_records = kept;
}

/* The newest record of a tgid: a reused PID shadows the older process. */
struct process_record *aggregate_find(const struct aggregate *agg, __u32 tgid)
{
	for (size_t i = agg->nr_records; i-- > 0;)
		if (agg->records[i]->tgid == tgid)
			return agg->records[i];
	return NULL;
}

/* As rusage counts them: the uffd faults it calls major move there. */
__u64 stats_kind_count(const struct fault_stats *stats, enum class_kind shown)
{
	__u64 count = class_counts_of_kind(stats->count, shown);

	if (shown == KIND_MINOR)
		return count - (stats->uffd_major < count ? stats->uffd_major : count);
	if (shown == KIND_MAJOR)
		return count + stats->uffd_major;
	return count;
}

void stats_kind_hist(const struct fault_stats *stats, enum class_kind shown,
		     __u64 *hist)
{
	memset(hist, 0, HIST_BUCKETS * sizeof(*hist));
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		if (class_shown_kind(c) == shown)
			hist_add(hist, stats->hist[c]);
}

__u64 stats_latency_sum(const struct fault_stats *stats)
{
	__u64 sum = 0;

	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		sum += stats->latency_sum_ns[c];
	return sum;
}

int records_by_time_in_faults(const void *a, const void *b)
{
	__u64 x = stats_latency_sum(&(*(const struct process_record *const *)a)->stats);
	__u64 y = stats_latency_sum(&(*(const struct process_record *const *)b)->stats);

	return x < y ? 1 : x > y ? -1 : 0;
}

void stats_add(struct fault_stats *total, const struct fault_stats *stats)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		total->count[c] += stats->count[c];
		total->latency_sum_ns[c] += stats->latency_sum_ns[c];
		hist_add(total->hist[c], stats->hist[c]);
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++) {
			total->cause_ns[c][cause] += stats->cause_ns[c][cause];
			total->cause_faults[c][cause] += stats->cause_faults[c][cause];
		}
	}
	total->thp_fallbacks += stats->thp_fallbacks;
	total->uffd_major += stats->uffd_major;
}

void aggregate_totals(const struct aggregate *agg, struct fault_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (size_t i = 0; i < agg->nr_records; i++)
		stats_add(total, &agg->records[i]->stats);
}

int aggregate_mark_shown(struct aggregate *agg)
{
	for (size_t i = 0; i < agg->nr_records; i++) {
		struct process_record *record = agg->records[i];

		if (record->shown_final)
			continue;
		if (!record->shown) {
			record->shown = malloc(sizeof(*record->shown));
			if (!record->shown)
				return -ENOMEM;
		}
		*record->shown = record->stats;
		record->shown_final = record->exited || record->moved;
	}
	return 0;
}
