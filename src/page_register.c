/*
 * page_register.c: the registration form's answer.  Offers the handlers of
 *
 *   POST /events/{slug}/register
 *   GET  /events/{slug}/register  (and HEAD) back to the event page
 *
 * The path of a registration from the form: router.c checks the route
 * (media type, size, whole body), h_page_register() parses the form
 * (form.c) with the event's questions (page_questions.c), checks the CSRF
 * token (csrf.c) and each field (fields.c, with this page's own words),
 * registration_submit() (registration.c) calls
 * eventbox.register_answered() (db_stmts.c: STMT_REGISTER_ANSWERED; sql/),
 * and the page shows what happened, or the event box again
 * (page_event_box.c) with what was wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "fields.h"
#include "form.h"
#include "handlers.h"
#include "page_event_box.h"
#include "page_layout.h"
#include "page_questions.h"
#include "registration.h"
#include "validate.h"

/* The form's inputs: the CSRF token, the attempt id, the fields of
 * fields.h, a honeypot. */
enum { F_CSRF, F_ATTEMPT, F_FIELD, F_HONEYPOT = F_FIELD + FIELD__MAX,
    F__MAX };

/* The patron's words for what field_check() found, one sentence per
 * field and problem (a translation cannot assemble them from parts). */
static const struct {
	const char	*missing;
	const char	*too_long;	/* %zu: the field's limit */
	const char	*not_text;
} field_words[FIELD__MAX] = {
	[FIELD_NAME] = { N_("Enter your name"),
	    N_("Your name must be %zu characters or fewer"),
	    N_("Your name must be one line of text") },
	[FIELD_EMAIL] = { N_("Enter your email address"),
	    N_("Your email address must be %zu characters or fewer"),
	    N_("Your email address must be one line of text") },
	[FIELD_ORGANIZATION] = { N_("Enter your library"),
	    N_("Your library must be %zu characters or fewer"),
	    N_("Your library must be one line of text") },
};

/* The patron's words for what field_check() found, in msg; NULL if fine. */
static const char *
form_message(enum field_id id, enum field_error e, char *msg, size_t msgsz)
{
	switch (e) {
	case FIELD_OK:
	case FIELD_ABSENT:
		return NULL;
	case FIELD_MISSING:
		snprintf(msg, msgsz, "%s", _(field_words[id].missing));
		break;
	case FIELD_TOO_LONG:
		snprintf(msg, msgsz, _(field_words[id].too_long),
		    field_specs[id].max);
		break;
	case FIELD_NOT_STRING:
	case FIELD_NOT_TEXT:
		snprintf(msg, msgsz, "%s", _(field_words[id].not_text));
		break;
	case FIELD_NOT_NAME:
		snprintf(msg, msgsz, "%s", _("Enter just your name, without a "
		    "web address or an email address"));
		break;
	case FIELD_NOT_EMAIL:
		snprintf(msg, msgsz, "%s", _("Enter an email address like "
		    "name@example.org"));
		break;
	case FIELD_EMAIL_LOCAL_NOT_ASCII:
		snprintf(msg, msgsz, "%s", _("Addresses with letters such as "
		    "é or ñ before the @ cannot receive our emails; please use "
		    "another address"));
		break;
	case FIELD_EMAIL_DOMAIN_NOT_IDNA:
		snprintf(msg, msgsz, "%s", _("The part after the @ is not a "
		    "domain name: check it for a mistyped character"));
		break;
	}
	return msg;
}

