/*
 * faultstorm: the cost of the cheapest page fault, a first write to an
 * anonymous 4 KiB page. One region is reused (touch every page, then
 * MADV_DONTNEED, then touch again) so the measurement is stable on a VM.
 * Prints the median nanoseconds per fault over ROUNDS rounds, in the
 * thread's own CPU time: on this VM wall time also carries the host's
 * scheduling, which made adjacent rounds differ by 0.5 us a fault.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long parse(const char *text, long max)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < 1 || value > max) {
		fprintf(stderr, "usage: faultstorm PAGES ROUNDS\n");
		exit(2);
	}
	return value;
}

int main(int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages;
	long rounds;
	double *per_fault;
	volatile char *mem;

	if (argc != 3)
		parse("", 0);
	pages = (size_t)parse(argv[1], 1 << 22);
	rounds = parse(argv[2], 100000);
	per_fault = calloc((size_t)rounds, sizeof(*per_fault));
	mem = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!per_fault || mem == MAP_FAILED ||
	    madvise((void *)mem, pages * page, MADV_NOHUGEPAGE)) {
		fprintf(stderr, "faultstorm: setup: %s\n", strerror(errno));
		return 1;
	}
	for (long r = 0; r < rounds; r++) {
		double start;

		if (madvise((void *)mem, pages * page, MADV_DONTNEED)) {
			fprintf(stderr, "faultstorm: madvise: %s\n", strerror(errno));
			return 1;
		}
		start = now_ns();
		for (size_t i = 0; i < pages; i++)
			mem[i * page] = 1;
		per_fault[r] = (now_ns() - start) / (double)pages;
	}
	qsort(per_fault, (size_t)rounds, sizeof(*per_fault), compare_double);
	printf("%.1f\n", per_fault[rounds / 2]);
	free(per_fault);
	return 0;
}
