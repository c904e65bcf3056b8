/*
 * page_questions.c: an event's questions on the registration form (see
 * page_questions.h).  Only the form's side lives here: whether an answer
 * fits its question is decided once, by eventbox.answer_errors() in the
 * database, for the form and the JSON API alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "i18n.h"
#include "page_questions.h"

static const char *
q_str(const cJSON *q, const char *key)
{
	const char	*s = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(q, key));

	return s != NULL ? s : "";
}

static long
q_id(const cJSON *q)
{
	return (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(q,
	    "id"));
}

static int
q_is(const cJSON *q, const char *kind)
{
	return strcmp(q_str(q, "kind"), kind) == 0;
}

static int
q_group(const cJSON *q)
{
	return !q_is(q, "short_text") && !q_is(q, "long_text");
}

static const cJSON *
q_choices(const cJSON *q)
{
	return cJSON_GetObjectItemCaseSensitive(q, "choices");
}

/* The form fields a question takes: one box per choice of several. */
static size_t
q_nfields(const cJSON *q)
{
	return q_is(q, "several_choices") ?
	    (size_t)cJSON_GetArraySize(q_choices(q)) : 1;
}

int
question_form_init(struct question_form *qf, const char *questions_json)
{
	const cJSON	*q, *c;
	size_t		 n = 0;
	int		 i;

	memset(qf, 0, sizeof(*qf));
	qf->questions = cJSON_Parse(questions_json);
	if (!cJSON_IsArray(qf->questions))
		goto fail;
	cJSON_ArrayForEach(q, qf->questions)
		qf->nfields += q_nfields(q);
	if (qf->nfields > 0 &&
	    (qf->keys = calloc(qf->nfields, sizeof(*qf->keys))) == NULL)
		goto fail;
	cJSON_ArrayForEach(q, qf->questions) {
		if (!q_is(q, "several_choices")) {
			snprintf(qf->keys[n++], sizeof(qf->keys[0]), "q%ld",
			    q_id(q));
			continue;
		}
		i = 0;
		cJSON_ArrayForEach(c, q_choices(q))
			snprintf(qf->keys[n++], sizeof(qf->keys[0]), "q%ld-%d",
			    q_id(q), i++);
	}
	return 0;
fail:
	question_form_free(qf);
	return -1;
}

void
question_form_fields(const struct question_form *qf, struct form_field *f)
{
	size_t	 i;

	for (i = 0; i < qf->nfields; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].key = qf->keys[i];
	}
}

/* One question's value out of its fields: NULL when left empty. */
static cJSON *
q_answer(const cJSON *q, const struct form_field *f)
{
	cJSON	*list;
	size_t	 i, n = q_nfields(q);

	if (q_is(q, "several_choices")) {
		list = cJSON_CreateArray();
		for (i = 0; i < n; i++)
			if (f[i].present)
				cJSON_AddItemToArray(list,
				    cJSON_CreateString(f[i].val));
		return list;
	}
	if (!f->present || f->len == 0)
		return NULL;
	/* yes/no as JSON's true and false; anything else goes to the
	 * database as it came, which refuses it. */
	if (q_is(q, "yes_no") && strcmp(f->val, "yes") == 0)
		return cJSON_CreateTrue();
	if (q_is(q, "yes_no") && strcmp(f->val, "no") == 0)
		return cJSON_CreateFalse();
	return cJSON_CreateString(f->val);
}

cJSON *
question_form_answers(const struct question_form *qf,
    const struct form_field *f)
{
	cJSON		*answers = cJSON_CreateObject(), *v;
	const cJSON	*q;
	char		 key[24];

	cJSON_ArrayForEach(q, qf->questions) {
		if ((v = q_answer(q, f)) != NULL) {
			snprintf(key, sizeof(key), "%ld", q_id(q));
			cJSON_AddItemToObject(answers, key, v);
		}
		f += q_nfields(q);
	}
	return answers;
}

/*
 * The sentence a patron reads for what answers_error() (78_questions.sql)
 * said of an answer, whole, so that a translation can order its words
 * ({label} is the question's label); a msgid.
 */
