/* Per-process rates since the last view, for every periodic output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "view.h"

double kind_rates_total(const struct kind_rates *rates)
{
	double total = 0;

	for (int kind = 0; kind < NR_SHOWN_KINDS; kind++)
		total += rates->per_s[kind];
	return total;
}

/* Rates from per-class counts and time in faults, now and then (or NULL). */
static void set_rates(struct view_row *row, const __u64 *now, const __u64 *then,
		      __u64 sum_ns, double interval_s)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++)
		row->rates.per_s[class_shown_kind(c)] +=
			(now[c] - (then ? then[c] : 0)) / interval_s;
	row->fault_ms_per_s = sum_ns / 1e6 / interval_s;
}

static void row_fill(struct view_row *row, const struct process_record *record,
		     double interval_s)
{
	const struct fault_stats *now = &record->stats, *then = record->shown;
	__u64 sum_ns = 0;

	memset(row, 0, sizeof(*row));
	row->tgid = record->tgid;
	row->cgroup_id = record->cgroup_id;
	memcpy(row->comm, record->comm, COMM_LEN);
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		sum_ns += now->latency_sum_ns[c] - (then ? then->latency_sum_ns[c] : 0);
		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
			row->cause_ns[cause] += now->cause_ns[c][cause] -
						(then ? then->cause_ns[c][cause] : 0);
		if (fault_class_kind(c) > KIND_MAJOR)
			continue;
		for (__u32 b = 0; b < HIST_BUCKETS; b++)
			row->hist[b] += now->hist[c][b] - (then ? then->hist[c][b] : 0);
	}
	set_rates(row, now->count, then ? then->count : NULL, sum_ns, interval_s);
}

static bool row_idle(const struct view_row *row)
{
	return !kind_rates_total(&row->rates);
}

static int busiest_first(const void *a, const void *b)
{
	const struct view_row *x = a, *y = b;
	double x_rate = x->rates.per_s[KIND_MINOR] + x->rates.per_s[KIND_MAJOR];
	double y_rate = y->rates.per_s[KIND_MINOR] + y->rates.per_s[KIND_MAJOR];

	if (x->fault_ms_per_s != y->fault_ms_per_s)
		return x->fault_ms_per_s < y->fault_ms_per_s ? 1 : -1;
	if (x_rate != y_rate)
		return x_rate < y_rate ? 1 : -1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

struct view_row *view_rows(const struct aggregate *agg, double interval_s,
			   size_t *nr_rows)
{
	struct view_row *rows = calloc(agg->nr_records ? agg->nr_records : 1,
				       sizeof(*rows));

	*nr_rows = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < agg->nr_records; i++) {
		if (agg->records[i]->shown_final)
			continue;
		row_fill(&rows[*nr_rows], agg->records[i], interval_s);
		if (!row_idle(&rows[*nr_rows]))
			(*nr_rows)++;
	}
	qsort(rows, *nr_rows, sizeof(*rows), busiest_first);
	return rows;
}

static const struct thread_stats *find_thread(const struct thread_stats *list,
					      size_t nr, __u32 tid)
{
	size_t low = 0, high = nr;

	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (list[mid].tid == tid)
			return &list[mid];
		if (list[mid].tid < tid)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

struct view_row *view_thread_rows(const struct thread_stats *now, size_t nr_now,
				  const struct thread_stats *then, size_t nr_then,
				  double interval_s, size_t *nr_rows)
{
	struct view_row *rows = calloc(nr_now ? nr_now : 1, sizeof(*rows));

	*nr_rows = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < nr_now; i++) {
		const struct thread_stats *before = find_thread(then, nr_then, now[i].tid);
		struct view_row *row = &rows[*nr_rows];

		/* A TID reused since the last snapshot starts from zero. */
		if (before && before->tgid != now[i].tgid)
			before = NULL;
		memset(row, 0, sizeof(*row));
		row->tgid = now[i].tgid;
		row->tid = now[i].tid;
		memcpy(row->comm, now[i].comm, COMM_LEN);
		row->comm[COMM_LEN - 1] = '\0';
		set_rates(row, now[i].count, before ? before->count : NULL,
			  now[i].latency_sum_ns - (before ? before->latency_sum_ns : 0),
			  interval_s);
		if (!row_idle(row))
			(*nr_rows)++;
	}
	qsort(rows, *nr_rows, sizeof(*rows), busiest_first);
	return rows;
}

static void cgroup_row_start(struct cgroup_row *row, __u64 id,
			     const struct cgroup_names *names)
{
	const struct cgroup_name *name = names ? cgroup_names_find(names, id) : NULL;

	row->view.cgroup_id = id;
	snprintf(row->path, sizeof(row->path), "%s", name ? name->path : CGROUP_UNKNOWN_PATH);
	snprintf(row->name, sizeof(row->name), "%s", name ? name->name : CGROUP_UNKNOWN_PATH);
	snprintf(row->view.comm, sizeof(row->view.comm), "%.*s", COMM_LEN - 1, row->name);
}

static void cgroup_row_add(struct cgroup_row *row, const struct view_row *process)
{
	for (int kind = 0; kind < NR_SHOWN_KINDS; kind++)
		row->view.rates.per_s[kind] += process->rates.per_s[kind];
	row->view.fault_ms_per_s += process->fault_ms_per_s;
	hist_add(row->view.hist, process->hist);
	for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
		row->view.cause_ns[cause] += process->cause_ns[cause];
	row->processes++;
}

static int busiest_cgroup_first(const void *a, const void *b)
{
	const struct cgroup_row *x = a, *y = b;
	int order = busiest_first(&x->view, &y->view);

	if (order)
		return order;
	return x->view.cgroup_id < y->view.cgroup_id ? -1 :
	       x->view.cgroup_id > y->view.cgroup_id;
}

struct cgroup_row *view_cgroup_rows(const struct view_row *rows, size_t nr_rows,
				    const struct cgroup_names *names,
				    size_t *nr_cgroups)
{
	struct cgroup_row *cgroups = calloc(nr_rows ? nr_rows : 1, sizeof(*cgroups));

	*nr_cgroups = 0;
	if (!cgroups)
		return NULL;
	for (size_t i = 0; i < nr_rows; i++) {
		size_t c = 0;

		while (c < *nr_cgroups && cgroups[c].view.cgroup_id != rows[i].cgroup_id)
			c++;
		if (c == *nr_cgroups)
			cgroup_row_start(&cgroups[(*nr_cgroups)++], rows[i].cgroup_id, names);
		cgroup_row_add(&cgroups[c], &rows[i]);
	}
	qsort(cgroups, *nr_cgroups, sizeof(*cgroups), busiest_cgroup_first);
	return cgroups;
}

void view_totals(const struct view_row *rows, size_t nr_rows,
		 struct kind_rates *rates, double *fault_ms_per_s)
{
	memset(rates, 0, sizeof(*rates));
	*fault_ms_per_s = 0;
	for (size_t i = 0; i < nr_rows; i++) {
		for (int kind = 0; kind < NR_SHOWN_KINDS; kind++)
			rates->per_s[kind] += rows[i].rates.per_s[kind];
		*fault_ms_per_s += rows[i].fault_ms_per_s;
	}
}
