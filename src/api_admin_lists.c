/*
 * api_admin_lists.c: the lists staff read (JSON).  Offers the handlers of
 *
 *   GET /api/v1/admin/events                 every event, drafts too
 *   GET /api/v1/admin/audit                  the audit log, newest first
 *   GET /api/v1/admin/events/{id}/waitlist   the waiting list, in order
 *
 * and admin_query(), the staff API's reading of a query (api_admin.h).
 * Each is paged (page, per_page) and filtered from the query string; the
 * functions behind them (sql/rules/76_admin_lists.sql) check the staff key
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "api_admin.h"
#include "buf.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "query.h"
#include "validate.h"

#define PER_PAGE_DEFAULT	50
#define PER_PAGE_MAX		1000

static const char *const statuses[] = { "draft", "published", "cancelled",
	NULL };

enum { E_STATUS, E_CATEGORY, E_FROM, E_TO, E_Q, E_PAGE, E_PER_PAGE, E__MAX };

static const struct query_param event_params[E__MAX] = {
	[E_STATUS] = { "status", Q_ONEOF, 0, 0, 0, statuses, NULL },
	[E_CATEGORY] = { "category", Q_TEXT, 0, ORG_MAX_CHARS, 0, NULL, NULL },
	[E_FROM] = { "from", Q_DATE, 0, 0, 0, NULL,
	    N_("from and to are dates: YYYY-MM-DD") },
	[E_TO] = { "to", Q_DATE, 0, 0, 0, NULL,
	    N_("from and to are dates: YYYY-MM-DD") },
	[E_Q] = { "q", Q_TEXT, 0, QUERY_TEXT_MAX, 0, NULL, NULL },
	[E_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[E_PER_PAGE] = { "per_page", Q_INT, 1, PER_PAGE_MAX, PER_PAGE_DEFAULT,
	    NULL, NULL },
};

enum { A_EVENT, A_ACTION, A_BEFORE, A_PAGE, A_PER_PAGE, A__MAX };

static const struct query_param audit_params[A__MAX] = {
	[A_EVENT] = { "event", Q_TEXT, 0, 100, 0, NULL, NULL },
	[A_ACTION] = { "action", Q_TEXT, 0, 100, 0, NULL, NULL },
	/* An entry's id: the ones older than it (a script paging back while
	 * staff work reads each once; page numbers shift as entries come). */
	[A_BEFORE] = { "before", Q_INT, 1, 999999999999999999LL, 0, NULL,
	    NULL },
	[A_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[A_PER_PAGE] = { "per_page", Q_INT, 1, PER_PAGE_MAX, PER_PAGE_DEFAULT,
	    NULL, NULL },
};

enum { W_PAGE, W_PER_PAGE, W__MAX };

