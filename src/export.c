/* Export files: format by name or extension, optional gzip, atomic write. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "export.h"
#include "export_html.h"
#include "export_json.h"

static const char *const format_names[] = {
	[FORMAT_AUTO] = "auto", [FORMAT_JSON] = "json", [FORMAT_CSV] = "csv",
	[FORMAT_PROM] = "prom", [FORMAT_FOLDED] = "folded", [FORMAT_PPROF] = "pprof",
	[FORMAT_HTML] = "html",
};

enum export_format export_format_named(const char *name)
{
	for (int f = FORMAT_JSON; f <= FORMAT_HTML; f++)
		if (!strcmp(name, format_names[f]))
			return (enum export_format)f;
	return FORMAT_AUTO;
}

const char *export_format_name(enum export_format format)
{
	return format_names[format];
}

static bool ends_with(const char *text, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(text + len - n, suffix, n);
}

struct export_target export_target_for(const char *path, enum export_format format)
{
	static const struct {
		const char *extension;
		enum export_format format;
	} extensions[] = {
		{ ".json", FORMAT_JSON }, { ".csv", FORMAT_CSV },
		{ ".prom", FORMAT_PROM }, { ".folded", FORMAT_FOLDED },
		{ ".pb", FORMAT_PPROF },
		{ ".html", FORMAT_HTML },
	};
	struct export_target target = { .path = path, .format = format };
	size_t len = strlen(path);

	target.gzip = ends_with(path, len, ".gz");
	if (target.gzip)
		len -= 3;
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]) &&
			   target.format == FORMAT_AUTO; i++)
		if (ends_with(path, len, extensions[i].extension))
			target.format = extensions[i].format;
	if (target.format == FORMAT_AUTO)
		target.format = FORMAT_JSON;
	if (target.format == FORMAT_PPROF)
		target.gzip = true;
	return target;
}

static int write_format(FILE *out, const struct export_target *target,
			const struct aggregate *agg, const struct run_info *run)
{
	switch (target->format) {
	case FORMAT_CSV: return export_csv(out, agg, run);
	case FORMAT_PROM: return export_prom(out, agg, run, false);
	case FORMAT_FOLDED: return export_folded(out, agg, run);
	case FORMAT_PPROF: return export_pprof(out, agg, run);
	case FORMAT_HTML: return export_html(out, agg, run, run->timeline);
	default: return export_json(out, agg, run);
	}
}

/* @size bytes to @fd, compressed when asked; 0 or -1 with errno set. */
static int write_bytes(int fd, const char *bytes, size_t size, bool gzip)
{
	gzFile gz;
	int copy;

	if (!gzip) {
		while (size) {
			ssize_t put = write(fd, bytes, size);

			if (put < 0 && errno == EINTR)
				continue;
			if (put < 0)
				return -1;
			bytes += put;
			size -= (size_t)put;
		}
		return 0;
	}
	copy = dup(fd);	/* gzclose closes it; the caller closes fd */
	if (copy < 0)
		return -1;
	gz = gzdopen(copy, "wb");
	if (!gz) {
		close(copy);
		errno = ENOMEM;
		return -1;
	}
	if (size && gzwrite(gz, bytes, (unsigned)size) != (int)size) {
		gzclose(gz);
		errno = EIO;
		return -1;
	}
	if (gzclose(gz) != Z_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int export_file(const struct export_target *target, const struct aggregate *agg,
		const struct run_info *run)
{
	size_t len = strlen(target->path) + sizeof(".XXXXXX"), size = 0;
	char *temp = malloc(len), *bytes = NULL;
	FILE *memory = open_memstream(&bytes, &size);
	int fd, err;

	if (!temp || !memory) {
		errno = ENOMEM;
		goto fail;
	}
	/* Into memory first: the file is then written in one go. */
	err = write_format(memory, target, agg, run);
	if (fclose(memory) || err) {
		memory = NULL;
		errno = EIO;
		goto fail;
	}
	memory = NULL;
	snprintf(temp, len, "%s.XXXXXX", target->path);
	fd = mkstemp(temp);	/* O_EXCL: never a file someone planted */
	if (fd < 0)
		goto fail;
	if (fchmod(fd, 0644) || write_bytes(fd, bytes, size, target->gzip) ||
	    fsync(fd)) {
		err = errno;
		close(fd);
		unlink(temp);
		errno = err;
		goto fail;
	}
	if (close(fd) || rename(temp, target->path)) {
		err = errno;
		unlink(temp);
		errno = err;
		goto fail;
	}
	free(bytes);
	free(temp);
	/* The document was built in memory, megabytes for a busy host: its
	 * pages go back at once, or each rewrite keeps the largest so far. */
	malloc_trim(0);
	return 0;
fail:
	fprintf(stderr, "pfwatch: cannot write %s: %s\n", target->path,
		strerror(errno ? errno : EIO));
	if (memory)
		fclose(memory);
	free(bytes);
	free(temp);
	return -1;
}