static void
result_page(struct response *resp, const PGresult *ev, const char *zone,
    const struct registration_result *out, int waitlisted)
{
	struct buf	*b = &resp->body;

	resp->status = 200;
	if (out->http_status == 202)
		html_page(resp, _("Check your email"));
	else
		html_page(resp, waitlisted ? _("You are on the waiting list") :
		    _("You are registered"));
	buf_printf(b, "<p>%s ", C_("event page link", "For"));
	page_event_link(b, db_value(ev, 0, "slug"), db_value(ev, 0, "title"),
	    db_value(ev, 0, "language"));
	buf_adds(b, ": ");
	page_when(b, ev, 0, zone);
	buf_adds(b, ".</p>\n<p>");
	/* Not the API's message, which begins with what the heading says
	 * ("You are registered. ...", "Check your email: ..."): read on,
	 * the page said it twice, the waiting list's three times. */
	if (waitlisted && out->position > 0) {
		buf_printf(b, _("You are number %ld on the waiting list."),
		    out->position);
		buf_adds(b, " ");
	}
	if (out->http_status == 202)
		html_esc(b, _("Follow the link in the message we sent to "
		    "confirm it is your address. Your place is held until the "
		    "time the message gives."));
	else if (waitlisted)
		html_esc(b, _("This event is full: we will email you if a seat "
		    "opens up."));
	else
		html_esc(b, _("A confirmation email with your cancellation "
		    "link is on its way."));
	/* What the email brings, said of each: a waiting place is no seat. */
	if (out->http_status != 202) {
		buf_adds(b, "</p>\n<p>");
		html_esc(b, waitlisted ? _("An email with your link to leave "
		    "the waiting list is on its way. If you no longer need a "
		    "seat, please use it, so that a seat that opens up goes to "
		    "someone else.") : _("If you cannot attend, please use the "
		    "cancellation link in that email, so that someone else "
		    "can have your seat."));
	}
	buf_adds(b, "</p>\n");
	html_end(resp);
}

/*
 * What registering on ev would answer now, as register_entry() decides it
 * (sql/rules/50_register.sql), from what the event page read: the
 * honeypot's answer, registering nobody.  A bot comparing it with a
 * person's must not tell it was caught: a seat, a waiting place with the
 * number the next one gets, "Check your email" on an event that confirms
 * by email, full, closed.
 */
static void
honeypot_outcome(const PGresult *ev, struct registration_result *out)
{
	const char	*state = db_value(ev, 0, "registration_state");
	const char	*outcome;
	long		 waiting = strtol(db_value(ev, 0, "waiting"), NULL, 10);

	if (strcmp(state, "cancelled") == 0)
		outcome = "event_cancelled";
	else if (strcmp(state, "open") != 0)
		outcome = state;	/* not_open | closed */
	else if (strtol(db_value(ev, 0, "seats_available"), NULL, 10) > 0 &&
	    waiting == 0)
		outcome = "confirmed";	/* never a seat ahead of the waiting */
	else if (db_bool(ev, 0, "waitlist_available"))
		outcome = "waitlisted";
	else
		outcome = "full";
	if (strcmp(outcome, "full") != 0 && strcmp(state, "open") == 0 &&
	    db_bool(ev, 0, "confirmation_required"))
		outcome = "pending";
	registration_outcome(outcome, !db_bool(ev, 0, "waitlist_enabled"), out);
	if (strcmp(outcome, "waitlisted") == 0)
		out->position = waiting + 1;
}

/*
 * Every answer that does not fit its question, by eventbox.check_answers()
 * (the check register_answered() makes), into fs for the form; 0, or -1
 * when the database failed.
 */
static int
answer_errors(const char *slug, const struct question_form *qf,
    const char *answers, cJSON **errors)
{
	const char	*vals[2] = { slug, answers };
	PGresult	*res;
	enum db_status	 st;

	if ((st = db_query(STMT_CHECK_ANSWERS, 2, vals, &res)) != DB_OK)
		return -1;
	*errors = question_form_errors(qf, res);
	PQclear(res);
	return 0;
}

/*
 * POST /events/{slug}/register[?tz=ZONE], form csrf, name, email,
 * organization, website (a honeypot) and the event's questions
 * (page_questions.h); tz, as the event page's, the zone its times are shown
 * in.  200 what happened (never the token); 422 the form again with each
 * field's and answer's message; 403/409 the event's state; 404; 400 (an
 * unknown zone too); 403 CSRF (the form again, as typed); 503.
 */
