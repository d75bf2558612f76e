/* Functions and source lines with libdwfl (elfutils), one Dwfl per binary. */
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "debug_fetch.h"
#include "symbols.h"

/* Binaries are reported with their file: libdwfl need not look for them. */
static int no_elf_search(Dwfl_Module *module, void **userdata, const char *name,
			 Dwarf_Addr base, char **file_name, Elf **elf)
{
	(void)module, (void)userdata, (void)name, (void)base, (void)file_name, (void)elf;
	return -1;
}

/* The build ID's, the .gnu_debuglink's, or debuginfod's debug file. */
static int find_debuginfo(Dwfl_Module *module, void **userdata, const char *name,
			  Dwarf_Addr base, const char *file_name,
			  const char *debuglink, GElf_Word crc, char **found);

int symbolizer_set_debug_dir(struct symbolizer *symbols, const char *debug_dir)
{
	char *path;

	/* libdwfl looks for DIR/.build-id/xx/rest.debug in each absolute entry. */
	if (asprintf(&path, "+:.debug:%s", debug_dir) < 0)
		return -1;
	free(symbols->debuginfo_path);
	symbols->debuginfo_path = path;
	symbols->debug_dir = debug_dir;
	return 0;
}

int symbolizer_init(struct symbolizer *symbols, const char *debug_dir)
{
	memset(symbols, 0, sizeof(*symbols));
	elf_version(EV_CURRENT);
	if (symbolizer_set_debug_dir(symbols, debug_dir ? debug_dir : SYMBOLS_DEBUG_DIR))
		return -1;
	symbols->callbacks.find_elf = no_elf_search;
	symbols->callbacks.find_debuginfo = find_debuginfo;
	symbols->callbacks.debuginfo_path = &symbols->debuginfo_path;
	symbols->fetcher = debug_fetcher_new();
	return 0;
}

static void free_binary(struct binary_symbols *binary)
{
	if (binary->dwfl)
		dwfl_end(binary->dwfl);
	free(binary->path);
	free(binary);
}

void symbolizer_free(struct symbolizer *symbols)
{
	debug_fetcher_free(symbols->fetcher);
	for (size_t i = 0; i < symbols->nr_binaries; i++)
		free_binary(symbols->binaries[i]);
	free(symbols->binaries);
	free(symbols->debuginfo_path);
	memset(symbols, 0, sizeof(*symbols));
}

