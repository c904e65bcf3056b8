/*
 * libcal.h: the pure part of the LibCal-compatible API (api_libcal.c): its
 * query and id-list parsing, apart from the database so that unit tests
 * and fuzz_libcal can drive it.  Nothing here allocates.
 */
#ifndef EVENTBOX_LIBCAL_H
#define EVENTBOX_LIBCAL_H

#include <stddef.h>

#define LIBCAL_IDS_MAX		50
#define LIBCAL_IDS_SZ		(LIBCAL_IDS_MAX * 20 + 3)	/* "{...}" */
#define LIBCAL_DAYS_DEFAULT	30
#define LIBCAL_DAYS_MAX		365
#define LIBCAL_LIMIT_DEFAULT	20
#define LIBCAL_LIMIT_MAX	500
#define LIBCAL_CAL_ID_MAX	999999999LL	/* accepted, and ignored */

/* GET /1.1/events's parameters, checked. */
struct libcal_query {
	char		 date[11];	/* YYYY-MM-DD, "" for today */
	char		 cats[LIBCAL_IDS_SZ];	/* "{1,2}", "" for any */
	long long	 days;		/* 1..LIBCAL_DAYS_MAX */
	long long	 limit;		/* 1..LIBCAL_LIMIT_MAX */
};

/*
 * "1,2,3" (1..LIBCAL_IDS_MAX positive ids, len bytes, no NUL needed) to the
 * PostgreSQL array literal "{1,2,3}" in dst.  Returns 0, or -1 when
 * malformed or when it does not fit dstsz.
 */
int	 libcal_id_list(const char *, size_t len, char *dst, size_t dstsz);

/*
 * cal_id, days, limit, date and category from a raw query string (cal_id
 * checked and ignored).  Returns 0, or -1 with the client's message for the
 * 400 in msg.
 */
int	 libcal_query_parse(const char *query, struct libcal_query *,
	    char *msg, size_t msgsz);

#endif
