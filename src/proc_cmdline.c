/* --expose-cmdline: the command lines of the busiest live processes. */
#include <stdlib.h>
#include <string.h>
#include "proc_cmdline.h"
#include "proc_status.h"

size_t read_cmdlines(const struct aggregate *agg,
		     struct process_cmdline cmdlines[CMDLINE_PROCESSES])
{
	size_t nr_live = 0, nr_cmdlines = 0;
	struct process_record **live = calloc(agg->nr_records + 1, sizeof(*live));

	if (!live)
		return 0;	/* the scrape goes on without them */
	for (size_t i = 0; i < agg->nr_records; i++)
		if (!agg->records[i]->exited && agg->records[i]->tgid)
			live[nr_live++] = agg->records[i];
	qsort(live, nr_live, sizeof(*live), records_by_time_in_faults);
	for (size_t i = 0; i < nr_live && nr_cmdlines < CMDLINE_PROCESSES; i++) {
		struct process_cmdline *out = &cmdlines[nr_cmdlines];

		/* Gone, or a kernel thread (no command line): left out. */
		if (proc_cmdline_read((pid_t)live[i]->tgid, out->cmdline,
				      sizeof(out->cmdline)) || !out->cmdline[0])
			continue;
		out->pid = live[i]->tgid;
		memcpy(out->comm, live[i]->comm, COMM_LEN);
		nr_cmdlines++;
	}
	free(live);
	return nr_cmdlines;
}
