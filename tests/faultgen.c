/*
 * faultgen: makes a known number of page faults of one class, so pfwatch's
 * counts can be checked against N and against the kernel's own counters.
 *
 *   anon_zero    N first writes to fresh anonymous pages        (minor)
 *   cow          N writes after fork, in the child              (minor)
 *   file_cached  N reads of a file already in the page cache    (minor)
 *   file_read    N reads of file pages evicted from the cache   (major)
 *   swap_in      N reads of anonymous pages pushed to swap      (major)
 *   segv_maperr  N writes to an unmapped page                   (SIGSEGV)
 *   segv_accerr  N writes to a read-only page                   (SIGSEGV)
 *   sigbus       N reads past the end of a truncated file       (SIGBUS)
 *
 * --repeat R runs the scenario R times, --pause-ms MS apart: a steady
 * load for the live view's tests, still N faults per round. --threads T
 * (anon_zero only) runs the rounds in T threads named fg-worker-0... at
 * once, each making N faults a round and reporting its own counts
 * (RUSAGE_THREAD). --linger-ms MS keeps the scenario's memory mapped for
 * MS after the loop, so a tracer can still read /proc/PID/maps.
 *
 * Before its loop, faultgen prints "region=START-END" (hex), the addresses
 * the loop faults in, and for file scenarios "file=PATH" (unlinked, as
 * /proc/PID/maps shows with " (deleted)").
 *
 * children    N processes alive at once, each one first write to
 *              a fresh anonymous page; measured by RUSAGE_CHILDREN (minor)
 *
 * --rename NAME renames faultgen (prctl PR_SET_NAME) before the scenario
 * and prints "renamed=NAME minflt=M majflt=J", its faults until then.
 *
 * Around its measured loop only, faultgen reads getrusage and prints
 * "scenario=NAME n=N minflt=M majflt=J": the kernel's own proof that the
 * loop made exactly N faults of the expected kind.
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD, pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The kernel maps up to 64 KiB of cached file pages around a read fault
 * (fault-around): touching one page per 64 KiB makes each touch one fault.
 */
#define FILE_STRIDE_PAGES 16

struct scenario_context {
	const char *name;
	const char *dir;
	long n;
	size_t page;
	int usage_of;		/* RUSAGE_SELF, or RUSAGE_THREAD in threads */
	long linger_ms;		/* after the loop, before unmapping */
};

/* Signal handler state: the only globals. */
static sigjmp_buf fault_return;
static volatile sig_atomic_t last_si_code;

static void die(const struct scenario_context *ctx, const char *what)
{
	fprintf(stderr, "faultgen: %s: %s: %s\n", ctx->name, what, strerror(errno));
	exit(1);
}

static struct rusage usage_now(const struct scenario_context *ctx)
{
	struct rusage usage;

	if (getrusage(ctx->usage_of, &usage))
		die(ctx, "getrusage");
	return usage;
}

static void sleep_ms(long ms);

static void report(const struct scenario_context *ctx, const struct rusage *before)
{
	struct rusage after = usage_now(ctx);

	printf("scenario=%s n=%ld minflt=%ld majflt=%ld\n", ctx->name, ctx->n,
	       after.ru_minflt - before->ru_minflt,
	       after.ru_majflt - before->ru_majflt);
	fflush(stdout);
	sleep_ms(ctx->linger_ms);
}

static void print_region(const volatile void *start, size_t bytes)
{
	printf("region=%#lx-%#lx\n", (unsigned long)start,
	       (unsigned long)start + bytes);
}

