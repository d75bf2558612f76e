/* The table of cgroup ids and their paths. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroup_names.h"

void cgroup_names_init(struct cgroup_names *names)
{
	memset(names, 0, sizeof(*names));
}

void cgroup_names_free(struct cgroup_names *names)
{
	free(names->entries);
	cgroup_names_init(names);
}

const struct cgroup_name *cgroup_names_find(const struct cgroup_names *names,
					    __u64 id)
{
	for (size_t i = 0; i < names->nr; i++)
		if (names->entries[i].id == id)
			return &names->entries[i];
	return NULL;
}

int cgroup_names_add(struct cgroup_names *names, __u64 id, const char *path)
{
	struct cgroup_name *entry = (struct cgroup_name *)cgroup_names_find(names, id);

	if (!entry) {
		if (names->nr == names->capacity) {
			size_t capacity = names->capacity ? names->capacity * 2 : 16;
			struct cgroup_name *grown = realloc(names->entries,
							    capacity * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			names->entries = grown;
			names->capacity = capacity;
		}
		entry = &names->entries[names->nr++];
		entry->id = id;
	}
	snprintf(entry->path, sizeof(entry->path), "%s", path);
	cgroup_short_name(entry->path, entry->name, sizeof(entry->name));
	return 0;
}

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape(char *s)
{
	char *to = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*to++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*to++ = *s;
		}
	}
	*to = '\0';
}

static bool has_option(const char *options, const char *wanted)
{
	size_t n = strlen(wanted);

	for (const char *at = options; at; at = strchr(at, ',')) {
		at += *at == ',';
		if (!strncmp(at, wanted, n) && (at[n] == ',' || at[n] == '\0'))
			return true;
	}
	return false;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNT OPTS [TAGS] - TYPE SOURCE SUPER". */
static bool parse_mount(char *line, struct cgroup_hierarchy *out, bool *memory)
{
	char *fields[5], *save = NULL, *dash = strstr(line, " - "), *type, *super;
	int n = 0;

	if (!dash)
		return false;
	*dash = '\0';
	for (char *f = strtok_r(line, " ", &save); f && n < 5; f = strtok_r(NULL, " ", &save))
		fields[n++] = f;
	type = strtok_r(dash + 3, " ", &save);
	(void)strtok_r(NULL, " ", &save);	/* the source */
	super = strtok_r(NULL, " \n", &save);
	if (n < 5 || !type)
		return false;
	out->v2 = !strcmp(type, "cgroup2");
	*memory = !strcmp(type, "cgroup") && super && has_option(super, "memory");
	unescape(fields[3]);
	unescape(fields[4]);
	snprintf(out->root, sizeof(out->root), "%s", fields[3]);
	snprintf(out->mount, sizeof(out->mount), "%s", fields[4]);
	return out->v2 || *memory;
}

int cgroup_hierarchy_find(FILE *mountinfo, struct cgroup_hierarchy *out)
{
	struct cgroup_hierarchy seen;
	char line[4096];
	bool memory, found = false;

	while (fgets(line, sizeof(line), mountinfo)) {
		if (!parse_mount(line, &seen, &memory))
			continue;
		/* v2 wins; else the first memory controller's mount. */
		if (seen.v2 || !found)
			*out = seen;
		found = true;
		if (seen.v2)
			return 0;
	}
	return found ? 0 : -ENOENT;
}

/* Depth first under @path (@len of it in use) for the directory @id. */
static bool walk_for(char *path, size_t len, size_t size, __u64 id)
{
	DIR *dir = opendir(path);
	struct dirent *entry;
	bool found = false;

	if (!dir)
		return false;
	while (!found && (entry = readdir(dir))) {
		int n;

		if (entry->d_type != DT_DIR || !strcmp(entry->d_name, ".") ||
		    !strcmp(entry->d_name, ".."))
			continue;
		n = snprintf(path + len, size - len, "/%s", entry->d_name);
		if (n < 0 || (size_t)n >= size - len)
			continue;
		/* cgroupfs gives a directory's inode in the entry itself. */
		found = entry->d_ino == id || walk_for(path, len + (size_t)n, size, id);
	}
	closedir(dir);
	if (!found)
		path[len] = '\0';
	return found;
}

/* @id's path in the hierarchy, or false when no directory has it. */
static bool path_of(const struct cgroup_hierarchy *hierarchy, __u64 id,
		    char *path, size_t size)
{
	char found[PATH_MAX];
	size_t mount_len = strlen(hierarchy->mount);
	const char *below;
	struct stat st;

	if (stat(hierarchy->mount, &st))
		return false;
	snprintf(found, sizeof(found), "%s", hierarchy->mount);
	if (st.st_ino != id && !walk_for(found, mount_len, sizeof(found), id))
		return false;
	below = found + mount_len;
	if (strcmp(hierarchy->root, "/"))
		snprintf(path, size, "%s%s", hierarchy->root, below);
	else
		snprintf(path, size, "%s", *below ? below : "/");
	return true;
}

