/* Giving up privileges once the BPF programs are attached. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int privileges_find_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *entry;

	errno = 0;
	entry = getpwnam(user);
	if (!entry) {
		/* Not found may come with any of these (getpwnam(3)). */
		bool absent = !errno || errno == ENOENT || errno == ESRCH ||
			      errno == EBADF || errno == EPERM;

		fprintf(stderr, "pfwatch: --user %s: %s\n", user,
			absent ? "no such user" : strerror(errno));
		return -1;
	}
	*uid = entry->pw_uid;
	*gid = entry->pw_gid;
	return 0;
}

/* The highest capability this kernel knows. */
static int last_capability(void)
{
	FILE *file = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (file) {
		if (fscanf(file, "%d", &last) != 1)
			last = -1;
		fclose(file);
	}
	return last >= 0 && last < 64 ? last : CAP_BPF;
}

static __u64 kept_capabilities(const struct privilege_plan *plan)
{
	/* Older kernels gate every bpf() command, map reads too, on it. */
	__u64 keep = 1ULL << CAP_BPF;

	if (plan->read_maps)
		keep |= 1ULL << CAP_SYS_PTRACE | 1ULL << CAP_DAC_READ_SEARCH;
	if (plan->write_anywhere && !plan->user)
		keep |= 1ULL << CAP_DAC_OVERRIDE;
	if (plan->signal_command)
		keep |= 1ULL << CAP_KILL;
	return keep;
}

static int set_capabilities(__u64 keep)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	for (int i = 0; i < 2; i++) {
		data[i].effective = (__u32)(keep >> (32 * i));
		data[i].permitted = (__u32)(keep >> (32 * i));
	}
	return syscall(SYS_capset, &header, data) ? -1 : 0;
}

static int become(const struct privilege_plan *plan)
{
	/* Capabilities survive the change of user only when asked to. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(1, &plan->gid) ||
	    setresgid(plan->gid, plan->gid, plan->gid) ||
	    setresuid(plan->uid, plan->uid, plan->uid) ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)) {
		fprintf(stderr, "pfwatch: --user %s: cannot switch to it: %s\n", plan->user,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void describe(const struct privilege_plan *plan, __u64 keep)
{
	static const struct { int cap; const char *name; } names[] = {
		{ CAP_BPF, "cap_bpf" }, { CAP_SYS_PTRACE, "cap_sys_ptrace" },
		{ CAP_DAC_READ_SEARCH, "cap_dac_read_search" },
		{ CAP_DAC_OVERRIDE, "cap_dac_override" }, { CAP_KILL, "cap_kill" },
	};
	const char *separator = "";

	fprintf(stderr, "pfwatch: privileges dropped: running as %s, keeping ",
		plan->user ? plan->user : "the caller's user");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (keep & 1ULL << names[i].cap) {
			fprintf(stderr, "%s%s", separator, names[i].name);
			separator = ", ";
		}
	fputc('\n', stderr);
}

int privileges_drop(const struct privilege_plan *plan, bool verbose)
{
	__u64 keep = kept_capabilities(plan);
	int last = last_capability();

	/* From the bounding set first: that needs CAP_SETPCAP, dropped next.
	 * Without it (CAP_BPF and CAP_PERFMON only) no_new_privs below still
	 * keeps an exec from gaining any. */
	for (int cap = 0; cap <= last; cap++) {
		if (keep & 1ULL << cap || !prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) ||
		    errno == EINVAL)
			continue;
		if (errno == EPERM)
			break;
		fprintf(stderr, "pfwatch: cannot drop capabilities: %s\n", strerror(errno));
		return -1;
	}
	if (plan->user && become(plan))
		return -1;
	if (set_capabilities(keep) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, "pfwatch: cannot drop capabilities: %s\n", strerror(errno));
		return -1;
	}
	if (verbose)
		describe(plan, keep);
	return 0;
}
