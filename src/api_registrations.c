/*
 * api_registrations.c: registering, and a registration seen or cancelled by
 * the holder of its token (JSON).  Offers the handlers of
 *
 *   POST   /api/v1/events/{id}/registrations
 *   GET    /api/v1/registrations/{token}
 *   DELETE /api/v1/registrations/{token}
 *   POST   /api/v1/registrations/{token}/confirm
 *
 * and api_registration_fields(), which the staff registration route
 * shares: a JSON body's fields, checked, or an answer in the API's words.
 *
 * The path of a registration: router.c checks the route (media type, body
 * size, whole body), h_register() reads the JSON body (answer.c) and its
 * fields (registration.c, fields.c), registration_submit() calls
 * eventbox.register_answered() (db_stmts.c: STMT_REGISTER_ANSWERED; sql/),
 * and h_register() answers with the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"
#include "registration.h"
#include "validate.h"

void
api_field_error(struct response *resp, const struct field_problem *p)
{
	const struct field_spec	*f = &field_specs[p->field];
	char			 msg[128];

	switch (p->error) {
	case FIELD_MISSING:
		answer_field_error(resp, f->name, "is required");
		return;
	case FIELD_NOT_STRING:
		answer_field_error(resp, f->name, "must be a string");
		return;
	case FIELD_NOT_NAME:
		answer_field_error(resp, f->name, "must be a name only, without "
		    "a web address or an email address");
		return;
	case FIELD_EMAIL_LOCAL_NOT_ASCII:
		answer_field_error(resp, f->name, "has letters such as é or ñ "
		    "before the @, and such addresses cannot receive our "
		    "emails: use another address");
		return;
	case FIELD_EMAIL_DOMAIN_NOT_IDNA:
		answer_field_error(resp, f->name, "has a domain after the @ that "
		    "is not a valid domain name (IDNA2008): a character no "
		    "domain may hold, or a part over 63 letters once written "
		    "in ASCII");
		return;
	case FIELD_TOO_LONG:
	case FIELD_NOT_TEXT:
	case FIELD_NOT_EMAIL:
		break;
	case FIELD_OK:
	case FIELD_ABSENT:
		abort();	/* not a problem */
	}
	if (f->kind == FIELD_KIND_EMAIL)
		answer_field_error(resp, f->name,
		    "is not a valid email address");
	else if (p->error == FIELD_TOO_LONG) {
		snprintf(msg, sizeof(msg), _("is too long (at most %zu "
		    "characters)"), f->max);
		answer_field_error(resp, f->name, msg);
	} else
		answer_field_error(resp, f->name,
		    "must be one line of text without control characters");
}

int
api_registration_fields(struct request *req, struct response *resp,
    struct registration_fields *f)
{
	struct field_problem	 problem;
	cJSON			*body;
	int			 rc;

	if ((body = json_body(req, resp)) == NULL)
		return -1;
	rc = registration_from_json(body, f, &problem);
	cJSON_Delete(body);
	if (rc == -1)
		api_field_error(resp, &problem);
	return rc;
}

/* 201 (202 pending) {status, position, event, message}: never the token. */
static void
answer_registered(struct response *resp, const struct registration_result *r)
{
	cJSON	*o = json_new_object();

	json_add_string(o, "status", r->status);
	if (r->position > 0)
		json_add_number(o, "position", (double)r->position);
	else
		json_add_null(o, "position");
	json_add_string(o, "event", r->event_slug);
	json_add_string(o, "message", _(r->message));
	json_answer(resp, r->http_status, o);
}

/*
 * POST /api/v1/events/{id}/registrations {name, email, organization?},
 * Idempotency-Key optional: 201 {status, position}; 202 {status: pending}
 * when the event confirms by email; 400; 403 closed or not eligible; 404;
 * 409 full; 422 invalid field or reused key; 429 over the event's ceiling,
 * with Retry-After: the seconds to the next minute; 503.
 */
void
h_register(struct request *req, struct response *resp)
{
	struct registration_fields f;
	struct registration_input in;
	struct registration_result out;
	int			 rc;

	if (req->twice & TWICE_IDEMPOTENCY_KEY) {
		answer_error(req, resp, 400, "duplicate_header",
		    "the Idempotency-Key header is given more than once; "
		    "send one key");
		return;
	}
	if (req->idempotency_key != NULL &&
	    !idempotency_key_valid(req->idempotency_key,
	    strlen(req->idempotency_key))) {
		answer_error(req, resp, 400, "invalid_idempotency_key",
		    "Idempotency-Key: 1 to 200 printable ASCII characters, "
		    "without spaces");
		return;
	}
	if (req->body.len == 0) {
		answer_error(req, resp, 400, "empty_body",
		    "send {\"name\": ..., \"email\": ...} as JSON");
		return;
	}
	if (api_registration_fields(req, resp, &f) == -1)
		return;

	memset(&in, 0, sizeof(in));
	in.event = req->args[0];
	in.event_len = req->args_len[0];
	in.name = f.name;
	in.email = f.email;
	in.organization = f.has_org ? f.org : NULL;
	in.source = "api";
	in.language = req->lang_asked;
	in.idempotency_key = req->idempotency_key;
	in.remote_addr = http_param(req, "REMOTE_ADDR");
	in.answers = f.has_answers ? f.answers : NULL;
	/* The token goes by email only, and an email already registered
	 * answers as a new one would: nobody can probe who is registered. */
	rc = registration_submit(&in, &out);
	registration_fields_free(&f);
	if (rc == -1)
		answer_unavailable(req, resp, out.busy);
	else if (*out.field != '\0')
		answer_field_error(resp, out.field, out.detail);
	else if (out.http_status != 201 && out.http_status != 202) {
		/* The ceiling counts attempts per minute of the clock
		 * (network_over_ceiling(), 55_holds.sql): try the next. */
		if (out.http_status == 429)
			resp_header(resp, "Retry-After", "%d",
			    (int)(60 - time(NULL) % 60));
		answer_error(req, resp, out.http_status, out.code, out.message);
	} else
		answer_registered(resp, &out);
}

