/*
 * api_admin_registrations.c: the staff API's registrations (JSON and CSV,
 * behind a staff key; see api_admin.h).  Offers the handlers of
 *
 *   GET    /api/v1/admin/events/{id}/registrations[.csv]   the roster
 *   POST   /api/v1/admin/events/{id}/registrations         staff register
 *   DELETE /api/v1/admin/registrations/{id}                cancel
 *   POST   /api/v1/admin/registrations/{id}/promote
 *   POST   /api/v1/admin/registrations/{id}/check-in       (DELETE undoes)
 *   PATCH  /api/v1/admin/registrations/{id}                correct
 *   POST   /api/v1/admin/registrations/{id}/resend
 *
 * and admin_roster_query(), which the LibCal staff route shares.  Any of
 * them: 401 without a valid key, 503 when the database is away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "api_admin.h"
#include "csv.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "log.h"
#include "query.h"
#include "registration.h"
#include "validate.h"

#define ROSTER_PER_PAGE		50
#define ROSTER_PER_PAGE_MAX	1000

static const char *const statuses[] = { "confirmed", "waitlisted",
    "cancelled", NULL };

enum { P_STATUS, P_PAGE, P_PER_PAGE, P__MAX };

/* A roster's query: status, page, per_page (the CSV: every row unless
 * asked). */
static const struct query_param roster_params[P__MAX] = {
	[P_STATUS] = { "status", Q_ONEOF, 0, 0, 0, statuses, NULL },
	[P_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[P_PER_PAGE] = { "per_page", Q_INT, 1, ROSTER_PER_PAGE_MAX,
	    ROSTER_PER_PAGE, NULL, NULL },
};

/* The registration id in the path, or -1 after answering 404. */
static int
registration_arg(struct request *req, struct response *resp)
{
	long long	 id;

	if (id_parse(req->args[0], req->args_len[0], &id) == -1) {
		answer_missing(req, resp, MISSING_REGISTRATION);
		return -1;
	}
	return 0;
}

PGresult *
admin_roster_query(struct request *req, struct response *resp,
    const char *status, const char *limit, const char *offset)
{
	const char	*vals[5];
	const char	*evals[2] = { req->api_key, req->args[0] };
	PGresult	*res, *ev;

	if (admin_event_arg(req, resp) == -1)
		return NULL;
	vals[0] = req->api_key;
	vals[1] = req->args[0];
	vals[2] = status;
	vals[3] = limit;
	vals[4] = offset;
	if ((res = db_fetch(req, resp, STMT_ADMIN_ROSTER, 5, vals,
	    MISSING_OK)) == NULL)
		return NULL;
	/* An empty roster and no event look alike here: ask about the event. */
	if (strcmp(db_value(res, 0, "total"), "0") == 0) {
		if ((ev = db_fetch(req, resp, STMT_ADMIN_EVENT, 2, evals,
		    MISSING_EVENT)) == NULL) {
			PQclear(res);
			return NULL;
		}
		PQclear(ev);
	}
	return res;
}

/*
 * The roster with the page and filter asked for in the query; per_page 0
 * by default means every row.  NULL after answering 400, 404 or 503.
 */
static PGresult *
roster(struct request *req, struct response *resp, long long per_page,
    long long *page, long long *per_page_out)
{
	struct query_value	 v[P__MAX];
	char			 limit[24], offset[24];

	if (admin_query(req, resp, roster_params, P__MAX, v) == -1)
		return NULL;
	*page = v[P_PAGE].num;
	*per_page_out = v[P_PER_PAGE].present ? v[P_PER_PAGE].num : per_page;
	snprintf(limit, sizeof(limit), "%lld", *per_page_out);
	snprintf(offset, sizeof(offset), "%lld", (*page - 1) * *per_page_out);
	return admin_roster_query(req, resp,
	    v[P_STATUS].present ? v[P_STATUS].text : NULL,
	    *per_page_out > 0 ? limit : NULL, offset);
}

/*
 * GET /api/v1/admin/events/{id}/registrations: the roster in the order
 * of registration (each waiting one with its place); status, page,
 * per_page (1..1000, 50).
 * 200 {registrations, page, per_page, total}; 400 invalid_query; 404.
 */
void
h_admin_roster(struct request *req, struct response *resp)
{
	static const char *const strings[] = { "name", "email", "status",
	    "source", "registered_at" };
	static const char *const maybe[] = { "library", "confirmed_at",
	    "promoted_at", "cancelled_at", "attended_at", "hold",
	    "held_until" };
	PGresult		*res;
	cJSON			*root, *arr, *o;
	long long		 page, per_page;
	int			 i;
	size_t			 k;

	if ((res = roster(req, resp, ROSTER_PER_PAGE, &page,
	    &per_page)) == NULL)
		return;
	root = json_new_object();
	arr = json_add_array(root, "registrations");
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "registration_id"))
			continue;
		o = json_new_object();
		json_add_number(o, "id", db_number(res, i, "registration_id"));
		for (k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
			json_add_string(o, strings[k],
			    db_value(res, i, strings[k]));
		for (k = 0; k < sizeof(maybe) / sizeof(maybe[0]); k++)
			json_add_string_or_null(o, maybe[k],
			    db_value(res, i, maybe[k]));
		json_add_bool(o, "member", db_bool(res, i, "is_member"));
		if (db_isnull(res, i, "position"))
			json_add_null(o, "position");
		else
			json_add_number(o, "position",
			    db_number(res, i, "position"));
		json_add_bool(o, "attended", !db_isnull(res, i, "attended_at"));
		json_add_object_text(o, "answers", db_value(res, i, "answers"));
		cJSON_AddItemToArray(arr, o);
	}
	json_add_number(root, "page", (double)page);
	json_add_number(root, "per_page", (double)per_page);
	json_add_number(root, "total", db_number(res, 0, "total"));
	PQclear(res);
	json_answer(resp, 200, root);
}

