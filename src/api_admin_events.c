/*
 * api_admin_events.c: the staff API's events (JSON, behind a staff key;
 * see api_admin.h).  Offers the handlers of
 *
 *   POST   /api/v1/admin/events                    create
 *   GET    /api/v1/admin/events/{id}               one, as staff see it
 *   PATCH  /api/v1/admin/events/{id}               change fields
 *   POST   /api/v1/admin/events/{id}/publish
 *   POST   /api/v1/admin/events/{id}/unpublish
 *   POST   /api/v1/admin/events/{id}/cancel
 *   PUT    /api/v1/admin/events/{id}/capacity
 *
 * and the helpers api_admin_registrations.c shares (api_admin.h).  Any of
 * them: 401 without a valid key, 503 when the database is away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "api_admin.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "validate.h"

#define CAPACITY_MAX		1000000

/* Refusals shared by the staff functions' outcomes, each message
 * translated where it is answered (answer_error()). */
static const struct {
	const char	*outcome;
	int		 status;
	const char	*code;
	const char	*message;
} refusals[] = {
	{ "event_cancelled", 409, "event_cancelled",
	    N_("this event was cancelled; that cannot be undone") },
	{ "invalid_capacity", 422, "invalid_field",
	    N_("capacity: must be a whole number from 0 to 1000000") },
	{ "no_seat", 409, "no_seat_free",
	    N_("no seat is free: raise the capacity or cancel a seat first") },
	{ "not_waitlisted", 409, "not_waitlisted",
	    N_("this registration is not on the waiting list") },
	{ "started", 409, "event_started",
	    N_("the event has started; nobody is promoted any more") },
	{ "not_confirmed", 409, "not_confirmed",
	    N_("only a confirmed registration can be checked in") },
	{ "registration_cancelled", 409, "registration_cancelled",
	    N_("this registration was cancelled: register the patron again "
	    "instead") },
	{ "event_ended", 409, "event_ended",
	    N_("the event has ended: its registrations are its record now") },
	{ "not_published", 409, "event_not_published",
	    N_("the event is a draft: publish it, then send the email") },
};

void
admin_refuse(struct request *req, struct response *resp, const char *outcome)
{
	size_t	 i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(outcome, refusals[i].outcome) == 0) {
			answer_error(req, resp, refusals[i].status,
			    refusals[i].code, refusals[i].message);
			return;
		}
	abort();	/* the function and this table disagree */
}

int
admin_event_arg(struct request *req, struct response *resp)
{
	if (!event_ref_valid(req->args[0], req->args_len[0])) {
		answer_missing(req, resp, MISSING_EVENT);
		return -1;
	}
	return 0;
}

