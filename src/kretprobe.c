/* Return probes made through tracefs's kprobe_events, with instances. */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kretprobe.h"

/* One line into kprobe_events; 0 or -errno. */
static int write_probe_events(const char *tracefs, const char *line)
{
	char path[256];
	ssize_t written;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	written = write(fd, line, strlen(line));
	if (written < 0)
		err = -errno;
	else if ((size_t)written != strlen(line))
		err = -EIO;
	close(fd);
	return err;
}

static int read_event_id(const char *tracefs, const char *event, __u64 *id)
{
	char path[256];
	unsigned long long value;
	FILE *in;
	int n;

	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs, event);
	in = fopen(path, "re");
	if (!in)
		return -errno;
	n = fscanf(in, "%llu", &value);
	fclose(in);
	if (n != 1)
		return -EINVAL;
	*id = value;
	return 0;
}

/* A tracepoint-type perf event: its BPF program runs on every CPU. */
static int open_event(__u64 id)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = id,
	};

	return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Does the PID that ends @event ("pfwatch/FUNC_PID") no longer run? */
static bool run_is_gone(const char *event)
{
	const char *digits = strrchr(event, '_');
	char *end;
	long pid;

	if (!digits)
		return false;
	pid = strtol(digits + 1, &end, 10);
	return *end == '\0' && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* A run killed by SIGKILL leaves its event behind; remove those of runs
 * that are gone (at most STALE_MAX a start: they are rare). */
#define STALE_MAX 16
static void sweep_stale_probes(const char *tracefs)
{
	/* "-:EVENT\n", the event at most as long as struct kretprobe's */
	char path[256], line[256], stale[STALE_MAX][sizeof(((struct kretprobe *)0)->event) + 3];
	int n = 0;
	FILE *in;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs);
	in = fopen(path, "re");
	if (!in)
		return;
	/* Lines of "r4096:pfwatch/handle_mm_fault_1234 handle_mm_fault". */
	while (n < STALE_MAX && fgets(line, sizeof(line), in)) {
		char *event = strchr(line, ':'), *space;

		if (!event || strncmp(event + 1, "pfwatch/", 8))
			continue;
		event++;
		space = strchr(event, ' ');
		if (!space || space - event >= (long)sizeof(stale[0]) - 3)
			continue;
		*space = '\0';
		if (run_is_gone(event))
			snprintf(stale[n++], sizeof(stale[0]), "-:%s\n", event);
	}
	fclose(in);
	/* One still in use is refused (EBUSY), as a live run's in another PID
	 * namespace, whose PID means nothing here; it stays, as it was. */
	for (int i = 0; i < n; i++)
		(void)write_probe_events(tracefs, stale[i]);
}

int kretprobe_attach(struct kretprobe *probe, const char *tracefs,
		     struct bpf_program *prog, const char *func)
{
	char line[192];
	__u64 id = 0;
	int err;

	probe->fd = -1;
	probe->link = NULL;
	sweep_stale_probes(tracefs);
	/* kprobe_profile names events without their group: the PID goes in
	 * the event's name, so that two pfwatch runs count their own misses. */
	snprintf(probe->event, sizeof(probe->event), "pfwatch/%s_%d", func, (int)getpid());
	snprintf(line, sizeof(line), "r%d:%s %s\n", KRETPROBE_INSTANCES, probe->event, func);
	err = write_probe_events(tracefs, line);
	if (err) {
		probe->event[0] = '\0';
		return err;
	}
	err = read_event_id(tracefs, probe->event, &id);
	if (!err) {
		probe->fd = open_event(id);
		err = probe->fd < 0 ? -errno : 0;
	}
	if (!err) {
		probe->link = bpf_program__attach_perf_event(prog, probe->fd);
		err = probe->link ? 0 : -errno;
	}
	if (err)
		kretprobe_detach(probe, tracefs);
	return err;
}

__u64 kretprobe_missed(const struct kretprobe *probe, const char *tracefs)
{
	char path[256], name[128];
	unsigned long long hits, missed, total = 0;
	FILE *in;

	if (!probe->event[0])
		return 0;
	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs);
	in = fopen(path, "re");
	if (!in)
		return 0;
	/* Lines of "EVENT HITS MISSED"; the event is named without its group. */
	while (fscanf(in, "%127s %llu %llu", name, &hits, &missed) == 3)
		if (!strcmp(name, strchr(probe->event, '/') + 1))
			total += missed;
	fclose(in);
	return total;
}

void kretprobe_detach(struct kretprobe *probe, const char *tracefs)
{
	char line[96];

	if (!probe->event[0])	/* never made (a zeroed tracer's) */
		return;
	bpf_link__destroy(probe->link);
	probe->link = NULL;
	if (probe->fd >= 0)
		close(probe->fd);
	probe->fd = -1;
	snprintf(line, sizeof(line), "-:%s\n", probe->event);
	/* Nothing to do when it fails: the event outlives pfwatch, unused. */
	(void)write_probe_events(tracefs, line);
	probe->event[0] = '\0';
}
