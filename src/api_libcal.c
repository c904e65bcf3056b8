/*
 * api_libcal.c: a LibCal-compatible read API (Springshare's API 1.1), so
 * that a library moving from LibCal keeps its website widgets.  LibCal's
 * field names where they apply; never the online URL.  Offers the
 * handlers of
 *
 *   GET /1.1/events?cal_id=&date=&days=&limit=&category=
 *   GET /1.1/events/{id[,id...]}
 *   GET /1.1/events/{id}/registrations[?waitlist=1]   (staff key)
 *
 * The parsing of the query and of id lists is libcal.c's (pure, fuzzed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "api_admin.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "libcal.h"
#include "query.h"
#include "validate.h"

/* One event in LibCal's shape. */
static cJSON *
libcal_event(const PGresult *res, int row)
{
	cJSON		*o = json_new_object(), *u, *loc, *owner, *cal;
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
	json_add_string(loc, "name", *db_value(res, row, "location") != '\0' ?
	    db_value(res, row, "location") :
	    strcmp(format, "online") == 0 ? "Online" : "");
	json_add_string(o, "presenter", db_value(res, row, "presenter"));
	json_add_bool(o, "registration", 1);
	json_add_array_text(o, "category", db_value(res, row, "category"));
	owner = json_add_object(o, "owner");
	json_add_number(owner, "id", 0);
	json_add_string(owner, "name", db_value(res, row, "organizer"));
	cal = json_add_object(o, "calendar");
	json_add_number(cal, "id", 1);
	json_add_string(cal, "name", "eventbox");
	json_add_event_url(cal, "public", NULL);
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
 * GET /1.1/events: published events from date (local, default today) for
 * days (1..365, 30), at most limit (1..500, 20), of category ids "1,2";
 * cal_id ignored (one calendar).  200 {"events": [...]}; 400; 503.
 */
void
h_libcal_events(struct request *req, struct response *resp)
{
	struct libcal_query	 q;
	char			 days_s[24], limit_s[24], msg[80];
	const char		*vals[4];
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
	vals[3] = q.cats[0] != '\0' ? q.cats : NULL;
	if ((res = db_fetch(req, resp, STMT_LIBCAL_LIST, 4, vals,
	    MISSING_OK)) == NULL)
		return;
	answer_events(resp, res);
	PQclear(res);
}

/*
 * GET /1.1/events/{id[,id...]}: up to 50 events by id (cancelled ones
 * too, shown as closed).  200 {"events": [...]}; 404 when none exists;
 * 503.
 */
void
h_libcal_event(struct request *req, struct response *resp)
{
	char		 ids[LIBCAL_IDS_SZ];
	const char	*vals[1] = { ids };
	PGresult	*res;

	if (libcal_id_list(req->args[0], req->args_len[0], ids,
	    sizeof(ids)) == -1) {
		answer_missing(req, resp, MISSING_EVENT);
		return;
	}
	if ((res = db_fetch(req, resp, STMT_LIBCAL_BY_IDS, 1, vals,
	    MISSING_EVENT)) == NULL)
		return;
	answer_events(resp, res);
	PQclear(res);
}

/* Registrants in LibCal's shape.  LibCal splits names; eventbox keeps a
 * name whole (people's names do not split reliably), in first_name. */
static void
add_registrants(cJSON *arr, const PGresult *res)
{
	cJSON	*o;
	int	 i;

	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "registration_id"))
			continue;
		o = json_new_object();
		json_add_number(o, "booking_id",
		    db_number(res, i, "registration_id"));
		json_add_string(o, "first_name", db_value(res, i, "name"));
		json_add_string(o, "last_name", "");
		json_add_string(o, "email", db_value(res, i, "email"));
		json_add_string_or_null(o, "organization",
		    db_value(res, i, "library"));
		json_add_string(o, "registered_date",
		    db_value(res, i, "registered_at"));
		json_add_string(o, "attendance",
		    db_isnull(res, i, "attended_at") ? "Unknown" : "Attended");
		if (!db_isnull(res, i, "position"))
			json_add_number(o, "position",
			    db_number(res, i, "position"));
		cJSON_AddItemToArray(arr, o);
	}
}

static const struct query_param waitlist_param[] = {
	{ "waitlist", Q_INT, 0, 1, 0, NULL, "waitlist: 0 or 1" },
};

/*
 * GET /1.1/events/{id}/registrations[?waitlist=1], staff key (R_ADMIN):
 * [{"event_id", "registrants": [...], "waitlist": [...]}].  200; 400
 * invalid_query; 401; 404; 503.
 */
void
h_libcal_registrations(struct request *req, struct response *resp)
{
	struct query_value	 waitlist;
	PGresult		*res;
	cJSON			*root, *ev;
	long long		 id;
	size_t			 bad;

	if (parse_int(req->args[0], req->args_len[0], 1, ID_MAX,
	    &id) == -1) {
		answer_missing(req, resp, MISSING_EVENT);
		return;
	}
	if (query_parse(req->query, waitlist_param, 1, &waitlist,
	    &bad) == -1) {
		answer_error(req, resp, 400, "invalid_query",
		    waitlist_param[0].message);
		return;
	}
	if ((res = admin_roster_query(req, resp, "confirmed", NULL,
	    "0")) == NULL)
		return;
	root = cJSON_CreateArray();
	if (root == NULL)
		abort();
	ev = json_new_object();
	cJSON_AddItemToArray(root, ev);
	json_add_number(ev, "event_id", (double)id);
	add_registrants(json_add_array(ev, "registrants"), res);
	PQclear(res);
	if (waitlist.num == 1) {
		if ((res = admin_roster_query(req, resp, "waitlisted", NULL,
		    "0")) == NULL) {
			cJSON_Delete(root);
			return;
		}
		add_registrants(json_add_array(ev, "waitlist"), res);
		PQclear(res);
	}
	json_answer(resp, 200, root);
}
