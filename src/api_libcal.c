/*
 * api_libcal.c: a LibCal-compatible read API (Springshare's API 1.1), so
 * that a library moving from LibCal keeps its website widgets.  LibCal's
 * field names where they apply; never the online URL.  Offers the
 * handlers of
 *
 *   GET /1.1/calendars, GET /1.1/categories/{cal_id}
 *   GET /1.1/events?cal_id=&date=&days=&limit=&page=&category=&search=
 *   GET /1.1/event_search?... (the same)
 *   GET /1.1/events/{id[,id...]}, GET /1.1/event/{id[,id...]}
 *   GET /1.1/events/{id[,id...]}/registrations[?waitlist=1]
 *       (a staff key, or an OAuth token of a client allowed to)
 *
 * (and each under /api/1.1/ too: the router strips "/api").  The OAuth
 * token endpoint is api_oauth.c's.  The parsing of the query and of id
 * lists is libcal.c's (pure, fuzzed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "libcal.h"
#include "query.h"
#include "router.h"
#include "validate.h"

/*
 * The one calendar's id and name.  Its public URL is LibCal's
 * "public" key: flat in an event's calendar, under "url" in
 * /1.1/calendars.
 */
static void
add_calendar(cJSON *cal, const char *id_key)
{
	json_add_number(cal, id_key, (double)cfg.calendar_id);
	json_add_string(cal, "name", cfg.calendar_name);
}

/* An absolute URL of a path on this site, or "". */
static void
add_site_url(cJSON *o, const char *key, const char *path)
{
	struct buf	 b = BUF_INIT;

	if (*path != '\0')
		buf_printf(&b, "%s%s", cfg.base_url, path);
	json_add_string(o, key, *path != '\0' ? b.data : "");
	buf_free(&b);
}

/*
 * One event in LibCal's shape: every key LibCal's clients index into is
 * there, with LibCal's type ("" or [] when eventbox has nothing for it).
 */
static cJSON *
libcal_event(const PGresult *res, int row)
{
	cJSON		*o = json_new_object(), *u, *loc, *owner, *cal, *campus;
	const char	*format = db_value(res, row, "format");

	json_add_number(o, "id", db_number(res, row, "id"));
	json_add_string(o, "title", db_value(res, row, "title"));
	json_add_bool(o, "allday", 0);
	json_add_string(o, "start", db_value(res, row, "start"));
	json_add_string(o, "end", db_value(res, row, "end"));
	json_add_string(o, "description", db_value(res, row, "description"));
	u = json_add_object(o, "url");
	json_add_event_url(u, "public", db_value(res, row, "slug"));
	loc = json_add_object(o, "location");
	json_add_number(loc, "id", 0);
	json_add_number(loc, "type", 0);
	json_add_string(loc, "name", *db_value(res, row, "location") != '\0' ?
	    db_value(res, row, "location") :
	    strcmp(format, "online") == 0 ? "Online" : "");
	campus = json_add_object(o, "campus");
	json_add_number(campus, "id", *cfg.campus != '\0' ? 1 : 0);
	json_add_string(campus, "name", cfg.campus);
	json_add_string(o, "presenter", db_value(res, row, "presenter"));
	json_add_bool(o, "registration", 1);
	json_add_array_text(o, "category", db_value(res, row, "category"));
	owner = json_add_object(o, "owner");
	json_add_number(owner, "id", 0);
	json_add_string(owner, "name", db_value(res, row, "organizer"));
	cal = json_add_object(o, "calendar");
	add_calendar(cal, "id");
	json_add_event_url(cal, "public", NULL);
	/* Who should attend, as LibCal's one audience (empty: none). */
	json_add_array_text(o, "audience", db_value(res, row, "audience"));
	json_add_array(o, "future_dates");	/* no series in eventbox */
	add_site_url(o, "featured_image", db_value(res, row, "image_path"));
	json_add_string(o, "more_info", "");
	json_add_string(o, "registration_cost", "");
	json_add_string(o, "color", "");
	json_add_number(o, "seats", db_number(res, row, "capacity"));
	json_add_number(o, "seats_taken",
	    db_number(res, row, "seats_taken"));
	json_add_number(o, "wait_list",
	    db_number(res, row, "wait_list"));
	json_add_bool(o, "has_registration_opened",
	    db_bool(res, row, "has_registration_opened"));
	json_add_bool(o, "has_registration_closed",
	    db_bool(res, row, "has_registration_closed"));
	json_add_bool(o, "online_event", strcmp(format, "in_person") != 0);
	json_add_bool(o, "members_only", db_bool(res, row, "members_only"));
	return o;
}

