/*
 * registration.c: a registration attempt and its outcome (see
 * registration.h).
 */
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "db.h"
#include "json.h"
#include "metrics.h"
#include "registration.h"
#include "validate.h"

static const struct {
	const char	*outcome;	/* from eventbox.register() */
	int		 status;
	const char	*code;
	const char	*message;
} outcomes[] = {
	{ "confirmed", 201, NULL,
	    "You are registered. A confirmation email with your cancellation "
	    "link is on its way." },
	{ "waitlisted", 201, NULL,
	    "This event is full, so you are on the waiting list. We will email "
	    "you if a seat opens up." },
	{ "full", 409, "event_full",
	    "this event is full and its waiting list is closed" },
	{ "not_found", 404, "event_not_found", "no such event" },
	{ "not_published", 403, "event_not_published",
	    "this event is not open for registration" },
	{ "event_cancelled", 403, "event_cancelled", "this event was cancelled" },
	{ "not_open", 403, "registration_not_open",
	    "registration for this event has not opened yet" },
	{ "closed", 403, "registration_closed",
	    "registration for this event is closed" },
	{ "invalid_name", 422, "invalid_field", "name: not acceptable" },
	{ "invalid_email", 422, "invalid_field", "email: not a valid address" },
	{ "invalid_organization", 422, "invalid_field",
	    "organization: not acceptable" },
	{ "idempotency_mismatch", 422, "idempotency_key_reused",
	    "this Idempotency-Key was used for a different registration" },
};

int
registration_submit(const struct registration_input *in,
    struct registration_result *out)
{
	char		 token[37], event[SLUG_MAX + 1];
	uuid_t		 uu;
	const char	*vals[7];
	PGresult	*res;
	enum db_status	 st;
	const char	*outcome;
	size_t		 i;

	memset(out, 0, sizeof(*out));
	if (!event_ref_valid(in->event, in->event_len) ||
	    in->event_len > SLUG_MAX) {
		out->http_status = 404;
		out->code = "event_not_found";
		out->message = "no such event";
		return 0;
	}
	memcpy(event, in->event, in->event_len);
	event[in->event_len] = '\0';

	uuid_generate_random(uu);
	uuid_unparse_lower(uu, token);
	vals[0] = event;
	vals[1] = in->name;
	vals[2] = in->email;
	vals[3] = in->organization;
	vals[4] = in->source;
	vals[5] = token;
	vals[6] = in->idempotency_key;
	if ((st = db_query(STMT_REGISTER, 7, vals, &res)) != DB_OK) {
		out->busy = st == DB_BUSY;
		metrics_registration("unavailable");
		return -1;
	}
	outcome = db_value(res, 0, "outcome");
	metrics_registration(outcome);
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(outcome, outcomes[i].outcome) == 0)
			break;
	if (i == sizeof(outcomes) / sizeof(outcomes[0]))
		abort();	/* the function and this table disagree */
	out->http_status = outcomes[i].status;
	out->code = outcomes[i].code;
	out->message = outcomes[i].message;
	out->status = outcomes[i].outcome;
	if (!db_isnull(res, 0, "position"))
		out->position = strtol(db_value(res, 0, "position"), NULL, 10);
	strncpy(out->event_slug, db_value(res, 0, "event_slug"),
	    sizeof(out->event_slug) - 1);
	PQclear(res);
	return 0;
}

void
registration_json(struct response *resp, const struct registration_result *r)
{
	cJSON	*o = json_new_object();

	resp->status = 201;
	json_add_string(o, "status", r->status);
	if (r->position > 0)
		json_add_number(o, "position", (double)r->position);
	else
		json_add_null(o, "position");
	json_add_string(o, "event", r->event_slug);
	json_add_string(o, "message", r->message);
	json_write(&resp->body, o);
	cJSON_Delete(o);
}
