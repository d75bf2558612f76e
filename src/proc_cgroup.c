/* /proc/PID/cgroup and memory cgroup limits, for the memcg_reclaim hint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_cgroup.h"

/* v1 writes "no limit" as the page counter's maximum, about 2^63. */
#define UNLIMITED_FROM (1ULL << 62)

static bool lists_memory(const char *controllers, size_t len)
{
	for (const char *at = controllers; at < controllers + len;) {
		const char *comma = memchr(at, ',', (size_t)(controllers + len - at));
		size_t word = comma ? (size_t)(comma - at) : (size_t)(controllers + len - at);

		if (word == 6 && !strncmp(at, "memory", 6))
			return true;
		at += word + 1;
	}
	return false;
}

int cgroup_memory_path(FILE *in, char *path, size_t size, bool *v2)
{
	char line[CGROUP_PATH_LEN + 64], unified[CGROUP_PATH_LEN] = "";

	while (fgets(line, sizeof(line), in)) {
		char *first = strchr(line, ':');
		char *second = first ? strchr(first + 1, ':') : NULL;

		if (!second)
			continue;
		second[1 + strcspn(second + 1, "\n")] = '\0';
		if (lists_memory(first + 1, (size_t)(second - first - 1))) {
			snprintf(path, size, "%s", second + 1);
			*v2 = false;
			return 0;
		}
		if (second == first + 1 && !strncmp(line, "0:", 2))
			snprintf(unified, sizeof(unified), "%s", second + 1);
	}
	if (!unified[0])
		return -ENOENT;
	snprintf(path, size, "%s", unified);
	*v2 = true;
	return 0;
}

/* The limit in one cgroup directory; false when it has none. */
static bool read_limit(const char *dir, bool v2, __u64 *bytes)
{
	char file[CGROUP_PATH_LEN * 2 + 32], text[32] = "";
	FILE *in;

	snprintf(file, sizeof(file), "%s/%s", dir,
		 v2 ? "memory.max" : "memory.limit_in_bytes");
	in = fopen(file, "re");
	if (!in)
		return false;
	if (!fgets(text, sizeof(text), in))
		text[0] = '\0';
	fclose(in);
	if (text[0] < '0' || text[0] > '9')	/* "max", or unreadable */
		return false;
	*bytes = strtoull(text, NULL, 10);
	return *bytes < UNLIMITED_FROM;
}

/* The lowest limit from @out->path up to the hierarchy's root. */
static void find_limit(const char *root, struct cgroup_memory *out)
{
	char dir[CGROUP_PATH_LEN * 2], walk[CGROUP_PATH_LEN];
	__u64 bytes;

	snprintf(walk, sizeof(walk), "%s", out->path);
	for (;;) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s%s%s", root, out->v2 ? "" : "/memory",
			 walk);
		if (read_limit(dir, out->v2, &bytes) &&
		    (!out->limited[0] || bytes < out->limit_bytes)) {
			out->limit_bytes = bytes;
			snprintf(out->limited, sizeof(out->limited), "%s",
				 walk[0] ? walk : "/");
		}
		slash = strrchr(walk, '/');
		if (!slash || !walk[0] || !strcmp(walk, "/"))
			break;
		*slash = '\0';	/* "/a/b" -> "/a" -> "" (the root) */
	}
}

int cgroup_memory_read(const char *root, pid_t pid, struct cgroup_memory *out)
{
	char file[32];
	FILE *in;
	int err;

	memset(out, 0, sizeof(*out));
	out->tgid = (__u32)pid;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	in = fopen(file, "re");
	if (!in)
		return -errno;
	err = cgroup_memory_path(in, out->path, sizeof(out->path), &out->v2);
	fclose(in);
	if (!err)
		find_limit(root, out);
	return err;
}

const struct cgroup_memory *cgroup_table_find(const struct cgroup_table *table,
					      __u32 tgid)
{
	for (size_t i = 0; table && i < table->nr; i++)
		if (table->entries[i].tgid == tgid)
			return &table->entries[i];
	return NULL;
}
