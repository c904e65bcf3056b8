/*
 * page_questions.h: an event's questions (eventbox.questions_json(), in
 * sql/rules/78_questions.sql) on the registration form: each one as its
 * control (short text, long text, one choice, several choices, yes/no),
 * and the form's values back as the JSON object of answers that
 * eventbox.register_answered() checks, the same check as the JSON API's.
 *
 * Ownership: a struct question_form owns the parsed questions and the keys
 * of its form fields until question_form_free(); the cJSON objects the
 * other calls return are the caller's to cJSON_Delete().
 */
#ifndef EVENTBOX_PAGE_QUESTIONS_H
#define EVENTBOX_PAGE_QUESTIONS_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "buf.h"
#include "form.h"

struct question_form {
	cJSON		*questions;	/* the event's, as an array */
	size_t		 nfields;	/* form fields they take */
	char		(*keys)[24];	/* each field's name, nfields */
};

/* 0, or -1 when questions_json is not the array the database writes. */
int	 question_form_init(struct question_form *, const char *questions_json);
/* Declares the questions' nfields fields in f, with no buffer of their own
 * (form_parse_arena()). */
void	 question_form_fields(const struct question_form *, struct form_field *f);
/* The answers the parsed fields f carry: {"<id>": value}, no key for a
 * question left empty. */
cJSON	*question_form_answers(const struct question_form *,
	    const struct form_field *f);
/* eventbox.check_answers() rows (field "answers.<id>", message) as
 * {"<id>": what the patron reads}. */
cJSON	*question_form_errors(const struct question_form *, const PGresult *);
void	 question_form_free(struct question_form *);

/* Every question of questions_json as a form control, with the patron's
 * answers and the errors (objects by question id, or NULL); what staff
 * wrote (labels, hints, choices) marked as in lang, the event's language,
 * where it is not the page's (lang_mark()). */
void	 questions_html(struct buf *, const char *questions_json,
	    const char *lang, const cJSON *answers, const cJSON *errors);
/* The error summary's entries for the questions' errors. */
void	 questions_summary(struct buf *, const char *questions_json,
	    const cJSON *errors);

#endif