/* 400 for a malformed token, so clients learn of a truncated link at once. */
static int
check_token(struct request *req, struct response *resp)
{
	if (!token_valid(req->args[0], req->args_len[0])) {
		answer_error(req, resp, 400, "invalid_token",
		    "that is not a registration token");
		return -1;
	}
	resp_header(resp, "Referrer-Policy", "%s", "no-referrer");
	return 0;
}

/* {status, position} of a registration row; the caller owns the object. */
static cJSON *
status_object(const PGresult *res)
{
	cJSON	*o = json_new_object();

	json_add_string(o, "status", db_value(res, 0, "status"));
	if (db_isnull(res, 0, "position"))
		json_add_null(o, "position");
	else
		json_add_number(o, "position", db_number(res, 0, "position"));
	return o;
}

/*
 * GET /api/v1/registrations/{token}: the holder's own registration, with
 * the online URL once confirmed; a held one is "pending" (as the 202 said)
 * with held_until, the end of its hold (null for any other).  200; 400
 * malformed token; 404; 503.
 */
void
h_registration_get(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0];
	PGresult	*res;
	cJSON		*o, *ev;
	struct buf	 url = BUF_INIT;

	if (check_token(req, resp) == -1 ||
	    (res = db_fetch(req, resp, STMT_REGISTRATION_BY_TOKEN, 1, &tok,
	    MISSING_TOKEN)) == NULL)
		return;
	o = status_object(res);
	json_add_string_or_null(o, "held_until", db_value(res, 0, "held_until"));
	json_add_string(o, "name", db_value(res, 0, "name"));
	json_add_string(o, "email", db_value(res, 0, "email"));
	json_add_string_or_null(o, "organization",
	    db_value(res, 0, "organization"));
	json_add_string(o, "registered_at", db_value(res, 0, "registered_at"));
	ev = json_add_object(o, "event");
	json_add_string(ev, "slug", db_value(res, 0, "event_slug"));
	json_add_string(ev, "title", db_value(res, 0, "event_title"));
	json_add_string(ev, "starts_at", db_value(res, 0, "starts_at"));
	json_add_string(ev, "ends_at", db_value(res, 0, "ends_at"));
	json_add_string(ev, "timezone", db_value(res, 0, "timezone"));
	json_add_string(ev, "starts_local", db_value(res, 0, "starts_local"));
	json_add_string(ev, "ends_local", db_value(res, 0, "ends_local"));
	json_add_string(ev, "format", db_value(res, 0, "format"));
	json_add_string(ev, "location", db_value(res, 0, "location"));
	json_add_event_url(ev, "url", db_value(res, 0, "event_slug"));
	buf_printf(&url, "%s.ics", db_value(res, 0, "event_slug"));
	json_add_event_url(ev, "ics_url", url.data);
	/* The online URL only for a confirmed seat (the function enforces it). */
	json_add_string_or_null(o, "online_url", db_value(res, 0, "online_url"));
	buf_free(&url);
	PQclear(res);
	json_answer(resp, 200, o);
}

/*
 * DELETE /api/v1/registrations/{token}: cancels; a confirmed seat goes to
 * the next one waiting.  200 (also when already cancelled: idempotent);
 * 400 malformed token; 404; 409 event_ended (the event is over: nothing
 * changed, eventbox.cancel()); 503.
 */
void
h_registration_cancel(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0];
	PGresult	*res;
	cJSON		*o;
	const char	*outcome;

	if (check_token(req, resp) == -1 ||
	    (res = db_fetch(req, resp, STMT_CANCEL, 1, &tok,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "not_found") == 0) {
		PQclear(res);
		answer_missing(req, resp, MISSING_TOKEN);
		return;
	}
	if (strcmp(outcome, "event_ended") == 0) {
		PQclear(res);
		answer_error(req, resp, 409, "event_ended", N_("this event has "
		    "ended, so the registration can no longer be cancelled; "
		    "nothing was changed"));
		return;
	}
	o = json_new_object();
	json_add_string(o, "status", "cancelled");
	json_add_bool(o, "already_cancelled",
	    strcmp(outcome, "already_cancelled") == 0);
	json_add_string(o, "event", db_value(res, 0, "event_slug"));
	PQclear(res);
	json_answer(resp, 200, o);
}

/*
 * POST /api/v1/registrations/{token}/confirm: confirms a held
 * registration.  200 {status, position, event, already_confirmed}; 400
 * malformed token; 404 unknown, replaced or cancelled; 410 hold_expired;
 * 503.
 */
void
h_registration_confirm(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0], *outcome;
	PGresult	*res;
	cJSON		*o;

	if (check_token(req, resp) == -1 ||
	    (res = db_fetch(req, resp, STMT_CONFIRM, 1, &tok,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "expired") == 0)
		answer_error(req, resp, 410, "hold_expired", "the place was "
		    "held for a limited time, which has ended; register again");
	else if (strcmp(outcome, "confirmed") != 0 &&
	    strcmp(outcome, "already_confirmed") != 0)
		answer_missing(req, resp, MISSING_TOKEN);
	else {
		o = status_object(res);
		json_add_string(o, "event", db_value(res, 0, "event_slug"));
		json_add_bool(o, "already_confirmed",
		    strcmp(outcome, "already_confirmed") == 0);
		json_answer(resp, 200, o);
	}
	PQclear(res);
}
