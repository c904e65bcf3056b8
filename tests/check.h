/*
 * check.h: the one assertion of the C unit tests.  CHECK counts instead of
 * stopping, so a run reports every failure; main() prints
 * "N passed, M failed" from the two counters (tests/run.sh reads that).
 */
#ifndef EVENTBOX_CHECK_H
#define EVENTBOX_CHECK_H

#include <stdio.h>

static int	 passed, failed;

#define CHECK(what, cond) do {						\
	if (cond)							\
		passed++;						\
	else {								\
		failed++;						\
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, what);	\
	}								\
} while (0)

#endif
