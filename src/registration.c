/*
 * registration.c: a registration's fields from JSON, the attempt and its
 * outcome (see registration.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <uuid/uuid.h>

#include "db.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "registration.h"
#include "validate.h"

/*
 * One field out of the object into dst (dstsz bytes, room for its limit).
 * FIELD_OK, FIELD_ABSENT (optional, absent or null or blank) or an error.
 */
static enum field_error
take_field(const cJSON *obj, enum field_id id, char *dst, size_t dstsz)
{
	const cJSON	*item;
	enum field_error e;
	char		*v, email[FIELD_EMAIL_SZ];
	size_t		 len;

	item = cJSON_GetObjectItemCaseSensitive(obj, field_specs[id].name);
	if (item == NULL || cJSON_IsNull(item))
		return field_specs[id].required ? FIELD_MISSING : FIELD_ABSENT;
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return FIELD_NOT_STRING;
	e = field_check(id, item->valuestring, strlen(item->valuestring), &v,
	    &len, id == FIELD_EMAIL ? email : NULL);
	if (e != FIELD_OK)
		return e;
	if (id == FIELD_EMAIL) {
		v = email;	/* as stored and mailed: field_check() */
		len = strlen(email);
	}
	if (len >= dstsz)
		abort();	/* bounded by the field's limit */
	memcpy(dst, v, len + 1);
	return FIELD_OK;
}

/*
 * The answers to the event's questions, as JSON text: the database checks
 * them against the questions (answers_error()).  In the struct's buffer
 * when they fit (no allocation for a registration's usual few answers),
 * else allocated: the body's limit is the only limit on their size.  (A
 * fixed 8 KB turned three long answers into "must be an object".)
 */
static void
take_answers(const cJSON *body, struct registration_fields *f)
{
	const cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(body, "answers");
	if (item == NULL || cJSON_IsNull(item))
		return;
	f->has_answers = 1;
	f->answers = f->answers_buf;
	if (!cJSON_PrintPreallocated((cJSON *)item, f->answers_buf,
	    (int)sizeof(f->answers_buf) - 5, 0) &&
	    (f->answers = cJSON_PrintUnformatted(item)) == NULL)
		fatalx("out of memory printing answers");
}

void
registration_fields_free(struct registration_fields *f)
{
	if (f->answers != NULL && f->answers != f->answers_buf)
		cJSON_free(f->answers);
	f->answers = NULL;
}

/*
 * A registration refused by its fields' checks here, before the database
 * is asked, counted in eventbox_registrations_total under the name the
 * database gives the same refusal (registrant_error()): without it, a
 * form or a client sending bad addresses never showed in the metrics.
 */
void
registration_refused(enum field_id field)
{
	static const char *const outcome[FIELD__MAX] = {
		[FIELD_NAME] = "invalid_name",
		[FIELD_EMAIL] = "invalid_email",
		[FIELD_ORGANIZATION] = "invalid_organization",
	};

	metrics_registration(outcome[field]);
}

/*
 * The fields into f, in the order they are checked; given: only those the
 * body names (a correction's), setting their bits in *present.
 */
static int
take_fields(const cJSON *body, struct registration_fields *f, int given,
    unsigned *present, struct field_problem *problem)
{
	static const enum field_id order[] = { FIELD_NAME, FIELD_EMAIL,
	    FIELD_ORGANIZATION };
	char		*dst[FIELD__MAX];
	size_t		 sz[FIELD__MAX], i;
	enum field_error e;

	memset(f, 0, sizeof(*f));
	*present = 0;
	dst[FIELD_NAME] = f->name;
	sz[FIELD_NAME] = sizeof(f->name);
	dst[FIELD_EMAIL] = f->email;
	sz[FIELD_EMAIL] = sizeof(f->email);
	dst[FIELD_ORGANIZATION] = f->org;
	sz[FIELD_ORGANIZATION] = sizeof(f->org);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (given && cJSON_GetObjectItemCaseSensitive(body,
		    field_specs[order[i]].name) == NULL)
			continue;
		e = take_field(body, order[i], dst[order[i]], sz[order[i]]);
		if (e != FIELD_OK && e != FIELD_ABSENT) {
			problem->field = order[i];
			problem->error = e;
			return -1;
		}
		*present |= 1u << order[i];
		if (order[i] == FIELD_ORGANIZATION)
			f->has_org = e == FIELD_OK;
	}
	return 0;
}

int
registration_from_json(const cJSON *body, struct registration_fields *f,
    struct field_problem *problem)
{
	unsigned	 present;

	if (take_fields(body, f, 0, &present, problem) == -1) {
		registration_refused(problem->field);
		return -1;
	}
	take_answers(body, f);
	return 0;
}

int
registration_patch_from_json(const cJSON *body, struct registration_fields *f,
    unsigned *present, struct field_problem *problem)
{
	return take_fields(body, f, 1, present, problem);
}

/* What answers_error() (sql/rules/78_questions.sql) says of an answer,
 * here so that xgettext offers them to translators: the API's 422 words
 * the one that comes back in the request's language (answer.c). */
static const char *const answer_messages[] __attribute__((unused)) = {
	N_("must be an object of answers by question id"),
	N_("is not a question of this event"),
	N_("is required"),
	N_("must be one line of at most 300 characters"),
	N_("must be a text of at most 2000 characters"),
	N_("must be text without control characters"),
	N_("must be one of the choices"),
	N_("must be a list of the choices"),
	N_("must be true or false"),
};