int cgroup_names_learn(struct cgroup_names *names,
		       const struct cgroup_hierarchy *hierarchy, __u64 id)
{
	char path[CGROUP_PATH_LEN];

	if (cgroup_names_find(names, id))
		return 0;
	if (!hierarchy || !path_of(hierarchy, id, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", CGROUP_UNKNOWN_PATH);
	return cgroup_names_add(names, id, path);
}

/* Digits of a container ID shown, as docker ps shows them. */
#define SHORT_ID_LEN 12

/* @s starts with @prefix: what follows it, else NULL. */
static const char *after(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncmp(s, prefix, n) ? s + n : NULL;
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * A container's cgroup: "docker-ID.scope", "cri-containerd-ID.scope",
 * "crio-ID.scope", "libpod-ID.scope" (systemd's driver), or the bare
 * 64-digit ID (cgroupfs's). The runtime's name, and @id its first digits.
 */
static const char *container_of(const char *component, size_t len, const char **id)
{
	static const struct { const char *prefix, *runtime; } scopes[] = {
		{ "docker-", "docker" }, { "cri-containerd-", "containerd" },
		{ "crio-", "crio" }, { "libpod-", "podman" },
	};
	size_t scope = strlen(".scope");

	if (len == 64 && all_hex(component, len)) {
		*id = component;
		return "";
	}
	if (len <= scope || strncmp(component + len - scope, ".scope", scope))
		return NULL;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		const char *rest = after(component, len, scopes[i].prefix);
		size_t digits = rest ? (size_t)(component + len - scope - rest) : 0;

		if (digits >= SHORT_ID_LEN && all_hex(rest, digits)) {
			*id = rest;
			return scopes[i].runtime;
		}
	}
	return NULL;
}

/*
 * A Kubernetes pod's cgroup: "podUID" (cgroupfs) or
 * "kubepods-QOS-podUID.slice" (systemd, the UID's dashes made
 * underscores). Its UID, dashes restored, into @uid.
 */
static bool pod_of(const char *component, size_t len, char *uid, size_t size)
{
	const char *at = after(component, len, "pod"), *end = component + len;

	if (!at && after(component, len, "kubepods") && len > strlen(".slice") &&
	    !strncmp(end - strlen(".slice"), ".slice", strlen(".slice"))) {
		end -= strlen(".slice");
		for (const char *c = component; c + 4 <= end; c++)
			if (!strncmp(c, "-pod", 4))
				at = c + 4;
	}
	if (!at || end - at < 32 || (size_t)(end - at) >= size)
		return false;
	for (size_t i = 0; at + i < end; i++)
		uid[i] = at[i] == '_' ? '-' : at[i];
	uid[end - at] = '\0';
	return true;
}

/* Under "user-UID.slice": the user's ID, else 0 (not a user's). */
static unsigned long user_of(const char *component, size_t len)
{
	const char *at = after(component, len, "user-");
	char *end;
	unsigned long uid;

	if (!at)
		return 0;
	uid = strtoul(at, &end, 10);
	return end != at && !strncmp(end, ".slice", strlen(".slice")) ? uid : 0;
}

/* The component before @last in @path ("" at the top). */
static const char *parent(const char *path, const char *last)
{
	const char *start = last > path ? last - 1 : path;

	while (start > path && start[-1] != '/')
		start--;
	return start;
}

static int parent_len(const char *path, const char *last)
{
	const char *start = parent(path, last);

	return last - start > 1 ? (int)(last - start - 1) : 0;
}

void cgroup_short_name(const char *path, char *out, size_t size)
{
	const char *last = strrchr(path, '/'), *id, *runtime;
	char pod[64] = "";
	unsigned long uid = 0;
	size_t len;

	last = last && last[1] ? last + 1 : path;
	len = strlen(last);
	if (!strcmp(path, "/")) {
		snprintf(out, size, "/");
		return;
	}
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");

		if (!pod[0] && n)
			pod_of(c, n, pod, sizeof(pod));
		if (!uid && n)
			uid = user_of(c, n);
		c += n + (c[n] == '/');
	}
	runtime = container_of(last, len, &id);
	if (runtime && pod[0])
		snprintf(out, size, "pod %s / %.*s", pod, SHORT_ID_LEN, id);
	else if (runtime && runtime[0])
		snprintf(out, size, "%s %.*s", runtime, SHORT_ID_LEN, id);
	else if (runtime)	/* cgroupfs's "/docker/ID": the parent names it */
		snprintf(out, size, "%.*s %.*s", parent_len(path, last), parent(path, last),
			 SHORT_ID_LEN, id);
	else if (pod_of(last, len, pod, sizeof(pod)))
		snprintf(out, size, "pod %s", pod);
	else if (uid && !strncmp(last, "session-", 8) && len > 14 &&
		 !strcmp(last + len - 6, ".scope"))
		snprintf(out, size, "user %lu session %.*s", uid, (int)(len - 14), last + 8);
	else if (uid && !user_of(last, len))
		snprintf(out, size, "user %lu %s", uid, last);
	else
		snprintf(out, size, "%s", last);
}