/* @path's fd if it is the debug file of the build ID @want; else -1. */
static int open_matching(const char *path, const void *want, int want_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *id = NULL;
	bool same = elf && dwelf_elf_gnu_build_id(elf, &id) == want_len &&
		    !memcmp(id, want, (size_t)want_len);

	if (elf)
		elf_end(elf);
	if (!same && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The .gnu_debuglink file where GDB looks for it, checked by build ID. */
static int find_by_debuglink(Dwfl_Module *module, const struct symbolizer *symbols,
			     const char *file_name, const char *debuglink, char **found)
{
	const unsigned char *id;
	GElf_Addr id_vaddr;
	int id_len = dwfl_module_build_id(module, &id, &id_vaddr);
	char copy[PATH_MAX], path[PATH_MAX];
	const char *dir;

	if (!debuglink || !file_name || id_len <= 0 ||
	    snprintf(copy, sizeof(copy), "%s", file_name) >= (int)sizeof(copy))
		return -1;
	dir = dirname(copy);
	for (int i = 0; i < 3; i++) {
		int len = i == 0 ? snprintf(path, sizeof(path), "%s/%s", dir, debuglink)
			  : i == 1 ? snprintf(path, sizeof(path), "%s/.debug/%s", dir, debuglink)
			  : snprintf(path, sizeof(path), "%s%s/%s", symbols->debug_dir, dir,
				     debuglink);
		int fd = len < (int)sizeof(path) ? open_matching(path, id, id_len) : -1;

		if (fd >= 0) {
			*found = strdup(path);
			return fd;
		}
	}
	return -1;
}

/*
 * libdwfl asks again for a dwz file (.gnu_debugaltlink) named in the debug
 * file: a name that is not the binary's own .gnu_debuglink. Only local
 * files answer that: the fetch is for the binary's build ID.
 */
static bool asks_for_alt_file(Dwfl_Module *module, const char *debuglink)
{
	GElf_Addr bias;
	GElf_Word crc;
	Elf *elf = dwfl_module_getelf(module, &bias);
	const char *own = elf ? dwelf_elf_gnu_debuglink(elf, &crc) : NULL;

	return debuglink && (!own || strcmp(own, debuglink));
}

/*
 * Not dwfl_standard_find_debuginfo: that one asks debuginfod itself, on
 * the caller's time. Local files first; a fetched one once it is here.
 */
static int find_debuginfo(Dwfl_Module *module, void **userdata, const char *name,
			  Dwarf_Addr base, const char *file_name,
			  const char *debuglink, GElf_Word crc, char **found)
{
	struct binary_symbols *binary = *userdata;
	struct symbolizer *symbols = binary ? binary->owner : NULL;
	char fetched[PATH_MAX];
	int fd = dwfl_build_id_find_debuginfo(module, userdata, name, base, file_name,
					      debuglink, crc, found);

	if (!symbols)
		return fd;	/* not ours yet: before open_binary() set it */
	if (fd < 0)
		fd = find_by_debuglink(module, symbols, file_name, debuglink, found);
	if (fd >= 0 || !symbols->fetcher || !binary->build_id[0] ||
	    asks_for_alt_file(module, debuglink))
		return fd;
	switch (debug_fetch(symbols->fetcher, binary->build_id, fetched, sizeof(fetched))) {
	case FETCH_DONE:
		fd = open(fetched, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			*found = strdup(fetched);
		return fd;
	case FETCH_PENDING:
		binary->fetching = true;
		return -1;
	default:
		return -1;
	}
}

static void read_build_id(struct binary_symbols *binary)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(binary->module, &id, &vaddr);

	for (int i = 0; i < len && i < 20; i++)
		snprintf(binary->build_id + 2 * i, 3, "%02x", id[i]);
}

/* The file's loaded segments: a file offset in a mapping to its vaddr. */
static void read_loads(struct binary_symbols *binary)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(binary->module, &bias);
	size_t nr_headers = 0;

	if (!elf || elf_getphdrnum(elf, &nr_headers))
		return;
	for (size_t i = 0; i < nr_headers && binary->nr_loads < SYMBOLS_MAX_LOADS; i++) {
		GElf_Phdr program;

		if (gelf_getphdr(elf, (int)i, &program) && program.p_type == PT_LOAD)
			binary->loads[binary->nr_loads++] = (struct load_segment){
				program.p_offset, program.p_vaddr + bias, program.p_filesz,
			};
	}
}

/*
 * The file at the mapping's path, if it is the mapped one: another
 * process's path may name another file here (a container's root, a
 * binary replaced since). Inodes only: devices differ between maps and
 * stat(2) on btrfs and overlayfs.
 */
static int open_mapped_file(const struct binary_symbols *binary)
{
	int fd = open(binary->path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && binary->inode && (fstat(fd, &st) || st.st_ino != binary->inode)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A Dwfl holding the binary alone, at its link-time addresses. */
static void open_binary(struct symbolizer *symbols, struct binary_symbols *binary)
{
	int fd = open_mapped_file(binary);
	void **userdata;

	/* The answers point into the Dwfl about to go. */
	memset(symbols->recent, 0, sizeof(symbols->recent));
	binary->fetching = false;
	binary->nr_loads = 0;
	if (binary->dwfl)
		dwfl_end(binary->dwfl);
	binary->module = NULL;
	binary->dwfl = fd < 0 ? NULL : dwfl_begin(&symbols->callbacks);
	if (!binary->dwfl) {
		if (fd >= 0)
			close(fd);
		return;
	}
	dwfl_report_begin(binary->dwfl);
	binary->module = dwfl_report_elf(binary->dwfl, binary->path, binary->path, fd,
					 0, true);
	if (!binary->module)
		close(fd);	/* libdwfl keeps it only on success */
	if (dwfl_report_end(binary->dwfl, NULL, NULL) || !binary->module ||
	    !dwfl_module_info(binary->module, &userdata, NULL, NULL, NULL, NULL,
			      NULL, NULL)) {
		binary->module = NULL;
		return;
	}
	*userdata = binary;
	read_build_id(binary);
	read_loads(binary);
}

static struct binary_symbols *new_binary(struct symbolizer *symbols,
					 const struct mapping *mapping)
{
	struct binary_symbols **grown, *binary;

	if (symbols->nr_binaries == SYMBOLS_MAX_BINARIES)
		return NULL;
	grown = realloc(symbols->binaries, (symbols->nr_binaries + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	symbols->binaries = grown;
	binary = calloc(1, sizeof(*binary));
	if (!binary || !(binary->path = strdup(mapping->path))) {
		free(binary);
		return NULL;
	}
	binary->inode = mapping->inode;
	binary->dev_major = mapping->dev_major;
	binary->dev_minor = mapping->dev_minor;
	binary->owner = symbols;
	grown[symbols->nr_binaries++] = binary;
	open_binary(symbols, binary);
	return binary;
}

static struct binary_symbols *binary_of(struct symbolizer *symbols,
					const struct mapping *mapping)
{
	for (size_t i = 0; i < symbols->nr_binaries; i++) {
		struct binary_symbols *binary = symbols->binaries[i];

		if (binary->inode == mapping->inode &&
		    binary->dev_major == mapping->dev_major &&
		    binary->dev_minor == mapping->dev_minor &&
		    !strcmp(binary->path, mapping->path))
			return binary;
	}
	return new_binary(symbols, mapping);
}

/* Its debug file arrived: read the binary again, with it. */
static void check_fetch(struct symbolizer *symbols, struct binary_symbols *binary)
{
	char path[PATH_MAX];

	if (!binary->fetching)
		return;
	switch (debug_fetch(symbols->fetcher, binary->build_id, path, sizeof(path))) {
	case FETCH_DONE:
		open_binary(symbols, binary);
		break;
	case FETCH_FAILED:
		binary->fetching = false;
		break;
	case FETCH_PENDING:
		break;
	}
}

/* @addr in the mapping, as an address in the binary's module; false if
 * it is in no loaded segment. */
static bool module_address(const struct binary_symbols *binary,
			   const struct mapping *mapping, __u64 addr, __u64 *vaddr)
{
	__u64 file_offset = addr - mapping->start + mapping->offset;

	for (size_t i = 0; i < binary->nr_loads; i++) {
		const struct load_segment *load = &binary->loads[i];

		if (file_offset >= load->offset && file_offset < load->offset + load->size) {
			*vaddr = file_offset - load->offset + load->vaddr;
			return true;
		}
	}
	return false;
}

static void find_line(struct binary_symbols *binary, __u64 vaddr,
		      struct code_place *place)
{
	Dwfl_Line *line = dwfl_module_getsrc(binary->module, vaddr);
	Dwarf_Addr line_addr;
	int number = 0;
	const char *file = line ? dwfl_lineinfo(line, &line_addr, &number, NULL,
						NULL, NULL) : NULL;

	if (file && number > 0) {
		place->file = file;
		place->line = number;
	}
}

/* The function and line at @vaddr of the binary, asked of libdwfl. */
static void look_up(struct binary_symbols *binary, __u64 vaddr, struct code_place *place)
{
	const char *name;
	GElf_Off offset;
	GElf_Sym symbol;

	name = dwfl_module_addrinfo(binary->module, vaddr, &offset, &symbol, NULL,
				    NULL, NULL);
	/* Functions only: an address in data is named by no function. */
	if (name && (!*name || (GELF_ST_TYPE(symbol.st_info) != STT_FUNC &&
				GELF_ST_TYPE(symbol.st_info) != STT_GNU_IFUNC)))
		name = NULL;
	place->function = name;
	find_line(binary, vaddr, place);
}

const char *symbolize(struct symbolizer *symbols, const struct mapping *mapping,
		      __u64 addr, struct code_place *place)
{
	struct recent_answer *recent;
	struct code_place unused;
	struct binary_symbols *binary;
	__u64 vaddr;

	if (!place)
		place = &unused;
	memset(place, 0, sizeof(*place));
	if (mapping->kind != MAPPING_FILE || !mapping->path[0] || mapping->deleted)
		return NULL;
	binary = binary_of(symbols, mapping);
	if (!binary)
		return NULL;
	check_fetch(symbols, binary);
	place->binary = binary;
	if (!binary->module || !module_address(binary, mapping, addr, &vaddr))
		return NULL;
	recent = &symbols->recent[(vaddr ^ (vaddr >> 12) ^ (uintptr_t)binary / 64) %
				  SYMBOLS_RECENT];
	if (recent->binary != binary || recent->vaddr != vaddr) {
		look_up(binary, vaddr, place);
		/* Valid until the binary is read again, which clears them all. */
		*recent = (struct recent_answer){ binary, vaddr, place->function,
						  place->file, place->line };
	}
	place->function = recent->function;
	place->file = recent->file;
	place->line = recent->line;
	return place->function;
}

char *code_place_source(const struct code_place *place, char *buf, size_t size)
{
	const char *base = place->file ? strrchr(place->file, '/') : NULL;

	if (!place->file || place->line <= 0)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, "%s:%d", base ? base + 1 : place->file, place->line);
	return buf;
}

size_t symbolizer_fetches_ended(struct symbolizer *symbols)
{
	return symbols->fetcher ? debug_fetches_ended(symbols->fetcher) : 0;
}

bool symbolizer_settle(struct symbolizer *symbols, int timeout_ms)
{
	return !symbols->fetcher || debug_fetcher_wait(symbols->fetcher, timeout_ms);
}
