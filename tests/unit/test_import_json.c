/*
 * JSON written and read back: what pfwatch writes it reads again, whole;
 * where the time went adds up to each class's latency sum; files of a
 * pfwatch without causes still load; broken causes are refused with
 * their field named. The files are edited with jansson, not with our
 * own writer.
 */
#include <jansson.h>
#include <stdlib.h>
#include "aggregate.h"
#include "check.h"
#include "export_json.h"
#include "hist.h"
#include "import_json.h"
#include "report.h"

static struct proc_stats slot_stats;	/* large: off the stack */
static struct cgroup_names names;
static const struct run_info run = { .backend = "perf", .entry_hook = "exc_page_fault",
				     .cgroup_names = &names };
static struct imported_run in, again;

/*
 * Two processes as the kernel's slots hold them. 4242 "db": 40 anon_zero
 * faults at about 1 ms, 12 of which waited 3 ms in all on memcg reclaim
 * and 2 of which 150 us on the run queue; 5 file_read faults at 2 ms, all
 * waiting 1.8 ms on I/O in all; 3 untimed cow faults; 9 THP fallbacks.
 * 77 "pager": 8 uffd faults, 3 of them major by the kernel's count, 5 ms
 * each, asleep 4 ms each. db is in cgroup 5 (named), pager in 9 (gone
 * before it was named). db was the command (rusage).
 */
