/* /proc/PID/maps parser: real lines, malformed lines, lookups, the cache. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "proc_maps.h"

static void parses_real_lines(void)
{
	struct mapping m;

	CHECK(!maps_parse_line("55d0c8a00000-55d0c8a21000 r-xp 00002000 fd:01 1318 /usr/bin/my prog\n", &m),
	      "file line refused");
	CHECK(m.start == 0x55d0c8a00000ull && m.end == 0x55d0c8a21000ull &&
	      m.offset == 0x2000 && m.dev_major == 0xfd && m.dev_minor == 1 &&
	      m.inode == 1318 && m.kind == MAPPING_FILE && m.executable &&
	      !m.writable && !m.shared && !strcmp(m.path, "/usr/bin/my prog"),
	      "file line misread: kind %d path '%s'", m.kind, m.path);
	CHECK(!maps_parse_line("01b6d000-01b8e000 rw-p 00000000 00:00 0                                  [heap]", &m) &&
	      m.kind == MAPPING_HEAP, "heap");
	CHECK(!maps_parse_line("7ffd1a2f0000-7ffd1a311000 rw-p 00000000 00:00 0 [stack]\n", &m) &&
	      m.kind == MAPPING_STACK, "stack");
	CHECK(!maps_parse_line("7f2c5a000000-7f2c5a021000 rw-p 00000000 00:00 0 \n", &m) &&
	      m.kind == MAPPING_ANON && !m.path[0], "anonymous");
	CHECK(!maps_parse_line("7f2c5a000000-7f2c5a021000 rw-s 00000000 00:01 42 /dev/zero (deleted)\n", &m) &&
	      m.kind == MAPPING_FILE && m.shared && m.deleted, "shared anonymous");
	CHECK(!maps_parse_line("7ffd1a3f0000-7ffd1a3f2000 r-xp 00000000 00:00 0 [vdso]\n", &m) &&
	      m.kind == MAPPING_SPECIAL, "vdso");
	CHECK(!maps_parse_line("ff5ffffffffff000-ff60000000001000 --xp 00000000 00:00 0 [vsyscall]\n", &m) &&
	      m.end == 0xff60000000001000ull, "5-level-wide addresses");
}

static void rejects_malformed_lines(void)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"1000-0fff r--p 00000000 00:00 0\n",		/* start >= end */
		"1000-1000 r--p 00000000 00:00 0\n",
		"10g0-2000 r--p 00000000 00:00 0\n",		/* bad hex */
		"1000-2000 r--x 00000000 00:00 0\n",		/* perms */
		"1000-2000 r-- 00000000 00:00 0\n",
		"1000-2000 rwxpp 00000000 00:00 0\n",
		"1000-2000 r--p 00000000 0000 0\n",		/* device */
		"1000-2000 r--p 00000000 00:00\n",		/* no inode */
		"1000-2000 r--p 00000000 00:00 12x /x\n",
		"11112222333344445-2000 r--p 00000000 00:00 0\n",	/* too long */
		"1000-2000 r--p 00000000 00:00 0 /a\nextra",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mapping m;

		CHECK(maps_parse_line(bad[i], &m) == -EINVAL, "accepted '%s'", bad[i]);
	}
}

static void finds_addresses_in_a_table(void)
{
	static const char text[] =
		"1000-3000 r--p 00000000 00:00 0 /a\n"
		"5000-6000 rw-p 00000000 00:00 0 [heap]\n"
		"6000-9000 rw-p 00000000 00:00 0\n";
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct maps_table table;
	const struct mapping *m;

	CHECK(in && !maps_table_load(&table, in), "table refused");
	CHECK(table.count == 3, "%zu mappings", table.count);
	CHECK(!maps_table_find(&table, 0xfff), "below the first");
	CHECK((m = maps_table_find(&table, 0x1000)) && !strcmp(m->path, "/a"), "first byte");
	CHECK((m = maps_table_find(&table, 0x2fff)) && !strcmp(m->path, "/a"), "last byte");
	CHECK(!maps_table_find(&table, 0x3000), "one past the end");
	CHECK(!maps_table_find(&table, 0x4000), "gap");
	CHECK((m = maps_table_find(&table, 0x6000)) && m->kind == MAPPING_ANON, "adjacent");
	CHECK(!maps_table_find(&table, 0x9000), "above the last");
	maps_table_free(&table);
	fclose(in);
}

