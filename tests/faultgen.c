/*
 * faultgen: makes a known number of page faults of one class, so pfwatch's
 * counts can be checked against N and against the kernel's own counters.
 *
 *   anon_zero    N first writes to fresh anonymous pages        (minor)
 *   cow          N writes after fork, in the child              (minor)
 *   file_cached  N reads of a file already in the page cache    (minor)
 *   file_read    N reads of file pages evicted from the cache   (major)
 *   swap_in      N reads of anonymous pages pushed to swap      (major)
 *   swap_cache   N reads of anonymous pages paged out (MADV_PAGEOUT) and
 *                touched at once: on a disk's swap most are still in the
 *                swap cache (minor), the rest are read back (major); adds
 *                paged_out= (swap entries in pagemap), in_swap_cache=
 *                (of those, mincore's resident) and the rise of pswpin
 *   anon_thp     N first writes to 2-MiB-aligned huge-page ranges under
 *                MADV_HUGEPAGE, each one huge-page zero-fill (minor);
 *                adds the rise of thp_fault_alloc and thp_fault_fallback
 *   uffd         N first writes to anonymous pages registered with
 *                userfaultfd (missing mode); a handler thread sleeps
 *                --uffd-sleep-us US per fault, then copies the page in.
 *                6.18 counts them minor (see uffd()). Counts are the
 *                loop thread's; adds resolved= (the handler's copies)
 *                and the shortest and longest touch in microseconds
 *   mmap_lock    N first writes to fresh anonymous pages (minor), while a
 *                thread (fg-mprotect) splits and merges their mapping
 *                with mprotect, holding mmap_lock for writing; counts
 *                are the loop thread's; adds mprotects= (the thread's)
 *   memcg        N first writes to fresh anonymous pages (minor), meant to
 *                run in a memory cgroup smaller than N pages (--cgroup),
 *                where charges past the limit reclaim; adds the rise of
 *                pswpout
 *   numa_hint    N anonymous pages placed on node 0, then read again and
 *                again for --touch-ms MS (5000) from a CPU of node 1, so
 *                NUMA balancing's scanner makes hinting faults (minor);
 *                needs two nodes and kernel.numa_balancing; adds the
 *                rise of numa_hint_faults and numa_pages_migrated,
 *                passes=, and the pages on node 0 before the loop and on
 *                node 1 after it (move_pages)
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
 * --cgroup DIR moves faultgen into an existing cgroup (v1 or v2) before
 * the scenario by writing its pid to DIR/cgroup.procs, and prints
 * "cgroup=DIR"; the caller creates the cgroup and sets its limits.
 * --move-to DIR moves it into DIR the same way after the first of its
 * --repeat rounds: the rounds before and after fault in two cgroups.
 *
 * --rename NAME renames faultgen (prctl PR_SET_NAME) before the scenario
 * and prints "renamed=NAME minflt=M majflt=J", its faults until then.
 *
 * Around its measured loop only, faultgen reads getrusage and prints
 * "scenario=NAME n=N minflt=M majflt=J": the kernel's own proof that the
 * loop made exactly N faults of the expected kind. Some scenarios add
 * their own oracles to that line as KEY=VALUE; the rises of /proc/vmstat
 * counters are across the loop and system-wide (compare on a quiet host).
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD, pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdint.h>
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
	long uffd_sleep_us;	/* uffd: the handler's time per fault */
	long touch_ms;		/* numa_hint: how long the loop runs */
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
static void sleep_us(long us);
static void join_cgroup(const struct scenario_context *ctx, const char *dir);

/* The scenario line, with @more (" key=value..." oracles) at its end. */
static void report_more(const struct scenario_context *ctx,
			const struct rusage *before, const char *more)
{
	struct rusage after = usage_now(ctx);

	printf("scenario=%s n=%ld minflt=%ld majflt=%ld%s\n", ctx->name, ctx->n,
	       after.ru_minflt - before->ru_minflt,
	       after.ru_majflt - before->ru_majflt, more);
	fflush(stdout);
	sleep_ms(ctx->linger_ms);
}

static void report(const struct scenario_context *ctx, const struct rusage *before)
{
	report_more(ctx, before, "");
}

