/* Kernel feature probing, before anything is loaded. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define LOCKDOWN "/sys/kernel/security/lockdown"
#define NUMA_BALANCING "/proc/sys/kernel/numa_balancing"
#define NODES_ONLINE "/sys/devices/system/node/online"
#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define PREEMPT_MODE "/sys/kernel/debug/sched/preempt"
#define HUGE_PAGE_SIZE THP_DIR "/hpage_pmd_size"
/* Forces an entry hook: the tests run the classic tracepoint this way. */
#define ENTRY_ENV "PFWATCH_ENTRY"

static bool has_capability(int cap)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capget, &header, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* NULL when loading is allowed, else the capabilities this process lacks. */
static const char *missing_privileges(void)
{
	bool bpf = has_capability(CAP_BPF), perfmon = has_capability(CAP_PERFMON);

	if (has_capability(CAP_SYS_ADMIN) || (bpf && perfmon))
		return NULL;
	return bpf ? "CAP_PERFMON" : perfmon ? "CAP_BPF" : "both";
}

static bool btf_has(const struct btf *btf, const char *name, int kind)
{
	return btf__find_by_name_kind(btf, name, kind) >= 0;
}

bool ensure_tracefs(void)
{
	struct stat st;

	if (!stat(TRACEFS "/events", &st))
		return true;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return false;
	return !stat(TRACEFS "/events", &st);
}

/*
 * The oldest kernel pfwatch runs on: 5.10 brought test runs of raw
 * tracepoints on a chosen CPU (the stream's batch flush) and bpf_this_cpu
 * helpers, 5.8 the ring buffer. Task storage and the current task's BTF
 * came in 5.11: before, the thread states live in a hash by thread id.
 */
#define MIN_MAJOR 5
#define MIN_MINOR 10

/*
 * Lockdown's confidentiality mode forbids BPF programs to read kernel
 * memory (and kprobes, perf and tracefs); integrity mode leaves pfwatch
 * what it needs. Without securityfs the state is unknown: loading tells.
 */
static bool locked_down_confidential(void)
{
	FILE *file = fopen(LOCKDOWN, "re");
	char line[128] = "";

	if (!file)
		return false;
	if (!fgets(line, sizeof(line), file))
		line[0] = '\0';
	fclose(file);
	return strstr(line, "[confidentiality]") != NULL;
}

/* The classic tracepoint, for kernels whose BTF lacks its tp_btf type. */
static bool tracepoint_exists(void)
{
	struct stat st;

	return !stat(TRACEFS "/events/exceptions/page_fault_user", &st);
}

/* A number from a one-line /proc or /sys file; @fallback if unreadable. */
static unsigned long read_number(const char *path, unsigned long fallback)
{
	FILE *file = fopen(path, "r");
	unsigned long value;
	int matched;

	if (!file)
		return fallback;
	matched = fscanf(file, "%lu", &value);
	fclose(file);
	return matched == 1 ? value : fallback;
}

/* More than one NUMA node online: the list is "0" on a machine with one. */
static bool several_nodes(void)
{
	FILE *file = fopen(NODES_ONLINE, "re");
	char nodes[64] = "";

	if (!file)
		return false;
	if (!fgets(nodes, sizeof(nodes), file))
		nodes[0] = '\0';
	fclose(file);
	return strcspn(nodes, ",-") < strlen(nodes);
}

/*
 * The chosen word of a setting file, "[madvise]" in THP's, "(lazy)" in
 * the scheduler's; "" if unreadable.
 */
static void chosen_word(const char *path, char *word, size_t size)
{
	char line[128] = "";
	FILE *file = fopen(path, "r");
	size_t start, length;

	word[0] = '\0';
	if (!file)
		return;
	if (fgets(line, sizeof(line), file)) {
		start = strcspn(line, "[(");
		length = line[start] ? strcspn(line + start + 1, "])") : 0;
		if (line[start] && line[start + 1 + length])
			snprintf(word, size, "%.*s", (int)length, line + start + 1);
	}
	fclose(file);
}

/* Whether a fault may map a PMD-sized huge page at all (read at start). */
static bool huge_pages_possible(unsigned long huge_bytes)
{
	char top[16], pmd[16], path[128];

	chosen_word(THP_DIR "/enabled", top, sizeof(top));
	snprintf(path, sizeof(path), THP_DIR "/hugepages-%lukB/enabled", huge_bytes >> 10);
	chosen_word(path, pmd, sizeof(pmd));
	if (!pmd[0] || !strcmp(pmd, "inherit"))	/* before per-size settings */
		return top[0] && strcmp(top, "never");
	return strcmp(pmd, "never") != 0;
}

/*
 * Whether kernel code may be preempted anywhere (full or lazy), as
 * PREEMPT_DYNAMIC kernels say in debugfs; false where it is not mounted.
 */
static bool kernel_preempted(void)
{
	char mode[16];

	chosen_word(PREEMPT_MODE, mode, sizeof(mode));
	return !strcmp(mode, "full") || !strcmp(mode, "lazy");
}

/* The order of a PMD-sized huge page: 9 for 2 MiB of 4 KiB pages. */
static unsigned huge_page_order(void)
{
	unsigned long bytes = read_number(HUGE_PAGE_SIZE, 2ul << 20);
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	unsigned order = 0;

	while (order < 20 && (page << order) < bytes)
		order++;
	return order;
}

static bool kernel_too_old(const char *release)
{
	unsigned major = 0, minor = 0;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;	/* unknown: let loading tell */
	return major < MIN_MAJOR || (major == MIN_MAJOR && minor < MIN_MINOR);
}

