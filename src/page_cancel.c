/*
 * page_cancel.c: the cancellation link from the confirmation email (HTML).
 * Offers the handlers of
 *
 *   GET  /cancel/{token}  asks to confirm
 *   POST /cancel/{token}  cancels
 *
 * Both are Cache-Control: no-store (router) and Referrer-Policy: no-referrer
 * (nginx), and never log the token.
 */
#include <string.h>

#include "answer.h"
#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "form.h"
#include "handlers.h"
#include "page_cancel.h"
#include "page_layout.h"
#include "validate.h"

/* Loads the registration; 1 live, 0 answered (inactive or 503). */
static int
load(struct request *req, struct response *resp, PGresult **res)
{
	const char	*tok = req->args[0];

	*res = NULL;
	if (!token_valid(tok, req->args_len[0])) {
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return 0;
	}
	if ((*res = db_fetch(req, resp, STMT_PAGE_REGISTRATION, 1, &tok,
	    MISSING_OK)) == NULL)
		return 0;
	if (PQntuples(*res) == 0 ||
	    strcmp(db_value(*res, 0, "status"), "cancelled") == 0) {
		PQclear(*res);
		*res = NULL;
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return 0;
	}
	/* Not before: a used link's page reads as an unknown one's. */
	page_token_lang(req, db_value(*res, 0, "language"));
	return 1;
}

void
page_cancel_form(struct request *req, struct response *resp, int waiting)
{
	struct buf	*b = &resp->body;
	char		 field[CSRF_HEX + 1];

	csrf_prepare(req, resp, field);
	buf_adds(b, "<form method=\"post\" action=\"/cancel/");
	html_esc(b, req->args[0]);
	page_lang_query(b, 0);
	buf_adds(b, "\">\n<input type=\"hidden\" name=\"" CSRF_FIELD
	    "\" value=\"");
	buf_adds(b, field);
	buf_adds(b, "\">\n<button type=\"submit\">");
	html_esc(b, waiting ? _("Leave the waiting list") :
	    _("Cancel my registration"));
	buf_adds(b, "</button>\n</form>\n");
}

/* Why nothing is cancelled once the event is over (eventbox.cancel()'s
 * event_ended): said by the GET, and by the POST's 409. */
#define ENDED_WHY N_("The event is over, so there is nothing to cancel: " \
	"your registration stays as it was.")

/*
 * GET /cancel/{token}: shows the registration and asks to confirm; a GET
 * never cancels (mail scanners follow links).  Once the event has ended it
 * says so, with no button: a cancellation would be refused.  200; 404 with
 * one calm page for a token that is malformed, unknown or already used;
 * 503.
 */
void
h_page_cancel_show(struct request *req, struct response *resp)
{
	PGresult	*res;
	struct buf	*b = &resp->body;
	int		 waiting, ended;

	if (!load(req, resp, &res))
		return;
	waiting = strcmp(db_value(res, 0, "status"), "waitlisted") == 0;
	ended = db_bool(res, 0, "ended");
	html_page(resp, ended ? _("This event has ended") : waiting ?
	    _("Leave the waiting list?") : _("Cancel your registration?"));
	page_facts_begin(b, db_value(res, 0, "name"));
	buf_printf(b, "<dt>%s</dt><dd>", _("Event"));
	page_event_link(b, db_value(res, 0, "event_slug"),
	    db_value(res, 0, "event_title"), db_value(res, 0, "event_language"));
	buf_printf(b, "</dd>\n<dt>%s</dt><dd>", _("When"));
	page_when(b, res, 0, db_value(res, 0, "timezone"));
	buf_printf(b, "</dd>\n<dt>%s</dt><dd>", _("Status"));
	if (waiting) {
		html_esc(b, _("On the waiting list, number"));
		buf_adds(b, " ");
		html_esc(b, db_value(res, 0, "position"));
	} else if (strcmp(db_value(res, 0, "status"), "pending") == 0)
		html_esc(b, _("Held, not confirmed yet"));
	else
		html_esc(b, _("Registered"));
	buf_adds(b, "</dd>\n</dl>\n");
	if (ended) {
		buf_printf(b, "<p>%s</p>\n", _(ENDED_WHY));
		page_back_link(b, db_value(res, 0, "event_slug"));
	} else {
		page_cancel_form(req, resp, waiting);
		buf_adds(b, "<p>");
		html_esc(b, _("Changed your mind? Just close this page: "
		    "nothing changes until you press the button."));
		buf_adds(b, "</p>\n");
	}
	html_end(resp);
	PQclear(res);
}

/*
 * POST /cancel/{token}, form: csrf.  Cancels (or leaves the waiting list)
 * and says so, titled as which it was: that the patron is off the waiting
 * list when that is what they left, that the seat went to the next person
 * waiting when it did (cancel()'s promoted), else that it is free for
 * someone else (no waiting list, nobody on it, or the event has begun).  A
 * registration cancelled already (the same POST again: a double click, a
 * reload) is said to be, and nothing more: this POST changed nothing and
 * sent no email.  200; 400 malformed form; 403 CSRF check failed; 404 as
 * for the GET; 409 the event has ended (nothing changed); 503.
 */
void
h_page_cancel(struct request *req, struct response *resp)
{
	const char		*tok = req->args[0];
	PGresult		*res;
	struct buf		*b = &resp->body;
	char			 slug[SLUG_MAX + 1];
	const char		*said, *title;
	int			 waited;

	if (html_link_form(req, resp) == -1)
		return;
	if ((res = db_fetch(req, resp, STMT_CANCEL, 1, &tok,
	    MISSING_OK)) == NULL)
		return;
	if (strcmp(db_value(res, 0, "outcome"), "not_found") == 0) {
		PQclear(res);
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return;
	}
	strncpy(slug, db_value(res, 0, "event_slug"), sizeof(slug) - 1);
	slug[sizeof(slug) - 1] = '\0';
	if (strcmp(db_value(res, 0, "outcome"), "event_ended") == 0) {
		PQclear(res);
		html_page(resp, _("This event has ended"));
		resp->status = 409;
		buf_printf(b, "<p>%s</p>\n", _(ENDED_WHY));
		page_back_link(b, slug);
		html_end(resp);
		return;
	}
	waited = db_bool(res, 0, "was_waitlisted");
	title = waited ? _("You have left the waiting list") :
	    _("Your registration is cancelled");
	if (strcmp(db_value(res, 0, "outcome"), "already_cancelled") == 0)
		said = _("It was already cancelled: nothing more has changed, "
		    "and no further email is sent.");
	/* No seat was held: no place went to anyone. */
	else if (waited)
		said = _("Thank you for letting us know: you are no longer on "
		    "the waiting list. An email confirms it.");
	else if (db_number(res, 0, "promoted") > 0)
		said = _("Thank you for letting us know: your place goes to the "
		    "next person on the waiting list. An email confirms the "
		    "cancellation.");
	else
		said = _("Thank you for letting us know: your place is free for "
		    "someone else. An email confirms the cancellation.");
	PQclear(res);
	html_page(resp, title);
	buf_adds(b, "<p>");
	html_esc(b, said);
	buf_adds(b, "</p>\n<p><a href=\"/events/");
	html_esc(b, slug);
	page_lang_query(b, 0);
	buf_printf(b, "\">%s</a></p>\n", _("Back to the event"));
	html_end(resp);
}