static void
answer_events(struct response *resp, PGresult *res)
{
	cJSON	*root = json_new_object(), *arr;
	int	 i;

	arr = json_add_array(root, "events");
	for (i = 0; i < PQntuples(res); i++)
		cJSON_AddItemToArray(arr, libcal_event(res, i));
	json_answer(resp, 200, root);
}

/*
 * GET /1.1/events and /1.1/event_search: published events whose local
 * date is date (default today in the event's zone) or one of the days
 * after it (30; 0 is that day only, over 365 is 365), at most limit (20,
 * over 500 is 500) from page (1), of category ids "1,2", matching search;
 * cal_id ignored (one calendar).  200 {"events": [...]}; 400
 * invalid_query; 503.
 */
void
h_libcal_events(struct request *req, struct response *resp)
{
	struct libcal_query	 q;
	char			 days_s[24], limit_s[24], off_s[24];
	char			 msg[QUERY_MESSAGE_MAX];
	const char		*vals[6];
	PGresult		*res;

	if (libcal_query_parse(req->query, &q, msg, sizeof(msg)) == -1) {
		answer_error(req, resp, 400, "invalid_query", msg);
		return;
	}
	snprintf(days_s, sizeof(days_s), "%lld", q.days);
	snprintf(limit_s, sizeof(limit_s), "%lld", q.limit);
	vals[0] = q.date[0] != '\0' ? q.date : NULL;
	vals[1] = days_s;
	vals[2] = limit_s;
	snprintf(off_s, sizeof(off_s), "%lld", q.offset);
	vals[3] = q.cats[0] != '\0' ? q.cats : NULL;
	vals[4] = off_s;
	vals[5] = q.search[0] != '\0' ? q.search : NULL;
	if ((res = db_fetch(req, resp, STMT_LIBCAL_LIST, 6, vals,
	    MISSING_OK)) == NULL)
		return;
	answer_events(resp, res);
	PQclear(res);
}

/*
 * The path's list of ids into ids (LIBCAL_IDS_SZ bytes).  0, or -1 after
 * answering 400 too_many_ids (too_many: the message's format, with the
 * limit for its %d) or 404 (m) for a list that is not one of ids, each
 * written as the service writes it: "1,02" names nothing, as "02" does
 * elsewhere (id_parse()), though ?cal_id= and ?category= take it.
 */
static int
path_ids(struct request *req, struct response *resp, char *ids,
    const char *too_many, enum missing m)
{
	char	 msg[80];

	switch (libcal_id_list(req->args[0], req->args_len[0], ids,
	    LIBCAL_IDS_SZ)) {
	case 0:
		/* "{1,2}" from "1,2": every id was in its own spelling */
		if (strlen(ids) == req->args_len[0] + 2 &&
		    memcmp(ids + 1, req->args[0], req->args_len[0]) == 0)
			return 0;
		break;
	case LIBCAL_IDS_TOO_MANY:
		snprintf(msg, sizeof(msg), too_many, LIBCAL_IDS_MAX);
		answer_error(req, resp, 400, "too_many_ids", msg);
		return -1;
	}
	answer_missing(req, resp, m);
	return -1;
}

/*
 * GET /1.1/events/{id[,id...]}: up to 50 events by id (cancelled ones
 * too, shown as closed).  200 {"events": [...]}; 400 too_many_ids for
 * more; 404 when none exists; 503.
 */
void
h_libcal_event(struct request *req, struct response *resp)
{
	char		 ids[LIBCAL_IDS_SZ];
	const char	*vals[1] = { ids };
	PGresult	*res;

	if (path_ids(req, resp, ids, _("at most %d event ids at once"),
	    MISSING_EVENT) == -1)
		return;
	if ((res = db_fetch(req, resp, STMT_LIBCAL_BY_IDS, 1, vals,
	    MISSING_EVENT)) == NULL)
		return;
	answer_events(resp, res);
	PQclear(res);
}

