/*
 * api_events.c: the public event API.
 *
 *   GET /api/v1/events        upcoming published events, soonest first;
 *                             filters category, from, to (YYYY-MM-DD, UTC),
 *                             q (text); page, per_page (1..100, 20).
 *                             200, 400 on a malformed filter, 503.
 *   GET /api/v1/events/{id}   one event by id or slug (never drafts, never
 *                             the online URL).  200, 404, 503.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "json.h"
#include "validate.h"

#define PER_PAGE_DEFAULT	20
#define PER_PAGE_MAX		100

struct list_filter {
	char	 category[201];
	char	 from[11];
	char	 to[11];
	char	 q[QUERY_TEXT_MAX * 4 + 1];
	char	 page[12];
	char	 per_page[12];
	int	 has_category, has_from, has_to, has_q;
};

/* Reads one query parameter; 0 ok/absent, -1 invalid (error answered). */
static int
filter_param(struct request *req, struct response *resp, const char *key,
    char *dst, size_t dstsz, int *present)
{
	size_t	 len;
	int	 rc;

	rc = query_get(req->query, key, dst, dstsz, &len);
	if (rc == 0) {
		*present = 0;
		return 0;
	}
	if (rc == -1 || !utf8_valid(dst, len)) {
		char	 msg[96];

		snprintf(msg, sizeof(msg), "%s: malformed or too long", key);
		resp_error(req, resp, 400, "invalid_query", msg);
		return -1;
	}
	*present = len > 0;
	return 0;
}

void
h_events_list(struct request *req, struct response *resp)
{
	struct list_filter	 f;
	long long		 page = 1, per_page = PER_PAGE_DEFAULT;
	char			 limit[12], offset[24];
	const char		*vals[6];
	PGresult		*res;
	enum db_status		 st;
	cJSON			*root, *arr;
	int			 i, has_page, has_per;

	memset(&f, 0, sizeof(f));
	if (filter_param(req, resp, "category", f.category,
	    sizeof(f.category), &f.has_category) == -1 ||
	    filter_param(req, resp, "from", f.from, sizeof(f.from),
	    &f.has_from) == -1 ||
	    filter_param(req, resp, "to", f.to, sizeof(f.to), &f.has_to) == -1 ||
	    filter_param(req, resp, "q", f.q, sizeof(f.q), &f.has_q) == -1 ||
	    filter_param(req, resp, "page", f.page, sizeof(f.page),
	    &has_page) == -1 ||
	    filter_param(req, resp, "per_page", f.per_page,
	    sizeof(f.per_page), &has_per) == -1)
		return;
	if ((f.has_from && !date_valid(f.from, strlen(f.from))) ||
	    (f.has_to && !date_valid(f.to, strlen(f.to)))) {
		resp_error(req, resp, 400, "invalid_query",
		    "from and to are dates: YYYY-MM-DD");
		return;
	}
	if (has_page && parse_int(f.page, strlen(f.page), 1, 100000,
	    &page) == -1) {
		resp_error(req, resp, 400, "invalid_query",
		    "page: a whole number from 1");
		return;
	}
	if (has_per && parse_int(f.per_page, strlen(f.per_page), 1,
	    PER_PAGE_MAX, &per_page) == -1) {
		resp_error(req, resp, 400, "invalid_query",
		    "per_page: a whole number from 1 to 100");
		return;
	}
	snprintf(limit, sizeof(limit), "%lld", per_page);
	snprintf(offset, sizeof(offset), "%lld", (page - 1) * per_page);
	vals[0] = f.has_category ? f.category : NULL;
	vals[1] = f.has_from ? f.from : NULL;
	vals[2] = f.has_to ? f.to : NULL;
	vals[3] = f.has_q ? f.q : NULL;
	vals[4] = limit;
	vals[5] = offset;
	if ((st = db_query(STMT_EVENT_LIST, 6, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	root = json_new_object();
	arr = json_add_array(root, "events");
	for (i = 0; i < PQntuples(res); i++)
		if (!db_isnull(res, i, "id"))
			cJSON_AddItemToArray(arr, json_event(res, i));
	json_add_number(root, "page", (double)page);
	json_add_number(root, "per_page", (double)per_page);
	json_add_number(root, "total",
	    (double)strtoll(db_value(res, 0, "total"), NULL, 10));
	PQclear(res);
	json_write(&resp->body, root);
	cJSON_Delete(root);
}

void
h_event_get(struct request *req, struct response *resp)
{
	const char	*ref = req->args[0];
	PGresult	*res;
	enum db_status	 st;
	enum stmt	 s;
	long long	 id;
	cJSON		*o;

	if (!event_ref_valid(ref, req->args_len[0])) {
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return;
	}
	s = parse_int(ref, req->args_len[0], 1, 999999999999999999LL, &id) == 0 ?
	    STMT_EVENT_BY_ID : STMT_EVENT_BY_SLUG;
	if ((st = db_query(s, 1, &ref, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return;
	}
	o = json_event(res, 0);
	PQclear(res);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}