/*
 * GET /api/v1/admin/events/{id}/registrations.csv: the roster as a
 * spreadsheet, every row unless page/per_page ask.  A registration held
 * for its address reads "confirmed" or "waitlisted" in status, as the JSON
 * roster's does: its hold and held-until columns say whether it counts yet
 * (and "expired" tells a lapsed hold from a cancellation).  New columns go
 * at the end: staff scripts read the others by position.  200 text/csv;
 * 400 invalid_query; 404.
 */
void
h_admin_roster_csv(struct request *req, struct response *resp)
{
	static const char *const head[] = { "registration", "name", "email",
	    "member library", "member", "status", "waiting position",
	    "registered (UTC)", "confirmed (UTC)", "cancelled (UTC)",
	    "attended", "checked in (UTC)", "answers", "hold",
	    "held until (UTC)" };
	PGresult		*res;
	struct buf		*b = &resp->body;
	long long		 page, per_page;
	size_t			 k;
	int			 i, last = sizeof(head) / sizeof(head[0]) - 1;
	char			 slug[SLUG_MAX + 1];

	if ((res = roster(req, resp, 0, &page, &per_page)) == NULL)
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
		csv_cell(b, db_bool(res, i, "is_member") ? "yes" : "no", 0);
		csv_cell(b, db_value(res, i, "status"), 0);
		csv_cell(b, db_value(res, i, "position"), 0);
		csv_cell(b, db_value(res, i, "registered_at"), 0);
		csv_cell(b, db_value(res, i, "confirmed_at"), 0);
		csv_cell(b, db_value(res, i, "cancelled_at"), 0);
		csv_cell(b, db_isnull(res, i, "attended_at") ? "no" : "yes", 0);
		csv_cell(b, db_value(res, i, "attended_at"), 0);
		csv_cell(b, db_value(res, i, "answers_text"), 0);
		csv_cell(b, db_value(res, i, "hold"), 0);
		csv_cell(b, db_value(res, i, "held_until"), 1);
	}
	PQclear(res);
}

/*
 * POST /api/v1/admin/events/{id}/registrations {name, email,
 * organization?}: staff enter a registration (by phone, at the desk),
 * members-only or not.  201 {id, status, position}; 404 (before the
 * body); 400; 403, 409, 422 as for a patron.
 */
