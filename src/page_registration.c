/*
 * page_registration.c: the "my registration" page the emails link to
 * (HTML).  Offers the handler of
 *
 *   GET /registration/{token}  the registration's state and its event
 *
 * A GET changes nothing (mail scanners follow links): cancelling is the
 * button, which posts to /cancel/{token} (page_cancel.c) with the CSRF
 * field.  Cache-Control: no-store (router), Referrer-Policy: no-referrer
 * and no token in any log (nginx).
 */
#include <string.h>

#include "answer.h"
#include "db.h"
#include "escape.h"
#include "handlers.h"
#include "page_cancel.h"
#include "page_layout.h"
#include "query.h"
#include "validate.h"

/* Malformed and unknown tokens get the same words: they tell nothing. */
#define UNKNOWN	N_("The link was copied incompletely, or the registration " \
	"it belonged to no longer exists.")

/* A fact of the registration's event; a value staff wrote is in lang (the
 * event's language), else NULL. */
static void
fact(struct buf *b, const char *term, const char *value, int is_link,
    const char *lang)
{
	if (*value == '\0')
		return;
	buf_adds(b, "<dt>");
	buf_adds(b, term);
	buf_adds(b, "</dt><dd");
	lang_mark(b, LANG_HTML, lang, i18n_lang());
	buf_adds(b, ">");
	if (is_link) {
		buf_adds(b, "<a href=\"");
		html_esc(b, value);
		buf_adds(b, "\">");
	}
	html_esc(b, value);
	buf_adds(b, is_link ? "</a></dd>\n" : "</dd>\n");
}

/* "Held until Monday, November 2, 2026 at 3:00pm (Eastern Time ...), not
 * confirmed yet", in the zone the times are shown in. */
static void
held_until(struct buf *b, const PGresult *res, const char *zone)
{
	struct buf	 line = BUF_INIT;

	page_fill_date_time(&line, _("Held until {date} at {time} ({zone}), "
	    "not confirmed yet"), res, "held_until_local", zone);
	html_esc(b, line.data);
	buf_free(&line);
}

/* "Registered", "On the waiting list, number 3", "Held until ...", "Not
 * confirmed in time...", "Cancelled" */
static void
state(struct buf *b, const PGresult *res, int event_cancelled,
    const char *zone)
{
	const char	*status = db_value(res, 0, "status");

	buf_printf(b, "<dt>%s</dt><dd><strong>", _("Status"));
	if (event_cancelled)
		html_esc(b, _("The event has been cancelled"));
	else if (strcmp(status, "confirmed") == 0)
		html_esc(b, _("Registered: your seat is confirmed"));
	else if (strcmp(status, "pending") == 0)
		held_until(b, res, zone);
	else if (strcmp(status, "waitlisted") == 0) {
		html_esc(b, _("On the waiting list, number"));
		buf_adds(b, " ");
		html_esc(b, db_value(res, 0, "position"));
	} else if (db_bool(res, 0, "lapsed"))
		/* Nobody cancelled it: the hold ended unconfirmed. */
		html_esc(b, _("Not confirmed in time: the place held for you "
		    "was released"));
	else
		html_esc(b, _("Cancelled"));
	buf_adds(b, "</strong></dd>\n");
}

/*
 * The page's title, what a screen reader says first and the name of its tab:
 * the state and the event with its start, as the page shows them, so that
 * the tabs of a seat, a waiting place and a cancelled one (or of two
 * sessions of a series) tell themselves apart (WCAG 2.4.2): "Registered:
 * Story time, Monday, March 10, 2098, 10:00am".  Not escaped.
 */
static void
page_title(struct buf *b, const PGresult *res, int event_cancelled)
{
	struct buf	 event = BUF_INIT;
	const char	*status = db_value(res, 0, "status"), *tpl;
	const char	*kv[4];

	page_dated_title(&event, res, "event_title");
	kv[0] = "event";
	kv[1] = event.data;
	kv[2] = "position";
	kv[3] = db_value(res, 0, "position");
	if (event_cancelled)
		/* TRANSLATORS: this and the next five are the browser's
		 * titles of the "my registration" page, by the state;
		 * {event} is the event's title and start ("Story time,
		 * Monday, March 10, 2098, 10:00am"). */
		tpl = _("Event cancelled: {event}");
	else if (strcmp(status, "confirmed") == 0)
		/* TRANSLATORS: a seat; {event} as above. */
		tpl = _("Registered: {event}");
	else if (strcmp(status, "pending") == 0)
		/* TRANSLATORS: a place held until the address confirms it. */
		tpl = _("Not confirmed yet: {event}");
	else if (strcmp(status, "waitlisted") == 0)
		/* TRANSLATORS: {position} is the number on the waiting list. */
		tpl = _("Waiting list (position {position}): {event}");
	else if (db_bool(res, 0, "lapsed"))
		/* TRANSLATORS: a held place released unconfirmed. */
		tpl = _("Not confirmed in time: {event}");
	else
		/* TRANSLATORS: the registration, not the event. */
		tpl = _("Registration cancelled: {event}");
	i18n_fill(b, tpl, kv, 4);
	buf_free(&event);
}

