/*
 * fuzz.h: what every libFuzzer target shares.  FUZZ_CHECK aborts (and so
 * fails the run with a reproducer) when a property the code promises does
 * not hold; sanitizer reports and leaks fail the run by themselves.
 */
#ifndef EVENTBOX_FUZZ_H
#define EVENTBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
