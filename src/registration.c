/*
 * registration.c: a registration attempt and its outcome (see
 * registration.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "db.h"
#include "http.h"
#include "json.h"
#include "metrics.h"
#include "registration.h"
#include "validate.h"

/* Trims ASCII blanks in place; returns the new start, sets *len. */
static const char *
trim(const char *s, size_t *len)
{
	size_t	 n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

/*
 * Takes one string field out of the object into dst.  Returns 1 when
 * present and valid, 0 when absent or null (and optional), -1 when an error
 * was answered.
 */
static int
take_field(struct request *req, struct response *resp, const cJSON *obj,
    const char *field, int required, int is_email, char *dst, size_t dstsz)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(obj, field);
	const char	*v;
	size_t		 len, max = is_email ? EMAIL_MAX_BYTES :
			    (strcmp(field, "name") == 0 ? NAME_MAX_CHARS :
			    ORG_MAX_CHARS);

	if (item == NULL || cJSON_IsNull(item)) {
		if (!required)
			return 0;
		resp_field_error(req, resp, field, "is required");
		return -1;
	}
	if (!cJSON_IsString(item) || item->valuestring == NULL) {
		resp_field_error(req, resp, field, "must be a string");
		return -1;
	}
	v = trim(item->valuestring, &len);
	if (len == 0 && !required)
		return 0;
	if (len == 0) {
		resp_field_error(req, resp, field, "is required");
		return -1;
	}
	if (is_email) {
		if (!email_valid(v, len)) {
			resp_field_error(req, resp, field,
			    "is not a valid email address");
			return -1;
		}
	} else if (utf8_chars(v, len) > max) {
		char	 msg[64];

		snprintf(msg, sizeof(msg), "is too long (at most %zu characters)",
		    max);
		resp_field_error(req, resp, field, msg);
		return -1;
	} else if (!text_valid(v, len, max)) {
		resp_field_error(req, resp, field,
		    "must be one line of text without control characters");
		return -1;
	}
	if (len >= dstsz)
		abort();	/* bounded by max above */
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 1;
}

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
	{ "not_eligible", 403, "not_eligible",
	    "this event is for member libraries; register with your library "
	    "email address" },
	{ "idempotency_mismatch", 422, "idempotency_key_reused",
	    "this Idempotency-Key was used for a different registration" },
	{ "already_registered", 409, "already_registered",	/* staff only */
	    "this address already holds a registration for this event" },
};

void
registration_outcome(const char *outcome, struct registration_result *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(outcome, outcomes[i].outcome) == 0)
			break;
	if (i == sizeof(outcomes) / sizeof(outcomes[0]))
		abort();	/* the function and this table disagree */
	out->http_status = outcomes[i].status;
	out->code = outcomes[i].code;
	out->message = outcomes[i].message;
	out->status = outcomes[i].outcome;
}

int
registration_submit(const struct registration_input *in,
    struct registration_result *out)
{
	char		 token[37], event[SLUG_MAX + 1];
	uuid_t		 uu;
	const char	*vals[7];
	PGresult	*res;
	enum db_status	 st;

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
	metrics_registration(db_value(res, 0, "outcome"));
	registration_outcome(db_value(res, 0, "outcome"), out);
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

int
registration_read_fields(struct request *req, struct response *resp,
    struct registration_fields *f)
{
	cJSON	*body;
	int	 rc = -1;

	memset(f, 0, sizeof(*f));
	if ((body = http_json_object(req, resp)) == NULL)
		return -1;
	if (take_field(req, resp, body, "name", 1, 0, f->name,
	    sizeof(f->name)) == -1 ||
	    take_field(req, resp, body, "email", 1, 1, f->email,
	    sizeof(f->email)) == -1 ||
	    (f->has_org = take_field(req, resp, body, "organization", 0, 0,
	    f->org, sizeof(f->org))) == -1)
		goto done;
	rc = 0;
done:
	cJSON_Delete(body);
	return rc;
}
