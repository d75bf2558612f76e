/*
 * Code addresses to function names: ELF symbol tables read with libelf,
 * cached per binary (device, inode and build ID), so a binary replaced
 * under the same path is read again.
 */
#ifndef PFWATCH_SYMBOLS_H
#define PFWATCH_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include "proc_maps.h"

#define SYMBOLS_MAX_BINARIES 256
#define SYMBOLS_MAX_LOADS 16

struct elf_function {
	__u64 addr, size;		/* 0: no size, no section known */
	char *name;
};

struct binary_symbols {
	char *path;
	__u64 inode;
	unsigned dev_major, dev_minor;
	char build_id[41];		/* hex, "" if the binary has none */
	struct elf_function *functions;	/* sorted by address */
	size_t nr_functions;
	struct load_segment {
		__u64 offset, vaddr, size;
	} loads[SYMBOLS_MAX_LOADS];
	size_t nr_loads;
};

struct symbolizer {
	struct binary_symbols *binaries;
	size_t nr_binaries;
};

void symbolizer_init(struct symbolizer *symbols);
void symbolizer_free(struct symbolizer *symbols);
/*
 * The function holding @addr, an address in @mapping of a process; NULL
 * if the file cannot be read or has no symbol there. @binary (if not
 * NULL) gets the binary's entry, for its build ID.
 */
const char *symbolize(struct symbolizer *symbols, const struct mapping *mapping,
		      __u64 addr, const struct binary_symbols **binary);

#endif
