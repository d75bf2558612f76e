/* Strict parsing of /proc/PID/maps lines, and a small per-process cache. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "proc_maps.h"

const char *mapping_kind_name(enum mapping_kind kind)
{
	static const char *const names[] = {
		[MAPPING_ANON] = "anon", [MAPPING_HEAP] = "heap",
		[MAPPING_STACK] = "stack", [MAPPING_FILE] = "file",
		[MAPPING_SPECIAL] = "special",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

/* Hex digits up to @stop; advances *text past them. */
static bool parse_hex(const char **text, char stop, __u64 *out)
{
	const char *s = *text;
	__u64 value = 0;
	int digits = 0;

	for (; isxdigit((unsigned char)*s); s++, digits++) {
		if (digits == 16)
			return false;
		value = value << 4 | (__u64)(isdigit((unsigned char)*s) ? *s - '0'
							: (tolower((unsigned char)*s) - 'a' + 10));
	}
	if (!digits || *s != stop)
		return false;
	*out = value;
	*text = s + 1;
	return true;
}

static bool parse_perms(const char *p, struct mapping *m)
{
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's') ||
	    p[4] != ' ')
		return false;
	m->readable = p[0] == 'r';
	m->writable = p[1] == 'w';
	m->executable = p[2] == 'x';
	m->shared = p[3] == 's';
	return true;
}

static void classify(struct mapping *m)
{
	static const char deleted[] = " (deleted)";
	size_t len = strlen(m->path);

	m->deleted = len > sizeof(deleted) - 1 &&
		     !strcmp(m->path + len - (sizeof(deleted) - 1), deleted);
	if (!m->path[0])
		m->kind = MAPPING_ANON;
	else if (!strcmp(m->path, "[heap]"))
		m->kind = MAPPING_HEAP;
	else if (!strncmp(m->path, "[stack", 6))
		m->kind = MAPPING_STACK;
	else if (m->path[0] == '[')
		m->kind = MAPPING_SPECIAL;
	else
		m->kind = MAPPING_FILE;
}

/* start-end perms offset major:minor inode [path] */
int maps_parse_line(const char *line, struct mapping *out)
{
	struct mapping m = { 0 };
	const char *s = line;
	__u64 major, minor;
	char *end;
	size_t len;

	if (!parse_hex(&s, '-', &m.start) || !parse_hex(&s, ' ', &m.end) ||
	    m.start >= m.end || !parse_perms(s, &m))
		return -EINVAL;
	s += 5;
	if (!parse_hex(&s, ' ', &m.offset) || !parse_hex(&s, ':', &major) ||
	    !parse_hex(&s, ' ', &minor) || !isdigit((unsigned char)*s))
		return -EINVAL;
	m.dev_major = (unsigned)major;
	m.dev_minor = (unsigned)minor;
	errno = 0;
	m.inode = strtoull(s, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	for (s = end; *s == ' '; s++)
		;
	len = strcspn(s, "\n");
	if (len >= sizeof(m.path) || s[len + (s[len] == '\n')] != '\0')
		return -EINVAL;
	memcpy(m.path, s, len);
	m.path[len] = '\0';
	classify(&m);
	*out = m;
	return 0;
}

int maps_table_load(struct maps_table *table, FILE *in)
{
	struct maps_table loaded = { 0 };
	size_t capacity = 0, line_size = 0;
	char *line = NULL;
	int err = 0;

	while (getline(&line, &line_size, in) > 0) {
		if (loaded.count == capacity) {
			void *grown;

			capacity = capacity ? capacity * 2 : 64;
			grown = realloc(loaded.mappings, capacity * sizeof(*loaded.mappings));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			loaded.mappings = grown;
		}
		err = maps_parse_line(line, &loaded.mappings[loaded.count]);
		/* The kernel lists mappings in order, apart: searches rely on it. */
		if (!err && loaded.count &&
		    loaded.mappings[loaded.count].start < loaded.mappings[loaded.count - 1].end)
			err = -EINVAL;
		if (err)
			break;
		loaded.count++;
	}
	if (!err && ferror(in))
		err = -EIO;
	free(line);
	if (err) {
		maps_table_free(&loaded);
		loaded.count = 0;
	}
	*table = loaded;
	return err;
}

int maps_table_read_pid(struct maps_table *table, pid_t pid)
{
	char path[32];
	FILE *in;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	in = fopen(path, "re");
	if (!in) {
		table->mappings = NULL;
		table->count = 0;
		return -errno;
	}
	err = maps_table_load(table, in);
	fclose(in);
	return err;
}

const struct mapping *maps_table_find(const struct maps_table *table, __u64 addr)
{
	size_t low = 0, high = table->count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		const struct mapping *m = &table->mappings[mid];

		if (addr < m->start)
			high = mid;
		else if (addr >= m->end)
			low = mid + 1;
		else
			return m;
	}
	return NULL;
}

void maps_table_free(struct maps_table *table)
{
	free(table->mappings);
	table->mappings = NULL;
	table->count = 0;
}

void maps_cache_init(struct maps_cache *cache)
{
	memset(cache, 0, sizeof(*cache));
}

/* The process's entry, or the least recently used one, emptied for it. */
static struct maps_cache_entry *cache_entry(struct maps_cache *cache, pid_t pid,
					    bool *fresh)
{
	struct maps_cache_entry *victim = &cache->entries[0];

	for (size_t i = 0; i < MAPS_CACHE_PROCESSES; i++) {
		struct maps_cache_entry *e = &cache->entries[i];

		if (e->pid == pid) {
			*fresh = false;
			return e;
		}
		if (e->last_used < victim->last_used)
			victim = e;
	}
	maps_table_free(&victim->table);
	victim->pid = pid;
	*fresh = true;
	return victim;
}

const struct mapping *maps_cache_find(struct maps_cache *cache, pid_t pid,
				      __u64 addr)
{
	const struct mapping *found = NULL;
	struct maps_cache_entry *entry;
	bool fresh;

	if (pid <= 0)
		return NULL;
	entry = cache_entry(cache, pid, &fresh);
	entry->last_used = ++cache->clock;
	/* Read before this generation: a range may hold another file now. */
	if (!fresh && entry->generation == cache->generation)
		found = maps_table_find(&entry->table, addr);
	if (found)
		return found;
	/* A miss: the process may have mapped something since. */
	maps_table_free(&entry->table);
	entry->generation = cache->generation;
	if (maps_table_read_pid(&entry->table, pid)) {
		entry->pid = 0;
		return NULL;
	}
	return maps_table_find(&entry->table, addr);
}

void maps_cache_new_generation(struct maps_cache *cache)
{
	cache->generation++;
}

void maps_cache_forget(struct maps_cache *cache, pid_t pid)
{
	for (size_t i = 0; i < MAPS_CACHE_PROCESSES; i++) {
		if (cache->entries[i].pid == pid) {
			maps_table_free(&cache->entries[i].table);
			cache->entries[i].pid = 0;
		}
	}
}

void maps_cache_free(struct maps_cache *cache)
{
	for (size_t i = 0; i < MAPS_CACHE_PROCESSES; i++)
		maps_table_free(&cache->entries[i].table);
}
