/*
 * A return probe with room for many faults in flight at once. The perf
 * kprobe PMU, libbpf 1.1's way, takes the kernel's default number of
 * instances (one per CPU without CONFIG_PREEMPTION, twice that with it):
 * each thread asleep in handle_mm_fault holds one, and the next returns
 * past the limit go unseen. tracefs's kprobe_events takes the number.
 */
#ifndef PFWATCH_KRETPROBE_H
#define PFWATCH_KRETPROBE_H

#include <bpf/libbpf.h>
#include "pfwatch.h"

/* The kernel's limit (KRETPROBE_MAXACTIVE_MAX). */
#define KRETPROBE_INSTANCES 4096

struct kretprobe {
	char event[64];		/* "pfwatch/FUNC_PID", the tracefs event */
	int fd;			/* its perf event, -1 when closed */
	struct bpf_link *link;
};

/*
 * Creates the return probe of @func with KRETPROBE_INSTANCES instances
 * under @tracefs and runs @prog on it. 0, or -errno (-ENOENT: no
 * kprobe_events there); nothing is left behind on failure.
 */
int kretprobe_attach(struct kretprobe *probe, const char *tracefs,
		     struct bpf_program *prog, const char *func);
/* Returns the kernel missed for want of an instance (kprobe_profile). */
__u64 kretprobe_missed(const struct kretprobe *probe, const char *tracefs);
/* Detaches and removes the event; safe on a zeroed probe. */
void kretprobe_detach(struct kretprobe *probe, const char *tracefs);

#endif