int
admin_event_found(struct request *req, struct response *resp)
{
	const char	*vals[2] = { req->api_key, req->args[0] };
	PGresult	*res;

	if (admin_event_arg(req, resp) == -1 ||
	    (res = db_fetch(req, resp, STMT_ADMIN_EVENT, 2, vals,
	    MISSING_EVENT)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* The event as staff see it: public fields, counts, the online URL. */
cJSON *
json_admin_event(const PGresult *res, int row)
{
	static const char *const strings[] = { "slug", "title", "status",
	    "description", "presenter", "format", "location", "organizer",
	    "accessibility_contact", "timezone", "starts_at", "ends_at",
	    "starts_local", "ends_local", "registration_state", "audience",
	    "language" };
	static const char *const counts[] = { "capacity", "confirmed",
	    "waitlisted", "cancelled", "attended", "seats_available",
	    "held_seats", "held_waiting", "expired" };
	static const char *const or_null[] = { "waitlist_capacity",
	    "hold_minutes", "registrations_per_minute" };
	cJSON		*o;
	size_t		 i;

	o = json_new_object();
	json_add_number(o, "id", db_number(res, row, "id"));
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		json_add_string(o, strings[i], db_value(res, row, strings[i]));
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		json_add_number(o, counts[i], db_number(res, row, counts[i]));
	json_add_array_text(o, "categories", db_value(res, row, "categories"));
	json_add_array_text(o, "learning_outcomes",
	    db_value(res, row, "learning_outcomes"));
	json_add_bool(o, "members_only", db_bool(res, row, "members_only"));
	json_add_bool(o, "waitlist_enabled",
	    db_bool(res, row, "waitlist_enabled"));
	json_add_bool(o, "confirmation_required",
	    db_bool(res, row, "confirmation_required"));
	for (i = 0; i < sizeof(or_null) / sizeof(or_null[0]); i++)
		if (db_isnull(res, row, or_null[i]))
			json_add_null(o, or_null[i]);
		else
			json_add_number(o, or_null[i],
			    db_number(res, row, or_null[i]));
	json_add_string_or_null(o, "online_url",
	    db_value(res, row, "online_url"));
	json_add_string_or_null(o, "registration_opens_at",
	    db_value(res, row, "registration_opens_at"));
	json_add_string_or_null(o, "registration_closes_at",
	    db_value(res, row, "registration_closes_at"));
	json_add_event_url(o, "url", db_value(res, row, "slug"));
	return o;
}

/*
 * Answers status with the event as staff see it: its public fields'
 * essentials, counts, the online URL.  404 when there is none; 503.
 */
static void
answer_event(struct request *req, struct response *resp, const char *event,
    int status)
{
	const char	*vals[2] = { req->api_key, event };
	PGresult	*res;
	cJSON		*o;

	if ((res = db_fetch(req, resp, STMT_ADMIN_EVENT, 2, vals,
	    MISSING_EVENT)) == NULL)
		return;
	o = json_admin_event(res, 0);
	PQclear(res);
	json_answer(resp, status, o);
}

/* Creates (event NULL) or changes an event from the JSON body. */
static void
save_event(struct request *req, struct response *resp, const char *event)
{
	const char	*vals[3];
	PGresult	*res;
	cJSON		*body;
	const char	*outcome;
	char		 slug[SLUG_MAX + 1], msg[160];
	int		 created;

	/* Well-formed JSON object here; each value is checked by the
	 * database function, which names the first bad field. */
	if ((body = json_body(req, resp)) == NULL)
		return;
	cJSON_Delete(body);
	vals[0] = event;
	vals[1] = req->body.data;
	vals[2] = req->api_key;
	if ((res = db_fetch(req, resp, STMT_ADMIN_SAVE_EVENT, 3, vals,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	created = strcmp(outcome, "created") == 0;
	if (created || strcmp(outcome, "updated") == 0) {
		snprintf(slug, sizeof(slug), "%s", db_value(res, 0, "event_slug"));
		/* By id: it stays the event's address when the slug
		 * changes. */
		if (created)
			resp_header(resp, "Location", "/api/v1/admin/events/%s",
			    db_value(res, 0, "event_id"));
		PQclear(res);
		answer_event(req, resp, slug, created ? 201 : 200);
		return;
	}
	snprintf(msg, sizeof(msg), "%s", db_value(res, 0, "message"));
	if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_EVENT);
	else if (strcmp(outcome, "invalid") == 0)
		answer_field_error(resp, db_value(res, 0, "field"), msg);
	else if (strcmp(outcome, "slug_taken") == 0)
		answer_error_field(req, resp, 409, "slug_taken", "slug", msg);
	else if (strcmp(outcome, "below_confirmed") == 0)
		answer_error(req, resp, 409, "capacity_below_confirmed", msg);
	else if (strcmp(outcome, "below_waiting") == 0)
		answer_error(req, resp, 409, "waitlist_capacity_below_waiting",
		    msg);
	else
		admin_refuse(req, resp, outcome);
	PQclear(res);
}

/*
 * POST /api/v1/admin/events: creates an event (a draft unless the body
 * says published) from a JSON object of its fields.  201 the event, with
 * Location (by id); 400 malformed body; 409 slug_taken (with field);
 * 422 invalid_field.
 */
void
h_admin_event_create(struct request *req, struct response *resp)
{
	save_event(req, resp, NULL);
}

/*
 * PATCH /api/v1/admin/events/{id}: changes the fields in the body.  200
 * the event; 404 before anything about the body; 400; 409 capacity_below_confirmed,
 * waitlist_capacity_below_waiting, event_cancelled,
 * slug_taken; 422.
 */
void
h_admin_event_update(struct request *req, struct response *resp)
{
	if (admin_event_found(req, resp) == 0)
		save_event(req, resp, req->args[0]);
}

/*
 * GET /api/v1/admin/events/{id}: the event with its counts and the online
 * URL.  200; 404.
 */
void
h_admin_event_get(struct request *req, struct response *resp)
{
	if (admin_event_arg(req, resp) == 0)
		answer_event(req, resp, req->args[0], 200);
}

static void
set_status(struct request *req, struct response *resp, const char *status)
{
	const char	*vals[3] = { req->args[0], status, req->api_key };
	PGresult	*res;
	char		 outcome[32];

	if (admin_event_arg(req, resp) == -1 ||
	    (res = db_fetch(req, resp, STMT_ADMIN_SET_STATUS, 3, vals,
	    MISSING_OK)) == NULL)
		return;
	snprintf(outcome, sizeof(outcome), "%s", db_value(res, 0, "outcome"));
	PQclear(res);
	if (strcmp(outcome, "ok") == 0 || strcmp(outcome, "unchanged") == 0)
		answer_event(req, resp, req->args[0], 200);
	else if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_EVENT);
	else
		admin_refuse(req, resp, outcome);
}

/*
 * POST /api/v1/admin/events/{id}/publish: opens the event to the public.
 * 200 the event (also when already so); 404; 409 event_cancelled; 422
 * naming a field an older release stored and today's rules refuse
 * (set_status() refuses it naming the field: db_fetch()).
 */
void
h_admin_event_publish(struct request *req, struct response *resp)
{
	set_status(req, resp, "published");
}

/*
 * POST /api/v1/admin/events/{id}/unpublish: back to a draft.  200 (also
 * when already so); 404; 409 event_cancelled; 422 as publish.
 */
void
h_admin_event_unpublish(struct request *req, struct response *resp)
{
	set_status(req, resp, "draft");
}

/*
 * POST /api/v1/admin/events/{id}/cancel: cancels the event and every
 * registration, with a notice to each.  200 (also when already so); 404.
 */
void
h_admin_event_cancel(struct request *req, struct response *resp)
{
	set_status(req, resp, "cancelled");
}

/* The capacity a PUT .../capacity body asks for (api_admin.h). */
int
admin_capacity_body(struct response *resp, const cJSON *body, long *capacity)
{
	static const char *const only[] = { "capacity", NULL };
	const cJSON	*c;

	if (json_only_members(resp, body, only, N_("is not a field of this "
	    "call: send only capacity")) == -1)
		return -1;
	c = cJSON_GetObjectItemCaseSensitive(body, "capacity");
	if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
	    c->valuedouble > CAPACITY_MAX ||
	    c->valuedouble != (double)(long)c->valuedouble) {
		answer_field_error(resp, "capacity",
		    "must be a whole number from 0 to 1000000");
		return -1;
	}
	*capacity = (long)c->valuedouble;
	return 0;
}

/*
 * PUT /api/v1/admin/events/{id}/capacity {"capacity": n}: raising it
 * promotes the oldest waiting at once, in order, in the same transaction;
 * lowering it below the confirmed count is refused and bumps nobody.  200
 * {capacity, confirmed, promoted}; 404 (before the body); 409 capacity_below_confirmed,
 * event_cancelled; 422.
 */
void
h_admin_capacity(struct request *req, struct response *resp)
{
	const char	*vals[3];
	char		 cap[16], msg[256];
	PGresult	*res;
	cJSON		*body, *o;
	const char	*outcome;
	long		 taken, capacity;
	int		 rc;

	if (admin_event_found(req, resp) == -1 ||
	    (body = json_body(req, resp)) == NULL)
		return;
	rc = admin_capacity_body(resp, body, &capacity);
	cJSON_Delete(body);
	if (rc == -1)
		return;
	snprintf(cap, sizeof(cap), "%ld", capacity);
	vals[0] = req->args[0];
	vals[1] = cap;
	vals[2] = req->api_key;
	if ((res = db_fetch(req, resp, STMT_ADMIN_SET_CAPACITY, 3, vals,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "ok") == 0) {
		o = json_new_object();
		json_add_number(o, "capacity", strtod(cap, NULL));
		json_add_number(o, "confirmed", db_number(res, 0, "confirmed"));
		json_add_number(o, "promoted", db_number(res, 0, "promoted"));
		json_answer(resp, 200, o);
	} else if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_EVENT);
	else if (strcmp(outcome, "below_confirmed") == 0) {
		taken = (long)db_number(res, 0, "confirmed");
		snprintf(msg, sizeof(msg), P_("%ld seat is taken: the capacity "
		    "cannot go below it (cancel registrations first)",
		    "%ld seats are taken: the capacity cannot go below that "
		    "(cancel registrations first)", taken), taken);
		answer_error(req, resp, 409, "capacity_below_confirmed", msg);
	} else
		admin_refuse(req, resp, outcome);
	PQclear(res);
}