/* A small text file, whole; false if it cannot be read. */
static bool read_text(const char *path, char *text, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;
	ssize_t got = 1;

	if (fd < 0)
		return false;
	while (got > 0 && used + 1 < size) {
		got = read(fd, text + used, size - 1 - used);
		used += got > 0 ? (size_t)got : 0;
	}
	close(fd);
	text[used] = '\0';
	return got >= 0;
}

/*
 * A /proc/vmstat counter. System-wide: the tests compare it on a quiet
 * machine. The buffer is on the stack, so reading it inside a measured
 * loop makes no fault of its own after the first read.
 */
static long vmstat_value(const struct scenario_context *ctx, const char *name)
{
	char text[16384] = "\n", key[64];
	const char *found;

	if (!read_text("/proc/vmstat", text + 1, sizeof(text) - 1))
		die(ctx, "read /proc/vmstat");
	snprintf(key, sizeof(key), "\n%s ", name);
	found = strstr(text, key);
	if (!found) {
		fprintf(stderr, "faultgen: %s: /proc/vmstat has no %s\n", ctx->name, name);
		exit(3);
	}
	return strtol(found + strlen(key), NULL, 10);
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

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage/"

/* The size of a PMD-mapped huge page; exits 3 when THP is off. */
static size_t huge_page_bytes(const struct scenario_context *ctx)
{
	char text[128];

	if (!read_text(THP_SYSFS "enabled", text, sizeof(text))) {
		fprintf(stderr, "faultgen: %s: no transparent huge pages (%senabled)\n",
			ctx->name, THP_SYSFS);
		exit(3);
	}
	if (strstr(text, "[never]")) {
		fprintf(stderr, "faultgen: %s: transparent huge pages are off (%senabled is never)\n",
			ctx->name, THP_SYSFS);
		exit(3);
	}
	if (!read_text(THP_SYSFS "hpage_pmd_size", text, sizeof(text)))
		return 2UL << 20;
	return (size_t)strtoul(text, NULL, 10);
}

static void anon_thp(const struct scenario_context *ctx)
{
	size_t huge = huge_page_bytes(ctx), bytes = (size_t)ctx->n * huge;
	char *mapped = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *mem;
	long alloc, fallback;
	struct rusage before;
	char more[96];

	if (mapped == MAP_FAILED)
		die(ctx, "mmap anonymous");
	/* Aligned ranges, so that each first touch can map a whole huge page. */
	mem = (char *)(((uintptr_t)mapped + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise((void *)mem, bytes, MADV_HUGEPAGE))
		die(ctx, "madvise MADV_HUGEPAGE");
	print_region(mem, bytes);
	alloc = vmstat_value(ctx, "thp_fault_alloc");
	fallback = vmstat_value(ctx, "thp_fault_fallback");
	before = usage_now(ctx);
	for (long i = 0; i < ctx->n; i++)
		mem[(size_t)i * huge] = 1;
	snprintf(more, sizeof(more), " thp_fault_alloc=%ld thp_fault_fallback=%ld",
		 vmstat_value(ctx, "thp_fault_alloc") - alloc,
		 vmstat_value(ctx, "thp_fault_fallback") - fallback);
	report_more(ctx, &before, more);
	munmap(mapped, bytes + huge);
}

/* From /dev/userfaultfd, for when the syscall is refused (EPERM). */
static int userfaultfd_from_device(void)
{
	int device = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC), fd, saved;

	if (device < 0)
		return -1;
	fd = ioctl(device, USERFAULTFD_IOC_NEW, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0 && errno == EINVAL)
		fd = ioctl(device, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	saved = errno;
	close(device);
	errno = saved;
	return fd;
}

static int open_userfaultfd(const struct scenario_context *ctx)
{
	struct uffdio_api api = { .api = UFFD_API };
	/* User-mode faults only: all the scenario makes (Linux 5.11+). */
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	if (fd < 0 && errno == EINVAL)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0 && (errno == EPERM || errno == ENOSYS))
		fd = userfaultfd_from_device();
	if (fd < 0) {
		fprintf(stderr, "faultgen: %s: no userfaultfd: %s\n", ctx->name, strerror(errno));
		exit(3);
	}
	if (ioctl(fd, UFFDIO_API, &api))
		die(ctx, "UFFDIO_API");
	return fd;
}

struct uffd_handler {
	const struct scenario_context *ctx;
	int uffd;
	long faults;		/* to resolve, then the thread ends */
	const char *source;	/* the page copied in */
	long resolved;
};

static void *resolve_faults(void *arg)
{
	struct uffd_handler *handler = arg;
	const struct scenario_context *ctx = handler->ctx;
	struct uffd_msg msg;

	while (handler->resolved < handler->faults) {
		ssize_t got = read(handler->uffd, &msg, sizeof(msg));
		struct uffdio_copy copy = { .src = (uintptr_t)handler->source,
					    .len = ctx->page };

		if (got < 0 && errno == EINTR)
			continue;
		if (got != sizeof(msg))
			die(ctx, "read userfaultfd");
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		sleep_us(ctx->uffd_sleep_us);
		copy.dst = msg.arg.pagefault.address & ~(uint64_t)(ctx->page - 1);
		if (!ioctl(handler->uffd, UFFDIO_COPY, &copy))
			handler->resolved++;
		else if (errno != EEXIST)
			die(ctx, "UFFDIO_COPY");
	}
	return NULL;
}

static long elapsed_ns(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000000L + now.tv_nsec - since->tv_nsec;
}

/*
 * The loop's thread counts its own faults (RUSAGE_THREAD): the handler's
 * start and exit fault in libc's code, and those are no uffd faults.
 * Minor or major is the kernel's call: a fault the handler resolved is
 * retried, and a retry counts major (FAULT_FLAG_TRIED) except after a
 * per-VMA-lock attempt that returned no VM_FAULT_MAJOR, as on 6.18 (minor).
 */
static void uffd(const struct scenario_context *ctx)
{
	struct scenario_context in_thread = *ctx;
	size_t pages = (size_t)ctx->n;
	volatile char *mem = map_anonymous(ctx, pages);
	char *source = map_anonymous(ctx, 1);
	struct uffd_handler handler = { ctx, open_userfaultfd(ctx), ctx->n, source, 0 };
	struct uffdio_register range = {
		.range = { (uintptr_t)mem, pages * ctx->page },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	long shortest = LONG_MAX, longest = 0;
	struct timespec start;
	struct rusage before;
	pthread_t thread;
	char more[128];

	memset(source, 0x5a, ctx->page);
	if (ioctl(handler.uffd, UFFDIO_REGISTER, &range))
		die(ctx, "UFFDIO_REGISTER");
	errno = pthread_create(&thread, NULL, resolve_faults, &handler);
	if (errno)
		die(ctx, "pthread_create");
	pthread_setname_np(thread, "fg-uffd");
	in_thread.usage_of = RUSAGE_THREAD;
	print_region(mem, pages * ctx->page);
	clock_gettime(CLOCK_MONOTONIC, &start);
	before = usage_now(&in_thread);
	for (size_t i = 0; i < pages; i++) {
		long took;

		clock_gettime(CLOCK_MONOTONIC, &start);
		mem[i * ctx->page] = 1;
		took = elapsed_ns(&start);
		shortest = took < shortest ? took : shortest;
		longest = took > longest ? took : longest;
	}
	pthread_join(thread, NULL);
	snprintf(more, sizeof(more), " resolved=%ld touch_min_us=%ld touch_max_us=%ld",
		 handler.resolved, shortest / 1000, longest / 1000);
	report_more(&in_thread, &before, more);
	close(handler.uffd);
	munmap((void *)mem, pages * ctx->page);
	munmap(source, ctx->page);
}

static bool swap_enabled(void)
{
	char text[4096];
	const char *header_end;

	if (!read_text("/proc/swaps", text, sizeof(text)))
		return false;
	header_end = strchr(text, '\n');
	return header_end && header_end[1];
}

/* Pages of @mem that /proc/self/pagemap shows swapped out (bit 62). */
static size_t swapped_pages(const struct scenario_context *ctx, void *mem, size_t pages)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t *entries = malloc(pages * sizeof(*entries));
	off_t at = (off_t)((uintptr_t)mem / ctx->page * sizeof(*entries));
	size_t bytes = pages * sizeof(*entries), done = 0, swapped = 0;

	if (fd < 0 || !entries)
		die(ctx, "open /proc/self/pagemap");
	while (done < bytes) {
		ssize_t got = pread(fd, (char *)entries + done, bytes - done, at + (off_t)done);

		if (got <= 0)
			die(ctx, "read /proc/self/pagemap");
		done += (size_t)got;
	}
	for (size_t i = 0; i < pages; i++)
		swapped += entries[i] >> 62 & 1;
	free(entries);
	close(fd);
	return swapped;
}

/*
 * Paged out once and touched at once: a page whose write to swap is in
 * flight or done stays in the swap cache until reclaim frees it. zram
 * frees it at once (synchronous I/O): there, all are swap-ins.
 */
static void swap_cache(const struct scenario_context *ctx)
{
	size_t pages = (size_t)ctx->n, paged_out = 0, in_cache;
	volatile char *mem = map_anonymous(ctx, pages);
	struct rusage before;
	char more[128], sink = 0;
	long swapped_in;

	if (!swap_enabled()) {
		fprintf(stderr, "faultgen: swap_cache: no swap is enabled (swapon)\n");
		exit(3);
	}
	for (size_t i = 0; i < pages; i++)
		memset((char *)mem + i * ctx->page, (int)(i % 251) + 1, ctx->page);
	for (int attempt = 0; paged_out < pages && attempt < 5; attempt++) {
		if (madvise((void *)mem, pages * ctx->page, MADV_PAGEOUT))
			die(ctx, "madvise MADV_PAGEOUT");
		paged_out = swapped_pages(ctx, (void *)mem, pages);
	}
	if (!paged_out) {
		fprintf(stderr, "faultgen: swap_cache: MADV_PAGEOUT paged nothing out; is swap full?\n");
		exit(3);
	}
	/* mincore counts a swapped-out page in the swap cache as resident. */
	in_cache = resident_pages(ctx, (void *)mem, pages) - (pages - paged_out);
	if (madvise((void *)mem, pages * ctx->page, MADV_RANDOM))
		die(ctx, "madvise MADV_RANDOM");
	print_region(mem, pages * ctx->page);
	swapped_in = vmstat_value(ctx, "pswpin");
	before = usage_now(ctx);
	for (size_t i = 0; i < pages; i++)
		sink ^= mem[i * ctx->page];
	snprintf(more, sizeof(more), " paged_out=%zu in_swap_cache=%zu pswpin=%ld",
		 paged_out, in_cache, vmstat_value(ctx, "pswpin") - swapped_in);
	report_more(ctx, &before, more);
	(void)sink;
	munmap((void *)mem, pages * ctx->page);
}

struct mapping_changer {
	const struct scenario_context *ctx;
	char *page;		/* in the loop's mapping, never touched */
	atomic_bool started, stop;
	long changes;
};

/*
 * Each mprotect splits the loop's mapping or merges it back: the kernel
 * write-locks that VMA until mmap_lock is released, so a fault in it
 * cannot take the per-VMA lock and waits for mmap_lock.
 */
static void *change_mapping(void *arg)
{
	struct mapping_changer *changer = arg;

	while (!atomic_load(&changer->stop)) {
		int prot = changer->changes % 2 ? PROT_READ | PROT_WRITE : PROT_READ;

		if (mprotect(changer->page, changer->ctx->page, prot))
			die(changer->ctx, "mprotect");
		changer->changes++;
		atomic_store(&changer->started, true);
	}
	return NULL;
}

static void mmap_lock(const struct scenario_context *ctx)
{
	struct scenario_context in_thread = *ctx;
	size_t pages = (size_t)ctx->n;
	volatile char *mem = map_anonymous(ctx, pages + 1);
	struct mapping_changer changer = { .ctx = ctx, .page = (char *)mem + pages * ctx->page };
	struct rusage before;
	pthread_t thread;
	char more[64];

	errno = pthread_create(&thread, NULL, change_mapping, &changer);
	if (errno)
		die(ctx, "pthread_create");
	pthread_setname_np(thread, "fg-mprotect");
	while (!atomic_load(&changer.started))
		sched_yield();
	in_thread.usage_of = RUSAGE_THREAD;
	print_region(mem, pages * ctx->page);
	before = usage_now(&in_thread);
	for (size_t i = 0; i < pages; i++)
		mem[i * ctx->page] = 1;
	atomic_store(&changer.stop, true);
	pthread_join(thread, NULL);
	snprintf(more, sizeof(more), " mprotects=%ld", changer.changes);
	report_more(&in_thread, &before, more);
	munmap((void *)mem, (pages + 1) * ctx->page);
}

/*
 * Reclaim in the cgroup would also evict faultgen's own code, stack and
 * buffers, and their refaults would join the loop's: they are locked in
 * first (mlockall of the current mappings only, not the loop's).
 */
static void memcg(const struct scenario_context *ctx)
{
	volatile char *mem;
	struct rusage before;
	long swapped_out;
	char more[64];

	if (mlockall(MCL_CURRENT))
		die(ctx, "mlockall");
	mem = map_anonymous(ctx, (size_t)ctx->n);
	print_region(mem, (size_t)ctx->n * ctx->page);
	swapped_out = vmstat_value(ctx, "pswpout");
	before = usage_now(ctx);
	for (long i = 0; i < ctx->n; i++)
		mem[(size_t)i * ctx->page] = 1;
	snprintf(more, sizeof(more), " pswpout=%ld", vmstat_value(ctx, "pswpout") - swapped_out);
	report_more(ctx, &before, more);
	munmap((void *)mem, (size_t)ctx->n * ctx->page);
}

/* The first CPU of NUMA node @node, or -1 if it has none. */
static int first_cpu_of_node(int node)
{
	char path[64], text[256];
	char *end;
	long cpu;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	if (!read_text(path, text, sizeof(text)))
		return -1;
	cpu = strtol(text, &end, 10);
	return end == text ? -1 : (int)cpu;
}

/* How many of @addresses' pages are on @node (move_pages only asks). */
static size_t pages_on_node(const struct scenario_context *ctx, void **addresses,
			    int *nodes, size_t pages, int node)
{
	size_t on_node = 0;

	if (syscall(SYS_move_pages, 0, pages, addresses, NULL, nodes, 0))
		die(ctx, "move_pages");
	for (size_t i = 0; i < pages; i++)
		on_node += nodes[i] == node;
	return on_node;
}

/* Exits 3 unless there is a node 1 with a CPU and NUMA balancing is on. */
static int numa_hint_cpu(const struct scenario_context *ctx)
{
	int cpu = first_cpu_of_node(1);
	char balancing[16];

	if (cpu < 0) {
		fprintf(stderr, "faultgen: %s: needs a second NUMA node with a CPU (no CPU in node1)\n",
			ctx->name);
		exit(3);
	}
	if (!read_text("/proc/sys/kernel/numa_balancing", balancing, sizeof(balancing)) ||
	    balancing[0] == '0') {
		fprintf(stderr, "faultgen: %s: NUMA balancing is off (sysctl kernel.numa_balancing=1)\n",
			ctx->name);
		exit(3);
	}
	return cpu;
}

/*
 * Bound to node 0 only while the pages are first written: the mapping
 * keeps no policy of its own (an mbind policy would stop the scanner,
 * which skips VMAs whose policy does not allow migrate-on-fault).
 */
static void place_on_node0(const struct scenario_context *ctx, volatile char *mem,
			   size_t pages, int cpu)
{
	unsigned long node0 = 1;
	cpu_set_t on_cpu;

	if (syscall(SYS_set_mempolicy, MPOL_BIND, &node0, 8 * sizeof(node0)))
		die(ctx, "set_mempolicy MPOL_BIND node 0");
	for (size_t i = 0; i < pages; i++)
		mem[i * ctx->page] = 1;
	if (syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0))
		die(ctx, "set_mempolicy MPOL_DEFAULT");
	CPU_ZERO(&on_cpu);
	CPU_SET(cpu, &on_cpu);
	if (sched_setaffinity(0, sizeof(on_cpu), &on_cpu))
		die(ctx, "sched_setaffinity");
}

