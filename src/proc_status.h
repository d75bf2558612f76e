/* What /proc/PID/status says about a process: owner, parent, resident size. */
#ifndef PFWATCH_PROC_STATUS_H
#define PFWATCH_PROC_STATUS_H

#include <stdio.h>
#include <sys/types.h>
#include "pfwatch.h"

struct proc_status {
	uid_t uid;		/* real user */
	pid_t ppid;
	__u64 rss_kib;		/* 0 for kernel threads and zombies */
};

/* 0, or -errno (-ENOENT: the process is gone). */
int proc_status_read(pid_t pid, struct proc_status *out);
/* /proc/PID/cmdline, arguments joined by spaces and cut to fit @size;
 * 0, or -errno. */
int proc_cmdline_read(pid_t pid, char *buf, size_t size);
/* The same from an open status file: the parser, for tests. */
int proc_status_parse(FILE *in, struct proc_status *out);

#endif