static int build(struct aggregate *agg)
{
	memset(&slot_stats, 0, sizeof(slot_stats));
	slot_stats.tgid = 4242;
	slot_stats.start_ns = 1;
	snprintf(slot_stats.comm, COMM_LEN, "db");
	slot_stats.cgroup_id = 5;
	cgroup_names_free(&names);
	if (cgroup_names_add(&names, 5, "/system.slice/db.service"))
		return -1;
	slot_stats.hist[FAULT_ANON_ZERO][hist_bucket(1000000)] = 40;
	slot_stats.latency_sum_ns[FAULT_ANON_ZERO] = 40 * 1000000 + 123;
	slot_stats.cause_ns[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 3000000;
	slot_stats.cause_faults[FAULT_ANON_ZERO][CAUSE_MEMCG_RECLAIM] = 12;
	slot_stats.cause_ns[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 150000;
	slot_stats.cause_faults[FAULT_ANON_ZERO][CAUSE_RUNQUEUE] = 2;
	slot_stats.hist[FAULT_FILE_READ][hist_bucket(2000000)] = 5;
	slot_stats.latency_sum_ns[FAULT_FILE_READ] = 5 * 2000000;
	slot_stats.cause_ns[FAULT_FILE_READ][CAUSE_IO] = 5 * 1800000;
	slot_stats.cause_faults[FAULT_FILE_READ][CAUSE_IO] = 5;
	slot_stats.untimed[FAULT_COW] = 3;
	slot_stats.thp_fallbacks = 9;
	if (aggregate_update_slot(agg, 1, &slot_stats))
		return -1;
	memset(&slot_stats, 0, sizeof(slot_stats));
	slot_stats.tgid = 77;
	slot_stats.start_ns = 2;
	snprintf(slot_stats.comm, COMM_LEN, "pager");
	slot_stats.cgroup_id = 9;
	slot_stats.hist[FAULT_UFFD][hist_bucket(5000000)] = 8;
	slot_stats.latency_sum_ns[FAULT_UFFD] = 8 * 5000000;
	slot_stats.cause_ns[FAULT_UFFD][CAUSE_SLEEP] = 8 * 4000000;
	slot_stats.cause_faults[FAULT_UFFD][CAUSE_SLEEP] = 8;
	slot_stats.uffd_major = 3;
	if (aggregate_update_slot(agg, 2, &slot_stats))
		return -1;
	/* db was the command: its rusage, with 2 orphans reaped, 1 left. */
	agg->records[0]->has_rusage = true;
	agg->records[0]->rusage_minflt = 48;
	agg->records[0]->rusage_majflt = 5;
	agg->records[0]->rusage_orphans = 2;
	agg->records[0]->rusage_orphans_running = true;
	return 0;
}

/* export_json()'s text, NUL-terminated; NULL if it failed. */
static char *json_of(const struct aggregate *agg, const struct run_info *run)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int err;

	if (!out)
		return NULL;
	err = export_json(out, agg, run);
	if (fclose(out) || err) {
		free(text);
		return NULL;
	}
	return text;
}

/* A class's causes add up to its latency sum, "cpu" to its timed faults. */
static void check_adds_up(const struct fault_stats *stats, const char *whose)
{
	for (int c = 0; c < NR_FAULT_CLASSES; c++) {
		__u64 sum = 0;

		for (int cause = 0; cause < NR_FAULT_CAUSES; cause++)
			sum += stats->cause_ns[c][cause];
		CHECK(sum == stats->latency_sum_ns[c], "%s %s: causes %llu ns, latency %llu ns",
		      whose, fault_class_name(c), (unsigned long long)sum,
		      (unsigned long long)stats->latency_sum_ns[c]);
		CHECK(stats->cause_faults[c][CAUSE_CPU] == hist_count(stats->hist[c]),
		      "%s %s: cpu counts %llu faults of %llu timed", whose,
		      fault_class_name(c), (unsigned long long)stats->cause_faults[c][CAUSE_CPU],
		      (unsigned long long)hist_count(stats->hist[c]));
	}
}

static void round_trip_keeps_everything(void)
{
	char *text = NULL, *second = NULL, error[256] = "";
	struct aggregate agg;

	aggregate_init(&agg);
	CHECK(!build(&agg), "out of memory");
	text = json_of(&agg, &run);
	CHECK(text, "export_json failed");
	if (!text || check.failed)
		goto out;
	CHECK(!import_json(&in, text, strlen(text), error, sizeof(error)), "import: %s", error);
	if (check.failed)
		goto out;
	CHECK(in.agg.nr_records == 2, "%zu records", in.agg.nr_records);
	for (size_t i = 0; i < agg.nr_records && i < in.agg.nr_records; i++) {
		const struct process_record *a = agg.records[i], *b = in.agg.records[i];

		CHECK(a->tgid == b->tgid && !strcmp(a->comm, b->comm), "record %zu: %u %s",
		      i, b->tgid, b->comm);
		CHECK(!memcmp(&a->stats, &b->stats, sizeof(a->stats)),
		      "record %zu (%s): stats differ after the round trip", i, a->comm);
		check_adds_up(&b->stats, b->comm);
	}
	CHECK(in.agg.records[0]->stats.cause_ns[FAULT_ANON_ZERO][CAUSE_CPU] ==
	      40 * 1000000 + 123 - 3150000, "db's anon_zero cpu: %llu ns",
	      (unsigned long long)in.agg.records[0]->stats.cause_ns[FAULT_ANON_ZERO][CAUSE_CPU]);
	CHECK(in.agg.records[0]->stats.thp_fallbacks == 9 &&
	      in.agg.records[1]->stats.uffd_major == 3, "thp_fallbacks %llu, uffd_major %llu",
	      (unsigned long long)in.agg.records[0]->stats.thp_fallbacks,
	      (unsigned long long)in.agg.records[1]->stats.uffd_major);
	CHECK(in.agg.records[0]->has_rusage && in.agg.records[0]->rusage_minflt == 48 &&
	      in.agg.records[0]->rusage_majflt == 5 && in.agg.records[0]->rusage_orphans == 2 &&
	      in.agg.records[0]->rusage_orphans_running && !in.agg.records[1]->has_rusage,
	      "rusage %llu/%llu, %llu orphans", (unsigned long long)in.agg.records[0]->rusage_minflt,
	      (unsigned long long)in.agg.records[0]->rusage_majflt,
	      (unsigned long long)in.agg.records[0]->rusage_orphans);
	CHECK(in.cgroup_names.nr == 1 && cgroup_names_find(&in.cgroup_names, 5) &&
	      !strcmp(cgroup_names_find(&in.cgroup_names, 5)->path, "/system.slice/db.service"),
	      "%zu cgroups named", in.cgroup_names.nr);
	/* Written again from what was read: the same document. */
	second = json_of(&in.agg, &in.run);
	CHECK(second && !strcmp(text, second), "second export differs:\n%s\n---\n%s", text,
	      second ? second : "(failed)");
	import_free(&in);
out:
	free(text);
	free(second);
	aggregate_free(&agg);
}

/* The totals' causes: the processes' summed, adding up as theirs do. */
static void totals_add_up(void)
{
	json_t *root = NULL, *causes;
	struct aggregate agg;
	char *text;

	aggregate_init(&agg);
	CHECK(!build(&agg), "out of memory");
	text = json_of(&agg, &run);
	if (text)
		root = json_loads(text, 0, NULL);
	CHECK(root, "no JSON");
	if (!root)
		goto out;
	causes = json_object_get(json_object_get(root, "totals"), "causes");
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(causes,
	      "anon_zero"), "memcg_reclaim"), "ns")) == 3000000, "totals anon_zero memcg");
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(causes,
	      "uffd"), "sleep"), "faults")) == 8, "totals uffd sleep faults");
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(causes,
	      "file_read"), "cpu"), "ns")) == 5 * 200000, "totals file_read cpu");
	/* No timed cow fault, no cause waited by none: neither is written. */
	CHECK(!json_object_get(causes, "cow") &&
	      !json_object_get(json_object_get(causes, "uffd"), "io"), "empty entries written");
	CHECK(json_integer_value(json_object_get(json_object_get(root, "totals"),
					     "uffd_major")) == 3 &&
	      json_integer_value(json_object_get(json_object_get(root, "totals"),
					     "thp_fallbacks")) == 9, "totals' counts");
	CHECK(json_integer_value(json_object_get(json_object_get(root, "totals"), "major")) == 8 &&
	      json_integer_value(json_object_get(json_object_get(root, "totals"), "minor")) == 48,
	      "uffd_major counted major: minor 40 + 3 cow + 8 uffd - 3, major 5 + 3");