static void numa_hint(const struct scenario_context *ctx)
{
	int cpu = numa_hint_cpu(ctx);
	size_t pages = (size_t)ctx->n, on_node0;
	volatile char *mem = map_anonymous(ctx, pages);
	void **addresses = malloc(pages * sizeof(*addresses));
	int *nodes = malloc(pages * sizeof(*nodes));
	long hints, migrated, passes = 0;
	struct timespec start;
	struct rusage before;
	char more[160], sink = 0;

	if (!addresses || !nodes)
		die(ctx, "malloc");
	place_on_node0(ctx, mem, pages, cpu);
	for (size_t i = 0; i < pages; i++)
		addresses[i] = (char *)mem + i * ctx->page;
	on_node0 = pages_on_node(ctx, addresses, nodes, pages, 0);
	print_region(mem, pages * ctx->page);
	hints = vmstat_value(ctx, "numa_hint_faults");
	migrated = vmstat_value(ctx, "numa_pages_migrated");
	clock_gettime(CLOCK_MONOTONIC, &start);
	before = usage_now(ctx);
	for (; elapsed_ns(&start) < ctx->touch_ms * 1000000L; passes++)
		for (size_t i = 0; i < pages; i++)
			sink ^= mem[i * ctx->page];
	snprintf(more, sizeof(more),
		 " numa_hint_faults=%ld numa_pages_migrated=%ld passes=%ld node0_before=%zu node1_after=%zu",
		 vmstat_value(ctx, "numa_hint_faults") - hints,
		 vmstat_value(ctx, "numa_pages_migrated") - migrated, passes, on_node0,
		 pages_on_node(ctx, addresses, nodes, pages, 1));
	report_more(ctx, &before, more);
	(void)sink;
	free(addresses);
	free(nodes);
	munmap((void *)mem, pages * ctx->page);
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
	{ "swap_cache", swap_cache },
	{ "anon_thp", anon_thp },
	{ "uffd", uffd },
	{ "mmap_lock", mmap_lock },
	{ "memcg", memcg },
	{ "numa_hint", numa_hint },
	{ "segv_maperr", segv_maperr },
	{ "segv_accerr", segv_accerr },
	{ "sigbus", sigbus },
	{ "children", children },
};