void
h_admin_register(struct request *req, struct response *resp)
{
	struct registration_fields	 f;
	struct registration_result	 out;
	const char			*vals[5];
	PGresult			*res;
	cJSON				*o;

	if (admin_event_found(req, resp) == -1 ||
	    api_registration_fields(req, resp, &f) == -1)
		return;
	registration_fields_free(&f);	/* staff's registrations take no
					 * answers: any given are ignored */
	vals[0] = req->args[0];
	vals[1] = f.name;
	vals[2] = f.email;
	vals[3] = f.has_org ? f.org : NULL;
	vals[4] = req->api_key;
	if ((res = db_fetch(req, resp, STMT_ADMIN_REGISTER, 5, vals,
	    MISSING_OK)) == NULL)
		return;
	memset(&out, 0, sizeof(out));
	registration_outcome(db_value(res, 0, "outcome"),
	    db_bool(res, 0, "no_waitlist"), &out);
	if (out.http_status != 201) {
		PQclear(res);
		answer_error(req, resp, out.http_status, out.code, out.message);
		return;
	}
	o = json_new_object();
	json_add_number(o, "id", db_number(res, 0, "registration_id"));
	json_add_string(o, "status", out.status);
	if (db_isnull(res, 0, "position"))
		json_add_null(o, "position");
	else
		json_add_number(o, "position", db_number(res, 0, "position"));
	PQclear(res);
	json_answer(resp, 201, o);
}

/* Answers a registration action: 200 {id, outcome, ...} or a refusal. */
static void
registration_action(struct request *req, struct response *resp,
    enum stmt s, const char *attended)
{
	const char	*vals[3] = { req->args[0], req->api_key, attended };
	PGresult	*res;
	const char	*outcome;
	cJSON		*o;

	if (registration_arg(req, resp) == -1 ||
	    (res = db_fetch(req, resp, s, attended != NULL ? 3 : 2, vals,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_REGISTRATION);
	else if (strcmp(outcome, "cancelled") == 0 ||
	    strcmp(outcome, "already_cancelled") == 0 ||
	    strcmp(outcome, "queued") == 0 ||
	    strcmp(outcome, "already_queued") == 0 ||
	    strcmp(outcome, "promoted") == 0 ||
	    strcmp(outcome, "checked_in") == 0 ||
	    strcmp(outcome, "unchecked") == 0 ||
	    strcmp(outcome, "unchanged") == 0) {
		o = json_new_object();
		json_add_number(o, "id", strtod(req->args[0], NULL));
		json_add_string(o, "outcome", outcome);
		if (s == STMT_ADMIN_CANCEL)
			json_add_number(o, "promoted", db_number(res, 0, "promoted"));
		if (s == STMT_ADMIN_CHECK_IN)
			json_add_bool(o, "attended", strcmp(attended, "t") == 0);
		if (s == STMT_ADMIN_RESEND)
			json_add_string(o, "mailed", db_value(res, 0, "mailed"));
		json_answer(resp, 200, o);
	} else
		admin_refuse(req, resp, outcome);
	PQclear(res);
}

/*
 * DELETE /api/v1/admin/registrations/{id}: cancels for a patron, or takes
 * them off the waiting list.  200 {id, outcome, promoted}; 404.
 */
void
h_admin_cancel(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_CANCEL, NULL);
}

/*
 * POST /api/v1/admin/registrations/{id}/promote: a free seat to this
 * person, ahead of the queue.  200 {id, outcome}; 404; 409 no_seat_free,
 * not_waitlisted, event_started.
 */
void
h_admin_promote(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_PROMOTE, NULL);
}

/*
 * POST (or DELETE, to take it back) /api/v1/admin/registrations/{id}/
 * check-in: marks attendance.  200 {id, outcome, attended}; 404; 409
 * not_confirmed.
 */
void
h_admin_check_in(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_CHECK_IN,
	    req->method == M_DELETE ? "f" : "t");
}

/*
 * POST /api/v1/admin/registrations/{id}/resend: the registration's email
 * for its state (its confirmation, its waiting-list email, or the request
 * to confirm its held place) again, to its address, with a new link; the
 * older links keep working.  200 {id, outcome: queued|already_queued,
 * mailed}; 404; 409 event_cancelled, registration_cancelled, event_ended,
 * event_not_published (a draft's is sent once it is published again),
 * event_started (a place on the waiting list: nobody moves up now).
 */
void
h_admin_resend(struct request *req, struct response *resp)
{
	registration_action(req, resp, STMT_ADMIN_RESEND, NULL);
}

/* The registration in the path as staff see it, or NULL after answering
 * 404 or 503; the caller PQclear()s it. */
static PGresult *
registration_found(struct request *req, struct response *resp)
{
	const char	*vals[2] = { req->api_key, req->args[0] };

	if (registration_arg(req, resp) == -1)
		return NULL;
	return db_fetch(req, resp, STMT_ADMIN_REGISTRATION, 2, vals,
	    MISSING_REGISTRATION);
}

/* The fields of a correction to send to correct_registration(), as JSON
 * text the caller frees with cJSON_free() (api_admin.h). */
