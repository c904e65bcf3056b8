/*
 * page_confirm.c: the link in a 'confirm_address' email, which makes a
 * held registration count (sql/rules/55_holds.sql).  Offers the handlers of
 *
 *   GET  /confirm/{token}  shows the registration and asks to confirm
 *   POST /confirm/{token}  confirms
 *
 * (api_registrations.c has the same as JSON.)
 * A GET never confirms: mail scanners follow links, and a scanner that
 * confirmed would make "the address confirmed it" untrue.  The pages are
 * Cache-Control: no-store (router) and Referrer-Policy: no-referrer.
 */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "form.h"
#include "handlers.h"
#include "page_layout.h"
#include "validate.h"

static void
event_facts(struct buf *b, const PGresult *res, const char *zone)
{
	page_facts_begin(b, db_value(res, 0, "name"));
	buf_printf(b, "<dt>%s</dt><dd>", _("Event"));
	page_event_link(b, db_value(res, 0, "event_slug"),
	    db_value(res, 0, "event_title"), db_value(res, 0, "event_language"));
	buf_printf(b, "</dd>\n<dt>%s</dt><dd>", _("When"));
	page_when(b, res, 0, zone);
	buf_adds(b, "</dd>\n</dl>\n");
}

static void
paragraph(struct buf *b, const char *text)
{
	buf_adds(b, "<p>");
	html_esc(b, text);
	buf_adds(b, "</p>\n");
}

/* "Your place is held until Monday, November 2, 2026 at 3:00pm (Eastern
 * Time ...)", in the zone the times are shown in: a time of day alone
 * read as "ends now" on the day before a hold of days ended; and the
 * button that keeps it, by its name (the page has another, the zone's). */
static void
held_until(struct buf *b, const PGresult *res, const char *zone)
{
	struct buf	 line = BUF_INIT, named = BUF_INIT;
	const char	*kv[2] = { "button", _("Confirm my registration") };

	/* TRANSLATORS: {button} is the button's label, "Confirm my
	 * registration", as it is translated. */
	page_fill_date_time(&line, _("Your place is held until {date} at "
	    "{time} ({zone}). To keep it, press \"{button}\"."), res,
	    "held_until_local", zone);
	i18n_fill(&named, buf_str(&line), kv, 2);
	paragraph(b, buf_str(&named));
	buf_free(&line);
	buf_free(&named);
}

/* 410: the hold ended before anybody confirmed it. */
static void
expired_page(struct response *resp, const char *slug)
{
	struct buf	*b = &resp->body;

	html_page(resp, _("This registration has lapsed"));
	resp->status = 410;
	/* Released, to the next person waiting if there was one: the page
	 * does not know, and says only what holds either way. */
	paragraph(b, _("The place was held for a limited time and was not "
	    "confirmed in time, so it has been released. You are welcome to "
	    "register again."));
	page_back_link(b, slug);
	html_end(resp);
}

/*
 * GET /confirm/{token}[?tz=ZONE]: shows the held registration, until when
 * it is held, in the zone picked (one of page_zones[]; the event's own by
 * default), and a button that confirms it.  200 (also when already
 * confirmed: it says so); 400 unknown zone; 404 one calm page for a token
 * malformed, unknown, replaced or cancelled; 410 the hold ended; 503.
 */