static const char *
answer_sentence(const cJSON *q, const char *message)
{
	static const struct {
		const char	*message;
		const char	*sentence;
	} sentences[] = {
		{ "must be one line of at most 300 characters",
		    N_("Your answer to \"{label}\" must be one line of at "
		    "most 300 characters") },
		{ "must be a text of at most 2000 characters",
		    N_("Your answer to \"{label}\" must be a text of at "
		    "most 2000 characters") },
		{ "must be text without control characters",
		    N_("Your answer to \"{label}\" must be text without "
		    "control characters") },
		{ "must be one of the choices",
		    N_("Your answer to \"{label}\" must be one of the "
		    "choices") },
		{ "must be a list of the choices",
		    N_("Your answer to \"{label}\" must be a list of the "
		    "choices") },
		{ "must be true or false",
		    N_("Your answer to \"{label}\" must be true or false") },
	};
	size_t	 i;

	if (strcmp(message, "is required") == 0)
		return !q_group(q) ? N_("Answer \"{label}\"") :
		    q_is(q, "several_choices") ? N_("Choose at least one answer "
		    "for \"{label}\"") : N_("Choose an answer for "
		    "\"{label}\"");
	for (i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++)
		if (strcmp(message, sentences[i].message) == 0)
			return sentences[i].sentence;
	return N_("Your answer to \"{label}\" does not fit the "
	    "question");
}

cJSON *
question_form_errors(const struct question_form *qf, const PGresult *res)
{
	cJSON		*errors = cJSON_CreateObject();
	const cJSON	*q;
	const char	*field, *message;
	struct buf	 msg = BUF_INIT;
	const char	*kv[2] = { "label", NULL };
	char		 key[24];
	int		 row;

	for (row = 0; row < PQntuples(res); row++) {
		field = db_value(res, row, "field");
		message = db_value(res, row, "message");
		cJSON_ArrayForEach(q, qf->questions) {
			snprintf(key, sizeof(key), "answers.%ld", q_id(q));
			if (strcmp(field, key) == 0)
				break;
		}
		if (q == NULL)
			continue;	/* not a question of the form */
		buf_reset(&msg);
		kv[1] = q_str(q, "label");
		i18n_fill(&msg, _(answer_sentence(q, message)), kv, 2);
		cJSON_AddStringToObject(errors, key + strlen("answers."),
		    buf_str(&msg));
	}
	buf_free(&msg);
	return errors;
}

void
question_form_free(struct question_form *qf)
{
	cJSON_Delete(qf->questions);
	free(qf->keys);
	memset(qf, 0, sizeof(*qf));
}

/* One radio button or box, with its label after it.  Never required:
 * its group says it is (a radio marked required is read as invalid while
 * none is checked, before anything was sent). */
static void
choice(struct buf *b, const char *type, const char *name, const char *id,
    const char *value, const char *label, const char *mark, int checked)
{
	buf_printf(b, "<div class=\"choice\">\n<input type=\"%s\" id=\"%s\" "
	    "name=\"%s\" value=\"", type, id, name);
	html_esc(b, value);
	buf_printf(b, "\"%s>\n<label for=\"%s\"%s>", checked ? " checked" : "",
	    id, mark);
	html_esc(b, label);
	buf_adds(b, "</label>\n</div>\n");
}

static int
listed(const cJSON *list, const char *s)
{
	const cJSON	*c;

	cJSON_ArrayForEach(c, list)
		if (cJSON_IsString(c) && strcmp(c->valuestring, s) == 0)
			return 1;
	return 0;
}

/* A question's control(s), named and tied to its hint and error; mark
 * the lang attribute of the choices staff wrote (lang_mark(), or ""). */
static void
controls(struct buf *b, const cJSON *q, const char *name, const char *aria,
    const char *mark, const cJSON *v)
{
	const cJSON	*c;
	char		 id[48];
	int		 i = 0, req = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(q, "required"));

	if (q_is(q, "short_text") || q_is(q, "long_text")) {
		buf_printf(b, q_is(q, "short_text") ? "<input type=\"text\" "
		    "id=\"%s\" name=\"%s\"%s%s value=\"" : "<textarea id=\"%s\" "
		    "name=\"%s\" rows=\"4\"%s%s>", name, name,
		    req ? " required" : "", aria);
		html_esc(b, cJSON_IsString(v) ? v->valuestring : "");
		buf_adds(b, q_is(q, "short_text") ? "\">\n" : "</textarea>\n");
		return;
	}
	if (q_is(q, "yes_no")) {
		snprintf(id, sizeof(id), "%s-0", name);
		choice(b, "radio", name, id, "yes", _("Yes"), "",
		    cJSON_IsTrue(v));
		snprintf(id, sizeof(id), "%s-1", name);
		choice(b, "radio", name, id, "no", _("No"), "",
		    cJSON_IsFalse(v));
		return;
	}
	cJSON_ArrayForEach(c, q_choices(q)) {
		snprintf(id, sizeof(id), "%s-%d", name, i++);
		if (q_is(q, "one_choice"))
			choice(b, "radio", name, id, c->valuestring,
			    c->valuestring, mark, cJSON_IsString(v) &&
			    strcmp(v->valuestring, c->valuestring) == 0);
		else
			choice(b, "checkbox", id, id, c->valuestring,
			    c->valuestring, mark, listed(v, c->valuestring));
	}
}

