/*
 * CSV export: rows of a hand-built aggregate read back with a parser of
 * our own; percentiles worked out here from the bucket geometry that
 * bpf/pfwatch.h describes, not by hist.c.
 */
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "export.h"

#define MAX_ROWS 32
#define NR_COLUMNS 33
#define FIRST_CAUSE_COLUMN 13
#define FIELD_MAX 64

static const char header[] = "pid,comm,processes,class,kind,count,timed,latency_sum_ns,"
			     "p50_ns,p90_ns,p99_ns,p999_ns,max_ns,"
			     "cause_io_ns,cause_direct_reclaim_ns,cause_memcg_reclaim_ns,"
			     "cause_compaction_ns,cause_mmap_lock_ns,cause_writeback_ns,"
			     "cause_runqueue_ns,cause_sleep_ns,cause_cpu_ns,"
			     "cause_io_faults,cause_direct_reclaim_faults,"
			     "cause_memcg_reclaim_faults,cause_compaction_faults,"
			     "cause_mmap_lock_faults,cause_writeback_faults,"
			     "cause_runqueue_faults,cause_sleep_faults,cause_cpu_faults,"
			     "thp_fallbacks,uffd_major";

struct csv_rows {
	char field[MAX_ROWS][NR_COLUMNS][FIELD_MAX];
	size_t nr_fields[MAX_ROWS];
	size_t nr_rows;
};

/*
 * A bucket by its power of two and quarter (values below 4 have a bucket
 * each): the powers from 4 up each take four buckets, after the first four.
 */
static __u32 bucket_of(__u32 pow2, __u32 quarter)
{
	return (pow2 - 1) * 4 + quarter;
}

/* RFC 4180 records (a quoted field may hold line breaks); -1 if malformed. */
static int parse_csv(const char *text, struct csv_rows *rows)
{
	memset(rows, 0, sizeof(*rows));
	while (*text) {
		size_t r = rows->nr_rows, f = 0;

		if (r == MAX_ROWS)
			return -1;
		for (;;) {
			char *out = rows->field[r][f];
			size_t len = 0;

			if (*text == '"') {
				for (text++; !(text[0] == '"' && text[1] != '"'); text++) {
					if (!*text || len + 1 == FIELD_MAX)
						return -1;
					if (*text == '"')
						text++;	/* "" is one quote */
					out[len++] = *text;
				}
				text++;
			} else {
				for (; *text && !strchr(",\n", *text); text++) {
					if (*text == '"' || len + 1 == FIELD_MAX)
						return -1;
					out[len++] = *text;
				}
			}
			out[len] = '\0';
			f++;
			if (*text == ',' && f < NR_COLUMNS) {
				text++;
				continue;
			}
			if (*text != '\n')
				return -1;
			text++;
			break;
		}
		rows->nr_fields[r] = f;
		rows->nr_rows++;
	}
	return 0;
}

/* The output of export_csv(), NUL-terminated; NULL if it failed. */
static char *csv_of(const struct aggregate *agg, const struct run_info *run)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int err;

	if (!out)
		return NULL;
	err = export_csv(out, agg, run);
	if (fclose(out) || err) {
		free(text);
		return NULL;
	}
	return text;
}

/* The row whose pid, comm and class are these; NULL if none. */
static const char (*row_of(const struct csv_rows *rows, const char *pid,
			   const char *comm, const char *class))[FIELD_MAX]
{
	for (size_t r = 1; r < rows->nr_rows; r++)
		if (!strcmp(rows->field[r][0], pid) && !strcmp(rows->field[r][1], comm) &&
		    !strcmp(rows->field[r][3], class))
			return rows->field[r];
	return NULL;
}

static void check_row(const struct csv_rows *rows, const char *pid, const char *comm,
		      const char *class, const char *const want[NR_COLUMNS])
{
	const char (*row)[FIELD_MAX] = row_of(rows, pid, comm, class);

	CHECK(row, "no row for %s %s %s", pid, comm, class);
	for (int c = 0; row && c < NR_COLUMNS; c++)
		CHECK(!strcmp(row[c], want[c]), "%s %s: column %d is '%s', want '%s'",
		      comm, class, c, row[c], want[c]);
}

static struct aggregate agg;	/* large: off the stack */

