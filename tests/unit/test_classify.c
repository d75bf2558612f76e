/*
 * The BPF side's classifiers (bpf/classify.h), compiled here as plain C,
 * against tables whose expected classes come from the kernel's own rules:
 * mm_account_fault() and mm_fault_error() (mm/memory.c,
 * arch/x86/mm/fault.c) for handle_mm_fault's return value, the x86 error
 * code (arch/x86/include/asm/trap_pf.h), and the si_code a fault's
 * signal carries (include/uapi/asm-generic/siginfo.h). The new kinds'
 * rows follow the rule order of bpf/classify.h, which each row's reason
 * names: a userfaultfd fault is uffd whatever the kernel counted it; then
 * numa_hint, cow, file_cached, swap_cache, anon_thp, anon_zero.
 */
#include "check.h"
#include "classify.h"

/* Bits of a successful fault the classifiers must ignore
 * (include/linux/mm_types.h). */
#define VM_FAULT_NOPAGE		0x000100
#define VM_FAULT_LOCKED		0x000200
#define VM_FAULT_COMPLETED	0x004000

#define USER_READ	PF_ERR_USER
#define USER_WRITE	(PF_ERR_USER | PF_ERR_WRITE)
#define USER_WRITE_PRESENT (PF_ERR_USER | PF_ERR_WRITE | PF_ERR_PROT)
#define USER_READ_PRESENT (PF_ERR_USER | PF_ERR_PROT)

struct outcome_case {
	const char *what;
	__u32 ret, flags, error_code;
	bool file, shared;	/* the vma, as fexit and kprobe see it */
	__u32 expected;
	struct fault_hints seen;	/* what the other hooks saw */
};

