/*
 * api_admin.c: the staff API.  Every route here carries R_ADMIN: the router
 * has checked the Bearer key (401 otherwise) and left it in req->api_key,
 * which is passed on to the staff functions (sql/rules/); they
 * check it again, write the audit log with the key's name, and take the
 * event row lock first like every other change.
 *
 *   POST   /api/v1/admin/events                    create (a draft unless
 *          published later).  201 event; 409 slug_taken; 422 field.
 *   GET    /api/v1/admin/events/{id}               200 event with counts
 *          and the online URL; 404.
 *   PATCH  /api/v1/admin/events/{id}               change fields.  200;
 *          404; 409 capacity_below_confirmed, slug_taken; 422 field.
 *   POST   /api/v1/admin/events/{id}/publish       200 (also when already
 *   POST   /api/v1/admin/events/{id}/unpublish     so); 404; 409 when the
 *   POST   /api/v1/admin/events/{id}/cancel        event was cancelled.
 *          Cancelling cancels every registration, with a notice to each.
 *   PUT    /api/v1/admin/events/{id}/capacity      {"capacity": n}.  200
 *          {capacity, confirmed, promoted}; 404; 409 below confirmed; 422.
 *   GET    /api/v1/admin/events/{id}/registrations[.csv]   the roster,
 *          confirmed, waiting (in order), cancelled; status, page,
 *          per_page.  200; 400 bad query; 404.
 *   POST   /api/v1/admin/events/{id}/registrations {name, email,
 *          organization?}: entered by staff, members-only or not.  201;
 *          403, 404, 409, 422 as for a patron.
 *   DELETE /api/v1/admin/registrations/{id}        cancel for a patron, or
 *          take off the waiting list.  200; 404.
 *   POST   /api/v1/admin/registrations/{id}/promote    a free seat to this
 *          person, ahead of the queue.  200; 404; 409.
 *   POST   /api/v1/admin/registrations/{id}/check-in   attended (DELETE
 *          takes it back).  200; 404; 409 not confirmed.
 * Any of them: 401 without a valid key, 503 when the database is away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "registration.h"
#include "validate.h"

#define ROSTER_PER_PAGE		50
#define ROSTER_PER_PAGE_MAX	1000
#define CAPACITY_MAX		1000000

/* Refusals shared by the staff functions' outcomes. */
static const struct {
	const char	*outcome;
	int		 status;
	const char	*code;
	const char	*message;
} refusals[] = {
	{ "event_cancelled", 409, "event_cancelled",
	    "this event was cancelled; that cannot be undone" },
	{ "invalid_capacity", 422, "invalid_field",
	    "capacity: must be a whole number from 0" },
	{ "no_seat", 409, "no_seat_free",
	    "no seat is free: raise the capacity or cancel a seat first" },
	{ "not_waitlisted", 409, "not_waitlisted",
	    "this registration is not on the waiting list" },
	{ "started", 409, "event_started",
	    "the event has started; nobody is promoted any more" },
	{ "not_confirmed", 409, "not_confirmed",
	    "only a confirmed registration can be checked in" },
};

/* Answers a refusal outcome; an outcome nobody listed is a bug. */
static void
refuse(struct request *req, struct response *resp, const char *outcome)
{
	size_t	 i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(outcome, refusals[i].outcome) == 0) {
			resp_error(req, resp, refusals[i].status,
			    refusals[i].code, refusals[i].message);
			return;
		}
	abort();	/* the function and this table disagree */
}

/* The event named in the path, or -1 after answering 404. */
static int
event_arg(struct request *req, struct response *resp)
{
	if (!event_ref_valid(req->args[0], req->args_len[0])) {
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return -1;
	}
	return 0;
}

/* The registration id in the path, or -1 after answering 404. */
static int
registration_arg(struct request *req, struct response *resp)
{
	long long	 id;

	if (parse_int(req->args[0], req->args_len[0], 1,
	    999999999999999999LL, &id) == -1) {
		resp_error(req, resp, 404, "registration_not_found",
		    "no such registration");
		return -1;
	}
	return 0;
}

static int
is_true(const PGresult *res, int row, const char *col)
{
	return strcmp(db_value(res, row, col), "t") == 0;
}

static double
number(const PGresult *res, int row, const char *col)
{
	return strtod(db_value(res, row, col), NULL);
}

/*
 * Answers with the event as staff see it: its public fields' essentials,
 * counts, the online URL.  404 when there is none.
 */
