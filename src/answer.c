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
	answer_error_field(req, resp, status, code, NULL, message);
}

void
answer_error_field(struct request *req, struct response *resp, int status,
    const char *code, const char *field, const char *message)
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
	if (field != NULL)
		json_add_string(err, "field", field);
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
	const char	*text = req->body.data != NULL ? req->body.data : "",
			*name;
	size_t		 len = req->body.len;
	enum json_read	 r;

	r = json_read_object(&text, &len, &body, &name);
	/* The admin routes hand the text to PostgreSQL: without the byte
	 * order mark json_read_object() passed over. */
	if (len < req->body.len) {
		memmove(req->body.data, text, len + 1);
		req->body.len = len;
	}
	switch (r) {
	case JSON_READ_OK:
		return body;
	case JSON_READ_EMPTY:
		answer_error(req, resp, 400, "empty_body",
		    "send a JSON object as the body");
		break;
	case JSON_READ_UTF8:
		answer_error(req, resp, 400, "invalid_utf8",
		    "the body is not valid UTF-8");
		break;
	case JSON_READ_NUL:
		answer_error(req, resp, 400, "invalid_json",
		    "the body contains an escaped NUL character");
		break;
	case JSON_READ_MALFORMED:
		answer_error(req, resp, 400, "invalid_json",
		    "the body is not well-formed JSON");
		break;
	case JSON_READ_NOT_OBJECT:
		answer_error(req, resp, 422, "invalid_body",
		    "the body must be a JSON object");
		break;
	case JSON_READ_DUPLICATE:
		answer_field_error(resp, name,
		    N_("is given twice in one object; give it once"));
		break;
	case JSON_READ_TOO_LARGE:
		answer_field_error(resp, name, N_("is a number too large"));
		break;
	case JSON_READ_INEXACT:
		answer_field_error(resp, name, N_("is a number that cannot "
		    "be read exactly: too small, or too many digits"));
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
