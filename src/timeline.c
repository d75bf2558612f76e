/*
 * The timeline: intervals of the run, each a sparse fault_stats (the
 * differences between snapshots of the aggregate's totals) and its top
 * processes. A struct fault_stats is all sums, so an interval is kept as
 * the words of it that are not 0: (gap since the last word, value) pairs,
 * both as LEB128 varints. A typical interval holds tens of buckets, so it
 * costs some hundred bytes where the dense struct takes 16 KiB.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

#define STATS_WORDS (sizeof(struct fault_stats) / sizeof(__u64))

union stats_words {
	struct fault_stats stats;
	__u64 word[STATS_WORDS];
};

_Static_assert(sizeof(struct fault_stats) ==
	       sizeof(__u64) * (2 * NR_FAULT_CLASSES + NR_FAULT_CLASSES * HIST_BUCKETS +
				2 * NR_FAULT_CLASSES * NR_FAULT_CAUSES + 2),
	       "the timeline adds fault_stats word by word: a new field must be a "
	       "__u64 sum, and counted here");

/* A gap and a value, 10 bytes each at most. */
#define MAX_CELLS_SIZE (STATS_WORDS * 20)

/* A record's totals at the last sample, to tell what it did since. */
struct record_mark {
	__u32 tgid;
	bool folded;
	__u64 start_ns;
	char comm[COMM_LEN];
	__u64 ns;
	__u64 faults;
};

static size_t put_varint(unsigned char *out, __u64 value)
{
	size_t n = 0;

	do {
		unsigned char byte = value & 0x7f;

		value >>= 7;
		if (out)
			out[n] = byte | (value ? 0x80 : 0);
		n++;
	} while (value);
	return n;
}

/* The bytes @value took, or 0 past @size or a 64-bit value. */
static size_t get_varint(const unsigned char *in, size_t size, __u64 *value)
{
	*value = 0;
	for (size_t n = 0; n < size && n < 10; n++) {
		*value |= (__u64)(in[n] & 0x7f) << (7 * n);
		if (!(in[n] & 0x80))
			return n + 1;
	}
	return 0;
}

/* @words' cells into @out (NULL: only counted); their size. */
static size_t encode_cells(const union stats_words *words, unsigned char *out)
{
	size_t size = 0, next = 0;

	for (size_t w = 0; w < STATS_WORDS; w++) {
		if (!words->word[w])
			continue;
		size += put_varint(out ? out + size : NULL, w - next);
		size += put_varint(out ? out + size : NULL, words->word[w]);
		next = w + 1;
	}
	return size;
}

static void decode_cells_into(const struct timeline_interval *interval,
			      union stats_words *words)
{
	const unsigned char *at = interval->cells, *end = at + interval->cells_size;
	size_t w = 0;

	while (at < end) {
		__u64 gap, value;
		size_t used = get_varint(at, (size_t)(end - at), &gap);

		if (!used)
			return;
		at += used;
		used = get_varint(at, (size_t)(end - at), &value);
		if (!used || gap >= STATS_WORDS - w)
			return;
		at += used;
		w += gap;
		words->word[w++] += value;
	}
}

int timeline_init(struct timeline *tl, double interval_s, size_t max_intervals)
{
	memset(tl, 0, sizeof(*tl));
	if (!(interval_s > 0) || !isfinite(interval_s) || max_intervals < 2)
		return -EINVAL;
	tl->interval_s = interval_s;
	tl->max_intervals = max_intervals;
	tl->max_bytes = TIMELINE_MAX_BYTES;
	tl->base = calloc(1, sizeof(*tl->base));
	return tl->base ? 0 : -ENOMEM;
}

void timeline_free(struct timeline *tl)
{
	for (size_t i = 0; i < tl->nr_intervals; i++)
		free(tl->intervals[i].cells);
	free(tl->intervals);
	free(tl->base);
	free(tl->marks);
	memset(tl, 0, sizeof(*tl));
}

double timeline_start_s(const struct timeline *tl, size_t i)
{
	return (double)i * tl->interval_s;
}

double timeline_length_s(const struct timeline *tl, size_t i)
{
	double start = timeline_start_s(tl, i), left = tl->end_s - start;

	return left > 0 && left < tl->interval_s ? left : tl->interval_s;
}

void timeline_add_interval(const struct timeline *tl, size_t i, struct fault_stats *sum)
{
	if (i < tl->nr_intervals)
		decode_cells_into(&tl->intervals[i], (union stats_words *)sum);
}

