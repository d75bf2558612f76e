/*
 * Where the faults are: mappings, files, pages and code, from the stream
 * of fault records. Each table is an array with an open-addressing index
 * beside it, sized for its bound, so a fault costs a few probes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "where.h"

#define NO_ENTRY (-1)
/* User addresses end below this on x86-64; above is the kernel's. */
#define KERNEL_SPACE 0xffff800000000000ULL
/* "file.c:123": longer file names are cut. */
#define SOURCE_MAX 256

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static __u64 hash_text(const char *text, __u64 seed)
{
	__u64 h = 0xcbf29ce484222325ULL ^ seed;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ULL;
	return mix(h);
}

struct index {
	int *slots;
	size_t size;		/* a power of two, twice the table's bound */
};

static int index_init(struct index *index, size_t bound)
{
	index->size = 2 * bound;
	index->slots = malloc(index->size * sizeof(*index->slots));
	if (!index->slots)
		return -1;
	for (size_t i = 0; i < index->size; i++)
		index->slots[i] = NO_ENTRY;
	return 0;
}

/* The slot holding what @same matches, or the empty slot it would take. */
static int *index_slot(const struct index *index, __u64 hash,
		       bool (*same)(const void *table, int entry, const void *key),
		       const void *table, const void *key)
{
	for (size_t i = 0;; i++) {
		int *slot = &index->slots[(hash + i) & (index->size - 1)];

		if (*slot == NO_ENTRY || same(table, *slot, key))
			return slot;
	}
}

/* Each table's own index: kept beside it, in the same order. */
struct where_indexes {
	struct index mappings, files, code;
};

int where_init(struct where_table *where)
{
	struct where_indexes *indexes = calloc(1, sizeof(*indexes));

	memset(where, 0, sizeof(*where));
	where->page_size = (__u64)sysconf(_SC_PAGESIZE);
	where->mappings = calloc(WHERE_MAX_MAPPINGS, sizeof(*where->mappings));
	where->files = calloc(WHERE_MAX_FILES, sizeof(*where->files));
	where->pages = calloc(WHERE_MAX_PAGES, sizeof(*where->pages));
	where->code = calloc(WHERE_MAX_CODE, sizeof(*where->code));
	where->indexes = indexes;
	if (!indexes || !where->mappings || !where->files || !where->pages ||
	    !where->code || index_init(&indexes->mappings, WHERE_MAX_MAPPINGS) ||
	    index_init(&indexes->files, WHERE_MAX_FILES) ||
	    index_init(&indexes->code, WHERE_MAX_CODE)) {
		where_free(where);
		return -1;
	}
	return 0;
}

void where_free(struct where_table *where)
{
	struct where_indexes *indexes = where->indexes;

	for (size_t i = 0; i < where->nr_mappings; i++)
		free(where->mappings[i].path);
	for (size_t i = 0; i < where->nr_files; i++)
		free(where->files[i].path);
	for (size_t i = 0; i < where->nr_code; i++) {
		free(where->code[i].binary);
		free(where->code[i].symbol);
		free(where->code[i].source);
	}
	if (indexes) {
		free(indexes->mappings.slots);
		free(indexes->files.slots);
		free(indexes->code.slots);
		free(indexes);
	}
	free(where->deferred);
	free(where->mappings);
	free(where->files);
	free(where->pages);
	free(where->code);
	memset(where, 0, sizeof(*where));
}

/* A mapping is its process, start and file: the same range remapped to
 * another file is another mapping (inode numbers are reused: the path too). */
struct mapping_key {
	__u32 tgid;
	__u64 start, inode;
	unsigned dev_major, dev_minor;
	const char *path;
};

static bool same_mapping(const void *table, int entry, const void *key)
{
	const struct where_mapping *m = &((const struct where_mapping *)table)[entry];
	const struct mapping_key *k = key;

	return m->tgid == k->tgid && m->start == k->start && m->inode == k->inode &&
	       m->dev_major == k->dev_major && m->dev_minor == k->dev_minor &&
	       !strcmp(m->path, k->path);
}