/* fexit and kretprobe: handle_mm_fault(vma, address, flags) returned ret. */
static const struct outcome_case outcome_cases[] = {
	{ "first read of anonymous memory (zero page)", 0, 0, USER_READ,
	  false, false, FAULT_ANON_ZERO, {} },
	{ "first write of anonymous memory (do_anonymous_page)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_ANON_ZERO, {} },
	{ "write to a present read-only private page (do_wp_page)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE_PRESENT, false, false, FAULT_COW, {} },
	{ "read of a file page in the page cache", 0, 0, USER_READ,
	  true, false, FAULT_FILE_CACHED, {} },
	{ "write to a not-present private file page (do_cow_fault)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, true, false, FAULT_COW, {} },
	{ "write to a not-present shared file page (do_shared_fault)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, true, true, FAULT_FILE_CACHED, {} },
	{ "write to a present shared file page (wp_page_shared)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE_PRESENT, true, true, FAULT_FILE_CACHED, {} },
	{ "write to a present private file page (wp_page_copy)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE_PRESENT, true, false, FAULT_COW, {} },
	{ "success bits of a minor fault", VM_FAULT_NOPAGE | VM_FAULT_LOCKED |
	  VM_FAULT_COMPLETED, 0, USER_READ, false, false, FAULT_ANON_ZERO, {} },
	{ "file page read from storage", VM_FAULT_MAJOR, 0, USER_READ,
	  true, false, FAULT_FILE_READ, {} },
	{ "anonymous page read from swap (do_swap_page)", VM_FAULT_MAJOR,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_SWAP_IN, {} },
	{ "second try after a retry: major (mm_account_fault)", 0,
	  FAULT_FLAG_TRIED, USER_READ, true, false, FAULT_FILE_READ, {} },
	{ "second try of an anonymous fault", VM_FAULT_LOCKED,
	  FAULT_FLAG_TRIED, USER_READ, false, false, FAULT_SWAP_IN, {} },
	{ "retry: counted when it completes", VM_FAULT_RETRY, 0, USER_READ,
	  true, false, FAULT_NOT_MINE, {} },
	{ "retry of a major fault", VM_FAULT_RETRY | VM_FAULT_MAJOR,
	  FAULT_FLAG_TRIED, USER_READ, true, false, FAULT_NOT_MINE, {} },
	{ "SIGBUS: signal_generate decides", VM_FAULT_SIGBUS, 0, USER_READ,
	  true, false, FAULT_NOT_MINE, {} },
	{ "SIGBUS after a read from storage", VM_FAULT_SIGBUS | VM_FAULT_MAJOR,
	  0, USER_READ, true, false, FAULT_NOT_MINE, {} },
	{ "SIGSEGV: signal_generate decides", VM_FAULT_SIGSEGV, 0, USER_READ,
	  false, false, FAULT_NOT_MINE, {} },
	{ "out of memory (the OOM killer, no signal)", VM_FAULT_OOM, 0,
	  USER_WRITE, false, false, FAULT_OTHER_ERROR, {} },
	{ "out of memory wins over SIGBUS (mm_fault_error)",
	  VM_FAULT_OOM | VM_FAULT_SIGBUS, 0, USER_WRITE, false, false,
	  FAULT_OTHER_ERROR, {} },
	{ "hardware poison", VM_FAULT_HWPOISON, 0, USER_READ, false, false,
	  FAULT_OTHER_ERROR, {} },
	{ "hardware poison in a huge page", VM_FAULT_HWPOISON_LARGE, 0,
	  USER_READ, true, false, FAULT_OTHER_ERROR, {} },
	{ "huge-page zero-fill (do_huge_pmd_anonymous_page)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_ANON_THP,
	  { .rss = HINT_ANON, .huge = 1 } },
	{ "huge page wanted, none free: a small zero-fill", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_ANON_ZERO,
	  { .rss = HINT_ANON, .huge_fallback = 1 } },
	{ "write to the huge zero page: a copy, not a zero-fill", 0,
	  FAULT_FLAG_WRITE, USER_WRITE_PRESENT, false, false, FAULT_COW,
	  { .rss = HINT_ANON, .huge = 1 } },
	{ "huge page of a shared file (shmem): file, not anonymous", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, true, true, FAULT_FILE_CACHED,
	  { .rss = HINT_FILE, .huge = 1 } },
	{ "anonymous vma, an RSS batch folded on the file counter (6.1)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_ANON_ZERO,
	  { .rss = HINT_FILE } },
	{ "swap-cache hit (do_swap_page, no I/O)", 0, 0, USER_READ,
	  false, false, FAULT_SWAP_CACHE, { .rss = HINT_SWAP } },
	{ "swap-cache hit by a write", 0, FAULT_FLAG_WRITE, USER_WRITE,
	  false, false, FAULT_SWAP_CACHE, { .rss = HINT_SWAP } },
	{ "swap-in that read the page: major, not the cache", VM_FAULT_MAJOR,
	  0, USER_READ, false, false, FAULT_SWAP_IN, { .rss = HINT_SWAP } },
	{ "NUMA hint: read of a present PROT_NONE page (do_numa_page)", 0, 0,
	  USER_READ_PRESENT, false, false, FAULT_NUMA_HINT, { .numa = 1 } },
	{ "NUMA hint on a write: not a copy-on-write", 0, FAULT_FLAG_WRITE,
	  USER_WRITE_PRESENT, false, false, FAULT_NUMA_HINT, { .numa = 1 } },
	{ "NUMA hint in a file mapping", 0, 0, USER_READ_PRESENT, true, false,
	  FAULT_NUMA_HINT, { .numa = 1 } },
	{ "userfaultfd, missing mode: retry done minor (per-VMA lock)", 0,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_UFFD,
	  { .rss = HINT_ANON, .uffd = 1 } },
	{ "userfaultfd: the kernel counts the second try major", 0,
	  FAULT_FLAG_WRITE | FAULT_FLAG_TRIED, USER_WRITE, false, false,
	  FAULT_UFFD, { .rss = HINT_ANON, .uffd = 1 } },
	{ "userfaultfd, write-protect mode: not a copy-on-write", 0,
	  FAULT_FLAG_WRITE, USER_WRITE_PRESENT, false, false, FAULT_UFFD,
	  { .uffd = 1 } },
	{ "userfaultfd, minor mode in shmem: not file_cached", 0, 0,
	  USER_READ, true, true, FAULT_UFFD, { .rss = HINT_FILE, .uffd = 1 } },
	{ "userfaultfd before a NUMA hint in the same fault", 0, 0,
	  USER_READ_PRESENT, false, false, FAULT_UFFD, { .numa = 1, .uffd = 1 } },
	{ "userfaultfd wait: the first try returns a retry", VM_FAULT_RETRY,
	  FAULT_FLAG_WRITE, USER_WRITE, false, false, FAULT_NOT_MINE,
	  { .uffd = 1 } },
	{ "userfaultfd handler answers SIGBUS: signal_generate decides",
	  VM_FAULT_SIGBUS, 0, USER_READ, false, false, FAULT_NOT_MINE,
	  { .uffd = 1 } },
	{ "out of memory in a userfaultfd range", VM_FAULT_OOM, 0, USER_WRITE,
	  false, false, FAULT_OTHER_ERROR, { .uffd = 1 } },
};

static void outcome_follows_handle_mm_fault(void)
{
	for (size_t i = 0; i < sizeof(outcome_cases) / sizeof(outcome_cases[0]); i++) {
		const struct outcome_case *c = &outcome_cases[i];
		struct fault_hints hints = c->seen;
		__u32 got;

		hint_vma(&hints, c->file, c->shared, c->flags);
		got = outcome_class(c->ret, c->flags, c->error_code, &hints);
		CHECK(got == c->expected, "%s: ret %#x flags %#x error %#x: class %u, want %u",
		      c->what, c->ret, c->flags, c->error_code, got, c->expected);
	}
}

struct completed_case {
	const char *what;
	bool major;
	__u32 error_code;
	struct fault_hints hints;
	__u32 expected;
};

/* perf backend: the event says minor or major; rss_stat and
 * mm_filemap_fault say what the fault touched. */
static const struct completed_case completed_cases[] = {
	{ "zero-fill: MM_ANONPAGES grew", false, USER_WRITE,
	  { .rss = HINT_ANON }, FAULT_ANON_ZERO },
	{ "read of never-written memory: no counter changed", false,
	  USER_READ, {}, FAULT_ANON_ZERO },
	{ "fault-around mapped cached file pages: MM_FILEPAGES grew", false,
	  USER_READ, { .rss = HINT_FILE }, FAULT_FILE_CACHED },
	{ "filemap_fault found the page cached", false, USER_READ,
	  { .vma = HINT_FILE }, FAULT_FILE_CACHED },
	{ "filemap_fault, then an anonymous copy: private copy", false,
	  USER_WRITE, { .vma = HINT_FILE, .rss = HINT_ANON, .private_copy = 1 },
	  FAULT_COW },
	{ "write to a present page after fork", false, USER_WRITE_PRESENT,
	  { .rss = HINT_ANON }, FAULT_COW },
	{ "swap-in: MM_SWAPENTS dropped last", true, USER_READ,
	  { .rss = HINT_SWAP }, FAULT_SWAP_IN },
	{ "swap-in seen as MM_ANONPAGES only", true, USER_READ,
	  { .rss = HINT_ANON }, FAULT_SWAP_IN },
	{ "file read: MM_FILEPAGES grew", true, USER_READ,
	  { .rss = HINT_FILE }, FAULT_FILE_READ },
	{ "file read into a private copy: the vma's kind wins", true,
	  USER_WRITE, { .vma = HINT_FILE, .rss = HINT_ANON, .private_copy = 1 },
	  FAULT_FILE_READ },
	{ "major fault with no hint at all", true, USER_READ, {},
	  FAULT_FILE_READ },
	{ "huge-page zero-fill: an allocation of PMD order", false, USER_WRITE,
	  { .rss = HINT_ANON, .huge = 1 }, FAULT_ANON_THP },
	{ "huge page wanted, a small one given", false, USER_WRITE,
	  { .rss = HINT_ANON, .huge_fallback = 1 }, FAULT_ANON_ZERO },
	{ "a huge folio read in by a major fault stays file_read", true,
	  USER_READ, { .vma = HINT_FILE, .rss = HINT_FILE, .huge = 1 },
	  FAULT_FILE_READ },
	{ "swap cache: MM_SWAPENTS dropped last, counted minor", false,
	  USER_READ, { .rss = HINT_SWAP }, FAULT_SWAP_CACHE },
	{ "swap cache before a huge allocation in the same fault", false,
	  USER_READ, { .rss = HINT_SWAP, .huge = 1 }, FAULT_SWAP_CACHE },
	{ "NUMA hint: the locality counters moved, no RSS change", false,
	  USER_READ_PRESENT, { .numa = 1 }, FAULT_NUMA_HINT },
	{ "NUMA hint before a file page's rule", false, USER_READ_PRESENT,
	  { .vma = HINT_FILE, .numa = 1 }, FAULT_NUMA_HINT },
	{ "userfaultfd counted minor", false, USER_WRITE,
	  { .rss = HINT_ANON, .uffd = 1 }, FAULT_UFFD },
	{ "userfaultfd counted major: still uffd, not swap_in", true,
	  USER_WRITE, { .rss = HINT_ANON, .uffd = 1 }, FAULT_UFFD },
	{ "userfaultfd that filled a huge page", false, USER_WRITE,
	  { .rss = HINT_ANON, .huge = 1, .uffd = 1 }, FAULT_UFFD },
};

static void completed_follows_the_hints(void)
{
	for (size_t i = 0; i < sizeof(completed_cases) / sizeof(completed_cases[0]); i++) {
		const struct completed_case *c = &completed_cases[i];
		__u32 got = completed_class(c->major, c->error_code, &c->hints);

		CHECK(got == c->expected, "%s: class %u, want %u", c->what, got,
		      c->expected);
	}
}

struct major_case {
	const char *what;
	__u32 ret, flags;
	bool major;
};

/* mm_account_fault(): rusage's majflt, which uffd_major must follow. */
static const struct major_case major_cases[] = {
	{ "a fault that read nothing", 0, 0, false },
	{ "success bits only", VM_FAULT_NOPAGE | VM_FAULT_LOCKED | VM_FAULT_COMPLETED,
	  FAULT_FLAG_WRITE, false },
	{ "read from storage", VM_FAULT_MAJOR, 0, true },
	{ "a second try, nothing read in it", 0, FAULT_FLAG_TRIED, true },
	{ "a second try that read", VM_FAULT_MAJOR | VM_FAULT_LOCKED,
	  FAULT_FLAG_TRIED | FAULT_FLAG_WRITE, true },
	{ "a write is no reason", 0, FAULT_FLAG_WRITE, false },
};

static void major_follows_mm_account_fault(void)
{
	for (size_t i = 0; i < sizeof(major_cases) / sizeof(major_cases[0]); i++) {
		const struct major_case *c = &major_cases[i];
		bool got = outcome_major(c->ret, c->flags);

		CHECK(got == c->major, "%s: ret %#x flags %#x: major %d, want %d",
		      c->what, c->ret, c->flags, got, c->major);
	}
}

struct signal_case {
	const char *what;
	int sig, code;
	__u32 expected;
};

static const struct signal_case signal_cases[] = {
	{ "no mapping at the address", SIGSEGV, SEGV_MAPERR, FAULT_SEGV_MAPERR },
	{ "the mapping forbids the access", SIGSEGV, SEGV_ACCERR, FAULT_SEGV_ACCERR },
	{ "a protection key forbids it", SIGSEGV, SEGV_PKUERR, FAULT_SEGV_ACCERR },
	{ "bounds error, not a page fault", SIGSEGV, SEGV_BNDERR, FAULT_NOT_MINE },
	{ "past the end of the file", SIGBUS, BUS_ADRERR, FAULT_SIGBUS },
	{ "object-specific hardware error", SIGBUS, BUS_OBJERR, FAULT_SIGBUS },
	{ "hardware poison, action required", SIGBUS, BUS_MCEERR_AR, FAULT_OTHER_ERROR },
	{ "hardware poison, action optional", SIGBUS, BUS_MCEERR_AO, FAULT_OTHER_ERROR },
	{ "kill(2)", SIGSEGV, SI_USER, FAULT_NOT_MINE },
	{ "tgkill(2)", SIGBUS, SI_TKILL, FAULT_NOT_MINE },
	{ "sigqueue(3)", SIGSEGV, SI_QUEUE, FAULT_NOT_MINE },
	{ "another signal a trap raises", SIGILL, ILL_ILLOPC, FAULT_NOT_MINE },
	{ "a breakpoint", SIGTRAP, TRAP_BRKPT, FAULT_NOT_MINE },
};

static void signal_follows_si_code(void)
{
	for (size_t i = 0; i < sizeof(signal_cases) / sizeof(signal_cases[0]); i++) {
		const struct signal_case *c = &signal_cases[i];
		__u32 got = signal_class(c->sig, c->code);

		CHECK(got == c->expected, "%s: signal %d code %d: class %u, want %u",
		      c->what, c->sig, c->code, got, c->expected);
	}
}

/* Each class is some row's answer: no class the tables leave untried. */
static void every_class_is_reachable(void)
{
	bool seen[NR_FAULT_CLASSES + 1] = { false };

	for (size_t i = 0; i < sizeof(outcome_cases) / sizeof(outcome_cases[0]); i++)
		seen[outcome_cases[i].expected] = true;
	for (size_t i = 0; i < sizeof(completed_cases) / sizeof(completed_cases[0]); i++)
		seen[completed_cases[i].expected] = true;
	for (size_t i = 0; i < sizeof(signal_cases) / sizeof(signal_cases[0]); i++)
		seen[signal_cases[i].expected] = true;
	for (int class = 0; class <= NR_FAULT_CLASSES; class++)
		CHECK(seen[class], "no row expects class %d", class);
}

static void vma_hints_name_private_file_writes(void)
{
	struct fault_hints hints = {};

	hint_vma(&hints, false, false, FAULT_FLAG_WRITE);
	CHECK(hints.vma == HINT_ANON && !hints.private_copy, "anonymous write");
	hint_vma(&hints, true, false, 0);
	CHECK(hints.vma == HINT_FILE && !hints.private_copy, "private file read");
	hint_vma(&hints, true, false, FAULT_FLAG_WRITE);
	CHECK(hints.vma == HINT_FILE && hints.private_copy, "private file write");
	hint_vma(&hints, true, true, FAULT_FLAG_WRITE);
	CHECK(hints.vma == HINT_FILE && !hints.private_copy && hints.shared,
	      "shared file write");
}

/* The value vmlinux.h gives the kernel's constant @name; -1 if absent. */
static long vmlinux_value(FILE *in, const char *name)
{
	char line[256], want[64];
	long value;

	rewind(in);
	snprintf(want, sizeof(want), " %s = %%li,", name);
	while (fgets(line, sizeof(line), in))
		if (sscanf(line, want, &value) == 1)
			return value;
	return -1;
}

/* The userspace copy of the kernel's values, against the checked-in BTF
 * types the BPF side is built with. */
static void kernel_values_match_vmlinux(void)
{
	static const struct { const char *name; long value; } copies[] = {
		{ "VM_FAULT_OOM", VM_FAULT_OOM },
		{ "VM_FAULT_SIGBUS", VM_FAULT_SIGBUS },
		{ "VM_FAULT_MAJOR", VM_FAULT_MAJOR },
		{ "VM_FAULT_HWPOISON", VM_FAULT_HWPOISON },
		{ "VM_FAULT_HWPOISON_LARGE", VM_FAULT_HWPOISON_LARGE },
		{ "VM_FAULT_SIGSEGV", VM_FAULT_SIGSEGV },
		{ "VM_FAULT_RETRY", VM_FAULT_RETRY },
		{ "VM_FAULT_NOPAGE", VM_FAULT_NOPAGE },
		{ "VM_FAULT_LOCKED", VM_FAULT_LOCKED },
		{ "VM_FAULT_COMPLETED", VM_FAULT_COMPLETED },
		{ "FAULT_FLAG_WRITE", FAULT_FLAG_WRITE },
		{ "FAULT_FLAG_TRIED", FAULT_FLAG_TRIED },
	};
	FILE *in = fopen("vmlinux/x86/vmlinux.h", "r");

	if (!in)
		SKIP_TEST("vmlinux/x86/vmlinux.h not found: run from the source tree");
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
		long value = vmlinux_value(in, copies[i].name);

		CHECK(value == copies[i].value, "%s: vmlinux.h says %ld, classify.h %ld",
		      copies[i].name, value, copies[i].value);
	}
	fclose(in);
}

int main(void)
{
	check.binary = "test_classify";
	RUN(outcome_follows_handle_mm_fault);
	RUN(completed_follows_the_hints);
	RUN(major_follows_mm_account_fault);
	RUN(signal_follows_si_code);
	RUN(every_class_is_reachable);
	RUN(vma_hints_name_private_file_writes);
	RUN(kernel_values_match_vmlinux);
	return check.failures ? 1 : 0;
}
