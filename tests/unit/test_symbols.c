/*
 * Symbols of real ELF files: tests/unit/fixtures/symbols_fixture runs and
 * prints where its functions lie; nm(1) and readelf(1) say what they are
 * (address, size, build ID), and symbolize() must agree with both, on the
 * binary and on a stripped copy (strip --strip-all, built beside it).
 * Its debug part split off (objcopy --only-keep-debug) names the stripped
 * copy's static functions again, found by build ID or by .gnu_debuglink,
 * with the source lines addr2line(1) reads from the full binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "symbols.h"

#define NR_NAMES 5

/* What the fixture prints, in this order; the last is not a function. */
static const char *const names[NR_NAMES] = {
	"local_square", "global_sum", "global_after_gap", "local_after_gap", "text",
};
enum { LOCAL_SQUARE, GLOBAL_SUM, GLOBAL_AFTER_GAP, LOCAL_AFTER_GAP, RODATA_TEXT };

struct fixture {
	char path[PATH_MAX];
	pid_t pid;
	int hold;			/* its stdin: it lives while this is open */
	__u64 address[NR_NAMES];	/* in its memory */
	__u64 nm_address[NR_NAMES], nm_size[NR_NAMES];	/* in the file, per nm */
	struct maps_table maps;
};

static struct fixture full, stripped, linked;

/* @name beside this test binary: BUILD/tests/fixtures/@name. */
static int fixture_path(char *path, const char *name)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len < 0)
		return -1;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(path, PATH_MAX, "%s/fixtures/%s", self, name) >= PATH_MAX ? -1 : 0;
}

/* "name address" lines, in the order of names[]; 0, or -1. */
static int read_addresses(FILE *lines, __u64 address[NR_NAMES])
{
	unsigned long long value;
	char word[64];

	for (int i = 0; i < NR_NAMES; i++) {
		if (fscanf(lines, "%63s %llx", word, &value) != 2 || strcmp(word, names[i]))
			return -1;
		address[i] = value;
	}
	return 0;
}

