/* Hints from the aggregate: only what a figure shows, with the figure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "hints.h"
#include "hist.h"
#include "proc_cgroup.h"
#include "render_text.h"

/*
 * Below this much fault time in a process, no cause is worth a line: a
 * millisecond over a whole run is not what anyone is chasing.
 */
#define MIN_EXPLAINED_NS 1000000ULL
/* "Mostly": a cause or a class holds more than half of the time. */
#define MOST 0.5
/* A burst of copy-on-write: at least a MiB of pages copied after a fork. */
#define COW_MIN_FAULTS 256
/* Swap-ins are thrashing when they keep coming: one refault is not. */
#define THRASH_MIN_FAULTS 64
/*
 * A userfaultfd round trip (wake the handler thread, its copy ioctl, wake
 * the faulting thread) measured p50 90 us traced on this 2-CPU VM
 * (faultgen uffd with --uffd-sleep-us 0); a pager slower than about three
 * times that spends its own time on each page.
 */
#define SLOW_PAGER_P50_NS 250000ULL
/* Percentiles of fewer faults say little. */
#define PAGER_MIN_FAULTS 16

const char *hint_kind_name(enum hint_kind kind)
{
	static const char *const names[NR_HINT_KINDS] = {
		[HINT_KIND_MEMCG_RECLAIM] = "memcg_reclaim",
		[HINT_KIND_HUGE_PAGES] = "huge_pages",
		[HINT_KIND_THRASHING] = "thrashing",
		[HINT_KIND_COW_AFTER_FORK] = "cow_after_fork",
		[HINT_KIND_SLOW_PAGER] = "slow_pager",
	};

	return kind < NR_HINT_KINDS ? names[kind] : "unknown";
}

/* What one process's hints are computed from. */
struct subject {
	const struct process_record *record;
	const struct run_info *run;
	__u64 fault_ns;		/* all its time in faults */
	char who[64];		/* "faultgen (PID 12)" */
};

/* A hint's line, cut to fit if it must. */
__attribute__((format(printf, 2, 3)))
static void say(struct hint *h, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(h->text, sizeof(h->text), format, args);
	va_end(args);
}

static double share(__u64 part, __u64 whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

static __u64 cause_total(const struct fault_stats *stats, int cause, __u64 *faults)
{
	__u64 ns = 0;

	*faults = 0;
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		ns += stats->cause_ns[c][cause];
		*faults += stats->cause_faults[c][cause];
	}
	return ns;
}

/* The cgroup and its limit, as far as pfwatch read them. */
static void describe_cgroup(char *buf, size_t size, const struct subject *s)
{
	const struct cgroup_memory *cg = s->run->cgroups && s->record->tgid
		? cgroup_table_find(s->run->cgroups, s->record->tgid) : NULL;
	char limit[16];

	if (!s->run->cgroups)	/* pfwatch report: the file does not say */
		snprintf(buf, size, "its memory cgroup");
	else if (!cg)
		snprintf(buf, size, "its memory cgroup (not read: the process exited first)");
	else if (!cg->limited[0])
		snprintf(buf, size, "cgroup %s (no memory limit found on its way up)", cg->path);
	else if (!strcmp(cg->path, cg->limited))
		snprintf(buf, size, "cgroup %s, at its limit (%s %s)", cg->path,
			 cg->v2 ? "memory.max" : "memory.limit_in_bytes",
			 format_bytes(limit, sizeof(limit), cg->limit_bytes));
	else
		snprintf(buf, size, "cgroup %s, under %s at its limit (%s %s)", cg->path,
			 cg->limited, cg->v2 ? "memory.max" : "memory.limit_in_bytes",
			 format_bytes(limit, sizeof(limit), cg->limit_bytes));
}