static void malformed_table_leaves_nothing(void)
{
	static const char text[] = "1000-3000 r--p 00000000 00:00 0 /a\nnonsense\n";
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct maps_table table;

	CHECK(in && maps_table_load(&table, in) == -EINVAL, "bad table accepted");
	CHECK(table.count == 0 && !table.mappings, "partial state left");
	fclose(in);
}

static void reads_own_maps(void)
{
	struct maps_table table;
	const struct mapping *m;
	int local = 0;
	void *big = malloc(64 << 20);	/* mmapped by malloc: anonymous */

	CHECK(big != NULL, "malloc");
	CHECK(!maps_table_read_pid(&table, getpid()), "cannot read own maps");
	m = maps_table_find(&table, (__u64)(unsigned long)&local);
	CHECK(m && m->kind == MAPPING_STACK, "stack variable not in [stack]");
	m = maps_table_find(&table, (__u64)(unsigned long)big);
	CHECK(m && m->kind == MAPPING_ANON, "large malloc not anonymous");
	m = maps_table_find(&table, (__u64)(unsigned long)&reads_own_maps);
	CHECK(m && m->kind == MAPPING_FILE && m->executable, "code not in a file mapping");
	maps_table_free(&table);
	free(big);
}

static void vanished_pid_is_enoent(void)
{
	struct maps_table table;
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	CHECK(child > 0 && waitpid(child, NULL, 0) == child, "fork/wait");
	CHECK(maps_table_read_pid(&table, child) == -ENOENT, "reaped pid readable");
}

static void cache_refreshes_on_a_miss(void)
{
	struct maps_cache *cache = malloc(sizeof(*cache));
	int local = 0;
	char *late;

	CHECK(cache != NULL, "malloc");
	if (!cache)
		return;
	maps_cache_init(cache);
	CHECK(maps_cache_find(cache, getpid(), (__u64)(unsigned long)&local),
	      "stack not found");
	late = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(late != MAP_FAILED, "mmap");
	CHECK(maps_cache_find(cache, getpid(), (__u64)(unsigned long)late),
	      "mapping made after the first read not found");
	maps_cache_forget(cache, getpid());
	maps_cache_free(cache);
	free(cache);
	munmap(late, 4096);
}

/* A temporary file of one page, unlinked; its path in @path. */
static int page_file(char *path)
{
	int fd = mkstemp(path);

	if (fd >= 0 && ftruncate(fd, sysconf(_SC_PAGESIZE))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void new_generation_sees_a_remapped_range(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char first[] = "/tmp/pfwatch-maps-a.XXXXXX", second[] = "/tmp/pfwatch-maps-b.XXXXXX";
	int a = page_file(first), b = page_file(second);
	struct maps_cache cache;
	const struct mapping *m;
	char *mem = a < 0 ? MAP_FAILED : mmap(NULL, page, PROT_READ, MAP_SHARED, a, 0);

	CHECK(b >= 0 && mem != MAP_FAILED, "setup");
	if (check.failed)
		return;
	maps_cache_init(&cache);
	m = maps_cache_find(&cache, getpid(), (__u64)mem);
	CHECK(m && !strcmp(m->path, first), "first: %s", m ? m->path : "none");
	/* The same range, now another file. */
	CHECK(mmap(mem, page, PROT_READ, MAP_SHARED | MAP_FIXED, b, 0) == mem, "remap");
	m = maps_cache_find(&cache, getpid(), (__u64)mem);
	CHECK(m && !strcmp(m->path, first), "same generation keeps its table: %s",
	      m ? m->path : "none");
	maps_cache_new_generation(&cache);
	m = maps_cache_find(&cache, getpid(), (__u64)mem);
	CHECK(m && !strcmp(m->path, second), "new generation: %s", m ? m->path : "none");
	maps_cache_free(&cache);
	munmap(mem, page);
	close(a);
	close(b);
	unlink(first);
	unlink(second);
}

int main(void)
{
	check.binary = "test_proc_maps";
	RUN(parses_real_lines);
	RUN(rejects_malformed_lines);
	RUN(finds_addresses_in_a_table);
	RUN(malformed_table_leaves_nothing);
	RUN(reads_own_maps);
	RUN(vanished_pid_is_enoent);
	RUN(cache_refreshes_on_a_miss);
	RUN(new_generation_sees_a_remapped_range);
	return check.failures ? 1 : 0;
}
