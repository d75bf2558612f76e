/*
 * Timeline: the intervals add up to the aggregate's totals exactly, word
 * for word, through processes that come, exit and fold, through merges,
 * and through a JSON round trip.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "render_timeline.h"
#include "timeline.h"

#define SLOTS 40

static struct proc_stats slots[SLOTS + 1];	/* slot 0 unused: the overflow */
static __u32 next_pid = 100;
static __u64 seed = 1;

static __u32 random_below(__u32 n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (__u32)(seed >> 33) % n;
}

static void new_process(__u32 slot)
{
	memset(&slots[slot], 0, sizeof(slots[slot]));
	slots[slot].tgid = next_pid++;
	slots[slot].start_ns = slots[slot].tgid * 1000ULL;
	snprintf(slots[slot].comm, COMM_LEN, "comm%u", slots[slot].tgid % 7);
}

/* @n faults of class @c in bucket @b, some of them waiting. */
static void fault(struct proc_stats *p, int c, __u32 b, __u64 n)
{
	__u64 ns = n * hist_bucket_low(b);

	p->hist[c][b] += n;
	p->latency_sum_ns[c] += ns;
	if (random_below(3) == 0) {
		p->cause_ns[c][CAUSE_IO] += ns / 2;
		p->cause_faults[c][CAUSE_IO] += n;
	}
}

/* One step: random faults in random slots, an exit now and then. */
static int step(struct aggregate *agg, __u32 busy_slot, __u64 burst)
{
	for (__u32 slot = 1; slot <= SLOTS; slot++) {
		struct proc_stats *p = &slots[slot];

		if (!p->tgid)
			new_process(slot);
		if (random_below(2))
			fault(p, (int)random_below(NR_FAULT_CLASSES), random_below(HIST_BUCKETS),
			      1 + random_below(50));
		if (random_below(10) == 0)
			p->untimed[random_below(NR_FAULT_CLASSES)] += 1 + random_below(5);
		if (random_below(20) == 0)	/* waits read before their fault ends */
			p->cause_ns[FAULT_FILE_READ][CAUSE_IO] += 1000000;
		if (slot == busy_slot)
			fault(p, FAULT_ANON_ZERO, hist_bucket(40000000), burst);
		if (aggregate_update_slot(agg, slot, p))
			return -1;
		if (random_below(SLOTS) == 0) {
			if (aggregate_release_slot(agg, slot, true))
				return -1;
			p->tgid = 0;
		}
	}
	return 0;
}

static struct fault_stats totals, summed;

static bool adds_up(const struct timeline *tl, const struct aggregate *agg)
{
	aggregate_totals(agg, &totals);
	timeline_sum(tl, 0, tl->nr_intervals, &summed);
	return !memcmp(&totals, &summed, sizeof(totals));
}

/* Where the first difference is, for the failure message. */
static size_t first_difference(void)
{
	const __u64 *a = (const __u64 *)&totals, *b = (const __u64 *)&summed;
	size_t w = 0;

	while (w < sizeof(totals) / sizeof(*a) - 1 && a[w] == b[w])
		w++;
	return w;
}

static void run_steps(struct timeline *tl, struct aggregate *agg, int steps,
		      int burst_step)
{
	for (int i = 0; i < steps && !check.failed; i++) {
		CHECK(!step(agg, 1, i == burst_step ? 30000 : 0), "step %d", i);
		/* Four samples an interval, a little late or early. */
		CHECK(!timeline_sample(tl, 0.25 * (i + 1) + 0.01 * (random_below(5) - 2.0), agg),
		      "sample %d", i);
		CHECK(adds_up(tl, agg), "after sample %d: word %zu differs", i,
		      first_difference());
	}
}

