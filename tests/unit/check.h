/*
 * A tiny test harness. Each test function prints one line:
 * "PASS binary/test", "FAIL binary/test: why" or "SKIP binary/test: why";
 * tests/run.sh counts them. The binary exits 1 if any test failed.
 */
#ifndef PFWATCH_CHECK_H
#define PFWATCH_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Failure messages may be cut to fit: they are for a person to read. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

struct check_state {
	const char *binary;
	bool failed;		/* the current test */
	bool skipped;
	char why[512];
	int failures;		/* all tests */
};

/* Harness state, one per test binary (tests may use globals). */
static struct check_state check;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond) && !check.failed) {				\
			int at = snprintf(check.why, sizeof(check.why),	\
					  "%s:%d: ", __FILE__, __LINE__);	\
			snprintf(check.why + at, sizeof(check.why) - at,	\
				 __VA_ARGS__);				\
			check.failed = true;				\
		}							\
	} while (0)

#define SKIP_TEST(...)							\
	do {								\
		snprintf(check.why, sizeof(check.why), __VA_ARGS__);	\
		check.skipped = true;					\
		return;							\
	} while (0)

static inline void check_run(const char *name, void (*test)(void))
{
	check.failed = check.skipped = false;
	check.why[0] = '\0';
	test();
	if (check.failed) {
		printf("FAIL %s/%s: %s\n", check.binary, name, check.why);
		check.failures++;
	} else if (check.skipped) {
		printf("SKIP %s/%s: %s\n", check.binary, name, check.why);
	} else {
		printf("PASS %s/%s\n", check.binary, name);
	}
	fflush(stdout);
}

#define RUN(test) check_run(#test, test)

#endif