void
h_page_confirm_show(struct request *req, struct response *resp)
{
	struct query_value	 tz;
	const char		*tok = req->args[0], *hold, *zone, *vals[2];
	PGresult		*res;
	struct buf		*b = &resp->body;
	struct buf		 action = BUF_INIT;
	char			 field[CSRF_HEX + 1];

	if (page_link_tz_query(req, resp, &tz) == -1)
		return;
	if (!token_valid(tok, req->args_len[0])) {
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return;
	}
	vals[0] = tok;
	vals[1] = tz.present ? tz.text : NULL;
	if ((res = db_fetch(req, resp, STMT_PAGE_HOLD, 2, vals,
	    MISSING_OK)) == NULL)
		return;
	hold = PQntuples(res) == 0 ? "cancelled" : db_value(res, 0, "hold");
	/* Not for a used link: its page reads as an unknown one's. */
	if (strcmp(hold, "cancelled") != 0)
		page_token_lang(req, db_value(res, 0, "language"));
	zone = PQntuples(res) == 0 ? NULL : tz.present ? tz.text :
	    db_value(res, 0, "timezone");
	if (strcmp(hold, "cancelled") == 0)
		html_link_inactive(resp, LINK_INACTIVE_WHY);
	else if (strcmp(hold, "expired") == 0)
		expired_page(resp, db_value(res, 0, "event_slug"));
	else if (strcmp(hold, "confirmed") == 0) {
		html_page(resp, _("Already confirmed"));
		event_facts(b, res, zone);
		paragraph(b, _("Nothing more to do: the email that followed "
		    "the confirmation has your cancellation link."));
		html_end(resp);
	} else {
		csrf_prepare(req, resp, field);
		html_page(resp, _("Confirm your registration?"));
		event_facts(b, res, zone);
		/* The zone's form before the line that names the button, so
		 * that the next button after it is that one. */
		buf_adds(&action, "/confirm/");
		buf_adds(&action, tok);
		page_tz_form(b, action.data, zone, db_value(res, 0, "timezone"));
		held_until(b, res, zone);
		buf_adds(b, "<form method=\"post\" action=\"/confirm/");
		html_esc(b, tok);
		page_lang_query(b, 0);
		buf_adds(b, "\">\n<input type=\"hidden\" name=\"" CSRF_FIELD
		    "\" value=\"");
		buf_adds(b, field);
		buf_printf(b, "\">\n<button type=\"submit\">%s</button>\n"
		    "</form>\n", _("Confirm my registration"));
		paragraph(b, _("Did not ask for this? Just close this page: "
		    "the place is released and you will get no more email "
		    "about it."));
		html_end(resp);
	}
	buf_free(&action);
	PQclear(res);
}

/*
 * POST /confirm/{token}, form: csrf.  Confirms and says what the
 * registration holds now; the same POST again (the button pressed twice, a
 * reload) says it was confirmed already and that no email follows, for
 * none does (confirm_registration()).  200; 400 malformed form; 403 CSRF
 * check failed; 404 as for the GET; 410 the hold ended; 503.
 */
void
h_page_confirm(struct request *req, struct response *resp)
{
	const char	*tok = req->args[0], *outcome;
	PGresult	*res;
	struct buf	*b = &resp->body;
	int		 waiting, again;

	if (html_link_form(req, resp) == -1)
		return;
	if ((res = db_fetch(req, resp, STMT_CONFIRM, 1, &tok,
	    MISSING_OK)) == NULL)
		return;
	outcome = db_value(res, 0, "outcome");
	waiting = strcmp(db_value(res, 0, "status"), "waitlisted") == 0;
	if (strcmp(outcome, "expired") == 0)
		expired_page(resp, db_value(res, 0, "event_slug"));
	else if (strcmp(outcome, "confirmed") != 0 &&
	    strcmp(outcome, "already_confirmed") != 0)
		html_link_inactive(resp, LINK_INACTIVE_WHY);
	else {
		again = strcmp(outcome, "already_confirmed") == 0;
		if (again)
			html_page(resp, waiting ? _("Already confirmed: you "
			    "are on the waiting list") : _("Already confirmed: "
			    "you are registered"));
		else
			html_page(resp, waiting ? _("Confirmed: you are on "
			    "the waiting list") : _("Confirmed: you are "
			    "registered"));
		buf_adds(b, "<p>");
		if (waiting) {
			const char	*kv[] = { "number",
					    db_value(res, 0, "position") };

			i18n_fill(b, _("You are number {number} on the "
			    "waiting list."), kv, 2);
			buf_adds(b, " ");
		}
		/* Said without knowing whether a hold came before: a
		 * registration's own link leads here too. */
		html_esc(b, again ? _("It was already confirmed: nothing more "
		    "has changed, and no further email is sent. Your "
		    "registration email has the details and your cancellation "
		    "link.") : _("An email with the details and your "
		    "cancellation link is on its way."));
		buf_adds(b, "</p>\n");
		page_back_link(b, db_value(res, 0, "event_slug"));
		html_end(resp);
	}
	PQclear(res);
}
