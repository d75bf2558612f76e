/*
 * floor: attach bench/floor.bpf.c's empty programs on the chosen hooks
 * until SIGINT or SIGTERM, then print how many times each ran. Usage:
 *   floor HOOK[,HOOK...]
 * HOOK: entry (page_fault_user), perf (the PAGE_FAULTS_MIN/MAJ software
 * events on every CPU, sample_period 1 as pfwatch opens them), rss
 * (rss_stat), alloc (mm_page_alloc), switch (sched_switch), filemap
 * (mm_filemap_fault), map_pages (mm_filemap_map_pages, a candidate
 * pfwatch does not use), waits (the vmscan, compaction, lock contention
 * and writeback tracepoints), or all: every hook pfwatch's perf backend
 * runs (all but map_pages). Prints "floor: attached" on stderr once the
 * programs run.
 *   floor --pairs N HOOKS [HOOKS...]
 * measures instead, in this process: for each HOOKS row, N pairs of fault
 * rounds (16384 first writes to anonymous pages, as bench/faultstorm),
 * one with the row's hooks attached and one without, in random order,
 * rows shuffled in each of the N runs. Adjacent rounds (tens of ms apart)
 * see the same state of a VM that drifts 2-5x within minutes; the median
 * of the differences is what the hooks add to a fault.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.h"
#include "floor.skel.h"

#define MAX_CPUS 1024
#define MAX_HOOK_PROGRAMS 10
#define MAX_LINKS (2 * MAX_CPUS + NR_FLOOR_HOOKS * MAX_HOOK_PROGRAMS)
#define MAX_ROWS 16
#define MAX_PAIRS 1000
#define STORM_PAGES 16384

static const char *const hook_names[NR_FLOOR_HOOKS] = {
	[HOOK_ENTRY] = "entry", [HOOK_PERF] = "perf", [HOOK_RSS] = "rss",
	[HOOK_ALLOC] = "alloc", [HOOK_SWITCH] = "switch",
	[HOOK_FILEMAP] = "filemap", [HOOK_MAP_PAGES] = "map_pages",
	[HOOK_WAITS] = "waits",
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The programs of one hook; returns how many. */
static int hook_programs(struct floor_bpf *skel, enum floor_hook hook,
			 struct bpf_program *progs[MAX_HOOK_PROGRAMS])
{
	struct bpf_program *waits[] = {
		skel->progs.direct_reclaim_begin_only, skel->progs.direct_reclaim_end_only,
		skel->progs.memcg_reclaim_begin_only, skel->progs.memcg_reclaim_end_only,
		skel->progs.compaction_begin_only, skel->progs.compaction_end_only,
		skel->progs.contention_begin_only, skel->progs.contention_end_only,
		skel->progs.folio_wait_writeback_only, skel->progs.balance_dirty_pages_only,
	};

	switch (hook) {
	case HOOK_ENTRY: progs[0] = skel->progs.entry_only; return 1;
	case HOOK_PERF: progs[0] = skel->progs.fault_event; return 1;
	case HOOK_RSS: progs[0] = skel->progs.rss_only; return 1;
	case HOOK_ALLOC: progs[0] = skel->progs.page_alloc_only; return 1;
	case HOOK_SWITCH: progs[0] = skel->progs.switch_only; return 1;
	case HOOK_FILEMAP: progs[0] = skel->progs.filemap_fault_only; return 1;
	case HOOK_MAP_PAGES: progs[0] = skel->progs.map_pages_only; return 1;
	case HOOK_WAITS:
		memcpy(progs, waits, sizeof(waits));
		return (int)(sizeof(waits) / sizeof(waits[0]));
	default:
		return 0;
	}
}

/* "entry,perf" into one flag per hook; false on a name it does not know. */
static bool parse_hooks(const char *list, bool wanted[NR_FLOOR_HOOKS])
{
	char copy[256], *save = NULL;

	if (strlen(list) >= sizeof(copy))
		return false;
	strcpy(copy, list);
	for (char *name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		bool all = !strcmp(name, "all"), known = all;

		for (int hook = 0; hook < NR_FLOOR_HOOKS; hook++) {
			if ((all && hook != HOOK_MAP_PAGES) || !strcmp(name, hook_names[hook])) {
				wanted[hook] = true;
				known = true;
			}
		}
		if (!known)
			return false;
	}
	return true;
}