static const struct {
	const char	*outcome;	/* from eventbox.register() */
	int		 status;
	const char	*code;
	const char	*message;
} outcomes[] = {
	{ "confirmed", 201, NULL,
	    N_("You are registered. A confirmation email with your cancellation "
	    "link is on its way.") },
	{ "waitlisted", 201, NULL,
	    N_("This event is full, so you are on the waiting list. We will email "
	    "you if a seat opens up.") },
	/* An event that confirms by email (sql/rules/55_holds.sql): the same
	 * answer for a new address and a repeated one, seat or waiting
	 * place; the email tells which, and until when the place is held
	 * (here that end would tell a repeated address, whose hold began
	 * earlier, from a new one). */
	{ "pending", 202, NULL,
	    N_("Check your email: follow the link in the message we sent to "
	    "confirm it is your address. Your place is held until the time "
	    "the message gives.") },
	{ "rate_limited", 429, "too_many_registrations",
	    N_("too many registrations for this event from your network; try "
	    "again in a minute") },
	{ "full", 409, "event_full",
	    N_("this event is full and its waiting list is closed") },
	/* "full" of an event that takes no waiting list: it has none to
	 * close (registration_outcome() is told which) */
	{ "full_no_waitlist", 409, "event_full", N_("this event is full") },
	{ "not_found", 404, "event_not_found", N_("no such event") },
	{ "not_published", 403, "event_not_published",	/* staff only */
	    N_("this event is not open for registration") },
	{ "event_cancelled", 403, "event_cancelled", N_("this event was cancelled") },
	{ "not_open", 403, "registration_not_open",
	    N_("registration for this event has not opened yet") },
	{ "closed", 403, "registration_closed",
	    N_("registration for this event is closed") },
	{ "invalid_name", 422, "invalid_field", N_("name: not acceptable") },
	{ "invalid_email", 422, "invalid_field", N_("email: not a valid address") },
	{ "invalid_organization", 422, "invalid_field",
	    N_("organization: not acceptable") },
	{ "not_eligible", 403, "not_eligible",
	    N_("this event is for member libraries; register with your library "
	    "email address") },
	{ "idempotency_mismatch", 422, "idempotency_key_reused",
	    N_("this Idempotency-Key was used for a different registration") },
	{ "invalid_answer", 422, "invalid_field",
	    N_("an answer is missing or does not fit its question") },
	{ "already_registered", 409, "already_registered",	/* staff only */
	    N_("this address already holds a registration for this event") },
};

void
registration_outcome(const char *outcome, int no_waitlist,
    struct registration_result *out)
{
	size_t	 i;

	if (no_waitlist && strcmp(outcome, "full") == 0)
		outcome = "full_no_waitlist";
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

/*
 * The client's network as the per-event ceiling counts it, in hex: an IPv4
 * address whole, an IPv6 address's /64 (as nginx's limits do).  NULL when
 * the address is unknown or not an address.
 */
static const char *
client_network(const char *addr, char *hex, size_t hexsz)
{
	unsigned char	 b[16];
	size_t		 n, i;

	if (addr == NULL)
		return NULL;
	if (inet_pton(AF_INET6, addr, b) == 1)
		n = 8;
	else if (inet_pton(AF_INET, addr, b) == 1)
		n = 4;
	else
		return NULL;
	if (hexsz < 2 * n + 1)
		abort();
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	return hex;
}

int
registration_submit(const struct registration_input *in,
    struct registration_result *out)
{
	char		 token[TOKEN_LEN + 1], event[SLUG_MAX + 1], net[33];
	uuid_t		 uu;
	const char	*vals[10], *outcome;
	PGresult	*res;
	enum db_status	 st;

	memset(out, 0, sizeof(*out));
	if (!event_ref_valid(in->event, in->event_len) ||
	    in->event_len > SLUG_MAX) {
		out->http_status = 404;
		out->code = "event_not_found";
		out->message = N_("no such event");
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
	vals[7] = in->answers;
	vals[8] = client_network(in->remote_addr, net, sizeof(net));
	vals[9] = in->language;
	if ((st = db_query_durable(STMT_REGISTER_ANSWERED, 10, vals, &res)) !=
	    DB_OK) {
		out->busy = st == DB_BUSY;
		metrics_registration("unavailable");
		return -1;
	}
	metrics_registration(db_value(res, 0, "outcome"));
	/* A draft is nobody's business but staff's: the public is answered
	 * as for an event that does not exist, as every GET answers it (a
	 * 403 told anyone counting ids that a draft was there). */
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "not_published") == 0)
		outcome = "not_found";
	registration_outcome(outcome, db_bool(res, 0, "no_waitlist"), out);
	if (!db_isnull(res, 0, "position"))
		out->position = strtol(db_value(res, 0, "position"), NULL, 10);
	if (!db_isnull(res, 0, "field")) {
		snprintf(out->field, sizeof(out->field), "%s",
		    db_value(res, 0, "field"));
		snprintf(out->detail, sizeof(out->detail), "%s",
		    db_value(res, 0, "message"));
	}
	strncpy(out->event_slug, db_value(res, 0, "event_slug"),
	    sizeof(out->event_slug) - 1);
	PQclear(res);
	return 0;
}