static struct where_mapping *mapping_entry(struct where_table *where,
					   const struct mapping *found,
					   __u32 tgid, const char *comm)
{
	struct where_indexes *indexes = where->indexes;
	struct mapping_key key = { tgid, found->start, found->inode, found->dev_major,
				   found->dev_minor, found->path };
	int *slot = index_slot(&indexes->mappings,
			       mix(tgid ^ mix(found->start ^ mix(found->inode))),
			       same_mapping, where->mappings, &key);
	struct where_mapping *m;

	if (*slot != NO_ENTRY)
		return &where->mappings[*slot];
	if (where->nr_mappings == WHERE_MAX_MAPPINGS)
		return NULL;
	m = &where->mappings[where->nr_mappings];
	m->path = strdup(found->path);
	if (!m->path)
		return NULL;
	m->tgid = tgid;
	snprintf(m->comm, COMM_LEN, "%s", comm);
	m->start = found->start;
	m->end = found->end;
	m->inode = found->inode;
	m->dev_major = found->dev_major;
	m->dev_minor = found->dev_minor;
	m->kind = found->kind;
	*slot = (int)where->nr_mappings++;
	return m;
}

static bool same_file(const void *table, int entry, const void *key)
{
	return !strcmp(((const struct where_file *)table)[entry].path, key);
}

static struct where_file *file_entry(struct where_table *where, const char *path)
{
	struct where_indexes *indexes = where->indexes;
	int *slot = index_slot(&indexes->files, hash_text(path, 0), same_file,
			       where->files, path);
	struct where_file *f;

	if (*slot != NO_ENTRY)
		return &where->files[*slot];
	if (where->nr_files == WHERE_MAX_FILES)
		return NULL;
	f = &where->files[where->nr_files];
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	f->first_offset = ~0ULL;
	f->heat_shift = 20;	/* 1 MiB ranges to start with */
	*slot = (int)where->nr_files++;
	return f;
}

/* Wider heat ranges until @offset fits; counts merge pairwise. */
static void heat_add(struct where_file *f, __u64 offset)
{
	while ((offset >> f->heat_shift) >= WHERE_HEAT_RANGES) {
		for (int i = 0; i < WHERE_HEAT_RANGES; i++)
			f->heat[i] = i < WHERE_HEAT_RANGES / 2
				     ? f->heat[2 * i] + f->heat[2 * i + 1] : 0;
		f->heat_shift++;
	}
	f->heat[offset >> f->heat_shift]++;
}

static void add_file_fault(struct where_table *where, const struct mapping *found,
			   const struct fault_record *record)
{
	__u64 offset = (record->address - found->start + found->offset) &
		       ~(where->page_size - 1);
	struct where_file *f;

	if (record->fault_class != FAULT_FILE_READ &&
	    record->fault_class != FAULT_FILE_CACHED)
		return;
	f = file_entry(where, found->path);
	if (!f) {
		where->untracked++;
		return;
	}
	if (record->fault_class == FAULT_FILE_CACHED) {
		f->minors++;
		return;
	}
	f->majors++;
	f->major_latency_ns += record->latency_ns;
	if (f->majors > 1 && record->tgid == f->previous_tgid &&
	    offset > f->previous_offset &&
	    offset - f->previous_offset <= WHERE_SEQUENTIAL_WINDOW)
		f->sequential++;
	else if (f->majors > 1)
		f->random++;
	f->previous_offset = offset;
	f->previous_tgid = record->tgid;
	if (offset < f->first_offset)
		f->first_offset = offset;
	if (offset > f->last_offset)
		f->last_offset = offset;
	heat_add(f, offset);
}

/*
 * Pages of one 64 KiB run share a hashed group of 16 neighbouring entries:
 * a process faulting through its memory in order then walks the table in
 * order too, instead of missing the cache on every fault.
 */
#define PAGE_RUN 16

int where_put_page(struct where_table *where, __u32 tgid, __u64 page,
		   const __u32 *count)
{
	__u64 home = mix((page / PAGE_RUN) ^ ((__u64)tgid << 40)) * PAGE_RUN + page % PAGE_RUN;

	for (size_t i = 0; i < WHERE_MAX_PAGES / 2; i++) {
		struct where_page *p = &where->pages[(home + i) & (WHERE_MAX_PAGES - 1)];

		if (!p->tgid) {
			/* Half full at most: probes stay short. */
			if (where->nr_pages >= WHERE_MAX_PAGES / 2)
				return -1;
			p->tgid = tgid;
			p->page = page;
			where->nr_pages++;
		} else if (p->tgid != tgid || p->page != page) {
			continue;
		}
		for (int k = 0; k < WHERE_KINDS; k++)
			p->count[k] += count[k];
		return 0;
	}
	return -1;
}