void timeline_sum(const struct timeline *tl, size_t first, size_t end,
		  struct fault_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = first; i < end && i < tl->nr_intervals; i++)
		timeline_add_interval(tl, i, sum);
}

int timeline_window(const struct timeline *tl, double from_s, double to_s,
		    size_t *first, size_t *end)
{
	*first = *end = 0;
	for (size_t i = 0; i < tl->nr_intervals; i++) {
		double start = timeline_start_s(tl, i);

		if (start >= to_s || start + timeline_length_s(tl, i) <= from_s)
			continue;
		if (*end == 0)
			*first = i;
		*end = i + 1;
	}
	return *end ? 0 : -ENOENT;
}

/* Most time in faults first, then most faults. */
static int top_order(const void *a, const void *b)
{
	const struct timeline_top *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	if (x->faults != y->faults)
		return x->faults < y->faults ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * @more's entries added to @into's top, which keeps its TIMELINE_TOP
 * first: a merged interval's top is the top of its halves' tops.
 */
static void top_merge(struct timeline_interval *into, const struct timeline_top *more,
		      size_t nr_more)
{
	struct timeline_top all[2 * TIMELINE_TOP];
	size_t nr = into->nr_top;

	memcpy(all, into->top, nr * sizeof(*all));
	for (size_t m = 0; m < nr_more && m < TIMELINE_TOP; m++) {
		size_t i = 0;

		if (!more[m].faults && !more[m].ns)
			break;	/* sorted: nothing more did anything */
		while (i < nr && (all[i].pid != more[m].pid ||
				  strcmp(all[i].comm, more[m].comm)))
			i++;
		if (i == nr)
			all[nr++] = (struct timeline_top){ .pid = more[m].pid };
		memcpy(all[i].comm, more[m].comm, COMM_LEN);
		all[i].faults += more[m].faults;
		all[i].ns += more[m].ns;
	}
	qsort(all, nr, sizeof(*all), top_order);
	into->nr_top = nr < TIMELINE_TOP ? (__u32)nr : TIMELINE_TOP;
	memcpy(into->top, all, into->nr_top * sizeof(*all));
}

size_t timeline_window_top(const struct timeline *tl, size_t first, size_t end,
			   struct timeline_top *top, size_t max)
{
	size_t nr = 0;

	for (size_t i = first; i < end && i < tl->nr_intervals; i++) {
		const struct timeline_interval *interval = &tl->intervals[i];

		for (__u32 t = 0; t < interval->nr_top; t++) {
			const struct timeline_top *entry = &interval->top[t];
			size_t at = 0;

			while (at < nr && (top[at].pid != entry->pid ||
					   strcmp(top[at].comm, entry->comm)))
				at++;
			if (at < nr) {
				top[at].faults += entry->faults;
				top[at].ns += entry->ns;
			} else if (nr < max) {
				top[nr++] = *entry;
			}
		}
	}
	qsort(top, nr, sizeof(*top), top_order);
	return nr;
}

static void count_bytes(struct timeline *tl)
{
	tl->bytes = tl->nr_intervals * sizeof(*tl->intervals);
	for (size_t i = 0; i < tl->nr_intervals; i++)
		tl->bytes += tl->intervals[i].cells_size;
}

/*
 * Adjacent intervals merged pairwise, the interval doubled: all the new
 * cells are made before any old one goes, so a failure changes nothing.
 */
static int merge_pairs(struct timeline *tl)
{
	size_t nr = (tl->nr_intervals + 1) / 2;
	struct timeline_interval *merged = calloc(nr ? nr : 1, sizeof(*merged));
	union stats_words *words = malloc(sizeof(*words));

	for (size_t i = 0; merged && words && i < nr; i++) {
		size_t size;

		memset(words, 0, sizeof(*words));
		for (size_t half = 2 * i; half < 2 * i + 2 && half < tl->nr_intervals; half++) {
			decode_cells_into(&tl->intervals[half], words);
			top_merge(&merged[i], tl->intervals[half].top,
				  tl->intervals[half].nr_top);
		}
		size = encode_cells(words, NULL);
		merged[i].cells = malloc(size ? size : 1);
		if (!merged[i].cells) {
			for (size_t j = 0; j < i; j++)
				free(merged[j].cells);
			free(merged);
			merged = NULL;
			break;
		}
		merged[i].cells_size = (__u32)encode_cells(words, merged[i].cells);
	}
	free(words);
	if (!merged)
		return -ENOMEM;
	for (size_t i = 0; i < tl->nr_intervals; i++)
		free(tl->intervals[i].cells);
	free(tl->intervals);
	tl->intervals = merged;
	tl->capacity = nr ? nr : 1;
	tl->nr_intervals = nr;
	tl->interval_s *= 2;
	count_bytes(tl);
	return 0;
}

/* Room for interval @at (empty intervals up to it); -ENOMEM. */
static int reserve_interval(struct timeline *tl, size_t at)
{
	size_t capacity = tl->capacity;
	void *grown;

	if (at < tl->capacity)
		return 0;
	while (capacity <= at)
		capacity = capacity ? 2 * capacity : 64;
	grown = realloc(tl->intervals, capacity * sizeof(*tl->intervals));
	if (!grown)
		return -ENOMEM;
	tl->intervals = grown;
	memset(tl->intervals + tl->capacity, 0,
	       (capacity - tl->capacity) * sizeof(*tl->intervals));
	tl->capacity = capacity;
	return 0;
}

/* The interval a sample at @t_s lands in, merging to stay in bound. */
static int sample_interval(struct timeline *tl, double t_s, size_t *at)
{
	double middle = (tl->end_s + (t_s > tl->end_s ? t_s : tl->end_s)) / 2;
	int err;

	*at = (size_t)(middle / tl->interval_s);
	while (*at >= tl->max_intervals) {
		err = merge_pairs(tl);
		if (err)
			return err;
		*at = (size_t)(middle / tl->interval_s);
	}
	return reserve_interval(tl, *at);
}

static struct record_mark *marks_of(const struct aggregate *agg);
static struct timeline_top *sample_top(const struct timeline *tl,
				       const struct record_mark *marks, size_t nr);

/*
 * A word that shrank since the last sample: only a class's CPU share can,
 * when the waits of a fault still in flight were read before its latency.
 * The intervals go on adding up to the totals: the difference comes back
 * from the newest intervals that hold the word, rewritten in place (they
 * only shrink).
 */
static void take_back(struct timeline *tl, size_t before, size_t w, __u64 owed,
		      union stats_words *words)
{
	for (size_t i = before; i-- > 0 && owed;) {
		struct timeline_interval *interval = &tl->intervals[i];
		__u64 taken;

		memset(words, 0, sizeof(*words));
		decode_cells_into(interval, words);
		taken = words->word[w] < owed ? words->word[w] : owed;
		if (!taken)
			continue;
		words->word[w] -= taken;
		owed -= taken;
		interval->cells_size = (__u32)encode_cells(words, interval->cells);
	}
}

/* @now - base into @into (interval @at's words); base becomes @now. */
static void add_difference(struct timeline *tl, size_t at, const union stats_words *now,
			   union stats_words *into, union stats_words *spare)
{
	for (size_t w = 0; w < STATS_WORDS; w++) {
		__u64 was = tl->base->word[w], owed, taken;

		if (now->word[w] >= was) {
			into->word[w] += now->word[w] - was;
			continue;
		}
		owed = was - now->word[w];
		taken = into->word[w] < owed ? into->word[w] : owed;
		into->word[w] -= taken;
		if (owed > taken)
			take_back(tl, at, w, owed - taken, spare);
	}
	tl->base->stats = now->stats;
}

int timeline_sample(struct timeline *tl, double t_s, const struct aggregate *agg)
{
	union stats_words *words = calloc(3, sizeof(*words));
	unsigned char *cells = malloc(MAX_CELLS_SIZE), *shrunk;
	struct record_mark *marks = marks_of(agg);
	struct timeline_top *top = marks ? sample_top(tl, marks, agg->nr_records) : NULL;
	struct timeline_interval *target;
	size_t at = 0;
	int err = words && cells && top ? sample_interval(tl, t_s, &at) : -ENOMEM;

	if (err) {
		free(words);
		free(cells);
		free(marks);
		free(top);
		return err;
	}
	/* Nothing below can fail: the sample is taken whole or not at all. */
	aggregate_totals(agg, &words[0].stats);
	if (at >= tl->nr_intervals)
		tl->nr_intervals = at + 1;
	target = &tl->intervals[at];
	decode_cells_into(target, &words[1]);
	add_difference(tl, at, &words[0], &words[1], &words[2]);
	free(target->cells);
	target->cells_size = (__u32)encode_cells(&words[1], cells);
	shrunk = realloc(cells, target->cells_size ? target->cells_size : 1);
	target->cells = shrunk ? shrunk : cells;
	top_merge(target, top, agg->nr_records);
	free(tl->marks);
	tl->marks = marks;
	tl->nr_marks = agg->nr_records;
	if (t_s > tl->end_s)
		tl->end_s = t_s;
	count_bytes(tl);
	/* Over the byte bound, fewer intervals; failing, the next sample tries. */
	if (tl->bytes > tl->max_bytes && tl->nr_intervals > 1)
		(void)merge_pairs(tl);
	free(words);
	free(top);
	return 0;
}

static int mark_order(const void *a, const void *b)
{
	const struct record_mark *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->folded != y->folded)
		return x->folded ? 1 : -1;
	/* A process's comm changes at exec; gathering records go by theirs. */
	return x->tgid ? 0 : strcmp(x->comm, y->comm);
}