static char *map_anonymous(const struct scenario_context *ctx, size_t pages)
{
	char *mem = mmap(NULL, pages * ctx->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		die(ctx, "mmap anonymous");
	/* Huge pages would turn 512 faults into one. */
	if (madvise(mem, pages * ctx->page, MADV_NOHUGEPAGE))
		die(ctx, "madvise MADV_NOHUGEPAGE");
	return mem;
}

static void anon_zero(const struct scenario_context *ctx)
{
	volatile char *mem = map_anonymous(ctx, (size_t)ctx->n);
	struct rusage before;

	print_region(mem, (size_t)ctx->n * ctx->page);
	before = usage_now(ctx);
	for (long i = 0; i < ctx->n; i++)
		mem[(size_t)i * ctx->page] = 1;
	report(ctx, &before);
	munmap((void *)mem, (size_t)ctx->n * ctx->page);
}

static void cow(const struct scenario_context *ctx)
{
	volatile char *mem = map_anonymous(ctx, (size_t)ctx->n);
	int status;
	pid_t child;

	for (long i = 0; i < ctx->n; i++)
		mem[(size_t)i * ctx->page] = 1;
	child = fork();
	if (child < 0)
		die(ctx, "fork");
	if (child == 0) {
		struct rusage before = usage_now(ctx);

		for (long i = 0; i < ctx->n; i++)
			mem[(size_t)i * ctx->page] = 2;
		report(ctx, &before);
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child)
		die(ctx, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		exit(1);
	munmap((void *)mem, (size_t)ctx->n * ctx->page);
}

/* A file of @pages pages in ctx->dir, unlinked at once: gone at exit. */
static int make_file(const struct scenario_context *ctx, size_t pages)
{
	char path[4096];
	char *block = calloc(1, ctx->page);
	int fd;

	snprintf(path, sizeof(path), "%s/faultgen.XXXXXX", ctx->dir);
	fd = mkstemp(path);
	if (fd < 0 || !block)
		die(ctx, "create a file");
	printf("file=%s\n", path);
	if (unlink(path))
		die(ctx, "unlink");
	for (size_t i = 0; i < pages; i++) {
		memset(block, (int)(i % 251) + 1, ctx->page);
		if (write(fd, block, ctx->page) != (ssize_t)ctx->page)
			die(ctx, "write the file");
	}
	free(block);
	if (fsync(fd))
		die(ctx, "fsync");
	return fd;
}

static char *map_file(const struct scenario_context *ctx, int fd, size_t pages,
		      int prot, int flags)
{
	char *mem = mmap(NULL, pages * ctx->page, prot, flags, fd, 0);

	if (mem == MAP_FAILED)
		die(ctx, "mmap file");
	return mem;
}

static size_t resident_pages(const struct scenario_context *ctx, void *mem,
			     size_t pages)
{
	unsigned char *vec = malloc(pages);
	size_t resident = 0;

	if (!vec || mincore(mem, pages * ctx->page, vec))
		die(ctx, "mincore");
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);
	return resident;
}

static void touch_file_pages(const struct scenario_context *ctx, int fd)
{
	size_t pages = (size_t)ctx->n * FILE_STRIDE_PAGES;
	volatile char *mem = map_file(ctx, fd, pages, PROT_READ, MAP_PRIVATE);
	struct rusage before;
	char sink = 0;

	/* No readahead: each page the loop touches is read on its own. */
	if (madvise((void *)mem, pages * ctx->page, MADV_RANDOM))
		die(ctx, "madvise MADV_RANDOM");
	print_region(mem, pages * ctx->page);
	before = usage_now(ctx);
	for (long i = 0; i < ctx->n; i++)
		sink ^= mem[(size_t)i * FILE_STRIDE_PAGES * ctx->page];
	report(ctx, &before);
	(void)sink;
	munmap((void *)mem, pages * ctx->page);
}

static void file_cached(const struct scenario_context *ctx)
{
	size_t pages = (size_t)ctx->n * FILE_STRIDE_PAGES;
	int fd = make_file(ctx, pages);
	char *probe = map_file(ctx, fd, pages, PROT_READ, MAP_SHARED);

	/* write() left every page in the page cache; make sure of it. */
	if (resident_pages(ctx, probe, pages) != pages)
		fprintf(stderr, "faultgen: file_cached: not all pages cached\n");
	munmap(probe, pages * ctx->page);
	touch_file_pages(ctx, fd);
	close(fd);
}

static void file_read(const struct scenario_context *ctx)
{
	size_t pages = (size_t)ctx->n * FILE_STRIDE_PAGES;
	int fd = make_file(ctx, pages);
	char *probe = map_file(ctx, fd, pages, PROT_READ, MAP_SHARED);

	for (int attempt = 0; resident_pages(ctx, probe, pages); attempt++) {
		if (attempt == 5) {
			fprintf(stderr, "faultgen: file_read: file pages stayed in the page cache\n");
			exit(3);
		}
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			die(ctx, "posix_fadvise DONTNEED");
		usleep(10000);
	}
	munmap(probe, pages * ctx->page);
	touch_file_pages(ctx, fd);
	close(fd);
}

static void swap_in(const struct scenario_context *ctx)
{
	size_t pages = (size_t)ctx->n;
	volatile char *mem = map_anonymous(ctx, pages);
	struct rusage before;
	char sink = 0;

	for (size_t i = 0; i < pages; i++)
		memset((char *)mem + i * ctx->page, (int)(i % 251) + 1, ctx->page);
	for (int attempt = 0; resident_pages(ctx, (void *)mem, pages); attempt++) {
		if (attempt == 5) {
			fprintf(stderr, "faultgen: swap_in: pages stayed resident; is swap enabled? (swapon)\n");
			exit(3);
		}
		if (madvise((void *)mem, pages * ctx->page, MADV_PAGEOUT))
			die(ctx, "madvise MADV_PAGEOUT");
	}
	/* One page at a time: no swap readahead around the touched page. */
	if (madvise((void *)mem, pages * ctx->page, MADV_RANDOM))
		die(ctx, "madvise MADV_RANDOM");
	print_region(mem, pages * ctx->page);
	before = usage_now(ctx);
	for (size_t i = 0; i < pages; i++)
		sink ^= mem[i * ctx->page];
	report(ctx, &before);
	(void)sink;
}

static void on_fault_signal(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)context;
	last_si_code = info->si_code;
	siglongjmp(fault_return, 1);
}