static void add_page(struct where_table *where, __u32 tgid, __u64 address, int kind)
{
	__u32 count[WHERE_KINDS] = { 0 };

	count[kind] = 1;
	if (where_put_page(where, tgid, address / where->page_size, count))
		where->untracked++;
}

struct code_key {
	const char *binary, *symbol, *source;
	const char *build_id;		/* "" if none; a rebuilt binary differs */
};

static bool same_code(const void *table, int entry, const void *key)
{
	const struct where_code *c = &((const struct where_code *)table)[entry];
	const struct code_key *k = key;

	return !strcmp(c->binary, k->binary) && !strcmp(c->symbol, k->symbol) &&
	       !strcmp(c->source, k->source) && !strcmp(c->build_id, k->build_id);
}

/* The key of a symbolized address; @source holds its line. */
static struct code_key place_key(const char *binary, const struct code_place *place,
				 char *source, size_t source_size)
{
	struct code_key key = { binary, place->function ? place->function : "",
				source, place->binary ? place->binary->build_id : "" };

	code_place_source(place, source, source_size);
	return key;
}

/*
 * The binary, function and source line of a fault's instruction; the
 * line is written into @source, which the key points to. @place gets
 * where it was found (no binary: not in a file).
 */
static struct code_key code_of(struct maps_cache *maps, struct symbolizer *symbols,
			       const struct fault_record *record, char *source,
			       size_t source_size, struct code_place *place)
{
	struct code_key key = { "[unknown]", "", source, "" };
	const struct mapping *found;

	source[0] = '\0';
	memset(place, 0, sizeof(*place));
	if (record->ip >= KERNEL_SPACE) {
		key.binary = "[kernel]";
		return key;
	}
	found = maps_cache_find(maps, (pid_t)record->tgid, record->ip);
	if (!found)
		return key;
	symbolize(symbols, found, record->ip, place);
	return place_key(found->kind == MAPPING_FILE || found->kind == MAPPING_SPECIAL
			 ? found->path : "[anon]", place, source, source_size);
}

/* One fault more for @key's entry, added if new. */
static void count_code(struct where_table *where, const struct code_key *key,
		       enum fault_class fault_class, __u64 latency_ns)
{
	struct where_indexes *indexes = where->indexes;
	struct where_code *c;
	int *slot;

	slot = index_slot(&indexes->code, hash_text(key->binary, hash_text(key->symbol,
			  hash_text(key->source, 1))), same_code, where->code, key);
	if (*slot == NO_ENTRY) {
		if (where->nr_code == WHERE_MAX_CODE) {
			where->untracked++;
			return;
		}
		c = &where->code[where->nr_code];
		c->binary = strdup(key->binary);
		c->symbol = strdup(key->symbol);
		c->source = strdup(key->source);
		snprintf(c->build_id, sizeof(c->build_id), "%s", key->build_id);
		if (!c->binary || !c->symbol || !c->source) {
			free(c->binary);
			free(c->symbol);
			free(c->source);
			c->binary = c->symbol = c->source = NULL;
			where->untracked++;
			return;
		}
		*slot = (int)where->nr_code++;
	}
	c = &where->code[*slot];
	c->count[class_shown_kind(fault_class)]++;
	c->class_count[fault_class]++;
	c->class_latency_ns[fault_class] += latency_ns;
}

/*
 * Faults in a binary whose debug file is on its way wait here, by file
 * offset, to be named once it has come; false when the list is full.
 */
static bool defer_code(struct where_table *where, const struct code_place *place,
		       __u64 file_offset, const struct fault_record *record)
{
	struct deferred_code *grown;

	if (where->nr_deferred == WHERE_MAX_DEFERRED)
		return false;
	if (where->nr_deferred == where->deferred_room) {
		size_t room = where->deferred_room ? 2 * where->deferred_room : 256;

		grown = realloc(where->deferred, room * sizeof(*grown));
		if (!grown)
			return false;
		where->deferred = grown;
		where->deferred_room = room;
	}
	where->deferred[where->nr_deferred++] = (struct deferred_code){
		place->binary, file_offset, record->latency_ns, record->fault_class,
	};
	return true;
}

