/* Running the traced command. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run_command.h"

/* In the child: restore what pfwatch changed, then become the command. */
static void exec_child(char **argv, int report_fd)
{
	int err;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	err = errno;
	/* The parent reads this to tell "cannot run" from "ran and failed". */
	if (write(report_fd, &err, sizeof(err)) != sizeof(err))
		_exit(127);
	_exit(127);
}

pid_t command_start(char **argv)
{
	int report[2], err = 0;
	ssize_t got;
	pid_t pid;

	/* Not fatal: without it, orphans' faults are only missing from the
	 * rusage figure, which then says nothing of them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		fprintf(stderr, "pfwatch: cannot become the command's subreaper: %s; the rusage figure leaves out its orphans\n",
			strerror(errno));
	if (pipe2(report, O_CLOEXEC)) {
		fprintf(stderr, "pfwatch: cannot create a pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pfwatch: cannot fork: %s\n", strerror(errno));
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (pid == 0) {
		close(report[0]);
		exec_child(argv, report[1]);
	}
	close(report[1]);
	do
		got = read(report[0], &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	close(report[0]);
	if (got == 0)
		return pid;	/* exec succeeded: the pipe closed on exec */
	waitpid(pid, NULL, 0);
	fprintf(stderr, "pfwatch: cannot run '%s': %s\n", argv[0],
		strerror(got == sizeof(err) ? err : EIO));
	return -1;
}

bool command_reap(pid_t pid, bool block, int *status, struct rusage *usage)
{
	int wstatus;
	pid_t got;

	do
		got = wait4(pid, &wstatus, block ? 0 : WNOHANG, usage);
	while (got < 0 && errno == EINTR && block);
	if (got < 0 && errno == ECHILD) {	/* reaped elsewhere: nothing to wait for */
		*status = 127;
		memset(usage, 0, sizeof(*usage));
		return true;
	}
	if (got != pid)
		return false;
	if (WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	else
		*status = 128 + WTERMSIG(wstatus);
	return true;
}

void orphans_reap(pid_t pid, struct orphans *orphans)
{
	struct rusage usage;
	siginfo_t exited;

	for (;;) {
		/* Look first (WNOWAIT): the command is command_reap()'s. */
		memset(&exited, 0, sizeof(exited));
		if (waitid(P_ALL, 0, &exited, WEXITED | WNOHANG | WNOWAIT)) {
			orphans->running = false;	/* ECHILD: no child left */
			return;
		}
		orphans->running = true;
		if (!exited.si_pid || exited.si_pid == pid ||
		    wait4(exited.si_pid, NULL, WNOHANG, &usage) != exited.si_pid)
			return;
		orphans->reaped++;
		orphans->minflt += (unsigned long long)usage.ru_minflt;
		orphans->majflt += (unsigned long long)usage.ru_majflt;
	}
}