void
h_page_register(struct request *req, struct response *resp)
{
	char		*vals[FIELD__MAX], *hp, *fieldbuf = NULL;
	char		 csrf[CSRF_HEX + 2], attempt[CSRF_ATTEMPT_HEX + 2];
	char		 key[CSRF_ATTEMPT_KEY + 1];
	struct form_field *f = NULL;
	struct question_form qf;
	struct form_state	 fs;
	struct query_value	 tz;
	char		 msg[FIELD__MAX][256], *value, *arena = NULL;
	char		 email[FIELD_EMAIL_SZ] = "";
	char		*answers = NULL;
	cJSON		*given = NULL, *errors = NULL;
	struct registration_input in;
	struct registration_result out;
	PGresult	*ev;
	const char	*zone;
	size_t		 i, len, nf, arenasz, cap;
	enum field_error e;
	int		 bad = 0, expired;

	/* The event first: its questions are fields of the form. */
	if (page_event_tz_query(req, resp, &tz) == -1 ||
	    (ev = load_event(req, resp, tz.present ? tz.text : NULL)) == NULL)
		return;
	zone = tz.present ? tz.text : db_value(ev, 0, "timezone");
	if (question_form_init(&qf, db_value(ev, 0, "questions")) == -1)
		abort();	/* questions_json() wrote it */
	nf = F__MAX + qf.nfields;
	arenasz = req->body.len + qf.nfields + 1;
	/* Each field's buffer holds the whole body decoded: a value of any
	 * length the body may carry is read, and field_check() says when it
	 * is too long (a fixed 8 KB buffer failed the form as damaged). */
	cap = req->body.len + 1;
	if ((f = calloc(nf, sizeof(*f))) == NULL ||
	    (arena = malloc(arenasz)) == NULL ||
	    (fieldbuf = malloc((FIELD__MAX + 1) * cap)) == NULL) {
		answer_unavailable(req, resp, 0);
		goto done;
	}
	for (i = 0; i < FIELD__MAX; i++)
		vals[i] = fieldbuf + i * cap;
	hp = fieldbuf + FIELD__MAX * cap;
	f[F_CSRF] = (struct form_field){ CSRF_FIELD, csrf, sizeof(csrf), 0, 0 };
	f[F_ATTEMPT] = (struct form_field){ CSRF_ATTEMPT, attempt,
	    sizeof(attempt), 0, 0 };
	f[F_HONEYPOT] = (struct form_field){ "website", hp, cap, 0, 0 };
	for (i = 0; i < FIELD__MAX; i++) {
		f[F_FIELD + i].key = field_specs[i].name;
		f[F_FIELD + i].val = vals[i];
		f[F_FIELD + i].cap = cap;
	}
	question_form_fields(&qf, f + F__MAX);
	if (form_parse_arena(req->body.data, req->body.len, f, nf, arena,
	    arenasz) == -1) {
		html_error_page(resp, 400, _("The form arrived damaged. Go "
		    "back, reload the event page and try again."));
		goto done;
	}
	expired = !csrf_check(req, csrf, f[F_CSRF].len);

	memset(&fs, 0, sizeof(fs));
	memset(&out, 0, sizeof(out));
	/* Each field of fields.h, checked and trimmed in place. */
	for (i = 0; i < FIELD__MAX; i++) {
		e = field_check((enum field_id)i, vals[i], f[F_FIELD + i].len,
		    &value, &len, i == FIELD_EMAIL ? email : NULL);
		fs.value[i] = value;
		if (expired)
			continue;
		fs.error[i] = form_message((enum field_id)i, e, msg[i],
		    sizeof(msg[i]));
		if (fs.error[i] != NULL && !bad)
			registration_refused((enum field_id)i);
		bad |= fs.error[i] != NULL;
	}
	if (qf.nfields > 0) {
		given = question_form_answers(&qf, f + F__MAX);
		answers = cJSON_PrintUnformatted(given);
		fs.answers = given;
	}
	if (expired) {
		/* No cookie, or not the one the form was made for: nothing is
		 * sent, and what the patron typed comes back in a fresh form
		 * (its own new token) to send again by their own hand. */
		fs.notice = _("This form had expired, so nothing was sent. "
		    "Check your details and send the form again. If this "
		    "happens again, allow this site's cookie: the form needs "
		    "it.");
		resp->status = 403;
		event_box(req, resp, ev, zone, &fs);
		goto done;
	}

	if (f[F_HONEYPOT].len > 0) {
		/* The honeypot: a bot.  Registers nothing, and answers as a
		 * person registering now would be (whatever it typed). */
		honeypot_outcome(ev, &out);
		bad = 0;
	} else if (!bad) {
		memset(&in, 0, sizeof(in));
		in.event = req->args[0];
		in.event_len = req->args_len[0];
		in.name = fs.value[FIELD_NAME];
		in.email = email;	/* as stored and mailed */
		in.organization = *fs.value[FIELD_ORGANIZATION] != '\0' ?
		    fs.value[FIELD_ORGANIZATION] : NULL;
		in.source = "web";
		/* The same form sent again (a reload of the answer, a
		 * double click) is answered as the first time, and does
		 * nothing twice (csrf.h). */
		if (csrf_attempt_key(attempt, f[F_ATTEMPT].len, req->body.data,
		    req->body.len, key))
			in.idempotency_key = key;
		in.language = req->lang_asked;
		in.remote_addr = http_param(req, "REMOTE_ADDR");
		in.answers = answers;
		if (registration_submit(&in, &out) == -1) {
			answer_unavailable(req, resp, out.busy);
			goto done;
		}
		bad = out.http_status == 422;
	}
	if (bad) {
		/* The answers' problems next to the fields', all at once. */
		if (answers != NULL && answer_errors(db_value(ev, 0, "slug"),
		    &qf, answers, &errors) == -1) {
			answer_unavailable(req, resp, 0);
			goto done;
		}
		fs.answer_errors = errors;
		if (out.http_status == 422 && cJSON_GetArraySize(errors) == 0)
			fs.notice = _(out.message);
		resp->status = 422;
		event_box(req, resp, ev, zone, &fs);
	} else if (out.http_status == 201 || out.http_status == 202)
		result_page(resp, ev, zone, &out,
		    strcmp(out.status, "waitlisted") == 0);
	else if (out.http_status == 404)
		html_error_page(resp, 404, NULL);
	else {
		/* Full or closed since the page was loaded: show it as it
		 * is now, with what happened on top. */
		PQclear(ev);
		if ((ev = load_event(req, resp, tz.present ? tz.text :
		    NULL)) == NULL)
			goto free;
		zone = tz.present ? tz.text : db_value(ev, 0, "timezone");
		/* An address outside the member libraries is the email
		 * field's to fix: said there (marked invalid, linked from the
		 * summary), as its other problems are. */
		if (out.code != NULL && strcmp(out.code, "not_eligible") == 0)
			fs.error[FIELD_EMAIL] = _("Enter the email address your "
			    "library gave you: this event is for member "
			    "libraries");
		else
			fs.notice = _(out.message);
		event_box(req, resp, ev, zone, &fs);
		resp->status = out.http_status;
	}
done:
	PQclear(ev);
free:
	cJSON_Delete(given);
	cJSON_Delete(errors);
	cJSON_free(answers);
	question_form_free(&qf);
	free(arena);
	free(fieldbuf);
	free(f);
}