static void intervals_add_up_to_totals(void)
{
	static struct aggregate agg;
	struct timeline tl;
	size_t folded = 0;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 1.0, TIMELINE_MAX_INTERVALS), "init");
	run_steps(&tl, &agg, 3000, 1000);
	for (size_t i = 0; i < agg.nr_records; i++)
		folded += agg.records[i]->folded > 0;
	CHECK(folded > 0, "no process was folded: the test misses that case");
	CHECK(tl.nr_intervals == 750, "%zu intervals for 750 s", tl.nr_intervals);
	CHECK(tl.interval_s == 1.0, "interval %g", tl.interval_s);
	/* The burst (step 1000, at 250.25 s) is in interval 250. */
	for (size_t i = 0; i < tl.nr_intervals; i++) {
		struct fault_stats one = { 0 };

		timeline_add_interval(&tl, i, &one);
		if (one.hist[FAULT_ANON_ZERO][hist_bucket(40000000)] >= 30000)
			CHECK(i == 250, "the burst is in interval %zu", i);
	}
	CHECK(tl.intervals[250].nr_top && tl.intervals[250].top[0].ns >= 30000 * hist_bucket_low(hist_bucket(40000000)),
	      "interval 250's top: %llu ns", (unsigned long long)tl.intervals[250].top[0].ns);
	fprintf(stderr, "test_timeline: %zu intervals in %zu bytes (%.0f per interval)\n",
		tl.nr_intervals, tl.bytes, (double)tl.bytes / (double)tl.nr_intervals);
	timeline_free(&tl);
	aggregate_free(&agg);
}

static void merging_keeps_exact_totals(void)
{
	static struct aggregate agg;
	struct timeline tl;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 1.0, 8), "init");
	run_steps(&tl, &agg, 400, 150);	/* 100 s into at most 8 intervals */
	CHECK(tl.interval_s == 16.0, "interval %g s", tl.interval_s);
	CHECK(tl.nr_intervals == 7, "%zu intervals", tl.nr_intervals);
	CHECK(adds_up(&tl, &agg), "word %zu differs", first_difference());
	timeline_free(&tl);
	aggregate_free(&agg);
}

/* Waits read ahead of their fault: the class's CPU share shrinks. */
static void shrinking_cpu_share_is_taken_back(void)
{
	static struct aggregate agg;
	struct timeline tl;
	struct fault_stats one;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 1.0, 100), "init");
	new_process(1);
	fault(&slots[1], FAULT_FILE_READ, hist_bucket(100), 1);
	slots[1].latency_sum_ns[FAULT_FILE_READ] = 100;
	slots[1].cause_ns[FAULT_FILE_READ][CAUSE_IO] = 0;
	CHECK(!aggregate_update_slot(&agg, 1, &slots[1]), "update");
	CHECK(!timeline_sample(&tl, 1.0, &agg), "sample");
	slots[1].cause_ns[FAULT_FILE_READ][CAUSE_IO] = 90;	/* in flight */
	CHECK(!aggregate_update_slot(&agg, 1, &slots[1]), "update");
	CHECK(!timeline_sample(&tl, 2.0, &agg), "sample");
	CHECK(adds_up(&tl, &agg), "word %zu differs", first_difference());
	memset(&one, 0, sizeof(one));
	timeline_add_interval(&tl, 0, &one);
	CHECK(one.cause_ns[FAULT_FILE_READ][CAUSE_CPU] == 10, "interval 0 keeps %llu ns of cpu",
	      (unsigned long long)one.cause_ns[FAULT_FILE_READ][CAUSE_CPU]);
	timeline_free(&tl);
	aggregate_free(&agg);
}

static void windows(void)
{
	static struct aggregate agg;
	struct timeline tl;
	size_t first, end;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 1.0, 100), "init");
	run_steps(&tl, &agg, 20, -1);	/* 5 s */
	CHECK(!timeline_window(&tl, 2.5, 4.0, &first, &end) && first == 2 && end == 4,
	      "[2.5, 4): intervals [%zu, %zu)", first, end);
	CHECK(!timeline_window(&tl, 0, 1e9, &first, &end) && first == 0 && end == 5,
	      "everything: intervals [%zu, %zu)", first, end);
	CHECK(timeline_window(&tl, 6, 7, &first, &end) == -ENOENT, "past the end");
	CHECK(timeline_window(&tl, 3, 3, &first, &end) == -ENOENT, "an empty window");
	timeline_free(&tl);
	aggregate_free(&agg);
}