/* Every record's mark, sorted; malloc'd, NULL when out of memory. */
static struct record_mark *marks_of(const struct aggregate *agg)
{
	struct record_mark *marks = malloc((agg->nr_records ? agg->nr_records : 1) *
					   sizeof(*marks));

	for (size_t i = 0; marks && i < agg->nr_records; i++) {
		const struct process_record *record = agg->records[i];

		marks[i] = (struct record_mark){
			.tgid = record->tgid,
			.folded = record->folded > 0,
			.start_ns = record->start_ns,
			.ns = stats_latency_sum(&record->stats),
			.faults = class_counts_total(record->stats.count),
		};
		memcpy(marks[i].comm, record->comm, COMM_LEN);
	}
	if (marks)
		qsort(marks, agg->nr_records, sizeof(*marks), mark_order);
	return marks;
}

/* The folded record a vanished record went into: its comm's, or <rest>. */
static struct timeline_top *fold_target(struct timeline_top *top,
					const struct record_mark *marks, size_t nr,
					const char *comm)
{
	struct timeline_top *rest = NULL;

	for (size_t i = 0; i < nr; i++) {
		if (!marks[i].folded)
			continue;
		if (!strcmp(marks[i].comm, comm))
			return &top[i];
		if (!strcmp(marks[i].comm, FOLDED_REST_COMM))
			rest = &top[i];
	}
	return rest;
}