char *
admin_correction_body(struct response *resp, const cJSON *body)
{
	static const char *const correctable[] = { "name", "email",
	    "organization", NULL };
	struct registration_fields	 f;
	struct field_problem		 problem;
	cJSON				*o;
	char				*text;
	unsigned			 present;

	if (json_only_members(resp, body, correctable, N_("is not a field of "
	    "a registration: send name, email or organization")) == -1)
		return NULL;
	if (registration_patch_from_json(body, &f, &present, &problem) == -1) {
		api_field_error(resp, &problem);
		return NULL;
	}
	o = json_new_object();
	if (present & (1u << FIELD_NAME))
		json_add_string(o, "name", f.name);
	if (present & (1u << FIELD_EMAIL))
		json_add_string(o, "email", f.email);	/* email_canonical() */
	if (present & (1u << FIELD_ORGANIZATION))
		json_add_string_or_null(o, "organization",
		    f.has_org ? f.org : NULL);
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		fatalx("out of memory printing a correction");
	cJSON_Delete(o);
	return text;
}

/* 200: the registration as it is now, what the correction did (outcome)
 * and the email it queued (mailed, "" when none). */
static void
answer_corrected(struct request *req, struct response *resp,
    const char *outcome, const char *mailed)
{
	PGresult	*res;
	cJSON		*o;

	if ((res = registration_found(req, resp)) == NULL)
		return;
	o = json_new_object();
	json_add_number(o, "id", db_number(res, 0, "registration_id"));
	json_add_string(o, "event", db_value(res, 0, "event_slug"));
	json_add_string(o, "name", db_value(res, 0, "name"));
	json_add_string(o, "email", db_value(res, 0, "email"));
	json_add_string_or_null(o, "organization",
	    db_value(res, 0, "organization"));
	json_add_bool(o, "member", db_bool(res, 0, "is_member"));
	json_add_string(o, "status", db_value(res, 0, "status"));
	json_add_string_or_null(o, "hold", db_value(res, 0, "hold"));
	json_add_string(o, "outcome", outcome);
	json_add_string_or_null(o, "mailed", mailed);
	PQclear(res);
	json_answer(resp, 200, o);
}

/*
 * PATCH /api/v1/admin/registrations/{id} {name?, email?, organization?}
 * (application/json or merge-patch+json: a field absent is kept,
 * organization null clears it): corrects a live registration.  A new
 * address revokes every link mailed so far and is sent the registration's
 * email for its state, but none (mailed null) while the event is a draft,
 * nor for a place on the waiting list once the event has begun.  200 {id, event, name, email, organization,
 * member, status, hold, outcome: corrected|unchanged, mailed}; 404 before
 * the body; 400; 409 already_registered (+ field email),
 * registration_cancelled, event_ended; 422 invalid_field.
 */
void
h_admin_registration_update(struct request *req, struct response *resp)
{
	const char	*vals[3];
	PGresult	*res;
	cJSON		*body;
	char		*fields, outcome[32], mailed[32];

	if ((res = registration_found(req, resp)) == NULL)
		return;
	PQclear(res);
	if ((body = json_body(req, resp)) == NULL)
		return;
	fields = admin_correction_body(resp, body);
	cJSON_Delete(body);
	if (fields == NULL)
		return;
	vals[0] = req->args[0];
	vals[1] = fields;
	vals[2] = req->api_key;
	res = db_fetch(req, resp, STMT_ADMIN_CORRECT, 3, vals, MISSING_OK);
	cJSON_free(fields);
	if (res == NULL)
		return;
	snprintf(outcome, sizeof(outcome), "%s", db_value(res, 0, "outcome"));
	snprintf(mailed, sizeof(mailed), "%s", db_value(res, 0, "mailed"));
	if (strcmp(outcome, "corrected") == 0 ||
	    strcmp(outcome, "unchanged") == 0) {
		PQclear(res);
		answer_corrected(req, resp, outcome, mailed);
		return;
	}
	if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_REGISTRATION);
	else if (strcmp(outcome, "invalid") == 0)
		answer_field_error(resp, db_value(res, 0, "field"),
		    db_value(res, 0, "message"));
	else if (strcmp(outcome, "already_registered") == 0)
		answer_error_field(req, resp, 409, "already_registered", "email",
		    N_("another registration of this event has this address"));
	else
		admin_refuse(req, resp, outcome);
	PQclear(res);
}
