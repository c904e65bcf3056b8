/*
 * api_events.c: the public event API (JSON).  Offers the handlers of
 *
 *   GET /api/v1/events        upcoming published events, soonest first
 *   GET /api/v1/events/{id}   one event by id or slug
 *
 * Never drafts, never the online URL (the view has none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "log.h"
#include "query.h"
#include "validate.h"

#define PER_PAGE_DEFAULT	20
#define PER_PAGE_MAX		100

enum { P_CATEGORY, P_FROM, P_TO, P_Q, P_PAGE, P_PER_PAGE, P__MAX };

static const struct query_param list_params[P__MAX] = {
	[P_CATEGORY] = { "category", Q_TEXT, 0, ORG_MAX_CHARS, 0, NULL, NULL },
	[P_FROM] = { "from", Q_DATE, 0, 0, 0, NULL,
	    N_("from and to are dates: YYYY-MM-DD") },
	[P_TO] = { "to", Q_DATE, 0, 0, 0, NULL,
	    N_("from and to are dates: YYYY-MM-DD") },
	[P_Q] = { "q", Q_TEXT, 0, QUERY_TEXT_MAX, 0, NULL, NULL },
	[P_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[P_PER_PAGE] = { "per_page", Q_INT, 1, PER_PAGE_MAX, PER_PAGE_DEFAULT,
	    NULL, NULL },
};

/*
 * GET /api/v1/events: filters category, from, to (YYYY-MM-DD, UTC), q
 * (text in title, description, presenter); page, per_page (1..100, 20).
 * 200 {events, page, per_page, total}; 400 invalid_query; 503.
 */
void
h_events_list(struct request *req, struct response *resp)
{
	struct query_value	 v[P__MAX];
	char			 limit[24], offset[24], msg[QUERY_MESSAGE_MAX];
	const char		*vals[6];
	PGresult		*res;
	cJSON			*root;
	struct buf		 events = BUF_INIT;
	size_t			 bad;
	int			 i;

	if (query_parse(req->query, list_params, P__MAX, v, &bad) == -1) {
		query_message(&list_params[bad], &v[bad], msg, sizeof(msg));
		answer_error(req, resp, 400, "invalid_query", msg);
		return;
	}
	if (query_date_range(&v[P_FROM], &v[P_TO]) == -1) {
		answer_error(req, resp, 400, "invalid_query",
		    QUERY_RANGE_MESSAGE);
		return;
	}
	snprintf(limit, sizeof(limit), "%lld", v[P_PER_PAGE].num);
	snprintf(offset, sizeof(offset), "%lld",
	    (v[P_PAGE].num - 1) * v[P_PER_PAGE].num);
	vals[0] = v[P_CATEGORY].present ? v[P_CATEGORY].text : NULL;
	vals[1] = v[P_FROM].present ? v[P_FROM].text : NULL;
	vals[2] = v[P_TO].present ? v[P_TO].text : NULL;
	vals[3] = v[P_Q].present ? v[P_Q].text : NULL;
	vals[4] = limit;
	vals[5] = offset;
	if ((res = db_fetch(req, resp, STMT_EVENT_LIST, 6, vals,
	    MISSING_OK)) == NULL)
		return;
	buf_addc(&events, '[');
	for (i = 0; i < PQntuples(res); i++)
		if (!db_isnull(res, i, "id")) {
			if (events.len > 1)
				buf_addc(&events, ',');
			json_put_event(&events, res, i);
		}
	buf_addc(&events, ']');
	root = json_new_object();
	if (cJSON_AddRawToObject(root, "events", buf_str(&events)) == NULL)
		fatalx("out of memory building JSON");
	buf_free(&events);
	json_add_number(root, "page", (double)v[P_PAGE].num);
	json_add_number(root, "per_page", (double)v[P_PER_PAGE].num);
	json_add_number(root, "total",
	    (double)strtoll(db_value(res, 0, "total"), NULL, 10));
	json_answer(resp, 200, root);
	PQclear(res);
}

/*
 * GET /api/v1/events/{id}: one published (or cancelled) event by id or
 * slug, with seats_available and waitlist_available.  200; 404; 503.
 */
void
h_event_get(struct request *req, struct response *resp)
{
	const char	*ref = req->args[0];
	PGresult	*res;
	long long	 id;
	enum stmt	 s;

	if (!event_ref_valid(ref, req->args_len[0])) {
		answer_missing(req, resp, MISSING_EVENT);
		return;
	}
	s = id_parse(ref, req->args_len[0], &id) == 0 ?
	    STMT_EVENT_BY_ID : STMT_EVENT_BY_SLUG;
	if ((res = db_fetch(req, resp, s, 1, &ref, MISSING_EVENT)) == NULL)
		return;
	json_put_event(json_answer_text(resp, 200), res, 0);
	PQclear(res);
}
