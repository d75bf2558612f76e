/* ELF symbol lookup with libelf (elfutils), one read per binary. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbols.h"

void symbolizer_init(struct symbolizer *symbols)
{
	memset(symbols, 0, sizeof(*symbols));
	elf_version(EV_CURRENT);
}

static void free_binary(struct binary_symbols *binary)
{
	for (size_t i = 0; i < binary->nr_functions; i++)
		free(binary->functions[i].name);
	free(binary->functions);
	free(binary->path);
}

void symbolizer_free(struct symbolizer *symbols)
{
	for (size_t i = 0; i < symbols->nr_binaries; i++)
		free_binary(&symbols->binaries[i]);
	free(symbols->binaries);
	memset(symbols, 0, sizeof(*symbols));
}

static int by_address(const void *a, const void *b)
{
	const struct elf_function *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * A symbol's size, or for one without (such as _init and _fini) the rest
 * of its section: unbounded, it would name every address after it, the
 * PLT or read-only data included.
 */
static __u64 function_size(Elf *elf, const GElf_Sym *symbol)
{
	Elf_Scn *home = symbol->st_shndx < SHN_LORESERVE
			? elf_getscn(elf, symbol->st_shndx) : NULL;
	GElf_Shdr header;

	if (symbol->st_size || !home || !gelf_getshdr(home, &header) ||
	    symbol->st_value < header.sh_addr ||
	    symbol->st_value >= header.sh_addr + header.sh_size)
		return symbol->st_size;
	return header.sh_addr + header.sh_size - symbol->st_value;
}

/* Functions of one symbol table section; -1 when out of memory. */
static int read_functions(Elf *elf, Elf_Scn *section, const GElf_Shdr *header,
			  struct binary_symbols *binary)
{
	Elf_Data *data = elf_getdata(section, NULL);
	size_t count = header->sh_entsize ? header->sh_size / header->sh_entsize : 0;
	GElf_Sym symbol;

	if (!data)
		return 0;
	for (size_t i = 0; i < count; i++) {
		const char *name;
		struct elf_function *grown;

		if (!gelf_getsym(data, (int)i, &symbol) ||
		    GELF_ST_TYPE(symbol.st_info) != STT_FUNC || !symbol.st_value)
			continue;
		name = elf_strptr(elf, header->sh_link, symbol.st_name);
		if (!name || !*name)
			continue;
		grown = realloc(binary->functions,
				(binary->nr_functions + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		binary->functions = grown;
		grown[binary->nr_functions].addr = symbol.st_value;
		grown[binary->nr_functions].size = function_size(elf, &symbol);
		grown[binary->nr_functions].name = strdup(name);
		if (!grown[binary->nr_functions].name)
			return -1;
		binary->nr_functions++;
	}
	return 0;
}

static void read_build_id(Elf *elf, Elf_Scn *section, struct binary_symbols *binary)
{
	Elf_Data *data = elf_getdata(section, NULL);
	size_t offset = 0, name_at, desc_at;
	GElf_Nhdr note;

	while (data && (offset = gelf_getnote(data, offset, &note, &name_at, &desc_at))) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_at;

		if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_at, "GNU", 4))
			continue;
		for (size_t i = 0; i < note.n_descsz && i < 20; i++)
			snprintf(binary->build_id + 2 * i, 3, "%02x", desc[i]);
		return;
	}
	(void)elf;
}

/* Symbols (.symtab, else .dynsym), load segments and build ID of a file. */
static void read_binary(struct binary_symbols *binary)
{
	int fd = open(binary->path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *section = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr header, table_header;
	size_t nr_headers = 0;

	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	while ((section = elf_nextscn(elf, section))) {
		if (!gelf_getshdr(section, &header))
			continue;
		if (header.sh_type == SHT_SYMTAB)
			symtab = section;
		else if (header.sh_type == SHT_DYNSYM)
			dynsym = section;
		else if (header.sh_type == SHT_NOTE)
			read_build_id(elf, section, binary);
	}
	section = symtab ? symtab : dynsym;
	if (section && gelf_getshdr(section, &table_header) &&
	    read_functions(elf, section, &table_header, binary) == 0 &&
	    binary->nr_functions)
		qsort(binary->functions, binary->nr_functions,
		      sizeof(*binary->functions), by_address);
	if (elf_getphdrnum(elf, &nr_headers))
		goto out;
	for (size_t i = 0; i < nr_headers && binary->nr_loads < SYMBOLS_MAX_LOADS; i++) {
		GElf_Phdr program;

		if (gelf_getphdr(elf, (int)i, &program) && program.p_type == PT_LOAD)
			binary->loads[binary->nr_loads++] = (struct load_segment){
				program.p_offset, program.p_vaddr, program.p_filesz,
			};
	}
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static struct binary_symbols *binary_of(struct symbolizer *symbols,
					const struct mapping *mapping)
{
	struct binary_symbols *binary;

	for (size_t i = 0; i < symbols->nr_binaries; i++) {
		binary = &symbols->binaries[i];
		if (binary->inode == mapping->inode &&
		    binary->dev_major == mapping->dev_major &&
		    binary->dev_minor == mapping->dev_minor &&
		    !strcmp(binary->path, mapping->path))
			return binary;
	}
	if (symbols->nr_binaries == SYMBOLS_MAX_BINARIES)
		return NULL;
	binary = realloc(symbols->binaries, (symbols->nr_binaries + 1) * sizeof(*binary));
	if (!binary)
		return NULL;
	symbols->binaries = binary;
	binary = &symbols->binaries[symbols->nr_binaries];
	memset(binary, 0, sizeof(*binary));
	binary->path = strdup(mapping->path);
	if (!binary->path)
		return NULL;
	binary->inode = mapping->inode;
	binary->dev_major = mapping->dev_major;
	binary->dev_minor = mapping->dev_minor;
	symbols->nr_binaries++;
	read_binary(binary);
	return binary;
}

const char *symbolize(struct symbolizer *symbols, const struct mapping *mapping,
		      __u64 addr, const struct binary_symbols **found)
{
	struct binary_symbols *binary;
	__u64 file_offset, vaddr = 0;
	size_t low = 0, high;
	bool loaded = false;

	if (found)
		*found = NULL;
	if (mapping->kind != MAPPING_FILE || !mapping->path[0] || mapping->deleted)
		return NULL;
	binary = binary_of(symbols, mapping);
	if (!binary)
		return NULL;
	if (found)
		*found = binary;
	file_offset = addr - mapping->start + mapping->offset;
	for (size_t i = 0; i < binary->nr_loads && !loaded; i++) {
		const struct load_segment *load = &binary->loads[i];

		if (file_offset >= load->offset && file_offset < load->offset + load->size) {
			vaddr = file_offset - load->offset + load->vaddr;
			loaded = true;
		}
	}
	if (!loaded)
		return NULL;
	/* The last function starting at or below vaddr. */
	high = binary->nr_functions;
	while (low < high) {
		size_t mid = low + (high - low) / 2;

		if (binary->functions[mid].addr <= vaddr)
			low = mid + 1;
		else
			high = mid;
	}
	if (!low)
		return NULL;
	if (binary->functions[low - 1].size &&
	    vaddr >= binary->functions[low - 1].addr + binary->functions[low - 1].size)
		return NULL;
	return binary->functions[low - 1].name;
}
