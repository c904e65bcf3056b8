/*
 * libcal.c: the pure part of the LibCal-compatible API (see libcal.h and
 * api_libcal.c): its query and its lists of ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libcal.h"
#include "query.h"
#include "validate.h"

/*
 * "1,2,3" (positive ids, at most LIBCAL_IDS_MAX) to a PostgreSQL array
 * literal "{1,2,3}" in dst.  Returns 0, or -1 when malformed or when dst
 * is too small.
 */
int
libcal_id_list(const char *s, size_t len, char *dst, size_t dstsz)
{
	const char	*p = s, *end = s + len, *comma;
	long long	 id;
	size_t		 o = 0, n = 0;
	int		 w;

	if (dstsz < 3 || len == 0)
		return -1;
	dst[o++] = '{';
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (++n > LIBCAL_IDS_MAX || parse_int(p, (size_t)(comma - p), 1,
		    ID_MAX, &id) == -1)
			return -1;
		w = snprintf(dst + o, dstsz - o, "%s%lld", n > 1 ? "," : "",
		    id);
		if (w < 0 || (size_t)w >= dstsz - o)
			return -1;
		o += (size_t)w;
		if (comma == end)
			break;
		p = comma + 1;
	}
	if (o + 2 > dstsz)
		return -1;
	dst[o++] = '}';
	dst[o] = '\0';
	return 0;
}

enum { P_CAL_ID, P_DAYS, P_LIMIT, P_DATE, P_CATEGORY, P__MAX };

static const struct query_param params[P__MAX] = {
	[P_CAL_ID] = { "cal_id", Q_INT, 1, LIBCAL_CAL_ID_MAX, 1, NULL, NULL },
	[P_DAYS] = { "days", Q_INT, 1, LIBCAL_DAYS_MAX, LIBCAL_DAYS_DEFAULT,
	    NULL, NULL },
	[P_LIMIT] = { "limit", Q_INT, 1, LIBCAL_LIMIT_MAX,
	    LIBCAL_LIMIT_DEFAULT, NULL, NULL },
	[P_DATE] = { "date", Q_DATE, 0, 0, 0, NULL, NULL },
	[P_CATEGORY] = { "category", Q_TEXT, 0, LIBCAL_IDS_MAX * 20 - 1, 0,
	    NULL, "category: category ids, comma-separated" },
};

int
libcal_query_parse(const char *query, struct libcal_query *q, char *msg,
    size_t msgsz)
{
	struct query_value	 v[P__MAX];
	size_t			 bad;

	q->date[0] = q->cats[0] = '\0';
	if (query_parse(query, params, P__MAX, v, &bad) == -1) {
		query_message(&params[bad], msg, msgsz);
		return -1;
	}
	q->days = v[P_DAYS].num;
	q->limit = v[P_LIMIT].num;
	if (v[P_DATE].present)
		memcpy(q->date, v[P_DATE].text, sizeof(q->date));
	if (v[P_CATEGORY].present && libcal_id_list(v[P_CATEGORY].text,
	    v[P_CATEGORY].len, q->cats, sizeof(q->cats)) == -1) {
		query_message(&params[P_CATEGORY], msg, msgsz);
		return -1;
	}
	return 0;
}