static void usage(void)
{
	fputs("usage: faultgen [--dir DIR] [--start-after-ms MS] [--repeat R] [--pause-ms MS]\n"
	      "                [--threads T] [--linger-ms MS] [--rename NAME]\n"
	      "                [--uffd-sleep-us US] [--cgroup DIR] [--move-to DIR]\n"
	      "                [--touch-ms MS]\n"
	      "                SCENARIO N\n"
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
	const char *move_to;	/* --move-to: the cgroup after the first round */
};

static void run_rounds(const struct rounds *rounds,
		       void (*run)(const struct scenario_context *ctx))
{
	for (long round = 0; round < rounds->repeat; round++) {
		if (round)
			sleep_ms(rounds->pause_ms);
		if (round == 1 && rounds->move_to)
			join_cgroup(&rounds->ctx, rounds->move_to);
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

static void sleep_us(long us)
{
	struct timespec delay = { us / 1000000, us % 1000000 * 1000 };

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

static void join_cgroup(const struct scenario_context *ctx, const char *dir)
{
	char procs[4096];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		die(ctx, procs);
	close(fd);
	printf("cgroup=%s\n", dir);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct scenario_context ctx = { .dir = "/tmp", .usage_of = RUSAGE_SELF,
					.touch_ms = 5000 };
	long start_after_ms = 0, repeat = 1, pause_ms = 0, threads = 0;
	const char *rename_to = NULL, *cgroup = NULL, *move_to = NULL;
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
		else if (!strcmp(argv[arg], "--uffd-sleep-us"))
			ctx.uffd_sleep_us = parse_number(argv[arg + 1], 10000000);
		else if (!strcmp(argv[arg], "--rename"))
			rename_to = argv[arg + 1];
		else if (!strcmp(argv[arg], "--touch-ms"))
			ctx.touch_ms = parse_number(argv[arg + 1], 3600000);
		else if (!strcmp(argv[arg], "--cgroup"))
			cgroup = argv[arg + 1];
		else if (!strcmp(argv[arg], "--move-to"))
			move_to = argv[arg + 1];
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
	if (repeat < 1 || (threads && strcmp(ctx.name, "anon_zero")) ||
	    (move_to && (repeat < 2 || threads)))
		usage();
	sleep_ms(start_after_ms);
	if (rename_to)
		rename_self(&ctx, rename_to);
	if (cgroup)
		join_cgroup(&ctx, cgroup);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (!strcmp(ctx.name, scenarios[i].name)) {
			struct rounds rounds = { ctx, repeat, pause_ms, move_to };

			if (threads)
				anon_zero_threads(&rounds, threads);
			else
				run_rounds(&rounds, scenarios[i].run);
			return 0;
		}
	}
	usage();
}