/* Starts it and reads its addresses and maps; 0, or -1. */
static int start_fixture(struct fixture *f, const char *name)
{
	int in[2], out[2], err;
	FILE *lines;

	if (fixture_path(f->path, name) || pipe2(in, O_CLOEXEC))
		return -1;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	f->pid = fork();
	if (!f->pid) {
		if (dup2(in[0], 0) == 0 && dup2(out[1], 1) == 1)
			execl(f->path, f->path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->hold = in[1];
	lines = f->pid > 0 ? fdopen(out[0], "r") : NULL;
	if (!lines) {
		close(out[0]);
		return -1;
	}
	err = read_addresses(lines, f->address);
	fclose(lines);
	return err || maps_table_read_pid(&f->maps, f->pid) ? -1 : 0;
}

static void stop_fixture(struct fixture *f)
{
	int status;

	if (f->hold > 0)
		close(f->hold);
	if (f->pid > 0) {
		if (waitpid(f->pid, &status, 0) == f->pid)
			CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
			      "%s exited with %d", f->path, status);
	}
	maps_table_free(&f->maps);
	f->pid = f->hold = 0;
}

/* Function addresses and sizes from `nm -S` of the unstripped file. */
static int read_nm(struct fixture *f)
{
	char command[PATH_MAX + 32], line[512], type, name[256];
	unsigned long long address, size;
	int found = 0;
	FILE *nm;

	snprintf(command, sizeof(command), "nm -S --defined-only '%s'", f->path);
	nm = popen(command, "r");
	if (!nm)
		return -1;
	/* "address size type name"; symbols without a size have no size field. */
	while (fgets(line, sizeof(line), nm))
		for (int i = 0; i < RODATA_TEXT; i++)
			if (sscanf(line, "%llx %llx %c %255s", &address, &size, &type,
				   name) == 4 && !strcmp(name, names[i])) {
				f->nm_address[i] = address;
				f->nm_size[i] = size;
				found++;
			}
	return pclose(nm) == 0 && found == RODATA_TEXT ? 0 : -1;
}

/* The build ID as `readelf -n` prints it; "" if none. */
static void read_build_id(const char *path, char id[41])
{
	char command[PATH_MAX + 32], line[256];
	FILE *readelf;

	id[0] = '\0';
	snprintf(command, sizeof(command), "readelf -n '%s'", path);
	readelf = popen(command, "r");
	if (!readelf)
		return;
	while (fgets(line, sizeof(line), readelf))
		if (sscanf(line, " Build ID: %40s", id) == 1)
			break;
	pclose(readelf);
}

static const char *named(struct symbolizer *symbols, const struct fixture *f, __u64 addr)
{
	const struct mapping *mapping = maps_table_find(&f->maps, addr);

	CHECK(mapping, "%#llx is in no mapping of %s", (unsigned long long)addr, f->path);
	return mapping ? symbolize(symbols, mapping, addr, NULL) : NULL;
}

static bool same(const char *got, const char *want)
{
	return got == want || (got && want && !strcmp(got, want));
}

/* Each function's first byte, middle and last byte name it. */
static void functions_are_named(void)
{
	struct symbolizer symbols;
	__u64 bias;

	CHECK(!start_fixture(&full, "symbols_fixture"), "cannot start %s", full.path);
	CHECK(!read_nm(&full), "nm -S %s: not every function", full.path);
	if (check.failed)
		goto out;
	bias = full.address[GLOBAL_SUM] - full.nm_address[GLOBAL_SUM];
	symbolizer_init(&symbols, NULL);
	for (int i = 0; i < RODATA_TEXT; i++) {
		__u64 start = full.address[i], size = full.nm_size[i];

		/* The fixture and nm agree on where each function lies. */
		CHECK(start - full.nm_address[i] == bias && size > 1, "%s at %#llx, nm %#llx",
		      names[i], (unsigned long long)start,
		      (unsigned long long)full.nm_address[i]);
		CHECK(same(named(&symbols, &full, start), names[i]) &&
		      same(named(&symbols, &full, start + size / 2), names[i]) &&
		      same(named(&symbols, &full, start + size - 1), names[i]),
		      "%s (%#llx, %llu bytes) named %s", names[i], (unsigned long long)start,
		      (unsigned long long)size, named(&symbols, &full, start));
	}
	CHECK(symbols.nr_binaries == 1, "%zu binaries read, want 1 (cached)",
	      symbols.nr_binaries);
	symbolizer_free(&symbols);
out:
	stop_fixture(&full);
}

/* Where section @name starts, per `readelf -S`; 0 if it has none. */
static __u64 section_address(const char *path, const char *name)
{
	char command[PATH_MAX + 32], line[512], section[64];
	unsigned long long address, found = 0;
	FILE *readelf;

	snprintf(command, sizeof(command), "readelf -SW '%s'", path);
	readelf = popen(command, "r");
	if (!readelf)
		return 0;
	while (fgets(line, sizeof(line), readelf))
		if (sscanf(line, " [%*d] %63s %*s %llx", section, &address) == 2 &&
		    !strcmp(section, name))
			found = address;
	pclose(readelf);
	return found;
}

/*
 * Past a function's end, in the aligned gap, in the PLT (after _init,
 * which has no size) and in read-only data (after _fini, the same):
 * nothing.
 */
static void addresses_between_functions_are_not_named(void)
{
	static const char *const where[] = {
		"just past global_sum", "just before global_after_gap", "the PLT",
		"read-only data",
	};
	struct symbolizer symbols;
	__u64 end_of_sum, plt, gap[4];

	CHECK(!start_fixture(&full, "symbols_fixture"), "cannot start %s", full.path);
	CHECK(!read_nm(&full), "nm -S %s: not every function", full.path);
	if (check.failed)
		goto out;
	end_of_sum = full.address[GLOBAL_SUM] + full.nm_size[GLOBAL_SUM];
	CHECK(end_of_sum < full.address[GLOBAL_AFTER_GAP], "no gap after global_sum");
	plt = section_address(full.path, ".plt");
	CHECK(plt, "readelf -S shows no .plt in %s", full.path);
	gap[0] = end_of_sum;
	gap[1] = full.address[GLOBAL_AFTER_GAP] - 1;
	gap[2] = plt - full.nm_address[GLOBAL_SUM] + full.address[GLOBAL_SUM];
	gap[3] = full.address[RODATA_TEXT];
	symbolizer_init(&symbols, NULL);
	for (int i = 0; i < 4; i++) {
		const char *name = named(&symbols, &full, gap[i]);

		CHECK(!name, "%#llx (%s) named %s", (unsigned long long)gap[i], where[i], name);
	}
	symbolizer_free(&symbols);
out:
	stop_fixture(&full);
}

/*
 * strip --strip-all leaves .dynsym: the global functions (exported with
 * -rdynamic) keep their names, the static ones have none; the build ID
 * note stays, the same as the full binary's.
 */
static void stripped_copy_names_only_exports(void)
{
	struct symbolizer symbols;
	struct code_place place = { 0 };
	const struct mapping *mapping;
	char want_id[41];

	CHECK(!start_fixture(&stripped, "symbols_fixture.stripped"), "cannot start %s",
	      stripped.path);
	if (check.failed)
		goto out;
	symbolizer_init(&symbols, NULL);
	CHECK(same(named(&symbols, &stripped, stripped.address[GLOBAL_SUM]), "global_sum") &&
	      same(named(&symbols, &stripped, stripped.address[GLOBAL_AFTER_GAP]),
		   "global_after_gap"), "exported functions not named");
	CHECK(!named(&symbols, &stripped, stripped.address[LOCAL_SQUARE]) &&
	      !named(&symbols, &stripped, stripped.address[LOCAL_AFTER_GAP]),
	      "static functions named in a stripped binary: %s, %s",
	      named(&symbols, &stripped, stripped.address[LOCAL_SQUARE]),
	      named(&symbols, &stripped, stripped.address[LOCAL_AFTER_GAP]));
	mapping = maps_table_find(&stripped.maps, stripped.address[GLOBAL_SUM]);
	if (mapping)
		symbolize(&symbols, mapping, stripped.address[GLOBAL_SUM], &place);
	read_build_id(stripped.path, want_id);
	CHECK(want_id[0], "readelf -n shows no build ID for %s", stripped.path);
	CHECK(place.binary && !strcmp(place.binary->build_id, want_id),
	      "build ID '%s', readelf '%s'",
	      place.binary ? place.binary->build_id : "(no binary)", want_id);
	symbolizer_free(&symbols);
out:
	stop_fixture(&stripped);
}

static int copy_file(const char *from, const char *to)
{
	char command[2 * PATH_MAX + 16];

	snprintf(command, sizeof(command), "cp '%s' '%s'", from, to);
	return system(command) ? -1 : 0;
}

/*
 * The cache holds a binary by device, inode and path: a file replaced
 * under the same path (a new inode) is read again, the old one's answer
 * stays with the old inode.
 */
static void replaced_binary_is_read_again(void)
{
	char dir[] = "/tmp/test_symbols.XXXXXX", path[PATH_MAX], fresh[PATH_MAX];
	struct symbolizer symbols;
	struct mapping old, new;
	const struct mapping *mapping;
	__u64 square;
	struct stat st;

	CHECK(!start_fixture(&full, "symbols_fixture"), "cannot start %s", full.path);
	CHECK(mkdtemp(dir), "mkdtemp");
	if (check.failed)
		goto out;
	square = full.address[LOCAL_SQUARE];
	mapping = maps_table_find(&full.maps, square);
	CHECK(mapping, "local_square in no mapping");
	snprintf(path, sizeof(path), "%s/bin", dir);
	snprintf(fresh, sizeof(fresh), "%s/bin.new", dir);
	CHECK(!copy_file(full.path, path) && !stat(path, &st), "cp to %s", path);
	if (check.failed)
		goto out;
	symbolizer_init(&symbols, NULL);
	/* The running fixture's mapping, as if it had been started from @path. */
	old = *mapping;
	snprintf(old.path, sizeof(old.path), "%s", path);
	old.inode = st.st_ino;
	old.dev_major = major(st.st_dev);
	old.dev_minor = minor(st.st_dev);
	CHECK(same(symbolize(&symbols, &old, square, NULL), "local_square"), "copy");
	/* strip(1) keeps the loaded segments where they were. */
	CHECK(!fixture_path(stripped.path, "symbols_fixture.stripped") &&
	      !copy_file(stripped.path, fresh) && !rename(fresh, path) && !stat(path, &st),
	      "replace %s", path);
	new = old;
	new.inode = st.st_ino;
	CHECK(new.inode != old.inode, "the replacement kept its inode");
	CHECK(!symbolize(&symbols, &new, square, NULL), "the stripped replacement named it");
	CHECK(same(symbolize(&symbols, &old, square, NULL), "local_square"), "old inode");
	CHECK(symbols.nr_binaries == 2, "%zu binaries, want 2", symbols.nr_binaries);
	symbolizer_free(&symbols);
	unlink(path);
	rmdir(dir);
out:
	stop_fixture(&full);
}

/*
 * A mapping whose inode is not the one at its path (a container's root,
 * a file replaced before pfwatch read it) is not read from that path.
 */
static void another_inode_at_the_path_names_nothing(void)
{
	struct symbolizer symbols;
	const struct mapping *mapping;
	struct mapping other;

	CHECK(!start_fixture(&full, "symbols_fixture"), "cannot start %s", full.path);
	mapping = check.failed ? NULL : maps_table_find(&full.maps, full.address[LOCAL_SQUARE]);
	CHECK(mapping, "local_square in no mapping");
	if (check.failed)
		goto out;
	symbolizer_init(&symbols, NULL);
	other = *mapping;
	other.inode++;
	CHECK(!symbolize(&symbols, &other, full.address[LOCAL_SQUARE], NULL),
	      "the file at the path was read for another inode");
	CHECK(same(symbolize(&symbols, mapping, full.address[LOCAL_SQUARE], NULL),
		   "local_square"), "the mapped inode itself not read");
	symbolizer_free(&symbols);
out:
	stop_fixture(&full);
}

/* No file, not ELF, deleted, anonymous: no name, no crash. */
static void unreadable_files_name_nothing(void)
{
	char text[] = "/tmp/test_symbols.txt.XXXXXX";
	struct mapping mapping = {
		.start = 0x1000, .end = 0x2000, .kind = MAPPING_FILE, .readable = true,
		.executable = true,
	};
	struct symbolizer symbols;
	struct code_place place;
	int fd = mkstemp(text);

	CHECK(fd >= 0 && write(fd, "not an ELF file\n", 16) == 16, "mkstemp");
	if (fd >= 0)
		close(fd);
	symbolizer_init(&symbols, NULL);
	snprintf(mapping.path, sizeof(mapping.path), "/nonexistent/pfwatch-test");
	CHECK(!symbolize(&symbols, &mapping, 0x1800, NULL), "a missing file named something");
	snprintf(mapping.path, sizeof(mapping.path), "%s", text);
	CHECK(!symbolize(&symbols, &mapping, 0x1800, NULL), "a text file named something");
	mapping.deleted = true;
	CHECK(!symbolize(&symbols, &mapping, 0x1800, &place) && !place.binary,
	      "a deleted file was read");
	mapping.deleted = false;
	mapping.kind = MAPPING_ANON;
	mapping.path[0] = '\0';
	CHECK(!symbolize(&symbols, &mapping, 0x1800, NULL), "anonymous memory named");
	symbolizer_free(&symbols);
	unlink(text);
}

/* "file.c:123" as addr2line reads it from the full binary at @address. */
static void addr2line_source(const char *path, __u64 address, char *out, size_t size)
{
	char command[PATH_MAX + 64], line[PATH_MAX];
	FILE *tool;
	char *slash;

	out[0] = '\0';
	snprintf(command, sizeof(command), "addr2line -e '%s' %#llx", path,
		 (unsigned long long)address);
	tool = popen(command, "r");
	if (!tool)
		return;
	if (fgets(line, sizeof(line), tool)) {
		line[strcspn(line, " \n")] = '\0';
		slash = strrchr(line, '/');
		snprintf(out, size, "%s", slash ? slash + 1 : line);
	}
	pclose(tool);
}

/* The static functions of @f named, with addr2line's line for each. */
static void statics_named_with_lines(struct symbolizer *symbols, struct fixture *f,
				     const char *how)
{
	static const int statics[] = { LOCAL_SQUARE, LOCAL_AFTER_GAP };

	for (size_t i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		int n = statics[i];
		const struct mapping *mapping = maps_table_find(&f->maps, f->address[n]);
		struct code_place place = { 0 };
		char want[128], got[128];
		const char *name = mapping ? symbolize(symbols, mapping, f->address[n], &place)
				   : NULL;

		addr2line_source(full.path, full.nm_address[n], want, sizeof(want));
		code_place_source(&place, got, sizeof(got));
		CHECK(same(name, names[n]), "%s: %s named %s", how, names[n], name);
		CHECK(want[0] && strstr(want, "symbols_fixture.c:") && !strcmp(got, want),
		      "%s: %s at %s, addr2line says %s", how, names[n], got, want);
	}
}

/* A copy of the debug file at DIR/.build-id/xx/rest.debug; 0 or -1. */
static int install_by_build_id(const char *dir, const char *build_id, char *installed)
{
	char command[3 * PATH_MAX], debug[PATH_MAX];

	if (strlen(build_id) < 3 || fixture_path(debug, "symbols_fixture.debug"))
		return -1;
	snprintf(installed, PATH_MAX, "%s/.build-id/%.2s/%s.debug", dir, build_id,
		 build_id + 2);
	snprintf(command, sizeof(command), "mkdir -p '%s/.build-id/%.2s' && cp '%s' '%s'",
		 dir, build_id, debug, installed);
	return system(command) ? -1 : 0;
}

/* The stripped copy, its debug file under a debug directory by build ID. */
static void debug_file_by_build_id_names_statics(void)
{
	char dir[] = "/tmp/test_symbols.debug.XXXXXX", id[41], installed[PATH_MAX];
	char command[PATH_MAX + 16];
	struct symbolizer symbols;

	CHECK(!start_fixture(&full, "symbols_fixture") && !read_nm(&full), "full fixture");
	CHECK(!start_fixture(&stripped, "symbols_fixture.stripped"), "stripped fixture");
	CHECK(mkdtemp(dir), "mkdtemp");
	read_build_id(stripped.path, id);
	CHECK(!install_by_build_id(dir, id, installed), "cannot install the debug file");
	if (check.failed)
		goto out;
	CHECK(!symbolizer_init(&symbols, dir), "symbolizer_init");
	statics_named_with_lines(&symbols, &stripped, "by build ID");
	symbolizer_free(&symbols);
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CHECK(!system(command), "%s", command);
out:
	stop_fixture(&stripped);
	stop_fixture(&full);
}

/* A stripped copy with .gnu_debuglink: its debug file beside it. */
static void debug_file_by_debuglink_names_statics(void)
{
	struct symbolizer symbols;

	CHECK(!start_fixture(&full, "symbols_fixture") && !read_nm(&full), "full fixture");
	CHECK(!start_fixture(&linked, "symbols_fixture.linked"), "linked fixture");
	if (check.failed)
		goto out;
	/* An empty debug directory: only the link can find the file. */
	CHECK(!symbolizer_init(&symbols, "/nonexistent"), "symbolizer_init");
	statics_named_with_lines(&symbols, &linked, "by debuglink");
	symbolizer_free(&symbols);
out:
	stop_fixture(&linked);
	stop_fixture(&full);
}

int main(void)
{
	check.binary = "test_symbols";
	signal(SIGPIPE, SIG_IGN);
	RUN(functions_are_named);
	RUN(addresses_between_functions_are_not_named);
	RUN(stripped_copy_names_only_exports);
	RUN(replaced_binary_is_read_again);
	RUN(unreadable_files_name_nothing);
	RUN(another_inode_at_the_path_names_nothing);
	RUN(debug_file_by_build_id_names_statics);
	RUN(debug_file_by_debuglink_names_statics);
	return check.failures ? 1 : 0;
}