out:
	json_decref(root);
	free(text);
	aggregate_free(&agg);
}

/* @edit applied to the exported document of build(); its new text. */
static char *edited(void (*edit)(json_t *root, json_t *db))
{
	struct aggregate agg;
	char *text, *out = NULL;
	json_t *root = NULL;

	aggregate_init(&agg);
	if (!build(&agg) && (text = json_of(&agg, &run))) {
		root = json_loads(text, 0, NULL);
		free(text);
	}
	if (root) {
		edit(root, json_array_get(json_object_get(root, "processes"), 0));
		out = json_dumps(root, 0);
	}
	json_decref(root);
	aggregate_free(&agg);
	return out;
}

static json_t *db_cause(json_t *db, const char *fault_class, const char *cause)
{
	return json_object_get(json_object_get(json_object_get(db, "causes"), fault_class),
			       cause);
}

static void drop_causes(json_t *root, json_t *db)
{
	json_t *processes = json_object_get(root, "processes"), *p;
	size_t i;

	json_array_foreach(processes, i, p) {
		json_object_del(p, "causes");
		json_object_del(p, "thp_fallbacks");
		json_object_del(p, "uffd_major");
	}
	json_object_del(json_object_get(root, "totals"), "causes");
	(void)db;
}

/* A file of a pfwatch without causes loads, and says they were not kept. */
static void older_file_loads(void)
{
	char *text = edited(drop_causes), *report = NULL, error[256] = "";
	size_t size = 0;
	FILE *out;

	CHECK(text, "no document");
	if (!text)
		return;
	CHECK(!import_json(&in, text, strlen(text), error, sizeof(error)), "import: %s", error);
	free(text);
	if (check.failed)
		return;
	CHECK(in.agg.records[0]->stats.latency_sum_ns[FAULT_ANON_ZERO] == 40000123 &&
	      !in.agg.records[0]->stats.cause_faults[FAULT_ANON_ZERO][CAUSE_CPU] &&
	      !in.agg.records[0]->stats.thp_fallbacks, "causes where the file has none");
	out = open_memstream(&report, &size);
	if (out) {
		report_one(out, &in, "old.json", 10, GROUP_PROCESS);
		fclose(out);
	}
	CHECK(report && strstr(report, "where the time went: not recorded"),
	      "report of an old file:\n%s", report ? report : "(none)");
	free(report);
	import_free(&in);
}

static void unknown_cause(json_t *root, json_t *db)
{
	json_object_set_new(json_object_get(json_object_get(db, "causes"), "anon_zero"),
			    "swap", json_pack("{s:i,s:i}", "faults", 1, "ns", 0));
	(void)root;
}

static void unknown_class(json_t *root, json_t *db)
{
	json_object_set_new(json_object_get(db, "causes"), "anon_huge",
			    json_pack("{s:{s:i,s:i}}", "cpu", "faults", 1, "ns", 1));
	(void)root;
}

static void waits_past_latency(json_t *root, json_t *db)
{
	json_object_set_new(db_cause(db, "anon_zero", "memcg_reclaim"), "ns",
			    json_integer(3000001));
	(void)root;
}

static void waits_short_of_latency(json_t *root, json_t *db)
{
	json_object_set_new(db_cause(db, "anon_zero", "cpu"), "ns", json_integer(1));
	(void)root;
}

static void cpu_faults_not_timed(json_t *root, json_t *db)
{
	json_object_set_new(db_cause(db, "file_read", "cpu"), "faults", json_integer(4));
	(void)root;
}

static void no_fault_waited(json_t *root, json_t *db)
{
	json_object_set_new(db_cause(db, "anon_zero", "runqueue"), "faults", json_integer(0));
	(void)root;
}

static void untimed_class(json_t *root, json_t *db)
{
	json_object_set_new(json_object_get(db, "causes"), "cow",
			    json_pack("{s:{s:i,s:i}}", "cpu", "faults", 3, "ns", 0));
	(void)root;
}

static void negative_ns(json_t *root, json_t *db)
{
	json_object_set_new(db_cause(db, "anon_zero", "runqueue"), "ns", json_integer(-5));
	(void)root;
}