/* Touches @addr N times, each touch ending in @sig with @si_code. */
static void fault_n_times(const struct scenario_context *ctx, volatile char *addr,
			  bool write, int sig, int si_code)
{
	struct sigaction action = { .sa_sigaction = on_fault_signal,
				    .sa_flags = SA_SIGINFO };
	struct rusage before;
	volatile long caught = 0;

	sigemptyset(&action.sa_mask);
	if (sigaction(sig, &action, NULL))
		die(ctx, "sigaction");
	before = usage_now(ctx);
	for (volatile long i = 0; i < ctx->n; i++) {
		if (sigsetjmp(fault_return, 1) == 0) {
			if (write)
				*addr = 1;
			else
				(void)*addr;
			continue;
		}
		if (last_si_code == si_code)
			caught++;
	}
	report(ctx, &before);
	if (caught != ctx->n) {
		fprintf(stderr, "faultgen: %s: %ld of %ld faults raised the expected signal\n",
			ctx->name, (long)caught, ctx->n);
		exit(1);
	}
}

static void segv_maperr(const struct scenario_context *ctx)
{
	char *page = map_anonymous(ctx, 1);

	if (munmap(page, ctx->page))
		die(ctx, "munmap");
	fault_n_times(ctx, page, true, SIGSEGV, SEGV_MAPERR);
}

static void segv_accerr(const struct scenario_context *ctx)
{
	volatile char *page = map_anonymous(ctx, 1);

	page[0] = 1;
	if (mprotect((void *)page, ctx->page, PROT_READ))
		die(ctx, "mprotect");
	fault_n_times(ctx, page, true, SIGSEGV, SEGV_ACCERR);
}

static void sigbus(const struct scenario_context *ctx)
{
	int fd = make_file(ctx, 2);
	char *mem = map_file(ctx, fd, 2, PROT_READ, MAP_SHARED);

	if (ftruncate(fd, 0))
		die(ctx, "ftruncate");
	fault_n_times(ctx, mem, false, SIGBUS, BUS_ADRERR);
	close(fd);
}

/*
 * The children share faultgen's memory (CLONE_VM: no copy-on-write
 * fault) and its file table (closing the pipe releases them all), and
 * each runs on a stack page faultgen touched: its write is its only fault.
 */
struct held_child {
	volatile char *page;
	int hold_fd;
};

static int fault_once_and_hold(void *arg)
{
	const struct held_child *child = arg;
	char byte;

	*child->page = 1;
	/* Until faultgen closes the pipe's write end: all alive at once. */
	return syscall(SYS_read, child->hold_fd, &byte, 1) < 0;
}

static void children(const struct scenario_context *ctx)
{
	struct scenario_context of_children = *ctx;
	size_t n = (size_t)ctx->n, stack_bytes = 2 * ctx->page;
	char *pages = map_anonymous(ctx, n), *stacks = map_anonymous(ctx, 2 * n);
	struct held_child *held = calloc(n, sizeof(*held));
	struct rusage before;
	int hold[2];

	if (!held || pipe(hold))
		die(ctx, "setup");
	of_children.usage_of = RUSAGE_CHILDREN;
	before = usage_now(&of_children);
	for (size_t i = 0; i < n; i++) {
		char *stack_top = stacks + (i + 1) * stack_bytes;

		memset(stack_top - ctx->page, 0, ctx->page);
		held[i] = (struct held_child){ pages + i * ctx->page, hold[0] };
		if (clone(fault_once_and_hold, stack_top, CLONE_VM | CLONE_FILES | SIGCHLD,
			  &held[i]) < 0)
			die(ctx, "clone");
	}
	close(hold[1]);
	for (size_t i = 0; i < n; i++)
		if (wait(NULL) < 0)
			die(ctx, "wait");
	report(&of_children, &before);
	close(hold[0]);
	free(held);
}