/* One question; mark as for controls(): its label, hint and choices are
 * staff's, "(optional)" and the error the page's. */
static void
question(struct buf *b, const cJSON *q, const char *mark,
    const cJSON *answers, const cJSON *errors)
{
	struct buf	 aria = BUF_INIT;
	const char	*help = q_str(q, "help"), *err;
	char		 name[32], key[24];
	int		 group = q_group(q), required = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(q, "required"));

	snprintf(key, sizeof(key), "%ld", q_id(q));
	snprintf(name, sizeof(name), "q%s", key);
	err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(errors,
	    key));
	/* A group of radio buttons is one answer: it is the radiogroup that
	 * is required, and invalid.  A group of boxes cannot say either (ARIA
	 * has no required or invalid group): its legend and error do. */
	if (q_is(q, "one_choice") || q_is(q, "yes_no"))
		buf_printf(&aria, " role=\"radiogroup\"%s", required ?
		    " aria-required=\"true\"" : "");
	if (*help != '\0' || err != NULL) {
		buf_adds(&aria, " aria-describedby=\"");
		if (*help != '\0')
			buf_printf(&aria, "%s-hint%s", name, err ? " " : "");
		if (err != NULL)
			buf_printf(&aria, "%s-error", name);
		buf_adds(&aria, "\"");
	}
	if (err != NULL && !q_is(q, "several_choices"))
		buf_adds(&aria, " aria-invalid=\"true\"");
	/* A group's hint and error describe the fieldset, a text's its box. */
	buf_printf(b, "<%s class=\"field question%s\"%s>\n", group ?
	    "fieldset" : "div", err != NULL ? " invalid" : "",
	    group ? buf_str(&aria) : "");
	if (group)
		buf_adds(b, "<legend>");
	else
		buf_printf(b, "<label for=\"%s\">", name);
	if (*mark != '\0')
		buf_printf(b, "<span%s>", mark);
	html_esc(b, q_str(q, "label"));
	if (*mark != '\0')
		buf_adds(b, "</span>");
	if (!required) {
		buf_adds(b, " ");
		html_esc(b, _("(optional)"));
	}
	buf_adds(b, group ? "</legend>\n" : "</label>\n");
	if (*help != '\0') {
		buf_printf(b, "<p class=\"hint\" id=\"%s-hint\"%s>", name,
		    mark);
		html_esc(b, help);
		buf_adds(b, "</p>\n");
	}
	if (err != NULL) {
		buf_printf(b, "<p class=\"error\" id=\"%s-error\"><span class="
		    "\"visually-hidden\">%s </span>", name, _("Error:"));
		html_esc(b, err);
		buf_adds(b, "</p>\n");
	}
	controls(b, q, name, group ? "" : buf_str(&aria), mark,
	    cJSON_GetObjectItemCaseSensitive(answers, key));
	buf_adds(b, group ? "</fieldset>\n" : "</div>\n");
	buf_free(&aria);
}

void
questions_html(struct buf *b, const char *questions_json, const char *lang,
    const cJSON *answers, const cJSON *errors)
{
	cJSON		*qs = cJSON_Parse(questions_json);
	const cJSON	*q;
	struct buf	 mark = BUF_INIT;

	lang_mark(&mark, LANG_HTML, lang, i18n_lang());
	cJSON_ArrayForEach(q, qs)
		question(b, q, buf_str(&mark), answers, errors);
	cJSON_Delete(qs);
	buf_free(&mark);
}

void
questions_summary(struct buf *b, const char *questions_json,
    const cJSON *errors)
{
	cJSON		*qs;
	const cJSON	*q;
	const char	*err;
	char		 key[24];

	if (cJSON_GetArraySize(errors) == 0)
		return;
	qs = cJSON_Parse(questions_json);
	cJSON_ArrayForEach(q, qs) {
		snprintf(key, sizeof(key), "%ld", q_id(q));
		err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    errors, key));
		if (err == NULL)
			continue;
		/* The link goes to the box or the group's first choice. */
		buf_printf(b, "<li><a href=\"#q%s%s\">", key,
		    q_group(q) ? "-0" : "");
		html_esc(b, err);
		buf_adds(b, "</a></li>\n");
	}
	cJSON_Delete(qs);
}