static void fallbacks_text(json_t *root, json_t *db)
{
	/* Parsed, not built: json_writer.c has a json_string() of its own. */
	json_object_set_new(db, "thp_fallbacks", json_loads("\"9\"", JSON_DECODE_ANY, NULL));
	(void)root;
}

static void causes_array(json_t *root, json_t *db)
{
	json_object_set_new(db, "causes", json_array());
	(void)root;
}

/* Each broken file refused, the error naming the field and what is wrong. */
static json_t *cgroup_of(json_t *root, __u64 id)
{
	json_t *cgroup;
	size_t i;

	json_array_foreach(json_object_get(root, "cgroups"), i, cgroup)
		if (json_integer_value(json_object_get(cgroup, "id")) == (json_int_t)id)
			return cgroup;
	return NULL;
}

static void cgroup_miscounted(json_t *root, json_t *db)
{
	(void)db;
	json_object_set_new(json_object_get(cgroup_of(root, 5), "classes"), "cow",
			    json_integer(4));
}

static void cgroup_without_process(json_t *root, json_t *db)
{
	(void)db;
	json_object_set_new(cgroup_of(root, 9), "id", json_integer(10));
}

static void cgroup_listed_twice(json_t *root, json_t *db)
{
	(void)db;
	json_array_append(json_object_get(root, "cgroups"), cgroup_of(root, 5));
}

static void cgroup_left_out(json_t *root, json_t *db)
{
	(void)db;
	json_array_remove(json_object_get(root, "cgroups"), 1);
}

static void cgroup_processes(json_t *root, json_t *db)
{
	(void)db;
	json_object_set_new(cgroup_of(root, 5), "processes", json_integer(2));
}

static void cgroup_without_path(json_t *root, json_t *db)
{
	(void)db;
	json_object_del(cgroup_of(root, 5), "path");
}

/* Each cgroup's counts are its processes': a file that says else is refused. */
/* A valid document, edited, and the error the reader must start with. */
struct refusal {
	void (*edit)(json_t *, json_t *);
	const char *error;
};

static void refused_as(const struct refusal *cases, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		char *text = edited(cases[i].edit), error[256] = "";
		int err;

		CHECK(text, "case %zu: no document", i);
		if (!text)
			continue;
		err = import_json(&again, text, strlen(text), error, sizeof(error));
		if (!err)
			import_free(&again);
		CHECK(err && !strncmp(error, cases[i].error, strlen(cases[i].error)),
		      "case %zu: %s, want \"%s\"", i, err ? error : "accepted", cases[i].error);
		free(text);
	}
}

static void broken_cgroups_are_refused(void)
{
	static const struct refusal cases[] = {
		{ cgroup_miscounted, "cgroups[0]: cow: 4 faults in 0 ns, its processes' 3 in 0" },
		{ cgroup_without_process, "cgroups[1]: no process has cgroup_id 10" },
		{ cgroup_listed_twice, "cgroups[2]: cgroup 5 is listed twice" },
		{ cgroup_left_out, "cgroups: 1 listed, but the processes are in 2" },
		{ cgroup_processes, "cgroups[0]: 2 processes, but 1 have its cgroup_id" },
		{ cgroup_without_path, "cgroups[0]: no field \"path\"" },
	};

	refused_as(cases, sizeof(cases) / sizeof(cases[0]));
}

static void broken_causes_are_refused(void)
{
	static const struct refusal cases[] = {
		{ unknown_cause, "processes[0].causes.anon_zero.swap: not a cause" },
		{ unknown_class, "processes[0].causes.anon_huge: not a fault class" },
		{ waits_past_latency, "processes[0].causes.anon_zero: causes add up to more" },
		{ waits_short_of_latency, "processes[0].causes.anon_zero: causes add up to 3150001 ns, but the latency sum is 40000123 ns" },
		{ cpu_faults_not_timed, "processes[0].causes.file_read: cpu counts 4 faults, but the class has 5 timed" },
		{ no_fault_waited, "processes[0].causes.anon_zero.runqueue: no fault waited" },
		{ untimed_class, "processes[0].causes.cow: causes of a class without a timed fault" },
		{ negative_ns, "processes[0].causes.anon_zero.runqueue.ns: expected a non-negative" },
		{ fallbacks_text, "processes[0].thp_fallbacks: expected a non-negative" },
		{ causes_array, "processes[0].causes: expected an object" },
	};

	refused_as(cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	check.binary = "test_import_json";
	RUN(round_trip_keeps_everything);
	RUN(totals_add_up);
	RUN(older_file_loads);
	RUN(broken_causes_are_refused);
	RUN(broken_cgroups_are_refused);
	cgroup_names_free(&names);
	return check.failures ? 1 : 0;
}