static const struct {
	const char *name;
	void (*run)(const struct scenario_context *ctx);
} scenarios[] = {
	{ "anon_zero", anon_zero },
	{ "cow", cow },
	{ "file_cached", file_cached },
	{ "file_read", file_read },
	{ "swap_in", swap_in },
	{ "segv_maperr", segv_maperr },
	{ "segv_accerr", segv_accerr },
	{ "sigbus", sigbus },
	{ "children", children },
};

static void usage(void)
{
	fputs("usage: faultgen [--dir DIR] [--start-after-ms MS] [--repeat R] [--pause-ms MS]\n"
	      "                [--threads T] [--linger-ms MS] [--rename NAME] SCENARIO N\n"
	      "scenarios:", stderr);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, " %s", scenarios[i].name);
	fputs("\nN: 1 to 10000000\n", stderr);
	exit(2);
}

static long parse_number(const char *text, long max)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < 0 || value > max)
		usage();
	return value;
}

struct rounds {
	struct scenario_context ctx;
	long repeat, pause_ms;
};

static void run_rounds(const struct rounds *rounds,
		       void (*run)(const struct scenario_context *ctx))
{
	for (long round = 0; round < rounds->repeat; round++) {
		if (round)
			sleep_ms(rounds->pause_ms);
		run(&rounds->ctx);
	}
}

static void *anon_zero_thread(void *arg)
{
	run_rounds(arg, anon_zero);
	return NULL;
}

/* The rounds of anon_zero in @nr threads at once. */
static void anon_zero_threads(const struct rounds *rounds, long nr)
{
	struct rounds in_thread = *rounds;
	pthread_t threads[64];
	char name[16];

	in_thread.ctx.usage_of = RUSAGE_THREAD;
	for (long i = 0; i < nr; i++) {
		errno = pthread_create(&threads[i], NULL, anon_zero_thread, &in_thread);
		if (errno)
			die(&rounds->ctx, "pthread_create");
		snprintf(name, sizeof(name), "fg-worker-%ld", i);
		pthread_setname_np(threads[i], name);
	}
	for (long i = 0; i < nr; i++)
		pthread_join(threads[i], NULL);
}

static void sleep_ms(long ms)
{
	struct timespec delay = { ms / 1000, ms % 1000 * 1000000 };

	while (nanosleep(&delay, &delay) && errno == EINTR)
		;
}

static void rename_self(const struct scenario_context *ctx, const char *name)
{
	struct rusage usage;

	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die(ctx, "prctl PR_SET_NAME");
	usage = usage_now(ctx);
	printf("renamed=%s minflt=%ld majflt=%ld\n", name, usage.ru_minflt,
	       usage.ru_majflt);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct scenario_context ctx = { .dir = "/tmp", .usage_of = RUSAGE_SELF };
	long start_after_ms = 0, repeat = 1, pause_ms = 0, threads = 0;
	const char *rename_to = NULL;
	int arg = 1;

	for (; arg + 1 < argc && !strncmp(argv[arg], "--", 2); arg += 2) {
		if (!strcmp(argv[arg], "--dir"))
			ctx.dir = argv[arg + 1];
		else if (!strcmp(argv[arg], "--start-after-ms"))
			start_after_ms = parse_number(argv[arg + 1], 3600000);
		else if (!strcmp(argv[arg], "--repeat"))
			repeat = parse_number(argv[arg + 1], 1000000);
		else if (!strcmp(argv[arg], "--pause-ms"))
			pause_ms = parse_number(argv[arg + 1], 3600000);
		else if (!strcmp(argv[arg], "--linger-ms"))
			ctx.linger_ms = parse_number(argv[arg + 1], 3600000);
		else if (!strcmp(argv[arg], "--threads"))
			threads = parse_number(argv[arg + 1], 64);
		else if (!strcmp(argv[arg], "--rename"))
			rename_to = argv[arg + 1];
		else
			usage();
	}
	if (argc - arg != 2)
		usage();
	ctx.name = argv[arg];
	ctx.n = parse_number(argv[arg + 1], 10000000);
	ctx.page = (size_t)sysconf(_SC_PAGESIZE);
	if (ctx.n < 1)
		usage();
	if (repeat < 1 || (threads && strcmp(ctx.name, "anon_zero")))
		usage();
	sleep_ms(start_after_ms);
	if (rename_to)
		rename_self(&ctx, rename_to);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (!strcmp(ctx.name, scenarios[i].name)) {
			struct rounds rounds = { ctx, repeat, pause_ms };

			if (threads)
				anon_zero_threads(&rounds, threads);
			else
				run_rounds(&rounds, scenarios[i].run);
			return 0;
		}
	}
	usage();
}
