/* /proc/PID/status: the few fields the live screen shows. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "proc_status.h"

int proc_status_parse(FILE *in, struct proc_status *out)
{
	char line[256];
	unsigned long long rss;
	unsigned uid;
	int ppid;
	int seen = 0;

	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "PPid: %d", &ppid) == 1) {
			out->ppid = (pid_t)ppid;
			seen |= 1;
		} else if (sscanf(line, "Uid: %u", &uid) == 1) {
			out->uid = (uid_t)uid;
			seen |= 2;
		} else if (sscanf(line, "VmRSS: %llu kB", &rss) == 1) {
			out->rss_kib = rss;	/* absent for kernel threads */
		}
	}
	return seen == 3 ? 0 : -EINVAL;
}

int proc_status_read(pid_t pid, struct proc_status *out)
{
	char path[32];
	FILE *in;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	in = fopen(path, "re");
	if (!in)
		return -errno;
	err = proc_status_parse(in, out);
	fclose(in);
	return err;
}
