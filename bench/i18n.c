/*
 * bench/i18n.c: what choosing and using a language costs a request: the
 * catalogues' load (once, before the workers fork), Accept-Language,
 * a translated string found and not found, and a date line.
 *
 *   cc -O2 -D_GNU_SOURCE -Isrc -DEVENTBOX_LOCALEDIR_DEFAULT='""' \
 *       -o build/bench-i18n bench/i18n.c src/i18n.c src/i18n_time.c \
 *       src/i18n_plural.c src/buf.c src/log.c && make locale &&
 *   build/bench-i18n
 *
 * docs/PERFORMANCE.md keeps a result.
 */
#include <stdio.h>
#include <time.h>

#include "i18n.h"

#define N	1000000

static double
now(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(void)
{
	volatile const char	*r;
	struct buf		 b = BUF_INIT;
	double			 t0, t1;
	int			 i, n;

	t0 = now();
	n = i18n_load("build/locale");
	t1 = now();
	printf("load %d catalogue(s): %.3f ms\n", n, (t1 - t0) * 1e3);
	t0 = now();
	for (i = 0; i < N; i++)
		r = i18n_negotiate(NULL, "es-MX,es;q=0.9,en-US;q=0.8,en;q=0.7");
	t1 = now();
	printf("i18n_negotiate: %.0f ns\n", (t1 - t0) / N * 1e9);
	i18n_use("es");
	t0 = now();
	for (i = 0; i < N; i++)
		r = _("This is an online event. The link to join is sent in "
		    "the registration email.");
	t1 = now();
	printf("_() found: %.0f ns\n", (t1 - t0) / N * 1e9);
	t0 = now();
	for (i = 0; i < N; i++)
		r = _("a string that is in no catalogue");
	t1 = now();
	printf("_() not found: %.0f ns\n", (t1 - t0) / N * 1e9);
	t0 = now();
	for (i = 0; i < N / 10; i++) {
		buf_reset(&b);
		i18n_when(&b, "20261216T140000", "20261216T150000",
		    "America/New_York");
	}
	t1 = now();
	printf("i18n_when: %.0f ns (%s)\n", (t1 - t0) / (N / 10) * 1e9,
	    b.data);
	(void)r;
	buf_free(&b);
	return 0;
}
