/*
 * libcal.c: a LibCal-compatible read API (Springshare's API 1.1), so that a
 * library moving from LibCal keeps its website widgets.  LibCal's field
 * names where they apply; never the online URL.
 *
 *   GET /1.1/events?cal_id=&date=&days=&limit=&category=
 *        published events starting on date (YYYY-MM-DD, the event's local
 *        date; default today) and the days after it (days 1..365, 30),
 *        soonest first, at most limit (1..500, 20).  cal_id is accepted
 *        and ignored: eventbox has one calendar.  category: LibCal-style
 *        category ids, comma-separated.  200 {"events": [...]}; 400.
 *   GET /1.1/events/{id[,id...]}   up to 50 events by id (cancelled ones
 *        too, shown as closed).  200; 404 when none exists.
 *   GET /1.1/events/{id}/registrations[?waitlist=1]   staff key (R_ADMIN):
 *        [{"event_id", "registrants": [...], "waitlist": [...]}].  200;
 *        401; 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "json.h"
#include "libcal.h"
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
		    999999999999999999LL, &id) == -1)
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

/* One optional numeric parameter: 0 when valid or absent, else -1 with
 * the message for the 400 in msg. */
static int
number_param(const char *query, const char *key, long long max,
    long long *out, char *msg, size_t msgsz)
{
	char	 v[24];
	size_t	 len;
	int	 rc;

	if ((rc = query_get(query, key, v, sizeof(v), &len)) == 0 ||
	    (rc == 1 && len == 0))
		return 0;
	if (rc == -1 || parse_int(v, len, 1, max, out) == -1) {
		snprintf(msg, msgsz, "%s: a whole number from 1 to %lld", key,
		    max);
		return -1;
	}
	return 0;
}

int
libcal_query_parse(const char *query, struct libcal_query *q, char *msg,
    size_t msgsz)
{
	char		 raw[LIBCAL_IDS_MAX * 20];
	long long	 cal;
	size_t		 len;
	int		 rc;

	q->date[0] = q->cats[0] = '\0';
	q->days = LIBCAL_DAYS_DEFAULT;
	q->limit = LIBCAL_LIMIT_DEFAULT;
	if (number_param(query, "cal_id", 999999999LL, &cal, msg,
	    msgsz) == -1 ||
	    number_param(query, "days", LIBCAL_DAYS_MAX, &q->days, msg,
	    msgsz) == -1 ||
	    number_param(query, "limit", LIBCAL_LIMIT_MAX, &q->limit, msg,
	    msgsz) == -1)
		return -1;
	rc = query_get(query, "date", q->date, sizeof(q->date), &len);
	if (rc == -1 || (rc == 1 && len > 0 && !date_valid(q->date, len))) {
		snprintf(msg, msgsz, "date: YYYY-MM-DD");
		return -1;
	}
	rc = query_get(query, "category", raw, sizeof(raw), &len);
	if (rc == -1 || (rc == 1 && len > 0 &&
	    libcal_id_list(raw, len, q->cats, sizeof(q->cats)) == -1)) {
		snprintf(msg, msgsz, "category: category ids, comma-separated");
		return -1;
	}
	return 0;
}

static int
is_true(const PGresult *res, int row, const char *col)
{
	return strcmp(db_value(res, row, col), "t") == 0;
}