static void add_code(struct where_table *where, struct maps_cache *maps,
		     struct symbolizer *symbols, const struct fault_record *record)
{
	char source[SOURCE_MAX];
	struct code_place place;
	struct code_key key = code_of(maps, symbols, record, source, sizeof(source), &place);
	const struct mapping *found;

	if (place.binary && place.binary->fetching) {
		found = maps_cache_find(maps, (pid_t)record->tgid, record->ip);
		if (found && defer_code(where, &place, record->ip - found->start + found->offset,
					record))
			return;
	}
	count_code(where, &key, record->fault_class, record->latency_ns);
}

/* The deferred faults named now, or kept if still waiting and not @final. */
static void replay_deferred(struct where_table *where, struct symbolizer *symbols,
			    bool final)
{
	static const struct mapping whole_file = { .kind = MAPPING_FILE };
	struct mapping *file = malloc(sizeof(*file));
	size_t kept = 0;

	if (!file)
		return;
	for (size_t i = 0; i < where->nr_deferred; i++) {
		struct deferred_code *d = &where->deferred[i];
		struct code_place place;
		char source[SOURCE_MAX];
		struct code_key key;

		/* The file mapped whole from offset 0: the offset is the address. */
		*file = whole_file;
		file->inode = d->binary->inode;
		file->dev_major = d->binary->dev_major;
		file->dev_minor = d->binary->dev_minor;
		snprintf(file->path, sizeof(file->path), "%s", d->binary->path);
		symbolize(symbols, file, d->file_offset, &place);
		if (!final && place.binary && place.binary->fetching) {
			where->deferred[kept++] = *d;
			continue;
		}
		key = place_key(d->binary->path, &place, source, sizeof(source));
		count_code(where, &key, d->fault_class, d->latency_ns);
	}
	where->nr_deferred = kept;
	free(file);
}

void where_settle(struct where_table *where, struct symbolizer *symbols, int timeout_ms)
{
	if (where->nr_deferred)
		symbolizer_settle(symbols, timeout_ms);
	replay_deferred(where, symbols, true);
}

void where_add(struct where_table *where, struct maps_cache *maps,
	       struct symbolizer *symbols, const struct fault_record *record,
	       const char *comm)
{
	int kind = class_shown_kind(record->fault_class);
	const struct mapping *found;
	struct where_mapping *m;

	if (record->fault_class >= NR_FAULT_CLASSES)
		return;
	add_page(where, record->tgid, record->address, kind);
	if (where->nr_deferred && symbolizer_fetches_ended(symbols) != where->fetches_seen) {
		where->fetches_seen = symbolizer_fetches_ended(symbols);
		replay_deferred(where, symbols, false);
	}
	add_code(where, maps, symbols, record);
	found = maps_cache_find(maps, (pid_t)record->tgid, record->address);
	if (!found) {
		where->unplaced++;
		return;
	}
	where->placed++;
	m = mapping_entry(where, found, record->tgid, comm);
	if (!m) {
		where->untracked++;
		return;
	}
	m->count[record->fault_class]++;
	m->latency_ns += record->latency_ns;
	if (found->kind == MAPPING_FILE && found->path[0])
		add_file_fault(where, found, record);
}

void where_describe(struct maps_cache *maps, struct symbolizer *symbols,
		    const struct fault_record *record, char *mapping,
		    size_t mapping_size, char *function, size_t function_size,
		    char *source, size_t source_size)
{
	struct code_place place;
	struct code_key code = code_of(maps, symbols, record, source, source_size, &place);
	const struct mapping *found;

	/* Before the next lookup, which may re-read the maps code points into. */
	snprintf(function, function_size, "%s", code.symbol[0] ? code.symbol
		 : code.binary[0] == '[' ? code.binary : "?");
	found = maps_cache_find(maps, (pid_t)record->tgid, record->address);
	if (!found)
		snprintf(mapping, mapping_size, "-");
	else if (found->kind == MAPPING_FILE && found->path[0])
		snprintf(mapping, mapping_size, "%s+0x%llx", found->path,
			 (unsigned long long)(record->address - found->start + found->offset));
	else if (found->path[0])
		snprintf(mapping, mapping_size, "%s", found->path);
	else
		snprintf(mapping, mapping_size, "%s", mapping_kind_name(found->kind));
}