/*
 * Process 4242, "a,b\"c\nd" (a comma, a quote, a line break), has 1005
 * anon_zero faults: 5 untimed, 900 in [1024, 1280), 90 in [2560, 3072), 9
 * in [28672, 32768) and 1 in [1572864, 1835008); 7 untimed segv_maperr
 * faults; nothing else.
 * A folded record of 3 exited "worker" processes has 2 file_read faults of
 * values 2 and 3 (buckets of their own).
 */
static void build_aggregate(void)
{
	struct process_record *p, *folded;

	aggregate_init(&agg);
	p = aggregate_add_record(&agg);
	folded = aggregate_add_record(&agg);
	CHECK(p && folded, "out of memory");
	if (!p || !folded)
		return;
	p->tgid = 4242;
	snprintf(p->comm, sizeof(p->comm), "a,b\"c\nd");
	p->stats.hist[FAULT_ANON_ZERO][bucket_of(10, 0)] = 900;
	p->stats.hist[FAULT_ANON_ZERO][bucket_of(11, 1)] = 90;
	p->stats.hist[FAULT_ANON_ZERO][bucket_of(14, 3)] = 9;
	p->stats.hist[FAULT_ANON_ZERO][bucket_of(20, 2)] = 1;
	p->stats.count[FAULT_ANON_ZERO] = 1005;
	p->stats.latency_sum_ns[FAULT_ANON_ZERO] = 1500000;
	p->stats.cause_ns[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 900000;
	p->stats.cause_faults[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 3;
	p->stats.cause_ns[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 100000;
	p->stats.cause_faults[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 2;
	p->stats.cause_ns[FAULT_ANON_ZERO][CAUSE_CPU] = 500000;
	p->stats.cause_faults[FAULT_ANON_ZERO][CAUSE_CPU] = 1000;
	p->stats.thp_fallbacks = 7;
	p->stats.count[FAULT_SEGV_MAPERR] = 7;
	folded->folded = 3;
	snprintf(folded->comm, sizeof(folded->comm), "worker");
	folded->stats.hist[FAULT_FILE_READ][2] = 1;
	folded->stats.hist[FAULT_FILE_READ][3] = 1;
	folded->stats.count[FAULT_FILE_READ] = 2;
	folded->stats.latency_sum_ns[FAULT_FILE_READ] = 5;
	folded->stats.cause_ns[FAULT_FILE_READ][CAUSE_CPU] = 5;
	folded->stats.cause_faults[FAULT_FILE_READ][CAUSE_CPU] = 2;
	folded->stats.uffd_major = 1;
}

static void rows_hold_counts_and_percentiles(void)
{
	struct run_info run = { .backend = "perf" };
	static struct csv_rows rows;
	char *text;

	build_aggregate();
	text = csv_of(&agg, &run);
	CHECK(text, "export_csv failed");
	if (!text)
		goto out;
	CHECK(!parse_csv(text, &rows), "not RFC 4180 CSV:\n%s", text);
	CHECK(rows.nr_rows == 5, "%zu lines, want the header, 3 rows, lost events:\n%s",
	      rows.nr_rows, text);
	CHECK(!strncmp(text, header, strlen(header)) && text[strlen(header)] == '\n',
	      "header: %.200s", text);
	for (size_t r = 0; r < rows.nr_rows; r++)
		CHECK(rows.nr_fields[r] == NR_COLUMNS, "line %zu has %zu fields", r,
		      rows.nr_fields[r]);
	/*
	 * Nearest ranks of 1000 timed faults: 500 and 900 fall in the first
	 * bucket, 990 in the second, 999 in the third; the largest is in the
	 * fourth. A bucket [(4 + q) << (p - 2), + 1 << (p - 2)) stands for
	 * its middle: 1024 + 128, 2560 + 256, 28672 + 2048, 1572864 + 131072.
	 */
	check_row(&rows, "4242", "a,b\"c\nd", "anon_zero", (const char *const[]){
		"4242", "a,b\"c\nd", "1", "anon_zero", "minor", "1005", "1000", "1500000",
		"1152", "1152", "2816", "30720", "1703936",
		"0", "0", "900000", "0", "0", "0", "100000", "0", "500000",
		"0", "0", "3", "0", "0", "0", "2", "0", "1000", "7", "0" });
	check_row(&rows, "4242", "a,b\"c\nd", "segv_maperr", (const char *const[]){
		"4242", "a,b\"c\nd", "1", "segv_maperr", "invalid", "7", "0", "0",
		"0", "0", "0", "0", "0",
		"0", "0", "0", "0", "0", "0", "0", "0", "0",
		"0", "0", "0", "0", "0", "0", "0", "0", "0", "7", "0" });
	/* Values below 4 have a bucket each and stand for themselves. */
	check_row(&rows, "0", "worker", "file_read", (const char *const[]){
		"0", "worker", "3", "file_read", "major", "2", "2", "5",
		"2", "3", "3", "3", "3",
		"0", "0", "0", "0", "0", "0", "0", "0", "5",
		"0", "0", "0", "0", "0", "0", "0", "0", "2", "0", "1" });
	CHECK(strstr(text, "\n4242,\"a,b\"\"c\nd\",1,anon_zero,"), "comm not quoted:\n%s",
	      text);
out:
	free(text);
	aggregate_free(&agg);
}

static void lost_events_row_comes_last(void)
{
	struct run_info run = { .backend = "perf" };
	static struct csv_rows rows;
	char *text;

	aggregate_init(&agg);
	/* Lost events of every kind; the overflow slot's count is no loss. */
	run.diag[DIAG_LOST_EXIT] = 2;
	run.diag[DIAG_LOST_INVALID] = 3;
	run.diag[DIAG_LOST_FAULT] = 5;
	run.diag[DIAG_LOST_STACK] = 11;
	run.diag[DIAG_SLOTS_EXHAUSTED] = 1000;
	text = csv_of(&agg, &run);
	CHECK(text, "export_csv failed");
	if (!text)
		goto out;
	CHECK(!parse_csv(text, &rows), "not RFC 4180 CSV:\n%s", text);
	CHECK(rows.nr_rows == 2, "%zu lines, want the header and lost events", rows.nr_rows);
	CHECK(!strcmp(text + strlen(header) + 1,
		      ",,,lost_events,diagnostic,21,,,,,,,,,,,,,,,,,,,,,,,,,,,\n"),
	      "lost events row: %s", text + strlen(header) + 1);
	free(text);
	/* With processes too, it is still the last line. */
	build_aggregate();
	text = csv_of(&agg, &run);
	CHECK(text && !parse_csv(text, &rows) && rows.nr_rows == 5 &&
	      !strcmp(rows.field[4][3], "lost_events") && !strcmp(rows.field[4][5], "21"),
	      "last line: %s", text ? text : "(failed)");
out:
	free(text);
	aggregate_free(&agg);
}

/* On every row, the causes' times add up to the latency sum. */
static void causes_add_up_to_latency(void)
{
	struct run_info run = { .backend = "perf" };
	static struct csv_rows rows;
	char *text;

	build_aggregate();
	text = csv_of(&agg, &run);
	CHECK(text && !parse_csv(text, &rows), "export_csv failed");
	for (size_t r = 1; text && r + 1 < rows.nr_rows; r++) {
		unsigned long long sum = 0;

		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
			sum += strtoull(rows.field[r][FIRST_CAUSE_COLUMN + cause], NULL, 10);
		CHECK(sum == strtoull(rows.field[r][7], NULL, 10),
		      "row %zu (%s): causes add up to %llu, latency_sum_ns is %s", r,
		      rows.field[r][3], sum, rows.field[r][7]);
	}
	free(text);
	aggregate_free(&agg);
}

/* A write that fails (a full stream) is reported, not ignored. */
static void failed_write_is_reported(void)
{
	struct run_info run = { .backend = "perf" };
	char small[64];
	FILE *out;

	build_aggregate();
	out = fmemopen(small, sizeof(small), "w");
	CHECK(out, "fmemopen");
	if (out) {
		setvbuf(out, NULL, _IONBF, 0);
		CHECK(export_csv(out, &agg, &run) == -1, "a 64-byte stream took it all");
		fclose(out);
	}
	aggregate_free(&agg);
}

int main(void)
{
	check.binary = "test_export_csv";
	RUN(rows_hold_counts_and_percentiles);
	RUN(lost_events_row_comes_last);
	RUN(causes_add_up_to_latency);
	RUN(failed_write_is_reported);
	return check.failures ? 1 : 0;
}