/* A window's top keeps every nanosecond of its intervals' tops. */
static void window_top_adds_up(void)
{
	static struct aggregate agg;
	struct timeline tl;
	struct timeline_top top[50];
	size_t nr;
	__u64 expected = 0;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 1.0, 100), "init");
	run_steps(&tl, &agg, 20, 10);
	nr = timeline_window_top(&tl, 2, 4, top, 50);
	for (size_t i = 2; i < 4; i++)
		for (__u32 t = 0; t < tl.intervals[i].nr_top; t++)
			expected += tl.intervals[i].top[t].ns;
	for (size_t i = 0; i < nr; i++)
		expected -= top[i].ns;
	CHECK(nr > TIMELINE_TOP && !expected, "%zu entries, %llu ns lost", nr,
	      (unsigned long long)expected);
	for (size_t i = 1; i < nr; i++)
		CHECK(top[i - 1].ns >= top[i].ns, "not most time first");
	timeline_free(&tl);
	aggregate_free(&agg);
}

static json_t *written(const struct timeline *tl)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	json_t *parsed = NULL;
	int err;

	if (!out)
		return NULL;
	err = timeline_write_document(out, tl);
	if (!fclose(out) && !err)
		parsed = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	return parsed;
}

static void json_round_trip(void)
{
	static struct aggregate agg;
	static struct fault_stats a, b;
	struct timeline tl, back;
	char error[256] = "";
	json_t *json;

	aggregate_init(&agg);
	CHECK(!timeline_init(&tl, 0.5, 100), "init");
	run_steps(&tl, &agg, 200, 50);
	json = written(&tl);
	CHECK(json, "the written timeline does not parse");
	CHECK(json && !timeline_read_json(&back, json, error, sizeof(error)), "%s", error);
	if (check.failed)
		goto out;
	CHECK(back.nr_intervals == tl.nr_intervals && back.interval_s == tl.interval_s &&
	      back.end_s == tl.end_s, "%zu intervals of %g s back", back.nr_intervals,
	      back.interval_s);
	for (size_t i = 0; i < tl.nr_intervals && !check.failed; i++) {
		timeline_sum(&tl, i, i + 1, &a);
		timeline_sum(&back, i, i + 1, &b);
		CHECK(!memcmp(&a, &b, sizeof(a)), "interval %zu differs", i);
		CHECK(tl.intervals[i].nr_top == back.intervals[i].nr_top &&
		      !memcmp(tl.intervals[i].top, back.intervals[i].top,
			      tl.intervals[i].nr_top * sizeof(struct timeline_top)),
		      "interval %zu's top differs", i);
	}
	timeline_free(&back);
out:
	json_decref(json);
	timeline_free(&tl);
	aggregate_free(&agg);
}

/* Strict reading: one wrong field, one error naming it. */
static void bad_timelines_are_refused(void)
{
	static const char *const bad[] = {
		"[]",
		"{\"interval_s\": 0, \"intervals\": []}",
		"{\"interval_s\": 1, \"intervals\": {}}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 1, \"classes\": {}, "
		"\"latency_ns\": {}, \"causes\": {}, \"top\": []}]}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 0, \"classes\": {\"nope\": 1}, "
		"\"latency_ns\": {}, \"causes\": {}, \"top\": []}]}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 0, \"classes\": {\"cow\": 1}, "
		"\"latency_ns\": {\"cow\": {\"count\": 2, \"sum\": 9, \"buckets\": [[8, 2]]}}, "
		"\"causes\": {}, \"top\": []}]}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 0, \"classes\": {\"cow\": 1}, "
		"\"latency_ns\": {\"cow\": {\"count\": 1, \"sum\": 9, \"buckets\": [[9, 1]]}}, "
		"\"causes\": {}, \"top\": []}]}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 0, \"classes\": {}, "
		"\"latency_ns\": {}, \"causes\": {\"cow\": {\"nap\": {\"faults\": 1, \"ns\": 1}}}, "
		"\"top\": []}]}",
		"{\"interval_s\": 1, \"intervals\": [{\"start_s\": 0, \"classes\": {\"cow\": -1}, "
		"\"latency_ns\": {}, \"causes\": {}, \"top\": []}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *json = json_loads(bad[i], 0, NULL);
		struct timeline tl;
		char error[256] = "";

		CHECK(json, "case %zu does not parse", i);
		CHECK(json && timeline_read_json(&tl, json, error, sizeof(error)) && error[0],
		      "case %zu was read", i);
		json_decref(json);
	}
}

static int count_lines(const char *text, const char *with)
{
	int n = 0;

	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		const char *end = strchr(line, '\n'), *found = with ? strstr(line, with) : line;

		if (!end)
			break;
		n += found && found < end;
	}
	return n;
}