/* The perf events on every CPU; *nr_links counts what is attached. */
static int attach_perf(struct floor_bpf *skel, struct bpf_link **links,
		       int *nr_links, int nr_cpus)
{
	static const __u64 configs[] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN, PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};

	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		for (int i = 0; i < 2; i++) {
			struct perf_event_attr attr = {
				.type = PERF_TYPE_SOFTWARE,
				.size = sizeof(attr),
				.config = configs[i],
				.sample_period = 1,
			};
			int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu,
					      -1, PERF_FLAG_FD_CLOEXEC);

			if (fd < 0)
				return -errno;
			links[*nr_links] = bpf_program__attach_perf_event(skel->progs.fault_event, fd);
			if (!links[*nr_links])
				return -errno;
			(*nr_links)++;
		}
	}
	return 0;
}

/* Load only the wanted hooks' programs: a kernel may lack the others. */
static int load(struct floor_bpf *skel, const bool wanted[NR_FLOOR_HOOKS])
{
	struct bpf_program *prog, *progs[MAX_HOOK_PROGRAMS];

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	for (int hook = 0; hook < NR_FLOOR_HOOKS; hook++) {
		int n = wanted[hook] ? hook_programs(skel, hook, progs) : 0;

		for (int i = 0; i < n; i++)
			bpf_program__set_autoload(progs[i], true);
	}
	return floor_bpf__load(skel) ? -errno : 0;
}

/* Attach the wanted hooks; *nr_links counts what is attached, *failed
 * names the hook being attached. */
static int attach(struct floor_bpf *skel, const bool wanted[NR_FLOOR_HOOKS],
		  struct bpf_link **links, int *nr_links, int nr_cpus,
		  const char **failed)
{
	struct bpf_program *progs[MAX_HOOK_PROGRAMS];

	for (int hook = 0; hook < NR_FLOOR_HOOKS; hook++) {
		int n = wanted[hook] ? hook_programs(skel, hook, progs) : 0;

		*failed = hook_names[hook];
		if (hook == HOOK_PERF && wanted[hook]) {
			int err = attach_perf(skel, links, nr_links, nr_cpus);

			if (err)
				return err;
			continue;
		}
		for (int i = 0; i < n; i++) {
			links[*nr_links] = bpf_program__attach(progs[i]);
			if (!links[*nr_links])
				return -errno;
			(*nr_links)++;
		}
	}
	return 0;
}

static void print_runs(struct floor_bpf *skel, const bool wanted[NR_FLOOR_HOOKS],
		       int nr_cpus)
{
	static __u64 values[MAX_CPUS];

	for (__u32 hook = 0; hook < NR_FLOOR_HOOKS; hook++) {
		__u64 total = 0;

		if (!wanted[hook])
			continue;
		if (bpf_map__lookup_elem(skel->maps.hits, &hook, sizeof(hook), values,
					 sizeof(__u64) * (size_t)nr_cpus, 0)) {
			printf("floor: %s: cannot read its count\n", hook_names[hook]);
			continue;
		}
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			total += values[cpu];
		printf("floor: %s %llu program runs\n", hook_names[hook],
		       (unsigned long long)total);
	}
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* One round of first writes to fresh pages: ns per fault, in the
 * thread's CPU time (as bench/faultstorm: wall time carries the host's
 * scheduling too). */
static double storm_round(volatile char *mem, size_t page)
{
	double start;

	if (madvise((void *)mem, STORM_PAGES * page, MADV_DONTNEED))
		return -1;
	start = now_ns();
	for (size_t i = 0; i < STORM_PAGES; i++)
		mem[i * page] = 1;
	return (now_ns() - start) / STORM_PAGES;
}

static void detach(struct bpf_link **links, int *nr_links)
{
	for (int i = 0; i < *nr_links; i++)
		bpf_link__destroy(links[i]);
	*nr_links = 0;
}