static const struct query_param waitlist_params[W__MAX] = {
	[W_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[W_PER_PAGE] = { "per_page", Q_INT, 1, PER_PAGE_MAX, PER_PAGE_DEFAULT,
	    NULL, NULL },
};

int
admin_query(struct request *req, struct response *resp,
    const struct query_param *params, size_t n, struct query_value *v)
{
	/* Every route reads ?lang= (router.c). */
	static const char *const also[] = { "lang", NULL };
	char	 msg[QUERY_MESSAGE_MAX], name[41];
	struct buf	 keys = BUF_INIT;
	size_t	 bad, i;

	if (query_parse(req->query, params, n, v, &bad) == -1) {
		query_message(&params[bad], &v[bad], msg, sizeof(msg));
		answer_error(req, resp, 400, "invalid_query", msg);
		return -1;
	}
	if (query_unknown(req->query, params, n, also, name,
	    sizeof(name)) == 1) {
		for (i = 0; i < n; i++)
			buf_printf(&keys, "%s%s", i == 0 ? "" : ", ",
			    params[i].key);
		snprintf(msg, sizeof(msg), _("%s: not a parameter of this "
		    "list, which takes %s"), name, buf_str(&keys));
		buf_free(&keys);
		answer_error(req, resp, 400, "invalid_query", msg);
		return -1;
	}
	return 0;
}

static const char *
opt(const struct query_value *v)
{
	return v->present ? v->text : NULL;
}

/* LIMIT and OFFSET of page (from 1) of per_page rows. */
static void
paging(long long page, long long per_page, char *limit, char *offset,
    size_t sz)
{
	snprintf(limit, sz, "%lld", per_page);
	snprintf(offset, sz, "%lld", (page - 1) * per_page);
}

/* Adds page, per_page and total (from row 0) and answers 200. */
static void
answer_page(struct response *resp, cJSON *root, const PGresult *res,
    long long page, long long per_page)
{
	json_add_number(root, "page", (double)page);
	json_add_number(root, "per_page", (double)per_page);
	json_add_number(root, "total", db_number(res, 0, "total"));
	json_answer(resp, 200, root);
}

/*
 * GET /api/v1/admin/events: every event, drafts included, in start order;
 * filters status (draft|published|cancelled), category, from, to
 * (YYYY-MM-DD, UTC), q; page, per_page (1..1000, 50).  200 {events, page,
 * per_page, total}; 400 invalid_query; 401; 503.
 */
void
h_admin_events_list(struct request *req, struct response *resp)
{
	struct query_value	 v[E__MAX];
	char			 limit[24], offset[24];
	const char		*vals[8];
	PGresult		*res;
	cJSON			*root, *arr;
	int			 i;

	if (admin_query(req, resp, event_params, E__MAX, v) == -1)
		return;
	if (query_date_range(&v[E_FROM], &v[E_TO]) == -1) {
		answer_error(req, resp, 400, "invalid_query",
		    QUERY_RANGE_MESSAGE);
		return;
	}
	paging(v[E_PAGE].num, v[E_PER_PAGE].num, limit, offset, sizeof(limit));
	vals[0] = req->api_key;
	vals[1] = opt(&v[E_STATUS]);
	vals[2] = opt(&v[E_CATEGORY]);
	vals[3] = opt(&v[E_FROM]);
	vals[4] = opt(&v[E_TO]);
	vals[5] = opt(&v[E_Q]);
	vals[6] = limit;
	vals[7] = offset;
	if ((res = db_fetch(req, resp, STMT_ADMIN_EVENT_LIST, 8, vals,
	    MISSING_OK)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "events");
	for (i = 0; i < PQntuples(res); i++)
		if (!db_isnull(res, i, "id"))
			cJSON_AddItemToArray(arr, json_admin_event(res, i));
	answer_page(resp, root, res, v[E_PAGE].num, v[E_PER_PAGE].num);
	PQclear(res);
}

/*
 * GET /api/v1/admin/audit: the audit log, newest first; filters event (id
 * or slug), action, before (an entry's id); page, per_page (1..1000, 50).  200 {entries, page,
 * per_page, total}; 400 invalid_query; 401; 404 unknown event; 503.
 */
void
h_admin_audit(struct request *req, struct response *resp)
{
	struct query_value	 v[A__MAX];
	char			 limit[24], offset[24];
	const char		*vals[6], *evals[2];
	char			 before[24];
	PGresult		*res, *ev;
	cJSON			*root, *arr, *o, *details;
	int			 i;

	if (admin_query(req, resp, audit_params, A__MAX, v) == -1)
		return;
	if (v[A_EVENT].present) {
		evals[0] = req->api_key;
		evals[1] = v[A_EVENT].text;
		if (!event_ref_valid(v[A_EVENT].text, v[A_EVENT].len)) {
			answer_missing(req, resp, MISSING_EVENT);
			return;
		}
		if ((ev = db_fetch(req, resp, STMT_ADMIN_EVENT, 2, evals,
		    MISSING_EVENT)) == NULL)
			return;
		PQclear(ev);
	}
	paging(v[A_PAGE].num, v[A_PER_PAGE].num, limit, offset, sizeof(limit));
	vals[0] = req->api_key;
	vals[1] = opt(&v[A_EVENT]);
	vals[2] = opt(&v[A_ACTION]);
	vals[3] = limit;
	vals[4] = offset;
	snprintf(before, sizeof(before), "%lld", v[A_BEFORE].num);
	vals[5] = v[A_BEFORE].present ? before : NULL;
	if ((res = db_fetch(req, resp, STMT_ADMIN_AUDIT, 6, vals,
	    MISSING_OK)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "entries");
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "id"))
			continue;
		o = json_new_object();
		json_add_number(o, "id", db_number(res, i, "id"));
		json_add_string(o, "at", db_value(res, i, "at"));
		json_add_string(o, "actor", db_value(res, i, "actor"));
		json_add_string(o, "via", db_value(res, i, "via"));
		json_add_string(o, "action", db_value(res, i, "action"));
		if (db_isnull(res, i, "event_id"))
			json_add_null(o, "event_id");
		else
			json_add_number(o, "event_id",
			    db_number(res, i, "event_id"));
		if (db_isnull(res, i, "registration_id"))
			json_add_null(o, "registration_id");
		else
			json_add_number(o, "registration_id",
			    db_number(res, i, "registration_id"));
		/* jsonb from the database: parses, or the entry says null. */
		if ((details = cJSON_Parse(db_value(res, i, "details"))) != NULL)
			cJSON_AddItemToObject(o, "details", details);
		else
			json_add_null(o, "details");
		cJSON_AddItemToArray(arr, o);
	}
	answer_page(resp, root, res, v[A_PAGE].num, v[A_PER_PAGE].num);
	PQclear(res);
}

/*
 * GET /api/v1/admin/events/{id}/waitlist: the waiting list in order, each
 * with its place; page, per_page (1..1000, 50).  200 {waitlist, page,
 * per_page, total}; 400 invalid_query; 401; 404; 503.
 */
void
h_admin_waitlist(struct request *req, struct response *resp)
{
	struct query_value	 v[W__MAX];
	char			 limit[24], offset[24];
	PGresult		*res;
	cJSON			*root, *arr, *o;
	int			 i;

	if (admin_query(req, resp, waitlist_params, W__MAX, v) == -1)
		return;
	paging(v[W_PAGE].num, v[W_PER_PAGE].num, limit, offset, sizeof(limit));
	if ((res = admin_roster_query(req, resp, "waitlisted", limit,
	    offset)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "waitlist");
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "registration_id"))
			continue;
		o = json_new_object();
		json_add_number(o, "position", db_number(res, i, "position"));
		json_add_number(o, "id", db_number(res, i, "registration_id"));
		json_add_string(o, "name", db_value(res, i, "name"));
		json_add_string(o, "email", db_value(res, i, "email"));
		json_add_string_or_null(o, "library",
		    db_value(res, i, "library"));
		json_add_bool(o, "member", db_bool(res, i, "is_member"));
		json_add_string(o, "registered_at",
		    db_value(res, i, "registered_at"));
		cJSON_AddItemToArray(arr, o);
	}
	answer_page(resp, root, res, v[W_PAGE].num, v[W_PER_PAGE].num);
	PQclear(res);
}