/* One registrant, row i of res, in LibCal's shape, added to regs (a
 * confirmed one) or to wait (a waiting one, when wait is not NULL).
 * LibCal splits names; eventbox keeps a name whole (people's names do not
 * split reliably), in first_name. */
static void
add_registrant(cJSON *regs, cJSON *wait, const PGresult *res, int i)
{
	cJSON	*o;
	int	 waiting;

	if (db_isnull(res, i, "registration_id"))
		return;
	waiting = strcmp(db_value(res, i, "status"), "waitlisted") == 0;
	if (waiting && wait == NULL)
		return;
	o = json_new_object();
	json_add_number(o, "booking_id", db_number(res, i, "registration_id"));
	json_add_string(o, "first_name", db_value(res, i, "name"));
	json_add_string(o, "last_name", "");
	json_add_string(o, "email", db_value(res, i, "email"));
	json_add_string(o, "organization", db_value(res, i, "library"));
	json_add_string(o, "registered_date", db_value(res, i, "registered_at"));
	json_add_string(o, "attendance",
	    db_isnull(res, i, "attended_at") ? "Unknown" : "Attended");
	if (!db_isnull(res, i, "position"))
		json_add_number(o, "position", db_number(res, i, "position"));
	cJSON_AddItemToArray(waiting ? wait : regs, o);
}

/*
 * GET /1.1/calendars: the one calendar.  200 {"calendars": [{"calid",
 * "cal_id", "name", "url": {"public"}, "owner", "visibility"}]}.  LibCal
 * names its id "calid" (the query's parameter is cal_id): clients read
 * cal["calid"].  "cal_id", what eventbox answered first, stays for the
 * clients written against that.
 */
void
h_libcal_calendars(struct request *req, struct response *resp)
{
	cJSON	*root = json_new_object(), *cal, *owner;

	(void)req;
	cal = json_new_object();
	cJSON_AddItemToArray(json_add_array(root, "calendars"), cal);
	add_calendar(cal, "calid");
	json_add_number(cal, "cal_id", (double)cfg.calendar_id);
	json_add_event_url(json_add_object(cal, "url"), "public", NULL);
	owner = json_add_object(cal, "owner");
	json_add_number(owner, "id", 0);
	json_add_string(owner, "name", cfg.calendar_name);
	json_add_string(cal, "visibility", "Public");
	json_answer(resp, 200, root);
}

/*
 * GET /1.1/categories/{cal_id[,cal_id...]}: the categories of the events,
 * once per calendar id asked (whatever the id: there is one calendar; up
 * to 50 ids).  200 [{"cal_id", "categories": [{"id", "name"}]}]; 400
 * too_many_ids; 404; 503.
 */
void
h_libcal_categories(struct request *req, struct response *resp)
{
	char		 ids[LIBCAL_IDS_SZ];
	const char	*p;
	cJSON		*root, *cal, *arr, *c;
	PGresult	*res;
	int		 i;

	if (path_ids(req, resp, ids, _("at most %d calendar ids at once"),
	    MISSING_PAGE) == -1)
		return;
	if ((res = db_fetch(req, resp, STMT_LIBCAL_CATEGORIES, 0, NULL,
	    MISSING_OK)) == NULL)
		return;
	if ((root = cJSON_CreateArray()) == NULL)
		abort();
	for (p = ids + 1; *p != '\0'; p = strchr(p, ',') ?
	    strchr(p, ',') + 1 : "") {
		cal = json_new_object();
		cJSON_AddItemToArray(root, cal);
		json_add_number(cal, "cal_id", strtod(p, NULL));
		arr = json_add_array(cal, "categories");
		for (i = 0; i < PQntuples(res); i++) {
			c = json_new_object();
			json_add_number(c, "id", db_number(res, i, "id"));
			json_add_string(c, "name", db_value(res, i, "name"));
			cJSON_AddItemToArray(arr, c);
		}
	}
	PQclear(res);
	json_answer(resp, 200, root);
}

