/*
 * answer.h: how a handler answers, so that handlers hold no plumbing: an
 * error in the route's own format (JSON {"error": {code, message}} on R_API
 * routes, the HTML error page on the pages), a JSON answer, the JSON body
 * read as an object, and db_fetch(), which runs a prepared statement and
 * answers 503 itself (and 404 when a row was wanted and none came).
 *
 * Every function that answers writes the whole response body (status,
 * type, body); headers added before stay.
 */
#ifndef EVENTBOX_ANSWER_H
#define EVENTBOX_ANSWER_H

#include <libpq-fe.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "http.h"

/* What an empty result means to db_fetch(), and which 404 it answers. */
enum missing {
	MISSING_OK,		/* no 404: the caller looks at the rows */
	MISSING_EVENT,		/* event_not_found; a page says it may
				   have been removed */
	MISSING_REGISTRATION,	/* registration_not_found, by staff id */
	MISSING_TOKEN,		/* registration_not_found, by token */
	MISSING_PAGE		/* not_found; the usual 404 page */
};

void	 answer_error(struct request *, struct response *, int status,
	    const char *code, const char *message);
/* The same with "field": FIELD in the error, for a refusal a form shows
 * beside one field (409 slug_taken). */
void	 answer_error_field(struct request *, struct response *, int status,
	    const char *code, const char *field, const char *message);
void	 answer_missing(struct request *, struct response *, enum missing);
/* 503 with Retry-After: 1 s when busy (a lock), 5 s when the database is
 * away. */
void	 answer_unavailable(struct request *, struct response *, int busy);
/* 422 {"error": {"code": "invalid_field", "message": "FIELD: MESSAGE",
 * "field": FIELD}} (JSON routes only), MESSAGE translated (a msgid). */
void	 answer_field_error(struct response *, const char *field,
	    const char *message);
/* The tree as the body, with status; json_answer() cJSON_Delete()s it. */
void	 json_answer(struct response *, int status, cJSON *);
/* An answer of JSON text with status: the body emptied, for the caller to
 * write into (json_put_event()). */
struct buf *json_answer_text(struct response *, int status);
/* The request body as a JSON object, read by json_read_object() (json.h),
 * or NULL after answering 400 (empty, not UTF-8, a NUL, not JSON) or 422
 * (not an object; a name given twice in one object, a number too large
 * or inexact, as invalid_field with that name).  A byte order mark is
 * taken off req->body.  The caller owns the tree and cJSON_Delete()s it. */
cJSON	*json_body(struct request *, struct response *);
/*
 * 0 when every member of body is named in names (NULL-terminated); else
 * -1 after answering 422 invalid_field with the first other member's name
 * and `only` (translated), which says what the call takes ("is not a field
 * of this call: send only capacity").
 */
int	 json_only_members(struct response *, const cJSON *body,
	    const char *const *names, const char *only);
/* db_query(), or NULL after answering 503, or 404 as `missing` says when
 * the result has no row.  The caller PQclear()s what it gets. */
PGresult *db_fetch(struct request *, struct response *, enum stmt,
	    int nparams, const char *const *values, enum missing);

#endif
