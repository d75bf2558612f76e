/*
 * libFuzzer target for the command line: any arguments (the input split
 * at NUL bytes) are accepted or refused with a message, never a crash.
 * Run it with -close_fd_mask=3: --help and the error lines are not what
 * is tested here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *args[MAX_ARGS + 2];
	struct report_options report;
	struct options opts;
	int argc = 1;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	args[0] = "pfwatch";
	for (size_t at = 0; at <= size && argc <= MAX_ARGS; argc++) {
		args[argc] = text + at;
		at += strlen(text + at) + 1;
	}
	args[argc] = NULL;
	if (argc > 1 && !strcmp(args[1], "report"))
		report_options_parse(&report, argc - 1, args + 1);
	else if (options_parse(&opts, argc, args) == OPTIONS_RUN && opts.command &&
		 !opts.command[0])
		abort();	/* "--" must be followed by a command */
	free(text);
	return 0;
}