static bool memcg_hint(const struct subject *s, struct hint *h)
{
	__u64 faults, ns = cause_total(&s->record->stats, CAUSE_MEMCG_RECLAIM, &faults);
	char time[16], all[16], cgroup[CGROUP_PATH_LEN * 2 + 64];

	if (ns < MIN_EXPLAINED_NS || share(ns, s->fault_ns) <= MOST)
		return false;
	describe_cgroup(cgroup, sizeof(cgroup), s);
	h->ns = ns;
	say(h, "%s: %.0f%% of its time in faults (%s of %s) was memory-cgroup reclaim, in %llu faults: %s",
		 s->who, 100 * share(ns, s->fault_ns), format_ns(time, sizeof(time), ns),
		 format_ns(all, sizeof(all), s->fault_ns), (unsigned long long)faults,
		 cgroup);
	return true;
}

static bool huge_pages_hint(const struct subject *s, struct hint *h)
{
	const struct fault_stats *st = &s->record->stats;
	__u64 ns = st->latency_sum_ns[FAULT_ANON_THP];
	__u64 compaction = st->cause_ns[FAULT_ANON_THP][CAUSE_COMPACTION];
	char time[16], p50[16], waits[96] = "", fallbacks[96] = "";

	if (ns < MIN_EXPLAINED_NS || share(ns, s->fault_ns) <= MOST)
		return false;
	if (compaction)
		snprintf(waits, sizeof(waits), ", %s of it compacting memory",
			 format_ns(time, sizeof(time), compaction));
	if (st->thp_fallbacks)
		snprintf(fallbacks, sizeof(fallbacks),
			 "; %llu more fell back to small pages (fragmented memory)",
			 (unsigned long long)st->thp_fallbacks);
	h->ns = ns;
	say(h, "%s: %llu huge-page faults took %.0f%% of its time in faults (%s, p50 %s each%s): each zero-fills a whole huge page%s",
	    s->who, (unsigned long long)st->count[FAULT_ANON_THP],
	    100 * share(ns, s->fault_ns), format_ns(time, sizeof(time), ns),
	    format_ns(p50, sizeof(p50), hist_percentile(st->hist[FAULT_ANON_THP], 0.5)),
	    waits, fallbacks);
	return true;
}

static bool thrashing_hint(const struct subject *s, struct hint *h)
{
	const struct fault_stats *st = &s->record->stats;
	__u64 ns = st->latency_sum_ns[FAULT_SWAP_IN] + st->latency_sum_ns[FAULT_SWAP_CACHE];
	__u64 io = st->cause_ns[FAULT_SWAP_IN][CAUSE_IO] +
		   st->cause_ns[FAULT_SWAP_CACHE][CAUSE_IO];
	__u64 faults = st->count[FAULT_SWAP_IN] + st->count[FAULT_SWAP_CACHE];
	char time[16], io_time[16], cgroup[CGROUP_PATH_LEN * 2 + 64] = "memory";

	if (ns < MIN_EXPLAINED_NS || faults < THRASH_MIN_FAULTS ||
	    share(ns, s->fault_ns) <= MOST || share(io, ns) <= MOST)
		return false;
	/* Its cgroup is known when its faults reclaimed there: the limit
	 * is then what it does not fit in. */
	if (s->run->cgroups && cgroup_table_find(s->run->cgroups, s->record->tgid))
		describe_cgroup(cgroup, sizeof(cgroup), s);
	h->ns = ns;
	say(h, "%s: %llu faults brought back pages it had swapped out (%llu still in the swap cache: evicted moments before), %.0f%% of its time in faults (%s, %s of it waiting for I/O): it does not fit in %s",
		 s->who, (unsigned long long)faults,
		 (unsigned long long)st->count[FAULT_SWAP_CACHE],
		 100 * share(ns, s->fault_ns), format_ns(time, sizeof(time), ns),
		 format_ns(io_time, sizeof(io_time), io), cgroup);
	return true;
}