static void
answer_event(struct request *req, struct response *resp, const char *event,
    int status)
{
	const char	*vals[2] = { req->api_key, event };
	static const char *const strings[] = { "slug", "title", "status",
	    "description", "presenter", "format", "location", "organizer",
	    "accessibility_contact", "timezone", "starts_at", "ends_at",
	    "starts_local", "ends_local", "registration_state" };
	static const char *const counts[] = { "capacity", "confirmed",
	    "waitlisted", "cancelled", "attended", "seats_available" };
	PGresult	*res;
	enum db_status	 st;
	cJSON		*o, *cats;
	size_t		 i;

	if ((st = db_query(STMT_ADMIN_EVENT, 2, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(req, resp, 404, "event_not_found", "no such event");
		return;
	}
	o = json_new_object();
	json_add_number(o, "id", number(res, 0, "id"));
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		json_add_string(o, strings[i], db_value(res, 0, strings[i]));
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		json_add_number(o, counts[i], number(res, 0, counts[i]));
	cats = cJSON_Parse(db_value(res, 0, "categories"));
	if (cats == NULL || !cJSON_IsArray(cats))
		abort();	/* array_to_json gave no array */
	cJSON_AddItemToObject(o, "categories", cats);
	json_add_bool(o, "members_only", is_true(res, 0, "members_only"));
	json_add_bool(o, "waitlist_enabled", is_true(res, 0, "waitlist_enabled"));
	if (db_isnull(res, 0, "waitlist_capacity"))
		json_add_null(o, "waitlist_capacity");
	else
		json_add_number(o, "waitlist_capacity",
		    number(res, 0, "waitlist_capacity"));
	json_add_string_or_null(o, "online_url",
	    db_value(res, 0, "online_url"));
	json_add_string_or_null(o, "registration_opens_at",
	    db_value(res, 0, "registration_opens_at"));
	json_add_string_or_null(o, "registration_closes_at",
	    db_value(res, 0, "registration_closes_at"));
	json_add_event_url(o, "url", db_value(res, 0, "slug"));
	PQclear(res);
	resp->status = status;
	buf_reset(&resp->body);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}

/* Creates (event NULL) or changes an event from the JSON body. */
static void
save_event(struct request *req, struct response *resp, const char *event)
{
	const char	*vals[3];
	PGresult	*res;
	enum db_status	 st;
	cJSON		*body;
	const char	*outcome;
	char		 slug[SLUG_MAX + 1], msg[160];
	int		 created;

	/* Well-formed JSON object here; each value is checked by the
	 * database function, which names the first bad field. */
	if ((body = http_json_object(req, resp)) == NULL)
		return;
	cJSON_Delete(body);
	vals[0] = event;
	vals[1] = req->body.data;
	vals[2] = req->api_key;
	if ((st = db_query(STMT_ADMIN_SAVE_EVENT, 3, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	outcome = db_value(res, 0, "outcome");
	created = strcmp(outcome, "created") == 0;
	if (created || strcmp(outcome, "updated") == 0) {
		snprintf(slug, sizeof(slug), "%s", db_value(res, 0, "event_slug"));
		PQclear(res);
		if (created)
			resp_header(resp, "Location", "/api/v1/admin/events/%s",
			    slug);
		answer_event(req, resp, slug, created ? 201 : 200);
		return;
	}
	snprintf(msg, sizeof(msg), "%s", db_value(res, 0, "message"));
	if (strcmp(outcome, "not_found") == 0)
		resp_error(req, resp, 404, "event_not_found", "no such event");
	else if (strcmp(outcome, "invalid") == 0)
		resp_field_error(req, resp, db_value(res, 0, "field"), msg);
	else if (strcmp(outcome, "slug_taken") == 0)
		resp_error(req, resp, 409, "slug_taken", msg);
	else if (strcmp(outcome, "below_confirmed") == 0)
		resp_error(req, resp, 409, "capacity_below_confirmed", msg);
	else
		abort();	/* the function and this file disagree */
	PQclear(res);
}

void
h_admin_event_create(struct request *req, struct response *resp)
{
	save_event(req, resp, NULL);
}

void
h_admin_event_update(struct request *req, struct response *resp)
{
	if (event_arg(req, resp) == 0)
		save_event(req, resp, req->args[0]);
}

void
h_admin_event_get(struct request *req, struct response *resp)
{
	if (event_arg(req, resp) == 0)
		answer_event(req, resp, req->args[0], 200);
}

static void
set_status(struct request *req, struct response *resp, const char *status)
{
	const char	*vals[3] = { req->args[0], status, req->api_key };
	PGresult	*res;
	enum db_status	 st;
	char		 outcome[32];

	if (event_arg(req, resp) == -1)
		return;
	if ((st = db_query(STMT_ADMIN_SET_STATUS, 3, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	snprintf(outcome, sizeof(outcome), "%s", db_value(res, 0, "outcome"));
	PQclear(res);
	if (strcmp(outcome, "ok") == 0 || strcmp(outcome, "unchanged") == 0)
		answer_event(req, resp, req->args[0], 200);
	else if (strcmp(outcome, "not_found") == 0)
		resp_error(req, resp, 404, "event_not_found", "no such event");
	else
		refuse(req, resp, outcome);
}

void
h_admin_event_publish(struct request *req, struct response *resp)
{
	set_status(req, resp, "published");
}

void
h_admin_event_unpublish(struct request *req, struct response *resp)
{
	set_status(req, resp, "draft");
}

void
h_admin_event_cancel(struct request *req, struct response *resp)
{
	set_status(req, resp, "cancelled");
}

/*
 * PUT capacity: raising it promotes the oldest waiting at once, in order,
 * in the same transaction; lowering it below the confirmed count is
 * refused and bumps nobody.
 */
void
h_admin_capacity(struct request *req, struct response *resp)
{
	const char	*vals[3];
	char		 cap[16], msg[160];
	PGresult	*res;
	enum db_status	 st;
	cJSON		*body, *c, *o;
	const char	*outcome;

	if (event_arg(req, resp) == -1)
		return;
	if ((body = http_json_object(req, resp)) == NULL)
		return;
	c = cJSON_GetObjectItemCaseSensitive(body, "capacity");
	if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
	    c->valuedouble > CAPACITY_MAX ||
	    c->valuedouble != (double)(long)c->valuedouble) {
		cJSON_Delete(body);
		resp_field_error(req, resp, "capacity",
		    "must be a whole number from 0");
		return;
	}
	snprintf(cap, sizeof(cap), "%ld", (long)c->valuedouble);
	cJSON_Delete(body);
	vals[0] = req->args[0];
	vals[1] = cap;
	vals[2] = req->api_key;
	if ((st = db_query(STMT_ADMIN_SET_CAPACITY, 3, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "ok") == 0) {
		o = json_new_object();
		json_add_number(o, "capacity", strtod(cap, NULL));
		json_add_number(o, "confirmed", number(res, 0, "confirmed"));
		json_add_number(o, "promoted", number(res, 0, "promoted"));
		json_write(&resp->body, o);
		cJSON_Delete(o);
	} else if (strcmp(outcome, "not_found") == 0)
		resp_error(req, resp, 404, "event_not_found", "no such event");
	else if (strcmp(outcome, "below_confirmed") == 0) {
		snprintf(msg, sizeof(msg), "%s seats are taken: the capacity "
		    "cannot go below that (cancel registrations first)",
		    db_value(res, 0, "confirmed"));
		resp_error(req, resp, 409, "capacity_below_confirmed", msg);
	} else
		refuse(req, resp, outcome);
	PQclear(res);
}

/* Query parameters of a roster: status, page, per_page. */
struct roster_query {
	char	 status[16];
	char	 limit[16];
	char	 offset[24];
	int	 has_status;
	long long page, per_page;
};

static int
roster_query(struct request *req, struct response *resp,
    struct roster_query *q, long long per_page)
{
	char	 v[16];
	size_t	 len;
	int	 rc;

	memset(q, 0, sizeof(*q));
	q->page = 1;
	q->per_page = per_page;
	rc = query_get(req->query, "status", q->status, sizeof(q->status),
	    &len);
	if (rc == -1 || (rc == 1 && strcmp(q->status, "confirmed") != 0 &&
	    strcmp(q->status, "waitlisted") != 0 &&
	    strcmp(q->status, "cancelled") != 0)) {
		resp_error(req, resp, 400, "invalid_query",
		    "status: confirmed, waitlisted or cancelled");
		return -1;
	}
	q->has_status = rc == 1;
	if ((rc = query_get(req->query, "page", v, sizeof(v), &len)) != 0 &&
	    (rc == -1 || parse_int(v, len, 1, 1000000, &q->page) == -1)) {
		resp_error(req, resp, 400, "invalid_query",
		    "page: a whole number from 1");
		return -1;
	}
	if ((rc = query_get(req->query, "per_page", v, sizeof(v), &len)) != 0 &&
	    (rc == -1 || parse_int(v, len, 1, ROSTER_PER_PAGE_MAX,
	    &q->per_page) == -1)) {
		resp_error(req, resp, 400, "invalid_query",
		    "per_page: a whole number from 1 to 1000");
		return -1;
	}
	snprintf(q->limit, sizeof(q->limit), "%lld", q->per_page);
	snprintf(q->offset, sizeof(q->offset), "%lld",
	    (q->page - 1) * q->per_page);
	return 0;
}

/*
 * The roster of the event in the path (see handlers.h): NULL after
 * answering 404 or 503, else a result the caller PQclear()s.  status,
 * limit NULL mean all.
 */
PGresult *
admin_roster_query(struct request *req, struct response *resp,
    const char *status, const char *limit, const char *offset)
{
	const char	*vals[5];
	PGresult	*res;
	enum db_status	 st;

	if (event_arg(req, resp) == -1)
		return NULL;
	vals[0] = req->api_key;
	vals[1] = req->args[0];
	vals[2] = status;
	vals[3] = limit;
	vals[4] = offset;
	if ((st = db_query(STMT_ADMIN_ROSTER, 5, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return NULL;
	}
	/* An empty roster and no event look alike here: ask about the event. */
	if (strcmp(db_value(res, 0, "total"), "0") == 0) {
		PGresult	*ev;
		const char	*evals[2] = { req->api_key, req->args[0] };

		if ((st = db_query(STMT_ADMIN_EVENT, 2, evals, &ev)) != DB_OK) {
			PQclear(res);
			resp_unavailable(req, resp, st == DB_BUSY);
			return NULL;
		}
		if (PQntuples(ev) == 0) {
			PQclear(ev);
			PQclear(res);
			resp_error(req, resp, 404, "event_not_found",
			    "no such event");
			return NULL;
		}
		PQclear(ev);
	}
	return res;
}

/* The roster with the page and filter asked for in the query. */
static PGresult *
roster(struct request *req, struct response *resp, struct roster_query *q,
    long long per_page)
{
	if (roster_query(req, resp, q, per_page) == -1)
		return NULL;
	return admin_roster_query(req, resp, q->has_status ? q->status : NULL,
	    q->per_page > 0 ? q->limit : NULL, q->offset);
}

void
h_admin_roster(struct request *req, struct response *resp)
{
	static const char *const strings[] = { "name", "email", "status",
	    "source", "registered_at" };
	static const char *const maybe[] = { "library", "confirmed_at",
	    "promoted_at", "cancelled_at", "attended_at" };
	struct roster_query	 q;
	PGresult		*res;
	cJSON			*root, *arr, *o;
	int			 i;
	size_t			 k;

	if ((res = roster(req, resp, &q, ROSTER_PER_PAGE)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "registrations");
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "registration_id"))
			continue;
		o = json_new_object();
		json_add_number(o, "id", number(res, i, "registration_id"));
		for (k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
			json_add_string(o, strings[k],
			    db_value(res, i, strings[k]));
		for (k = 0; k < sizeof(maybe) / sizeof(maybe[0]); k++)
			json_add_string_or_null(o, maybe[k],
			    db_value(res, i, maybe[k]));
		json_add_bool(o, "member", is_true(res, i, "is_member"));
		if (db_isnull(res, i, "position"))
			json_add_null(o, "position");
		else
			json_add_number(o, "position",
			    number(res, i, "position"));
		json_add_bool(o, "attended", !db_isnull(res, i, "attended_at"));
		cJSON_AddItemToArray(arr, o);
	}
	json_add_number(root, "page", (double)q.page);
	json_add_number(root, "per_page", (double)q.per_page);
	json_add_number(root, "total", number(res, 0, "total"));
	PQclear(res);
	json_write(&resp->body, root);
	cJSON_Delete(root);
}

/* The roster as a spreadsheet: every row unless page/per_page ask. */
void
h_admin_roster_csv(struct request *req, struct response *resp)
{
	static const char *const head[] = { "registration", "name", "email",
	    "member library", "member", "status", "waiting position",
	    "registered (UTC)", "confirmed (UTC)", "cancelled (UTC)",
	    "attended", "checked in (UTC)" };
	struct roster_query	 q;
	PGresult		*res;
	struct buf		*b = &resp->body;
	size_t			 k;
	int			 i, last = sizeof(head) / sizeof(head[0]) - 1;
	char			 slug[SLUG_MAX + 1];

	if ((res = roster(req, resp, &q, 0)) == NULL)
		return;
	resp->content_type = "text/csv; charset=utf-8";
	/* The path segment passed event_ref_valid: [a-z0-9-] only. */
	snprintf(slug, sizeof(slug), "%.*s", (int)req->args_len[0],
	    req->args[0]);
	resp_header(resp, "Content-Disposition",
	    "attachment; filename=\"%s-registrations.csv\"", slug);
	buf_adds(b, CSV_BOM);
	for (k = 0; k <= (size_t)last; k++)
		csv_cell(b, head[k], k == (size_t)last);
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "registration_id"))
			continue;
		csv_cell(b, db_value(res, i, "registration_id"), 0);
		csv_cell(b, db_value(res, i, "name"), 0);
		csv_cell(b, db_value(res, i, "email"), 0);
		csv_cell(b, db_value(res, i, "library"), 0);
		csv_cell(b, is_true(res, i, "is_member") ? "yes" : "no", 0);
		csv_cell(b, db_value(res, i, "status"), 0);
		csv_cell(b, db_value(res, i, "position"), 0);
		csv_cell(b, db_value(res, i, "registered_at"), 0);
		csv_cell(b, db_value(res, i, "confirmed_at"), 0);
		csv_cell(b, db_value(res, i, "cancelled_at"), 0);
		csv_cell(b, db_isnull(res, i, "attended_at") ? "no" : "yes", 0);
		csv_cell(b, db_value(res, i, "attended_at"), 1);
	}
	PQclear(res);
}

/* Staff enter a registration (by phone, at the desk). */
void
h_admin_register(struct request *req, struct response *resp)
{
	struct registration_fields	 f;
	struct registration_result	 out;
	const char			*vals[5];
	PGresult			*res;
	enum db_status			 st;
	cJSON				*o;

	if (event_arg(req, resp) == -1 ||
	    registration_read_fields(req, resp, &f) == -1)
		return;
	vals[0] = req->args[0];
	vals[1] = f.name;
	vals[2] = f.email;
	vals[3] = f.has_org ? f.org : NULL;
	vals[4] = req->api_key;
	if ((st = db_query(STMT_ADMIN_REGISTER, 5, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	memset(&out, 0, sizeof(out));
	registration_outcome(db_value(res, 0, "outcome"), &out);
	if (out.http_status != 201) {
		PQclear(res);
		resp_error(req, resp, out.http_status, out.code, out.message);
		return;
	}
	resp->status = 201;
	o = json_new_object();
	json_add_number(o, "id", number(res, 0, "registration_id"));
	json_add_string(o, "status", out.status);
	if (db_isnull(res, 0, "position"))
		json_add_null(o, "position");
	else
		json_add_number(o, "position", number(res, 0, "position"));
	PQclear(res);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}

/* Answers a registration action: 200 {id, outcome, ...} or a refusal. */
static void
registration_action(struct request *req, struct response *resp,
    enum stmt s, const char *attended)
{
	const char	*vals[3] = { req->args[0], req->api_key, attended };
	PGresult	*res;
	enum db_status	 st;
	const char	*outcome;
	cJSON		*o;

	if (registration_arg(req, resp) == -1)
		return;
	if ((st = db_query(s, attended != NULL ? 3 : 2, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "not_found") == 0)
		resp_error(req, resp, 404, "registration_not_found",
		    "no such registration");
	else if (strcmp(outcome, "cancelled") == 0 ||
	    strcmp(outcome, "already_cancelled") == 0 ||
	    strcmp(outcome, "promoted") == 0 ||
	    strcmp(outcome, "checked_in") == 0 ||
	    strcmp(outcome, "unchecked") == 0 ||
	    strcmp(outcome, "unchanged") == 0) {
		o = json_new_object();
		json_add_number(o, "id", strtod(req->args[0], NULL));
		json_add_string(o, "outcome", outcome);
		if (s == STMT_ADMIN_CANCEL)
			json_add_number(o, "promoted", number(res, 0, "promoted"));
		if (s == STMT_ADMIN_CHECK_IN)
			json_add_bool(o, "attended", strcmp(attended, "t") == 0);
		json_write(&resp->body, o);
		cJSON_Delete(o);
	} else
		refuse(req, resp, outcome);
	PQclear(res);
}

void
h_admin_cancel(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_CANCEL, NULL);
}

void
h_admin_promote(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_PROMOTE, NULL);
}

void
h_admin_check_in(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_CHECK_IN,
	    req->method == M_DELETE ? "f" : "t");
}