/* One event in LibCal's shape. */
static cJSON *
libcal_event(const PGresult *res, int row)
{
	cJSON		*o = json_new_object(), *u, *loc, *owner, *cal, *cats;
	const char	*format = db_value(res, row, "format");

	json_add_number(o, "id", strtod(db_value(res, row, "id"), NULL));
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
	cats = cJSON_Parse(db_value(res, row, "category"));
	if (cats == NULL || !cJSON_IsArray(cats)) {
		cJSON_Delete(cats);
		cats = cJSON_CreateArray();
		if (cats == NULL)
			abort();
	}
	cJSON_AddItemToObject(o, "category", cats);
	owner = json_add_object(o, "owner");
	json_add_number(owner, "id", 0);
	json_add_string(owner, "name", db_value(res, row, "organizer"));
	cal = json_add_object(o, "calendar");
	json_add_number(cal, "id", 1);
	json_add_string(cal, "name", "eventbox");
	json_add_event_url(cal, "public", NULL);
	json_add_number(o, "seats", strtod(db_value(res, row, "capacity"), NULL));
	json_add_number(o, "seats_taken",
	    strtod(db_value(res, row, "seats_taken"), NULL));
	json_add_number(o, "wait_list",
	    strtod(db_value(res, row, "wait_list"), NULL));
	json_add_bool(o, "has_registration_opened",
	    is_true(res, row, "has_registration_opened"));
	json_add_bool(o, "has_registration_closed",
	    is_true(res, row, "has_registration_closed"));
	json_add_bool(o, "online_event", strcmp(format, "in_person") != 0);
	json_add_bool(o, "members_only", is_true(res, row, "members_only"));
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
	json_write(&resp->body, root);
	cJSON_Delete(root);
}

void
h_libcal_events(struct request *req, struct response *resp)
{
	struct libcal_query	 q;
	char			 days_s[8], limit_s[8], msg[80];
	const char		*vals[4];
	PGresult		*res;
	enum db_status		 st;

	if (libcal_query_parse(req->query, &q, msg, sizeof(msg)) == -1) {
		resp_error(req, resp, 400, "invalid_query", msg);
		return;
	}
	snprintf(days_s, sizeof(days_s), "%lld", q.days);
	snprintf(limit_s, sizeof(limit_s), "%lld", q.limit);
	vals[0] = q.date[0] != '\0' ? q.date : NULL;
	vals[1] = days_s;
	vals[2] = limit_s;
	vals[3] = q.cats[0] != '\0' ? q.cats : NULL;
	if ((st = db_query(STMT_LIBCAL_LIST, 4, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	answer_events(resp, res);
	PQclear(res);
}

void
h_libcal_event(struct request *req, struct response *resp)
{
	char		 ids[LIBCAL_IDS_SZ];
	const char	*vals[1] = { ids };
	PGresult	*res;
	enum db_status	 st;

	if (libcal_id_list(req->args[0], req->args_len[0], ids,
	    sizeof(ids)) == -1) {
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return;
	}
	if ((st = db_query(STMT_LIBCAL_BY_IDS, 1, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	if (PQntuples(res) == 0)
		resp_error(req, resp, 404, "event_not_found", "no such event");
	else
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
		    strtod(db_value(res, i, "registration_id"), NULL));
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
			    strtod(db_value(res, i, "position"), NULL));
		cJSON_AddItemToArray(arr, o);
	}
}

void
h_libcal_registrations(struct request *req, struct response *resp)
{
	PGresult	*res;
	cJSON		*root, *ev;
	long long	 id;
	char		 v[4];
	size_t		 len;
	int		 waitlist, rc;

	if (parse_int(req->args[0], req->args_len[0], 1, 999999999999999999LL,
	    &id) == -1) {
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return;
	}
	rc = query_get(req->query, "waitlist", v, sizeof(v), &len);
	if (rc == -1 || (rc == 1 && strcmp(v, "0") != 0 &&
	    strcmp(v, "1") != 0)) {
		resp_error(req, resp, 400, "invalid_query", "waitlist: 0 or 1");
		return;
	}
	waitlist = rc == 1 && strcmp(v, "1") == 0;
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
	if (waitlist) {
		if ((res = admin_roster_query(req, resp, "waitlisted", NULL,
		    "0")) == NULL) {
			cJSON_Delete(root);
			return;
		}
		add_registrants(json_add_array(ev, "waitlist"), res);
		PQclear(res);
	}
	json_write(&resp->body, root);
	cJSON_Delete(root);
}
