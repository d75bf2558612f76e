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
#define TRACEFS "/sys/kernel/tracing"
#define LOCKDOWN "/sys/kernel/security/lockdown"
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

/*
 * Only classic tracepoints need tracefs (libbpf reads their IDs there);
 * mount it if we can. kprobes attach through the perf kprobe PMU, which
 * every kernel pfwatch runs on has whenever it has kprobes at all.
 */
static bool ensure_tracefs(void)
{
	struct stat st;

	if (!stat(TRACEFS "/events", &st))
		return true;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return false;
	return !stat(TRACEFS "/events", &st);
}

/*
 * The oldest kernel pfwatch runs on: 5.11 brought task storage and
 * bpf_get_current_task_btf() to tracing programs, which the fault path
 * keeps its per-thread state in; 5.8 the ring buffer.
 */
#define MIN_MAJOR 5
#define MIN_MINOR 11

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
		fprintf(stderr, "pfwatch: Linux %s is too old: pfwatch needs %d.%d or later (task storage for tracing programs)\n",
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
	btf__free(btf);
	return probe_entry(features, btf_tracepoints);
}