static const char *const entry_names[] = {
	[ENTRY_TP_BTF] = "tp_btf",
	[ENTRY_TRACEPOINT] = "tracepoint",
};

const char *entry_hook_name(enum entry_hook entry)
{
	return entry_names[entry];
}

int choose_entry(const char *forced, bool btf_tracepoints, enum entry_hook *entry)
{
	if (!forced || !forced[0]) {
		*entry = btf_tracepoints ? ENTRY_TP_BTF : ENTRY_TRACEPOINT;
		return 0;
	}
	if (!strcmp(forced, entry_names[ENTRY_TRACEPOINT])) {
		*entry = ENTRY_TRACEPOINT;
		return 0;
	}
	if (strcmp(forced, entry_names[ENTRY_TP_BTF]))
		return -EINVAL;
	*entry = ENTRY_TP_BTF;
	return btf_tracepoints ? 0 : -ENOENT;
}

/* The entry hook, and for the classic tracepoint tracefs: 0 or -1. */
static int probe_entry(struct kernel_features *features, bool btf_tracepoints)
{
	const char *forced = getenv(ENTRY_ENV);

	switch (choose_entry(forced, btf_tracepoints, &features->entry)) {
	case -EINVAL:
		fprintf(stderr, "pfwatch: %s: '%s' is not tp_btf or tracepoint\n",
			ENTRY_ENV, forced);
		return -1;
	case -ENOENT:
		fprintf(stderr, "pfwatch: %s=tp_btf: this kernel's BTF has no page_fault_user tracepoint\n",
			ENTRY_ENV);
		return -1;
	}
	if (features->entry == ENTRY_TP_BTF)
		return 0;
	if (!ensure_tracefs()) {
		fprintf(stderr, "pfwatch: tracefs is not mounted at %s and cannot be mounted; mount it (mount -t tracefs tracefs %s) and retry\n",
			TRACEFS, TRACEFS);
		return -1;
	}
	if (!tracepoint_exists()) {
		fprintf(stderr, "pfwatch: this kernel has no exceptions:page_fault_user tracepoint (x86 only, with CONFIG_TRACING), where pfwatch sees faults begin\n");
		return -1;
	}
	return 0;
}

int probe_kernel(struct kernel_features *features)
{
	struct utsname uts;
	const char *missing;
	bool btf_tracepoints;
	struct btf *btf;

	memset(features, 0, sizeof(*features));
	if (!uname(&uts))
		snprintf(features->release, sizeof(features->release), "%s",
			 uts.release);
	missing = missing_privileges();
	if (missing) {
		fprintf(stderr, "pfwatch: loading BPF programs needs root, or CAP_BPF and CAP_PERFMON; this process lacks %s; run it with sudo\n",
			missing);
		return -1;
	}
	if (kernel_too_old(features->release)) {
		fprintf(stderr, "pfwatch: Linux %s is too old: pfwatch needs %d.%d or later (BPF ring buffer, BTF-typed tracepoints, test runs of raw tracepoints on a chosen CPU)\n",
			features->release, MIN_MAJOR, MIN_MINOR);
		return -1;
	}
	if (locked_down_confidential()) {
		fprintf(stderr, "pfwatch: the kernel is locked down for confidentiality (%s): BPF programs may not read kernel memory, which pfwatch's must; boot without lockdown=confidentiality\n",
			LOCKDOWN);
		return -1;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		fprintf(stderr, "pfwatch: %s is missing: this kernel (%s) was built without CONFIG_DEBUG_INFO_BTF, which pfwatch needs; use a distribution kernel or rebuild with BTF\n",
			VMLINUX_BTF, features->release);
		return -1;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr, "pfwatch: cannot read %s: %s\n", VMLINUX_BTF,
			strerror(errno));
		return -1;
	}
	btf_tracepoints = btf_has(btf, "btf_trace_page_fault_user", BTF_KIND_TYPEDEF);
	features->filemap_fault_tp =
		btf_has(btf, "btf_trace_mm_filemap_fault", BTF_KIND_TYPEDEF);
	features->task_rename_tp =
		btf_has(btf, "btf_trace_task_rename", BTF_KIND_TYPEDEF);
	features->handle_mm_fault =
		btf_has(btf, "handle_mm_fault", BTF_KIND_FUNC);
	features->lock_contention_tp =
		btf_has(btf, "btf_trace_contention_begin", BTF_KIND_TYPEDEF);
	features->folio_writeback_tp =
		btf_has(btf, "btf_trace_folio_wait_writeback", BTF_KIND_TYPEDEF);
	features->page_writeback_tp =
		btf_has(btf, "btf_trace_wait_on_page_writeback", BTF_KIND_TYPEDEF);
	features->compaction_tp =
		btf_has(btf, "btf_trace_mm_compaction_begin", BTF_KIND_TYPEDEF);
	/* BPF_CALL_5(bpf_find_vma, ...) leaves this typedef behind. */
	features->find_vma = btf_has(btf, "btf_bpf_find_vma", BTF_KIND_TYPEDEF);
	/* Both came in Linux 5.11; before, a hash by thread id stands in. */
	features->task_storage =
		btf_has(btf, "btf_bpf_task_storage_get", BTF_KIND_TYPEDEF) &&
		btf_has(btf, "btf_bpf_get_current_task_btf", BTF_KIND_TYPEDEF);
	btf__free(btf);
	features->numa_balancing = read_number(NUMA_BALANCING, 0) != 0;
	features->numa_nodes = several_nodes();
	features->huge_order = huge_page_order();
	features->preempts_kernel = kernel_preempted();
	features->huge_pages = huge_pages_possible(read_number(HUGE_PAGE_SIZE, 2ul << 20));
	return probe_entry(features, btf_tracepoints);
}
