/* /proc/PID/status parsing, against a sample and against ourselves. */
#include <errno.h>
#include <unistd.h>
#include "check.h"
#include "proc_status.h"

static void parses_a_sample(void)
{
	static const char sample[] =
		"Name:\tpostgres\nUmask:\t0077\nState:\tS (sleeping)\n"
		"Tgid:\t812\nNgid:\t0\nPid:\t812\nPPid:\t1\nTracerPid:\t0\n"
		"Uid:\t105\t105\t105\t105\nGid:\t110\t110\t110\t110\n"
		"VmPeak:\t  220000 kB\nVmRSS:\t   28672 kB\nThreads:\t1\n";
	FILE *in = fmemopen((void *)sample, sizeof(sample) - 1, "r");
	struct proc_status status;

	CHECK(in, "fmemopen");
	if (!in)
		return;
	CHECK(proc_status_parse(in, &status) == 0, "sample not parsed");
	CHECK(status.ppid == 1 && status.uid == 105 && status.rss_kib == 28672,
	      "ppid %d uid %u rss %llu", (int)status.ppid, (unsigned)status.uid,
	      (unsigned long long)status.rss_kib);
	fclose(in);
}

static void rejects_a_file_without_the_fields(void)
{
	static const char junk[] = "Name:\tx\nnothing else\n";
	FILE *in = fmemopen((void *)junk, sizeof(junk) - 1, "r");
	struct proc_status status;

	CHECK(in, "fmemopen");
	if (!in)
		return;
	CHECK(proc_status_parse(in, &status) == -EINVAL, "junk accepted");
	fclose(in);
}

static void reads_this_process(void)
{
	struct proc_status status;

	CHECK(proc_status_read(getpid(), &status) == 0, "own status unreadable");
	CHECK(status.ppid == getppid() && status.uid == getuid() &&
	      status.rss_kib > 0, "ppid %d uid %u rss %llu", (int)status.ppid,
	      (unsigned)status.uid, (unsigned long long)status.rss_kib);
	CHECK(proc_status_read(0x3fffffff, &status) == -ENOENT,
	      "a PID that cannot exist was read");
}

int main(void)
{
	check.binary = "test_proc_status";
	RUN(parses_a_sample);
	RUN(rejects_a_file_without_the_fields);
	RUN(reads_this_process);
	return check.failures ? 1 : 0;
}
