/*
 * floor: attach bench/floor.bpf.c's empty programs until SIGINT or
 * SIGTERM, then print how many times they ran. Usage:
 *   floor entry|perf|both|all
 * entry: the page_fault_user tracepoint; perf: the PAGE_FAULTS_MIN/MAJ
 * software events on every CPU (sample_period 1, as pfwatch opens them);
 * both: the two; all: both and the rss_stat tracepoint, every hook
 * pfwatch's perf backend runs on a fault. Prints "floor: attached" on
 * stderr once the programs run.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

#define MAX_CPUS 1024

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attach_perf(struct floor_bpf *skel, struct bpf_link **links,
		       int nr_cpus)
{
	static const __u64 configs[] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN, PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};
	int n = 0;

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
			links[n] = bpf_program__attach_perf_event(skel->progs.fault_event, fd);
			if (!links[n])
				return -errno;
			n++;
		}
	}
	return n;
}

static int attach_tracepoint(struct bpf_program *prog, struct bpf_link **link)
{
	*link = bpf_program__attach(prog);
	return *link ? 0 : -errno;
}

static __u64 program_runs(struct floor_bpf *skel, int nr_cpus)
{
	static __u64 values[MAX_CPUS];
	__u32 zero = 0;
	__u64 total = 0;

	if (bpf_map__lookup_elem(skel->maps.hits, &zero, sizeof(zero), values,
				 sizeof(__u64) * (size_t)nr_cpus, 0))
		return 0;
	for (int cpu = 0; cpu < nr_cpus; cpu++)
		total += values[cpu];
	return total;
}

int main(int argc, char **argv)
{
	static struct bpf_link *links[2 * MAX_CPUS];
	struct floor_bpf *skel;
	int nr_cpus = libbpf_num_possible_cpus(), nr_links = 0, err;
	bool entry, perf, rss;

	if (argc != 2 || (strcmp(argv[1], "entry") && strcmp(argv[1], "perf") &&
			  strcmp(argv[1], "both") && strcmp(argv[1], "all"))) {
		fprintf(stderr, "usage: floor entry|perf|both|all\n");
		return 2;
	}
	if (nr_cpus <= 0 || nr_cpus > MAX_CPUS) {
		fprintf(stderr, "floor: cannot count CPUs\n");
		return 1;
	}
	entry = strcmp(argv[1], "perf") != 0;
	perf = strcmp(argv[1], "entry") != 0;
	rss = strcmp(argv[1], "all") == 0;
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(errno));
		return 1;
	}
	if (entry) {
		err = attach_tracepoint(skel->progs.entry_only, &links[nr_links]);
		if (err)
			goto out;
		nr_links++;
	}
	if (perf) {
		err = attach_perf(skel, links + nr_links, nr_cpus);
		if (err < 0)
			goto out;
		nr_links += err;
	}
	if (rss) {
		err = attach_tracepoint(skel->progs.rss_only, &links[nr_links]);
		if (err)
			goto out;
		nr_links++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: attached\n");
	while (!stop)
		pause();
	printf("floor: %llu program runs\n", (unsigned long long)program_runs(skel, nr_cpus));
	err = 0;
out:
	if (err)
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(-err));
	for (int i = 0; i < nr_links; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