__u64 where_mapping_total(const struct where_mapping *m)
{
	return class_counts_total(m->count);
}

static __u64 page_total(const struct where_page *p)
{
	return (__u64)p->count[0] + p->count[1] + p->count[2];
}

static __u64 code_total(const struct where_code *c)
{
	return c->count[0] + c->count[1] + c->count[2];
}

/* An entry's weight in its list's ranking, and a tie-breaker. */
static void ranking_weight(const struct where_table *where, enum where_list list,
			   size_t i, __u64 *weight, __u64 *second)
{
	*second = 0;
	switch (list) {
	case WHERE_MAPPINGS:
		*weight = where_mapping_total(&where->mappings[i]);
		break;
	case WHERE_FILES:
		*weight = where->files[i].majors;
		*second = where->files[i].minors;
		break;
	case WHERE_PAGES:
		*weight = page_total(&where->pages[i]);
		break;
	case WHERE_CODE:
		*weight = code_total(&where->code[i]);
		break;
	}
}

struct ranking {
	const struct where_table *where;
	enum where_list list;
};

static int heavier_first(const void *a, const void *b, void *context)
{
	const struct ranking *r = context;
	__u64 wa, sa, wb, sb;

	ranking_weight(r->where, r->list, *(const size_t *)a, &wa, &sa);
	ranking_weight(r->where, r->list, *(const size_t *)b, &wb, &sb);
	if (wa != wb)
		return wa < wb ? 1 : -1;
	if (sa != sb)
		return sa < sb ? 1 : -1;
	/* Pages sit where their hash put them: order ties by address. */
	if (r->list == WHERE_PAGES) {
		const struct where_page *pa = &r->where->pages[*(const size_t *)a];
		const struct where_page *pb = &r->where->pages[*(const size_t *)b];

		if (pa->tgid != pb->tgid)
			return pa->tgid < pb->tgid ? -1 : 1;
		return pa->page < pb->page ? -1 : pa->page > pb->page;
	}
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

size_t *where_rank(const struct where_table *where, enum where_list list, size_t *n)
{
	size_t size = list == WHERE_MAPPINGS ? where->nr_mappings
		      : list == WHERE_FILES ? where->nr_files
		      : list == WHERE_CODE ? where->nr_code : WHERE_MAX_PAGES;
	size_t *order = malloc((size ? size : 1) * sizeof(*order));
	struct ranking ranking = { where, list };

	*n = 0;
	if (!order)
		return NULL;
	for (size_t i = 0; i < size; i++)
		if (list != WHERE_PAGES || where->pages[i].tgid)
			order[(*n)++] = i;
	qsort_r(order, *n, sizeof(*order), heavier_first, &ranking);
	return order;
}

__u64 where_mapping_count(const struct where_mapping *m, enum class_kind kind)
{
	return class_counts_of_kind(m->count, kind);
}

void where_heat_text(char *buf, size_t size, const struct where_file *f)
{
	static const char scale[] = " .:-=+*#%@";
	size_t ranges = f->majors ? (size_t)(f->last_offset >> f->heat_shift) + 1 : 0;
	size_t columns = size ? size - 1 : 0;
	__u64 sums[WHERE_HEAT_RANGES] = { 0 }, most = 0;

	if (ranges > WHERE_HEAT_RANGES)
		ranges = WHERE_HEAT_RANGES;
	if (columns > ranges)
		columns = ranges;
	/* Narrower than the map: neighbouring ranges share a column. */
	for (size_t i = 0; i < ranges; i++)
		sums[i * columns / ranges] += f->heat[i];
	for (size_t c = 0; c < columns; c++)
		if (sums[c] > most)
			most = sums[c];
	/* Nine steps of heat, the hottest column '@'; an empty one is blank. */
	for (size_t c = 0; c < columns; c++) {
		double share = (double)sums[c] / (double)most;
		size_t step = sums[c] ? 1 + (size_t)(share * 8.999) : 0;

		buf[c] = scale[step < 9 ? step : 9];
	}
	if (size)
		buf[columns] = '\0';
}