/* One pair for one row: the round with its hooks minus the one without. */
static int measure_pair(struct floor_bpf *skel, const bool wanted[NR_FLOOR_HOOKS],
			volatile char *mem, size_t page, int nr_cpus, double *added)
{
	static struct bpf_link *links[MAX_LINKS];
	double with, without;
	bool hooked_first = rand() & 1;
	const char *failed;
	int nr_links = 0, err;

	for (int round = 0; round < 2; round++) {
		bool hooked = (round == 0) == hooked_first;
		double ns;

		err = hooked ? attach(skel, wanted, links, &nr_links, nr_cpus, &failed) : 0;
		if (err) {
			fprintf(stderr, "floor: cannot attach %s: %s\n", failed, strerror(-err));
			detach(links, &nr_links);
			return err;
		}
		ns = storm_round(mem, page);
		detach(links, &nr_links);
		if (ns < 0)
			return -errno;
		*(hooked ? &with : &without) = ns;
	}
	*added = with - without;
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_row(const char *name, double *added, int n)
{
	qsort(added, (size_t)n, sizeof(*added), compare_double);
	printf("%-28s %8.0f %8.0f..%-8.0f %d pairs\n", name, added[n / 2],
	       added[(n + 3) / 4 - 1], added[(3 * n + 3) / 4 - 1], n);
}

/* floor --pairs N ROW...: each row's added ns per fault, paired rounds. */
static int measure(int pairs, int nr_rows, char **rows, int nr_cpus)
{
	static double added[MAX_ROWS][MAX_PAIRS];
	bool wanted[MAX_ROWS][NR_FLOOR_HOOKS] = {}, any[NR_FLOOR_HOOKS] = {};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct floor_bpf *skel;
	volatile char *mem;
	int err = 0, order[MAX_ROWS];

	for (int row = 0; row < nr_rows; row++) {
		if (!parse_hooks(rows[row], wanted[row])) {
			fprintf(stderr, "floor: unknown hook in %s\n", rows[row]);
			return 2;
		}
		for (int hook = 0; hook < NR_FLOOR_HOOKS; hook++)
			any[hook] |= wanted[row][hook];
		order[row] = row;
	}
	mem = mmap(NULL, STORM_PAGES * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || madvise((void *)mem, STORM_PAGES * page, MADV_NOHUGEPAGE)) {
		fprintf(stderr, "floor: cannot map the storm's pages: %s\n", strerror(errno));
		return 1;
	}
	skel = floor_bpf__open();
	err = skel ? load(skel, any) : -errno;
	if (err) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	srand((unsigned)time(NULL));
	for (int pair = 0; pair < pairs && !err; pair++) {
		for (int i = nr_rows - 1; i > 0; i--) {
			int j = rand() % (i + 1), row = order[i];

			order[i] = order[j];
			order[j] = row;
		}
		for (int i = 0; i < nr_rows && !err; i++)
			err = measure_pair(skel, wanted[order[i]], mem, page, nr_cpus,
					   &added[order[i]][pair]);
	}
	if (!err) {
		printf("%-28s %8s %18s\n", "hooks (empty programs)", "added", "middle half");
		for (int row = 0; row < nr_rows; row++)
			print_row(rows[row], added[row], pairs);
	}
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct bpf_link *links[MAX_LINKS];
	bool wanted[NR_FLOOR_HOOKS] = {};
	int nr_cpus = libbpf_num_possible_cpus(), nr_links = 0, err;
	const char *failed = "";
	struct floor_bpf *skel;

	if (nr_cpus <= 0 || nr_cpus > MAX_CPUS) {
		fprintf(stderr, "floor: cannot count CPUs\n");
		return 1;
	}
	if (argc >= 4 && !strcmp(argv[1], "--pairs")) {
		int pairs = atoi(argv[2]);

		if (pairs < 1 || pairs > MAX_PAIRS || argc - 3 > MAX_ROWS) {
			fprintf(stderr, "floor: --pairs 1..%d, at most %d rows\n",
				MAX_PAIRS, MAX_ROWS);
			return 2;
		}
		return measure(pairs, argc - 3, argv + 3, nr_cpus);
	}
	if (argc != 2 || !parse_hooks(argv[1], wanted)) {
		fprintf(stderr, "usage: floor HOOK[,HOOK...] | floor --pairs N HOOKS...\n"
			"HOOK: all, entry, perf, rss, alloc, switch, filemap, map_pages, waits\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open: %s\n", strerror(errno));
		return 1;
	}
	err = load(skel, wanted);
	if (err) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(-err));
		goto out;
	}
	err = attach(skel, wanted, links, &nr_links, nr_cpus, &failed);
	if (err) {
		fprintf(stderr, "floor: cannot attach %s: %s\n", failed, strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: attached\n");
	while (!stop)
		pause();
	print_runs(skel, wanted, nr_cpus);
out:
	detach(links, &nr_links);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
