/*
 * answer.c: errors in the route's format, JSON answers, db_fetch() (see
 * answer.h).
 */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "i18n.h"
#include "json.h"
#include "page_layout.h"
#include "validate.h"

/* What each 404 says: to an API client, and to a patron on a page. */
static const struct {
	const char	*code;
	const char	*message;
	const char	*page;		/* NULL: the usual text */
} missing_text[] = {
	[MISSING_OK] = { NULL, NULL, NULL },
	[MISSING_EVENT] = { "event_not_found", N_("no such event"),
	    N_("There is no event at this address. It may have been "
	    "removed.") },
	[MISSING_REGISTRATION] = { "registration_not_found",
	    N_("no such registration"), NULL },
	[MISSING_TOKEN] = { "registration_not_found",
	    N_("no registration has that token"), NULL },
	[MISSING_PAGE] = { "not_found", N_("no such resource"), NULL },
};

/*
 * {"error": {"code": ..., "message": ...}} for the API, the message in the
 * request's language (the code never changes); for the pages, an HTML
 * page with the usual text for the status (the API's terse message is not
 * for patrons).  message is the msgid: xgettext finds it as argument 5.
 */
void
answer_error(struct request *req, struct response *resp, int status,
    const char *code, const char *message)
{
	cJSON	*root, *err;

	if (!req->is_api) {
		html_error_page(resp, status, NULL);
		return;
	}
	root = json_new_object();
	err = json_add_object(root, "error");
	json_add_string(err, "code", code);
	json_add_string(err, "message", _(message));
	json_answer(resp, status, root);
}

void
answer_missing(struct request *req, struct response *resp, enum missing m)
{
	if (m == MISSING_OK)
		abort();	/* nothing is missing: a caller's bug */
	if (!req->is_api)
		html_error_page(resp, 404, missing_text[m].page);
	else
		answer_error(req, resp, 404, missing_text[m].code,
		    missing_text[m].message);
}

void
answer_unavailable(struct request *req, struct response *resp, int busy)
{
	answer_error(req, resp, 503, busy ? "busy" : "unavailable",
	    busy ? N_("the service is busy; try again in a moment") :
	    N_("the service is temporarily unavailable; try again in a "
	    "moment"));
	resp_header(resp, "Retry-After", "%d", busy ? 1 : 5);
}

void
answer_field_error(struct response *resp, const char *field,
    const char *message)
{
	cJSON		*root, *err;
	struct buf	 msg = BUF_INIT;

	buf_printf(&msg, "%s: %s", field, _(message));
	root = json_new_object();
	err = json_add_object(root, "error");
	json_add_string(err, "code", "invalid_field");
	json_add_string(err, "message", msg.data);
	json_add_string(err, "field", field);
	json_answer(resp, 422, root);
	buf_free(&msg);
}

void
json_answer(struct response *resp, int status, cJSON *tree)
{
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	json_write(&resp->body, tree);
	cJSON_Delete(tree);
}

struct buf *
json_answer_text(struct response *resp, int status)
{
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	return &resp->body;
}

cJSON *
json_body(struct request *req, struct response *resp)
{
	cJSON		*body;
	const char	*dup;

	/* A byte order mark before the text (PowerShell and .NET write one)
	 * may be ignored (RFC 8259 8.1), and is, for every route alike: cJSON
	 * skips it, but the admin routes hand the body to PostgreSQL, whose
	 * jsonb refused it as a bad value. */
	if (req->body.len >= 3 && memcmp(req->body.data, "\xEF\xBB\xBF",
	    3) == 0) {
		req->body.len -= 3;
		memmove(req->body.data, req->body.data + 3, req->body.len + 1);
	}
	if (req->body.len == 0) {
		answer_error(req, resp, 400, "empty_body",
		    "send a JSON object as the body");
		return NULL;
	}
	if (!utf8_valid(req->body.data, req->body.len)) {
		answer_error(req, resp, 400, "invalid_utf8",
		    "the body is not valid UTF-8");
		return NULL;
	}
	/* cJSON would silently cut a string at a NUL, raw or escaped as
	 * \u0000; an escaped backslash before the letters u0000 is text. */
	if (memchr(req->body.data, '\0', req->body.len) != NULL ||
	    json_nul_escape(req->body.data, req->body.len)) {
		answer_error(req, resp, 400, "invalid_json",
		    "the body contains an escaped NUL character");
		return NULL;
	}
	/* The length includes the terminating NUL, which cJSON wants to see. */
	if (json_lenient(req->body.data, req->body.len))
		body = NULL;	/* not JSON, though cJSON would read it */
	else
		body = cJSON_ParseWithLengthOpts(req->body.data,
		    req->body.len + 1, NULL, 1);
	if (body == NULL) {
		answer_error(req, resp, 400, "invalid_json",
		    "the body is not well-formed JSON");
		return NULL;
	}
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		answer_error(req, resp, 422, "invalid_body",
		    "the body must be a JSON object");
		return NULL;
	}
	switch (json_body_problem(body, &dup)) {
	case JSON_OK:
		if ((dup = json_inexact_number(body, req->body.data,
		    req->body.len)) == NULL)
			return body;
		answer_field_error(resp, dup, N_("is a number that cannot "
		    "be read exactly: too small, or too many digits"));
		break;
	case JSON_DUPLICATE:
		answer_field_error(resp, dup,
		    N_("is given twice in one object; give it once"));
		break;
	case JSON_TOO_LARGE:
		answer_field_error(resp, dup, N_("is a number too large"));
		break;
	}
	cJSON_Delete(body);
	return NULL;
}

int
json_only_members(struct response *resp, const cJSON *body,
    const char *const *names, const char *only)
{
	const cJSON	*c;
	size_t		 i;

	for (c = body->child; c != NULL; c = c->next) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(c->string, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			answer_field_error(resp, c->string, only);
			return -1;
		}
	}
	return 0;
}

PGresult *
db_fetch(struct request *req, struct response *resp, enum stmt s,
    int nparams, const char *const *values, enum missing m)
{
	PGresult	*res;
	enum db_status	 st;
	const char	*field, *why;

	if ((st = db_query(s, nparams, values, &res)) != DB_OK) {
		if (st == DB_CONFLICT &&
		    (field = db_refused_field(&why)) != NULL)
			answer_field_error(resp, field, why);
		else if (st == DB_CONFLICT)
			answer_error(req, resp, 409, "conflict", "the change "
			    "conflicts with what is stored (a limit or a rule "
			    "of the event); nothing was changed");
		else if (st == DB_INVALID)
			answer_error(req, resp, 422, "invalid_value", "a value "
			    "is out of range or malformed; nothing was changed");
		else
			answer_unavailable(req, resp, st == DB_BUSY);
		return NULL;
	}
	if (m != MISSING_OK && PQntuples(res) == 0) {
		PQclear(res);
		answer_missing(req, resp, m);
		return NULL;
	}
	return res;
}
