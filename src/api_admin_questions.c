/*
 * api_admin_questions.c: the questions of an event's form (JSON, staff).
 * Offers the handlers of
 *
 *   GET /api/v1/admin/events/{id}/questions   the questions, in order
 *   PUT /api/v1/admin/events/{id}/questions   replaces them
 *
 * eventbox.set_questions() (sql/rules/78_questions.sql) checks each
 * question; the answers are checked by register_answered() when a patron
 * registers.
 */
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "api_admin.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "json.h"

/* 200 {questions} of the event in the path; 404; 503. */
static void
answer_questions(struct request *req, struct response *resp)
{
	const char	*vals[2] = { req->api_key, req->args[0] };
	PGresult	*res;
	cJSON		*o;

	if ((res = db_fetch(req, resp, STMT_ADMIN_QUESTIONS, 2, vals,
	    MISSING_EVENT)) == NULL)
		return;
	o = json_new_object();
	json_add_array_text(o, "questions", db_value(res, 0, "questions"));
	PQclear(res);
	json_answer(resp, 200, o);
}

/*
 * GET /api/v1/admin/events/{id}/questions: 200 {questions: [{id, kind,
 * label, help, required, choices}]}; 401; 404; 503.
 */
void
h_admin_questions_get(struct request *req, struct response *resp)
{
	if (admin_event_arg(req, resp) == 0)
		answer_questions(req, resp);
}

/* The questions a PUT .../questions body sets, as JSON text (api_admin.h). */
char *
admin_questions_body(struct response *resp, const cJSON *body)
{
	static const char *const only[] = { "questions", NULL };
	const cJSON	*list;
	char		*text;

	if (json_only_members(resp, body, only, N_("is not a field of this "
	    "call: send only questions")) == -1)
		return NULL;
	list = cJSON_GetObjectItemCaseSensitive(body, "questions");
	if (!cJSON_IsArray(list) ||
	    (text = cJSON_PrintUnformatted(list)) == NULL) {
		answer_field_error(resp, "questions", "must be a list of questions");
		return NULL;
	}
	return text;
}

/*
 * PUT /api/v1/admin/events/{id}/questions {questions: [...]}: replaces the
 * questions ({"template": "accommodation"} is the common one).  200
 * {questions}; 404 (before the body); 400 malformed JSON; 401; 409 questions_answered (once
 * somebody answered), event_cancelled; 422 invalid_field (a bad question,
 * or a member other than questions); 503.
 */
void
h_admin_questions_put(struct request *req, struct response *resp)
{
	const char	*vals[3];
	cJSON		*body;
	char		*text;
	PGresult	*res;
	char		 outcome[32], field[40], message[160];

	if (admin_event_found(req, resp) == -1 ||
	    (body = json_body(req, resp)) == NULL)
		return;
	text = admin_questions_body(resp, body);
	cJSON_Delete(body);
	if (text == NULL)
		return;
	vals[0] = req->api_key;
	vals[1] = req->args[0];
	vals[2] = text;
	res = db_fetch(req, resp, STMT_ADMIN_SET_QUESTIONS, 3, vals, MISSING_OK);
	cJSON_free(text);
	if (res == NULL)
		return;
	snprintf(outcome, sizeof(outcome), "%s", db_value(res, 0, "outcome"));
	snprintf(field, sizeof(field), "%s", db_value(res, 0, "field"));
	snprintf(message, sizeof(message), "%s", db_value(res, 0, "message"));
	PQclear(res);
	if (strcmp(outcome, "ok") == 0)
		answer_questions(req, resp);
	else if (strcmp(outcome, "not_found") == 0)
		answer_missing(req, resp, MISSING_EVENT);
	else if (strcmp(outcome, "answered") == 0)
		answer_error(req, resp, 409, "questions_answered",
		    "somebody has answered these questions; they can no longer "
		    "change");
	else if (strcmp(outcome, "event_cancelled") == 0)
		admin_refuse(req, resp, outcome);
	else
		answer_field_error(resp, field, message);
}
