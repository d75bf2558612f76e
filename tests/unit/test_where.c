/*
 * --where's tables, fed with fault records of this very process: its own
 * mappings, a file of its own and its own functions are the oracle.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "where.h"

#define PAGES 64
#define FILE_PAGES 256	/* 1 MiB with 4 KiB pages */

static struct fault_record record_at(__u64 address, __u64 ip, __u32 fault_class)
{
	return (struct fault_record){
		.header.type = EVENT_FAULT, .fault_class = (__u16)fault_class,
		.tgid = (__u32)getpid(), .tid = (__u32)getpid(),
		.latency_ns = 1000, .address = address, .ip = ip,
	};
}

/* A function of this binary, as a faulting instruction's place. */
__attribute__((noinline)) static void toucher(void)
{
	__asm__ volatile("" ::: "memory");
}

struct setup {
	struct where_table where;
	struct maps_cache maps;
	struct symbolizer symbols;
};

static bool open_setup(struct setup *s)
{
	maps_cache_init(&s->maps);
	symbolizer_init(&s->symbols, NULL);
	return where_init(&s->where) == 0;
}

static void close_setup(struct setup *s)
{
	where_free(&s->where);
	maps_cache_free(&s->maps);
	symbolizer_free(&s->symbols);
}

static void anonymous_mapping_counted_exactly(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct setup s;
	size_t n, *order;

	CHECK(mem != MAP_FAILED && open_setup(&s), "setup");
	if (check.failed)
		return;
	for (int i = 0; i < PAGES; i++) {
		struct fault_record r = record_at((__u64)(mem + i * page),
						  (__u64)toucher, FAULT_ANON_ZERO);

		where_add(&s.where, &s.maps, &s.symbols, &r, "test");
	}
	order = where_rank(&s.where, WHERE_MAPPINGS, &n);
	CHECK(order && n == 1, "%zu mappings", n);
	if (order && n) {
		const struct where_mapping *m = &s.where.mappings[order[0]];

		CHECK(m->start <= (__u64)mem && (__u64)mem < m->end, "mapping %llx-%llx",
		      (unsigned long long)m->start, (unsigned long long)m->end);
		CHECK(m->count[FAULT_ANON_ZERO] == PAGES && where_mapping_total(m) == PAGES,
		      "anon_zero %llu", (unsigned long long)m->count[FAULT_ANON_ZERO]);
		CHECK(m->latency_ns == PAGES * 1000, "latency %llu",
		      (unsigned long long)m->latency_ns);
	}
	free(order);
	order = where_rank(&s.where, WHERE_PAGES, &n);
	CHECK(s.where.nr_pages == PAGES && order && n == PAGES &&
	      s.where.pages[order[0]].tgid == (__u32)getpid() &&
	      s.where.pages[order[0]].count[0] == 1,
	      "%zu pages, %zu ranked", s.where.nr_pages, n);
	free(order);
	order = where_rank(&s.where, WHERE_CODE, &n);
	CHECK(order && n == 1 && !strcmp(s.where.code[order[0]].symbol, "toucher") &&
	      s.where.code[order[0]].count[0] == PAGES,
	      "code: %zu, '%s'", n, order && n ? s.where.code[order[0]].symbol : "");
	free(order);
	CHECK(s.where.placed == PAGES && !s.where.unplaced && !s.where.untracked,
	      "placed %llu unplaced %llu", (unsigned long long)s.where.placed,
	      (unsigned long long)s.where.unplaced);
	close_setup(&s);
	munmap(mem, PAGES * page);
}

static void file_offsets_heat_and_order(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[] = "/tmp/pfwatch-test-where.XXXXXX";
	int fd = mkstemp(path);
	struct setup s;
	char *mem = MAP_FAILED, heat[65];
	/* Offsets in pages: a forward run, far ahead, back, far ahead again. */
	static const int touched[] = { 0, 1, 2, 3, 200, 10, 11, 250 };
	const size_t nr = sizeof(touched) / sizeof(touched[0]);

	if (fd >= 0 && !ftruncate(fd, FILE_PAGES * page))
		mem = mmap(NULL, FILE_PAGES * page, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(mem != MAP_FAILED && open_setup(&s), "setup");
	if (check.failed)
		return;
	for (size_t i = 0; i < nr; i++) {
		struct fault_record r = record_at((__u64)(mem + touched[i] * page + 7),
						  (__u64)toucher, FAULT_FILE_READ);

		where_add(&s.where, &s.maps, &s.symbols, &r, "test");
	}
	CHECK(s.where.nr_files == 1, "%zu files", s.where.nr_files);
	if (s.where.nr_files == 1) {
		const struct where_file *f = &s.where.files[0];

		CHECK(!strcmp(f->path, path), "path %s", f->path);
		CHECK(f->majors == nr && f->first_offset == 0 &&
		      f->last_offset == 250 * (__u64)page, "majors %llu, offsets %llu..%llu",
		      (unsigned long long)f->majors, (unsigned long long)f->first_offset,
		      (unsigned long long)f->last_offset);
		/* 1, 2, 3 and 11 follow their predecessor within the window;
		 * 200, 10 (backwards) and 250 do not. */
		CHECK(f->sequential == 4 && f->random == 3, "sequential %llu random %llu",
		      (unsigned long long)f->sequential, (unsigned long long)f->random);
		where_heat_text(heat, sizeof(heat), f);
		CHECK(!strcmp(heat, "@"), "heat '%s' (1 MiB fits one range)", heat);
	}
	close_setup(&s);
	munmap(mem, FILE_PAGES * page);
	close(fd);
	unlink(path);
}

static void heat_ranges_widen_and_scale(void)
{
	struct where_file f = { .majors = 3, .heat_shift = 20, .last_offset = 0 };
	char heat[65], narrow[5];

	/* 3 MiB of ranges: hottest '@', a ninth '.', none ' '. */
	f.heat[0] = 9;
	f.heat[2] = 1;
	f.last_offset = 2ULL << 20;
	where_heat_text(heat, sizeof(heat), &f);
	CHECK(!strcmp(heat, "@ ."), "heat '%s'", heat);
	/* 64 ranges into 4 columns: 16 ranges each. */
	memset(f.heat, 0, sizeof(f.heat));
	f.heat[0] = 4;
	f.heat[63] = 4;
	f.last_offset = 63ULL << 20;
	where_heat_text(narrow, sizeof(narrow), &f);
	CHECK(!strcmp(narrow, "@  @"), "narrow heat '%s'", narrow);
}

static void pages_bounded(void)
{
	struct where_table where;
	__u32 one[WHERE_KINDS] = { 1, 0, 0 };
	size_t refused = 0;

	CHECK(!where_init(&where), "where_init");
	if (check.failed)
		return;
	for (__u64 page = 0; page < WHERE_MAX_PAGES; page++)
		refused += where_put_page(&where, 1, page, one) != 0;
	CHECK(where.nr_pages == WHERE_MAX_PAGES / 2 && refused == WHERE_MAX_PAGES / 2,
	      "%zu pages kept, %zu refused", where.nr_pages, refused);
	CHECK(!where_put_page(&where, 1, 5, one), "a known page still counts");
	where_free(&where);
}

int main(void)
{
	check.binary = "test_where";
	RUN(anonymous_mapping_counted_exactly);
	RUN(file_offsets_heat_and_order);
	RUN(heat_ranges_widen_and_scale);
	RUN(pages_bounded);
	return check.failures ? 1 : 0;
}