/*
 * GET /events/{slug}/register[?tz=ZONE]: the form's target opened in a
 * new tab, an address copied from the bar.  Nothing to show here (the
 * answer was rendered on the POST): 303 to the event page, with the zone
 * the times were shown in and ?lang= when it chose the language.  303; 400
 * for an unknown zone; 404 for a slug no event could have.
 */
void
h_page_register_redirect(struct request *req, struct response *resp)
{
	struct query_value	 tz;
	struct buf		 zone = BUF_INIT;

	if (!slug_valid(req->args[0], req->args_len[0])) {
		answer_missing(req, resp, MISSING_PAGE);
		return;
	}
	if (page_event_tz_query(req, resp, &tz) == -1)
		return;
	if (tz.present) {
		buf_adds(&zone, "tz=");
		html_urlenc(&zone, tz.text);
	}
	/* A page's redirect: no body, and not the API's default type. */
	resp->status = 303;
	resp->content_type = "text/html; charset=utf-8";
	resp_header(resp, "Location", "/events/%s%s%s%s%s", req->args[0],
	    tz.present || req->lang_param != NULL ? "?" : "", buf_str(&zone),
	    req->lang_param != NULL ? (tz.present ? "&lang=" : "lang=") : "",
	    req->lang_param != NULL ? req->lang_param : "");
	buf_free(&zone);
}