static const struct query_param waitlist_param[] = {
	{ "waitlist", Q_INT, 0, 1, 0, NULL, "waitlist: 0 or 1" },
};

/*
 * Whether the Bearer credential may read registrations: a live staff key,
 * or a live OAuth token of a client allowed to.  Returns 0, or -1 after
 * answering 401 (none, unknown, expired), 403 (a client not allowed) or
 * 503.  The challenges are RFC 6750 3's: no error code when the request
 * had no credentials, invalid_token for one that is no good,
 * insufficient_scope with the 403.
 */
static int
registrations_allowed(struct request *req, struct response *resp,
    const char **bearer)
{
	PGresult	*res;
	int		 known, allowed, none;

	if (bearer_key(req->authorization, bearer) == -1)
		goto refuse;
	if ((res = db_fetch(req, resp, STMT_BEARER_ACCESS, 1, bearer,
	    MISSING_OK)) == NULL)
		return -1;
	known = !db_isnull(res, 0, "access") &&
	    strcmp(db_value(res, 0, "access"), "revoked") != 0;
	allowed = known && db_bool(res, 0, "registrations");
	PQclear(res);
	if (!known)
		goto refuse;
	if (!allowed) {
		resp_header(resp, "WWW-Authenticate", "%s", "Bearer "
		    "realm=\"eventbox\", error=\"insufficient_scope\"");
		answer_error(req, resp, 403, "insufficient_scope",
		    "this client may not read registrations");
		return -1;
	}
	return 0;
refuse:
	none = req->authorization == NULL || *req->authorization == '\0';
	resp_header(resp, "WWW-Authenticate", "%s", none ?
	    "Bearer realm=\"eventbox\"" :
	    "Bearer realm=\"eventbox\", error=\"invalid_token\"");
	answer_error(req, resp, 401, "unauthorized",
	    "a valid access token or staff API key is required");
	return -1;
}

/*
 * GET /1.1/events/{id[,id...]}/registrations[?waitlist=1], with a Bearer
 * staff key or OAuth token allowed to read them: one entry per event that
 * exists, in the order asked (an id given twice once), [{"event_id",
 * "registrants": [...], "waitlist": [...]}], as LibCal answers its lists of
 * ids.  200; 400 invalid_query, too_many_ids (over 50 ids); 401; 403; 404
 * when none exists; 503.
 */
void
h_libcal_registrations(struct request *req, struct response *resp)
{
	struct query_value	 waitlist;
	PGresult		*res;
	cJSON			*root, *ev, *regs = NULL, *wait = NULL;
	const char		*vals[2];
	char			 ids[LIBCAL_IDS_SZ];
	char			 msg[QUERY_MESSAGE_MAX];
	size_t			 bad;
	int			 i;

	if (path_ids(req, resp, ids, _("at most %d event ids at once"),
	    MISSING_EVENT) == -1)
		return;
	if (query_parse(req->query, waitlist_param, 1, &waitlist,
	    &bad) == -1) {
		query_message(waitlist_param, &waitlist, msg, sizeof(msg));
		answer_error(req, resp, 400, "invalid_query", msg);
		return;
	}
	if (registrations_allowed(req, resp, &vals[0]) == -1)
		return;
	vals[1] = ids;
	if ((res = db_fetch(req, resp, STMT_LIBCAL_ROSTER, 2, vals,
	    MISSING_EVENT)) == NULL)
		return;
	if ((root = cJSON_CreateArray()) == NULL)
		abort();
	for (i = 0; i < PQntuples(res); i++) {
		/* The rows come event by event: a new id opens its entry. */
		if (i == 0 || strcmp(db_value(res, i, "event_id"),
		    db_value(res, i - 1, "event_id")) != 0) {
			ev = json_new_object();
			cJSON_AddItemToArray(root, ev);
			json_add_number(ev, "event_id",
			    db_number(res, i, "event_id"));
			regs = json_add_array(ev, "registrants");
			wait = waitlist.num == 1 ?
			    json_add_array(ev, "waitlist") : NULL;
		}
		add_registrant(regs, wait, res, i);
	}
	PQclear(res);
	json_answer(resp, 200, root);
}