static bool cow_hint(const struct subject *s, struct hint *h)
{
	const struct fault_stats *st = &s->record->stats;
	__u64 ns = st->latency_sum_ns[FAULT_COW];
	char time[16];

	if (ns < MIN_EXPLAINED_NS || st->count[FAULT_COW] < COW_MIN_FAULTS ||
	    share(ns, s->fault_ns) <= MOST)
		return false;
	h->ns = ns;
	say(h, "%s: %llu copy-on-write faults took %.0f%% of its time in faults (%s): each first write to a page shared since a fork (or to a private file page) copies it",
		 s->who, (unsigned long long)st->count[FAULT_COW],
		 100 * share(ns, s->fault_ns), format_ns(time, sizeof(time), ns));
	return true;
}

static bool slow_pager_hint(const struct subject *s, struct hint *h)
{
	const struct fault_stats *st = &s->record->stats;
	const __u64 *hist = st->hist[FAULT_UFFD];
	__u64 ns = st->latency_sum_ns[FAULT_UFFD], p50 = hist_percentile(hist, 0.5);
	char time[16], p50_cell[16], p99_cell[16];

	if (ns < MIN_EXPLAINED_NS || hist_count(hist) < PAGER_MIN_FAULTS ||
	    p50 < SLOW_PAGER_P50_NS)
		return false;
	h->ns = ns;
	say(h, "%s: %llu userfaultfd faults waited p50 %s, p99 %s for its userspace pager (%s in all, %.0f%% asleep until the handler replied)",
		 s->who, (unsigned long long)st->count[FAULT_UFFD],
		 format_ns(p50_cell, sizeof(p50_cell), p50),
		 format_ns(p99_cell, sizeof(p99_cell), hist_percentile(hist, 0.99)),
		 format_ns(time, sizeof(time), ns),
		 100 * share(st->cause_ns[FAULT_UFFD][CAUSE_SLEEP], ns));
	return true;
}

/* Keeps the MAX_HINTS that explain the most time, most first. */
static size_t keep(struct hint *hints, size_t nr, const struct hint *found)
{
	size_t at = nr < MAX_HINTS ? nr : MAX_HINTS - 1;

	if (nr == MAX_HINTS && found->ns <= hints[at].ns)
		return nr;
	for (; at > 0 && hints[at - 1].ns < found->ns; at--)
		hints[at] = hints[at - 1];
	hints[at] = *found;
	return nr < MAX_HINTS ? nr + 1 : nr;
}

size_t hints_find(const struct aggregate *agg, const struct run_info *run,
		  struct hint hints[MAX_HINTS])
{
	static bool (*const rules[NR_HINT_KINDS])(const struct subject *, struct hint *) = {
		[HINT_KIND_MEMCG_RECLAIM] = memcg_hint,
		[HINT_KIND_HUGE_PAGES] = huge_pages_hint,
		[HINT_KIND_THRASHING] = thrashing_hint,
		[HINT_KIND_COW_AFTER_FORK] = cow_hint,
		[HINT_KIND_SLOW_PAGER] = slow_pager_hint,
	};
	size_t nr = 0;

	for (size_t i = 0; i < agg->nr_records; i++) {
		const struct process_record *record = agg->records[i];
		struct subject s = {
			.record = record, .run = run,
			.fault_ns = stats_latency_sum(&record->stats),
		};

		if (s.fault_ns < MIN_EXPLAINED_NS)
			continue;
		if (!record->tgid)
			snprintf(s.who, sizeof(s.who), "%s (processes without a slot)",
				 record->comm);
		else if (record->folded)
			snprintf(s.who, sizeof(s.who), "%s (%llu exited processes)",
				 record->comm, (unsigned long long)record->folded);
		else
			snprintf(s.who, sizeof(s.who), "%s (PID %u)", record->comm,
				 record->tgid);
		for (int kind = 0; kind < NR_HINT_KINDS; kind++) {
			struct hint found = { .kind = (enum hint_kind)kind };

			if (!rules[kind](&s, &found))
				continue;
			found.pid = record->folded ? 0 : record->tgid;
			memcpy(found.comm, record->comm, COMM_LEN);
			nr = keep(hints, nr, &found);
		}
	}
	return nr;
}
