/*
 * CSV: one row per process and class, counts, latency percentiles and
 * where the time went.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "hist.h"

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static int write_field(FILE *out, const char *text)
{
	if (!strpbrk(text, ",\"\r\n"))
		return fputs(text, out) < 0 ? -1 : 0;
	if (fputc('"', out) == EOF)
		return -1;
	for (const char *c = text; *c; c++)
		if ((*c == '"' && fputc('"', out) == EOF) || fputc(*c, out) == EOF)
			return -1;
	return fputc('"', out) == EOF ? -1 : 0;
}

/* Columns past the latencies: each cause's time, then its faults. */
static int write_header(FILE *out)
{
	if (fputs("pid,comm,processes,class,kind,count,timed,latency_sum_ns,"
		  "p50_ns,p90_ns,p99_ns,p999_ns,max_ns", out) < 0)
		return -1;
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (fprintf(out, ",cause_%s_ns", fault_cause_name(cause)) < 0)
			return -1;
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (fprintf(out, ",cause_%s_faults", fault_cause_name(cause)) < 0)
			return -1;
	return fputs(",thp_fallbacks,uffd_major\n", out) < 0 ? -1 : 0;
}

/* A class's causes; then the process's own counts, on each of its rows. */
static int write_causes(FILE *out, const struct fault_stats *stats, int fault_class)
{
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (fprintf(out, ",%llu",
			    (unsigned long long)stats->cause_ns[fault_class][cause]) < 0)
			return -1;
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		if (fprintf(out, ",%llu",
			    (unsigned long long)stats->cause_faults[fault_class][cause]) < 0)
			return -1;
	return fprintf(out, ",%llu,%llu\n", (unsigned long long)stats->thp_fallbacks,
		       (unsigned long long)stats->uffd_major) < 0 ? -1 : 0;
}

static int write_process(FILE *out, const struct process_record *p)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		struct latency_summary lat;

		if (!p->stats.count[c])
			continue;
		hist_summarize(p->stats.hist[c], p->stats.latency_sum_ns[c], &lat);
		if (fprintf(out, "%u,", p->tgid) < 0 || write_field(out, p->comm) ||
		    fprintf(out, ",%llu,%s,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu",
			    (unsigned long long)(p->folded ? p->folded : 1),
			    fault_class_name(c), class_kind_name(fault_class_kind(c)),
			    (unsigned long long)p->stats.count[c],
			    (unsigned long long)lat.count,
			    (unsigned long long)lat.sum_ns,
			    (unsigned long long)lat.p50, (unsigned long long)lat.p90,
			    (unsigned long long)lat.p99, (unsigned long long)lat.p999,
			    (unsigned long long)lat.max) < 0 ||
		    write_causes(out, &p->stats, c))
			return -1;
	}
	return 0;
}

int export_csv(FILE *out, const struct aggregate *agg, const struct run_info *run)
{
	if (write_header(out))
		return -1;
	for (size_t i = 0; i < agg->nr_records; i++)
		if (write_process(out, agg->records[i]))
			return -1;
	/* Always there, so a reader sees that it was counted. */
	if (fprintf(out, ",,,lost_events,diagnostic,%llu,,,,,,,",
		    (unsigned long long)run_lost_events(run)) < 0)
		return -1;
	for (int column = 0; column < 2 * NR_FAULT_CAUSES + 2; column++)
		if (fputc(',', out) == EOF)
			return -1;
	if (fputc('\n', out) == EOF)
		return -1;
	return fflush(out) ? -1 : 0;
}