/* 100 intervals of 100 faults of 1 us, but for 30000 of 40 ms in one. */
static int burst_timeline(struct timeline *tl, size_t burst)
{
	static struct fault_stats stats;
	struct timeline_top top = { .pid = 42, .comm = "burst" };

	if (timeline_init(tl, 1.0, 200))
		return -1;
	for (size_t i = 0; i < 100; i++) {
		__u64 n = i == burst ? 30000 : 100, ns = i == burst ? 40000000 : 1000;

		memset(&stats, 0, sizeof(stats));
		stats.count[FAULT_ANON_ZERO] = n;
		stats.hist[FAULT_ANON_ZERO][hist_bucket(ns)] = n;
		stats.latency_sum_ns[FAULT_ANON_ZERO] = n * ns;
		top.faults = n;
		top.ns = n * ns;
		if (timeline_append(tl, &stats, &top, 1))
			return -1;
	}
	tl->end_s = 99.5;
	return 0;
}

/* Folded to fit: 100 intervals on 10 lines, the burst's line the worst. */
static void timeline_text_folds_and_marks(void)
{
	struct timeline tl;
	char *text = NULL, *worst;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	CHECK(out && !burst_timeline(&tl, 42), "setup");
	if (check.failed)
		return;
	render_timeline(out, &tl, 0, 10, false);
	fclose(out);
	CHECK(count_lines(text, NULL) == 12, "%d lines:\n%s", count_lines(text, NULL), text);
	CHECK(count_lines(text, "<- worst") == 1, "only the burst stands out:\n%s", text);
	worst = strstr(text, "<- worst\n");
	while (worst && worst > text && worst[-1] != '\n')
		worst--;
	CHECK(worst && !strncmp(worst, "       -      40.0      3090 ", 29), "worst line:\n%s", text);
	free(text);
	text = NULL;
	out = open_memstream(&text, &size);
	CHECK(out, "memstream");
	if (!out)
		return;
	render_timeline(out, &tl, 0, 10, true);
	fclose(out);
	CHECK(count_lines(text, NULL) == 102, "--all: %d lines", count_lines(text, NULL));
	free(text);
	timeline_free(&tl);
}

static void window_times_parse(void)
{
	time_t start = 1796173200;	/* 2026-12-02 01:00:00 UTC */
	struct tm local;
	char clock[16];
	double offset = -1;

	CHECK(!timeline_offset_of("90.5", start, &offset) && offset == 90.5, "90.5: %g", offset);
	CHECK(!timeline_offset_of("0", start, &offset) && offset == 0, "0: %g", offset);
	CHECK(timeline_offset_of("-1", start, &offset), "-1 accepted");
	CHECK(timeline_offset_of("12s", start, &offset), "12s accepted");
	CHECK(timeline_offset_of("", start, &offset), "nothing accepted");
	CHECK(timeline_offset_of("25:00", start, &offset), "25:00 accepted");
	CHECK(timeline_offset_of("01:02", 0, &offset), "a clock time without a start");
	/* Local time: whatever the zone, 90 s after the start reads back 90. */
	CHECK(localtime_r(&(time_t){ start + 90 }, &local) &&
	      strftime(clock, sizeof(clock), "%H:%M:%S", &local), "localtime");
	CHECK(!timeline_offset_of(clock, start, &offset) && offset == 90, "%s: %g", clock,
	      offset);
	/* Before the start's clock time: the next day's. */
	CHECK(localtime_r(&(time_t){ start - 60 }, &local) &&
	      strftime(clock, sizeof(clock), "%H:%M", &local), "localtime");
	CHECK(!timeline_offset_of(clock, start, &offset) && offset == 24 * 3600 - 60,
	      "%s: %g", clock, offset);
}

int main(void)
{
	check.binary = "test_timeline";
	RUN(intervals_add_up_to_totals);
	RUN(merging_keeps_exact_totals);
	RUN(shrinking_cpu_share_is_taken_back);
	RUN(windows);
	RUN(window_top_adds_up);
	RUN(json_round_trip);
	RUN(bad_timelines_are_refused);
	RUN(timeline_text_folds_and_marks);
	RUN(window_times_parse);
	return check.failures ? 1 : 0;
}