/*
 * GET /registration/{token}[?tz=ZONE]: the holder's registration (state,
 * place on the waiting list), the event in the zone picked (one of
 * page_zones[]; the event's own by default), the online link once
 * confirmed, the .ics for a seat and the cancel button; once the event
 * has ended, that it has, and none of these (nothing can be cancelled
 * then: eventbox.cancel()).  200; 400 unknown zone; 404 one calm page for
 * a malformed or unknown token; 503.
 */
void
h_page_registration(struct request *req, struct response *resp)
{
	struct query_value	 tz;
	struct buf		*b = &resp->body;
	struct buf		 action = BUF_INIT, title = BUF_INIT;
	const char		*params[2], *slug, *status, *ev_status, *zone;
	PGresult		*res;
	int			 live, public, cancelled, ended;

	if (page_link_tz_query(req, resp, &tz) == -1)
		return;
	if (!token_valid(req->args[0], req->args_len[0])) {
		html_link_inactive(resp, UNKNOWN);
		return;
	}
	params[0] = req->args[0];
	params[1] = tz.present ? tz.text : NULL;
	if ((res = db_fetch(req, resp, STMT_PAGE_MY_REGISTRATION, 2, params,
	    MISSING_OK)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		PQclear(res);
		html_link_inactive(resp, UNKNOWN);
		return;
	}
	page_token_lang(req, db_value(res, 0, "language"));
	slug = db_value(res, 0, "event_slug");
	status = db_value(res, 0, "status");
	ev_status = db_value(res, 0, "event_status");
	cancelled = strcmp(ev_status, "cancelled") == 0;
	public = *ev_status != '\0';
	live = !cancelled && strcmp(status, "cancelled") != 0;
	/* Over: nothing to join, add to a calendar, cancel (which
	 * eventbox.cancel() refuses) or register again for. */
	ended = db_bool(res, 0, "ended");
	zone = tz.present ? tz.text : db_value(res, 0, "timezone");

	page_title(&title, res, cancelled);
	html_begin(resp, title.data);
	buf_free(&title);
	buf_adds(b, "<h1>");
	html_esc(b, _("Your registration"));
	buf_adds(b, "</h1>\n");
	page_facts_begin(b, db_value(res, 0, "name"));
	state(b, res, cancelled, zone);
	buf_printf(b, "<dt>%s</dt><dd>", _("Event"));
	if (public)
		page_event_link(b, slug, db_value(res, 0, "event_title"),
		    db_value(res, 0, "event_language"));
	else
		html_esc(b, db_value(res, 0, "event_title"));
	buf_printf(b, "</dd>\n<dt>%s</dt><dd>", _("When"));
	page_when(b, res, 0, zone);
	buf_printf(b, "</dd>\n<dt>%s</dt><dd>", _("Format"));
	html_esc(b, i18n_format(db_value(res, 0, "format")));
	buf_adds(b, "</dd>\n");
	if (strcmp(db_value(res, 0, "format"), "online") != 0)
		fact(b, _("Where"), db_value(res, 0, "location"), 0,
		    db_value(res, 0, "event_language"));
	fact(b, _("Presenter"), db_value(res, 0, "presenter"), 0, NULL);
	if (live && !ended)
		fact(b, _("Join online"), db_value(res, 0, "online_url"), 1,
		    NULL);
	fact(b, _("Accessibility"), db_value(res, 0, "accessibility_contact"),
	    0, NULL);
	buf_adds(b, "</dl>\n");
	if (ended && !cancelled)
		buf_printf(b, "<p class=\"state\">%s</p>\n",
		    _("This event has ended."));
	if (live && !ended && strcmp(status, "pending") == 0)
		buf_printf(b, "<p>%s</p>\n", _("Confirm it with the link in the "
		    "email we sent you, \"Please confirm your registration\". "
		    "A place not confirmed by then is released."));

	buf_adds(&action, "/registration/");
	buf_adds(&action, req->args[0]);
	page_tz_form(b, action.data, zone, db_value(res, 0, "timezone"));
	if (ended)
		;	/* said above: nothing more to do */
	else if (live) {
		/* A calendar entry for a seat only, as the emails send it
		 * (mail.c's has_calendar()): a patron waiting, or whose
		 * address is not confirmed yet, may not get in, and one who
		 * then leaves is sent no removal for an entry never sent. */
		if (public && strcmp(status, "confirmed") == 0) {
			buf_adds(b, "<p><a href=\"/events/");
			html_esc(b, slug);
			buf_adds(b, ".ics");
			page_lang_query(b, 0);
			buf_printf(b, "\">%s</a></p>\n",
			    _("Add to my calendar (.ics file)"));
		}
		/* Nobody moves up once it has begun (promote_waiting()). */
		if (strcmp(status, "waitlisted") == 0)
			buf_printf(b, "<p>%s</p>\n", db_bool(res, 0, "started") ?
			    _("The event has begun, so nobody on the waiting "
			    "list moves up any more.") : _("When a registered "
			    "person cancels, the first person on the waiting "
			    "list moves up and gets an email with everything "
			    "needed to attend."));
		page_cancel_form(req, resp, strcmp(status, "waitlisted") == 0);
		buf_printf(b, "<p>%s</p>\n",
		    _("Nothing changes until you press the button."));
	} else if (public && !cancelled) {
		buf_adds(b, "<p><a href=\"/events/");
		html_esc(b, slug);
		page_lang_query(b, 0);
		buf_printf(b, "\">%s</a></p>\n", _("Register again"));
	}
	html_end(resp);
	buf_free(&action);
	PQclear(res);
}