static void take_from(struct timeline_top *entry, const struct record_mark *mark)
{
	entry->ns -= entry->ns < mark->ns ? entry->ns : mark->ns;
	entry->faults -= entry->faults < mark->faults ? entry->faults : mark->faults;
}

/*
 * What each record did since the last sample, most time first (one entry
 * per mark, in @marks' order before sorting). A record folded meanwhile
 * brought its whole run into its folded record: what it had at the last
 * sample is taken off there, so only the new part counts.
 */
static struct timeline_top *sample_top(const struct timeline *tl,
				       const struct record_mark *marks, size_t nr)
{
	struct timeline_top *top = calloc(nr ? nr : 1, sizeof(*top));

	for (size_t i = 0; top && i < nr; i++) {
		const struct record_mark *was = !tl->nr_marks ? NULL :
			bsearch(&marks[i], tl->marks, tl->nr_marks, sizeof(*marks), mark_order);

		top[i].pid = marks[i].tgid;
		memcpy(top[i].comm, marks[i].comm, COMM_LEN);
		top[i].ns = marks[i].ns;
		top[i].faults = marks[i].faults;
		if (was)
			take_from(&top[i], was);
	}
	for (size_t i = 0; top && i < tl->nr_marks; i++) {
		struct timeline_top *into;

		if (nr && bsearch(&tl->marks[i], marks, nr, sizeof(*marks), mark_order))
			continue;
		into = fold_target(top, marks, nr, tl->marks[i].comm);
		if (into)
			take_from(into, &tl->marks[i]);
	}
	if (top)
		qsort(top, nr, sizeof(*top), top_order);
	return top;
}

int timeline_append(struct timeline *tl, const struct fault_stats *stats,
		    const struct timeline_top *top, size_t nr_top)
{
	const union stats_words *words = (const union stats_words *)stats;
	size_t size = encode_cells(words, NULL);
	struct timeline_interval *interval;
	int err = reserve_interval(tl, tl->nr_intervals);

	if (err)
		return err;
	interval = &tl->intervals[tl->nr_intervals];
	interval->cells = malloc(size ? size : 1);
	if (!interval->cells)
		return -ENOMEM;
	interval->cells_size = (__u32)encode_cells(words, interval->cells);
	top_merge(interval, top, nr_top);
	tl->nr_intervals++;
	count_bytes(tl);
	return 0;
}
