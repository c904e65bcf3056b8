/*
 * api_registrations.c: registering, and a registration seen or cancelled by
 * the holder of its token.
 *
 *   POST   /api/v1/events/{id}/registrations
 *          body {name, email, organization?}; optional Idempotency-Key.
 *          201 {status: confirmed|waitlisted, position?}; 400 malformed
 *          body or key; 403 not published, cancelled, not open, closed;
 *          404 no such event; 409 full; 422 invalid field or a reused
 *          idempotency key; 503.  The token is never in the answer (it goes
 *          by email only), and an email already registered answers exactly
 *          as a new one would: nobody can probe who is registered.
 *   GET    /api/v1/registrations/{token}   200, 400, 404, 503
 *   DELETE /api/v1/registrations/{token}   200 (also when already
 *          cancelled: idempotent), 400, 404, 503
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "registration.h"
#include "validate.h"

void
h_register(struct request *req, struct response *resp)
{
	struct registration_fields f;
	struct registration_input in;
	struct registration_result out;

	if (req->idempotency_key != NULL &&
	    !idempotency_key_valid(req->idempotency_key,
	    strlen(req->idempotency_key))) {
		resp_error(req, resp, 400, "invalid_idempotency_key",
		    "Idempotency-Key: 1 to 200 printable ASCII characters");
		return;
	}
	if (req->body.len == 0) {
		resp_error(req, resp, 400, "empty_body",
		    "send {\"name\": ..., \"email\": ...} as JSON");
		return;
	}
	if (registration_read_fields(req, resp, &f) == -1)
		return;

	memset(&in, 0, sizeof(in));
	in.event = req->args[0];
	in.event_len = req->args_len[0];
	in.name = f.name;
	in.email = f.email;
	in.organization = f.has_org ? f.org : NULL;
	in.source = "api";
	in.idempotency_key = req->idempotency_key;
	if (registration_submit(&in, &out) == -1) {
		resp_unavailable(req, resp, out.busy);
		return;
	}
	if (out.http_status != 201) {
		resp_error(req, resp, out.http_status, out.code, out.message);
		return;
	}
	registration_json(resp, &out);
}

/* 400 for a malformed token, so clients learn of a truncated link at once. */
static int
check_token(struct request *req, struct response *resp)
{
	if (!token_valid(req->args[0], req->args_len[0])) {
		resp_error(req, resp, 400, "invalid_token",
		    "that is not a registration token");
		return -1;
	}
	resp_header(resp, "Referrer-Policy", "%s", "no-referrer");
	return 0;
}

void
h_registration_get(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0];
	PGresult	*res;
	enum db_status	 st;
	cJSON		*o, *ev;
	const char	*status;

	if (check_token(req, resp) == -1)
		return;
	if ((st = db_query(STMT_REGISTRATION_BY_TOKEN, 1, &tok, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(req, resp, 404, "registration_not_found",
		    "no registration has that token");
		return;
	}
	status = db_value(res, 0, "status");
	o = json_new_object();
	json_add_string(o, "status", status);
	if (db_isnull(res, 0, "position"))
		json_add_null(o, "position");
	else
		json_add_number(o, "position",
		    strtod(db_value(res, 0, "position"), NULL));
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
	/* The online URL only for a confirmed seat (the function enforces it). */
	json_add_string_or_null(o, "online_url", db_value(res, 0, "online_url"));
	PQclear(res);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}

void
h_registration_cancel(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0];
	PGresult	*res;
	enum db_status	 st;
	cJSON		*o;
	const char	*outcome;

	if (check_token(req, resp) == -1)
		return;
	if ((st = db_query(STMT_CANCEL, 1, &tok, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "not_found") == 0) {
		PQclear(res);
		resp_error(req, resp, 404, "registration_not_found",
		    "no registration has that token");
		return;
	}
	o = json_new_object();
	json_add_string(o, "status", "cancelled");
	json_add_bool(o, "already_cancelled",
	    strcmp(outcome, "already_cancelled") == 0);
	json_add_string(o, "event", db_value(res, 0, "event_slug"));
	PQclear(res);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}
