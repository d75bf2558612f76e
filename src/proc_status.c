/* /proc/PID/status: the few fields the live screen shows; and cmdline. */
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

int proc_cmdline_read(pid_t pid, char *buf, size_t size)
{
	char path[32];
	size_t got;
	FILE *file;

	if (!size)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	file = fopen(path, "re");
	if (!file)
		return -errno;
	got = fread(buf, 1, size - 1, file);
	fclose(file);
	buf[got] = '\0';
	/* Arguments end in NUL; the last one's is not a separator. */
	while (got && !buf[got - 1])
		got--;
	for (size_t i = 0; i < got; i++)
		if (!buf[i] || buf[i] == '\n')
			buf[i] = ' ';
	buf[got] = '\0';
	return 0;
}
