/*
 * page_event_box.c: the event box (see page_event_box.h): the event's
 * facts, a time-zone choice, its description, and the registration box
 * with the form, each field's message next to it and an error summary on
 * top (GOV.UK's pattern), usable with JavaScript off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "csrf.h"
#include "config.h"
#include "db.h"
#include "escape.h"
#include "i18n.h"
#include "jsonld.h"
#include "page_event_box.h"
#include "page_layout.h"
#include "page_questions.h"
#include "validate.h"

/* A fact of the event, its value staff's text in the language lang (the
 * event's; NULL: the page's own words). */
static void
fact_in(struct buf *b, const char *term, const char *value, const char *lang)
{
	if (*value == '\0')
		return;
	buf_adds(b, "<dt>");
	buf_adds(b, term);
	buf_adds(b, "</dt><dd");
	lang_mark(b, LANG_HTML, lang, i18n_lang());
	buf_adds(b, ">");
	html_esc(b, value);
	buf_adds(b, "</dd>\n");
}

static void
fact(struct buf *b, const char *term, const char *value)
{
	fact_in(b, term, value, NULL);
}

/* Long text staff wrote in lang, the event's language, as paragraphs; in
 * a <div lang> when that is not the page's. */
static void
staff_paragraphs(struct buf *b, const char *text, const char *lang)
{
	struct buf	 mark = BUF_INIT;

	lang_mark(&mark, LANG_HTML, lang, i18n_lang());
	if (mark.len > 0)
		buf_printf(b, "<div%s>\n", mark.data);
	html_paragraphs(b, text);
	if (mark.len > 0)
		buf_adds(b, "</div>\n");
	buf_free(&mark);
}

/*
 * Each string of a JSON array (array_to_json() wrote it) as a list item,
 * a link to its category's events (link) or text; open before the first
 * and close after the last, nothing when there is none.
 */
static void
list_items(struct buf *b, const char *json, const char *open,
    const char *close, int link)
{
	cJSON		*arr = cJSON_Parse(json), *c;
	int		 n = 0;

	if (arr == NULL)
		abort();
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c))
			continue;
		buf_adds(b, n++ == 0 ? open : "");
		buf_adds(b, "<li>");
		if (link) {
			buf_adds(b, "<a href=\"/events?category=");
			html_urlenc(b, c->valuestring);
			page_lang_query(b, 1);
			buf_adds(b, "\">");
		}
		html_esc(b, c->valuestring);
		buf_adds(b, link ? "</a></li>" : "</li>\n");
	}
	if (n > 0)
		buf_adds(b, close);
	cJSON_Delete(arr);
}

/* How the form shows each field of fields.h. */
static const struct {
	const char	*label;
	const char	*type;
	const char	*autocomplete;
	const char	*hint;
} inputs[FIELD__MAX] = {
	[FIELD_NAME] = { N_("Your name"), "text", "name", NULL },
	[FIELD_EMAIL] = { N_("Email address"), "email", "email",
	    N_("We send the confirmation and your cancellation link here.") },
	[FIELD_ORGANIZATION] = { N_("Member library (optional)"), "text",
	    "organization", NULL },
};

/* The field's message, its input and the ARIA that ties them. */
static void
field(struct buf *b, enum field_id f, const char *value, const char *err)
{
	const char	*id = field_specs[f].name, *hint = inputs[f].hint;

	buf_printf(b, "<div class=\"field%s\">\n<label for=\"%s\">%s</label>\n",
	    err ? " invalid" : "", id, _(inputs[f].label));
	if (hint != NULL)
		buf_printf(b, "<p class=\"hint\" id=\"%s-hint\">%s</p>\n", id,
		    _(hint));
	if (err != NULL)
		buf_printf(b, "<p class=\"error\" id=\"%s-error\">"
		    "<span class=\"visually-hidden\">%s </span>%s</p>\n",
		    id, _("Error:"), err);
	buf_printf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" "
	    "autocomplete=\"%s\"", id, id, inputs[f].type,
	    inputs[f].autocomplete);
	if (field_specs[f].required)
		buf_adds(b, " required");
	if (err != NULL || hint != NULL) {
		buf_adds(b, " aria-describedby=\"");
		if (hint != NULL)
			buf_printf(b, "%s-hint%s", id, err ? " " : "");
		if (err != NULL)
			buf_printf(b, "%s-error", id);
		buf_adds(b, "\"");
	}
	if (err != NULL)
		buf_adds(b, " aria-invalid=\"true\"");
	buf_adds(b, " value=\"");
	html_esc(b, value ? value : "");
	buf_adds(b, "\">\n</div>\n");
}

/* Whether the form comes back with something to say: the error summary. */
static int
form_has_errors(const struct form_state *fs)
{
	size_t	 f;
	int	 any;

	if (fs == NULL)
		return 0;
	any = fs->notice != NULL || cJSON_GetArraySize(fs->answer_errors) > 0;
	for (f = 0; f < FIELD__MAX; f++)
		any |= fs->error[f] != NULL;
	return any;
}

static void
error_summary(struct buf *b, const struct form_state *fs,
    const char *questions)
{
	size_t	 f;

	if (!form_has_errors(fs))
		return;
	/* autofocus: the browser moves the focus to it (and scrolls it into
	 * view) without JavaScript, so the patron starts from it rather than
	 * from the top of the page, far above the form. */
	buf_adds(b, "<div class=\"error-summary\" id=\"error-summary\" "
	    "tabindex=\"-1\" role=\"alert\" autofocus aria-labelledby=\""
	    "error-summary-title\">\n<h3 id=\"error-summary-title\">");
	html_esc(b, _("There is a problem"));
	buf_adds(b, "</h3>\n<ul>\n");
	if (fs->notice != NULL) {
		buf_adds(b, "<li>");
		html_esc(b, fs->notice);
		buf_adds(b, "</li>\n");
	}
	for (f = 0; f < FIELD__MAX; f++)
		if (fs->error[f] != NULL)
			buf_printf(b, "<li><a href=\"#%s\">%s</a></li>\n",
			    field_specs[f].name, fs->error[f]);
	questions_summary(b, questions, fs->answer_errors);
	buf_adds(b, "</ul>\n</div>\n");
}

/* The form posts to /events/SLUG/register, with ?tz= when the times are
 * shown in another zone than the event's (tz, else NULL): the form that
 * comes back with errors shows them in that zone still. */
static void
reg_form(struct request *req, struct response *resp, const char *slug,
    const char *tz, const PGresult *res, const struct form_state *fs,
    int waitlist)
{
	struct buf	*b = &resp->body;
	char		 tok[CSRF_HEX + 1], attempt[CSRF_ATTEMPT_HEX + 1];
	struct form_state empty;
	size_t		 f;

	memset(&empty, 0, sizeof(empty));
	if (fs == NULL)
		fs = &empty;
	csrf_prepare(req, resp, tok);
	csrf_attempt(attempt);
	buf_adds(b, "<form class=\"register\" method=\"post\" novalidate "
	    "action=\"/events/");
	html_esc(b, slug);
	buf_adds(b, "/register");
	if (tz != NULL) {
		buf_adds(b, "?tz=");
		html_urlenc(b, tz);
	}
	page_lang_query(b, tz != NULL);
	buf_adds(b, "\">\n<input type=\"hidden\" name=\""
	    CSRF_FIELD "\" value=\"");
	buf_adds(b, tok);
	buf_adds(b, "\">\n<input type=\"hidden\" name=\"" CSRF_ATTEMPT
	    "\" value=\"");
	buf_adds(b, attempt);
	buf_adds(b, "\">\n");
	for (f = 0; f < FIELD__MAX; f++)
		field(b, (enum field_id)f, fs->value[f], fs->error[f]);
	questions_html(b, db_value(res, 0, "questions"),
	    db_value(res, 0, "language"), fs->answers, fs->answer_errors);
	/* Hidden from people by the stylesheet and from screen readers
	 * (whose list of a form's fields would offer it); bots fill it in. */
	buf_printf(b, "<div class=\"hp\" aria-hidden=\"true\">\n"
	    "<label for=\"website\">%s</label>\n<input id=\"website\" "
	    "name=\"website\" type=\"text\" tabindex=\"-1\" "
	    "autocomplete=\"off\" value=\"\">\n</div>\n"
	    "<button type=\"submit\">", _("Leave this field empty"));
	html_esc(b, waitlist ? _("Join the waiting list") : _("Register"));
	buf_adds(b, "</button>\n</form>\n");
}

static void
state_line(struct buf *b, const char *class, const char *text)
{
	buf_printf(b, "<p class=\"%s\">", class);
	html_esc(b, text);
	buf_adds(b, "</p>\n");
}

/* "Registration opens Monday, November 2, 2026 at 9:00am (Eastern Time
 * ...).", in the zone the times are shown in: said with its zone, as every
 * time a patron is told, also to one who comes to it from the heading. */
static void
opens_line(struct buf *b, const PGresult *res, const char *zone)
{
	struct buf	 line = BUF_INIT;

	page_fill_date_time(&line, _("Registration opens {date} at {time} "
	    "({zone})."), res, "opens_local", zone);
	state_line(b, "state", line.data);
	buf_free(&line);
}

static void
registration_box(struct request *req, struct response *resp,
    const PGresult *res, const char *tz, const struct form_state *fs)
{
	struct buf	*b = &resp->body;
	const char	*state = db_value(res, 0, "registration_state");
	const char	*slug = db_value(res, 0, "slug");
	const char	*questions = db_value(res, 0, "questions");
	long		 seats = strtol(db_value(res, 0, "seats_available"),
			    NULL, 10);
	int		 waitlist = db_bool(res, 0, "waitlist_available");
	int		 confirm = db_bool(res, 0, "confirmation_required");

	buf_printf(b, "<section class=\"registration\" aria-labelledby="
	    "\"register\">\n<h2 id=\"register\">%s</h2>\n",
	    _("Registration"));
	/* Who may register, said before the form rather than after a
	 * refusal (the 403 not_eligible). */
	if (strcmp(db_value(res, 0, "members_only"), "t") == 0)
		state_line(b, "eligibility", _("For member libraries: register "
		    "with your library email address. Free for members."));
	error_summary(b, fs, questions);
	if (strcmp(state, "cancelled") == 0)
		state_line(b, "state", _("This event was cancelled."));
	else if (db_bool(res, 0, "ended"))
		/* Not "Registration is closed": one who came from an old
		 * link or a search would wonder whether they missed it. */
		state_line(b, "state", _("This event has ended."));
	else if (strcmp(state, "not_open") == 0)
		opens_line(b, res, tz != NULL ? tz :
		    db_value(res, 0, "timezone"));
	else if (strcmp(state, "open") != 0)
		state_line(b, "state", _("Registration is closed."));
	else if (seats > 0) {
		buf_adds(b, "<p class=\"state\">");
		html_esc(b, _("Registration is required."));
		buf_adds(b, " ");
		buf_printf(b, P_("There is %ld seat available.",
		    "There are %ld seats available.", seats), seats);
		if (waitlist) {
			buf_adds(b, " ");
			html_esc(b, _("Waiting list may be available if full."));
		}
		buf_adds(b, "</p>\n");
		/* Held seats are shown free (public_seats, 15_holds.sql):
		 * say what the confirmation may then tell. */
		if (confirm && waitlist)
			state_line(b, "hint", _("Some of these seats may be "
			    "held for people who have not confirmed their email "
			    "address yet: the email that confirms your "
			    "registration says whether you have a seat or a "
			    "place on the waiting list."));
		reg_form(req, resp, slug, tz, res, fs, 0);
	} else if (waitlist) {
		state_line(b, "state", _("This event is full. Join the waiting "
		    "list."));
		reg_form(req, resp, slug, tz, res, fs, 1);
	} else {
		state_line(b, "state", _("This event is full."));
		if (confirm)
			state_line(b, "hint", _("Places held for people who "
			    "have not confirmed their email address are offered "
			    "again when their hold ends: check back later."));
	}
	buf_adds(b, "</section>\n");
}

/* "key=value" of a web calendar's link, the value percent-encoded. */
static void
url_param(struct buf *b, const char *sep, const char *key, const char *value)
{
	buf_adds(b, sep);
	buf_adds(b, key);
	buf_addc(b, '=');
	html_urlenc(b, value);
}

/*
 * The same event for Google Calendar and Outlook.com, as list items: links
 * the patron follows (nothing loads from those sites), with the times in
 * UTC, the place and the event page; never the online URL.
 */
static void
web_calendar_links(struct buf *b, const PGresult *res)
{
	struct buf	 page = BUF_INIT, where = BUF_INIT, g = BUF_INIT,
			 o = BUF_INIT;
	const char	*title = db_value(res, 0, "title");

	buf_printf(&page, "%s/events/%s", cfg.base_url,
	    db_value(res, 0, "slug"));
	buf_adds(&where, *db_value(res, 0, "location") != '\0' ?
	    db_value(res, 0, "location") : _("Online"));
	buf_adds(&g, "https://calendar.google.com/calendar/render");
	url_param(&g, "?", "action", "TEMPLATE");
	url_param(&g, "&", "text", title);
	buf_printf(&g, "&dates=%s/%s", db_value(res, 0, "start_utc"),
	    db_value(res, 0, "end_utc"));
	url_param(&g, "&", "details", page.data);
	url_param(&g, "&", "location", where.data);
	buf_adds(&o, "https://outlook.live.com/calendar/0/deeplink/compose");
	url_param(&o, "?", "path", "/calendar/action/compose");
	url_param(&o, "&", "rru", "addevent");
	url_param(&o, "&", "subject", title);
	url_param(&o, "&", "startdt", db_value(res, 0, "starts_iso"));
	url_param(&o, "&", "enddt", db_value(res, 0, "ends_iso"));
	url_param(&o, "&", "body", page.data);
	url_param(&o, "&", "location", where.data);

	buf_adds(b, "<li><a href=\"");
	html_esc(b, g.data);
	buf_printf(b, "\">%s</a></li>\n<li><a href=\"",
	    _("Add to Google Calendar"));
	html_esc(b, o.data);
	buf_printf(b, "\">%s</a></li>\n", _("Add to Outlook.com"));
	buf_free(&page);
	buf_free(&where);
	buf_free(&g);
	buf_free(&o);
}

/*
 * The .ics file, and the web calendars' links but for a cancelled event:
 * they would add it as a normal entry, where the .ics says
 * STATUS:CANCELLED.
 */
static void
calendar_links(struct buf *b, const PGresult *res, int cancelled)
{
	buf_adds(b, "<ul class=\"calendars\">\n<li><a href=\"/events/");
	html_esc(b, db_value(res, 0, "slug"));
	buf_adds(b, ".ics");
	page_lang_query(b, 0);
	buf_printf(b, "\">%s</a></li>\n", _("Add to my calendar (.ics file)"));
	if (!cancelled)
		web_calendar_links(b, res);
	buf_adds(b, "</ul>\n");
}

/* Date and Time, in the zone shown and the language in use. */
static void
date_facts(struct buf *b, const PGresult *res)
{
	struct local_time	 s;
	struct buf		 d = BUF_INIT;

	page_local(res, 0, "starts_local", &s);
	i18n_date(&d, &s);
	buf_printf(b, "<dt>%s</dt><dd><time datetime=\"", _("Date"));
	html_esc(b, db_value(res, 0, "starts_local"));
	buf_adds(b, "\">");
	html_esc(b, d.data);
	buf_printf(b, "</time></dd>\n<dt>%s</dt><dd>", _("Time"));
	i18n_time(b, &s);
	/* In words, as page_when() has it: " - " is read out as nothing, or
	 * as "dash". */
	buf_adds(b, " ");
	html_esc(b, C_("time range", "to"));
	buf_adds(b, " ");
	page_until(b, res, 0);
	buf_adds(b, "</dd>\n");
	buf_free(&d);
}

/*
 * "Upcoming events": a few other events to come, those of the same category
 * first, each linked, with its date and time in its own zone; nothing when
 * there is none, or when the database cannot say (the page stands without).
 */
static void
upcoming(struct buf *b, const char *slug)
{
	const char		*vals[1] = { slug };
	PGresult		*res;
	int			 i;

	if (db_query(STMT_PAGE_UPCOMING, 1, vals, &res) != DB_OK)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if (i == 0)
			buf_printf(b, "<section class=\"upcoming\" "
			    "aria-labelledby=\"upcoming\">\n<h2 id=\"upcoming\">"
			    "%s</h2>\n<ul>\n", _("Upcoming events"));
		buf_adds(b, "<li>");
		page_event_link_dated(b, res, i, "upcoming");
		buf_adds(b, "<br>");
		page_dated_open(b, "span", "upcoming", i);
		buf_adds(b, "<time datetime=\"");
		html_esc(b, db_value(res, i, "starts_local"));
		buf_adds(b, "\">");
		page_start(b, res, i);
		buf_adds(b, "</time> (");
		html_esc(b, zone_label(db_value(res, i, "timezone")));
		buf_adds(b, ")");
		page_dated_close(b, "span", res, i);
		buf_adds(b, "</li>\n");
	}
	if (i > 0)
		buf_adds(b, "</ul>\n</section>\n");
	PQclear(res);
}

/* How an event is joined, said as its format has it, under "How to
 * join": not "Online" / "This is an online event", which the format
 * above it has just said ("" for one in person only, which has nothing
 * to say). */
static const char *
online_note(const char *format)
{
	if (strcmp(format, "online") == 0)
		return _("The link to join is sent in the registration email.");
	if (strcmp(format, "hybrid") == 0)
		return _("The link to join online is sent in the registration "
		    "email.");
	return "";
}

void
event_box(struct request *req, struct response *resp, const PGresult *res,
    const char *shown, const struct form_state *fs)
{
	struct buf	*b = &resp->body;
	struct buf	 action = BUF_INIT, cats = BUF_INIT, title = BUF_INIT,
			 dated = BUF_INIT;
	const char	*slug = db_value(res, 0, "slug");
	const char	*format = db_value(res, 0, "format");
	const char	*lang = db_value(res, 0, "language");
	int		 cancelled = strcmp(db_value(res, 0, "status"),
			    "cancelled") == 0;

	/* The title is what a screen reader says first of a page, and the
	 * name of its tab and of its place in the history: the event's title
	 * and its start as the page shows it (as the Atom feed's entries
	 * have it), which tells the sessions of a series apart; and that it
	 * is cancelled, which the notice under the heading says to the eye
	 * only further down. */
	page_dated_title(&dated, res, "title");
	if (cancelled) {
		struct buf	 was = BUF_INIT;
		const char	*kv[] = { "title", NULL };

		kv[1] = dated.data;
		/* TRANSLATORS: the browser's title of a cancelled event's
		 * page; {title} is the event's title and start ("Story time,
		 * Monday, March 10, 2098, 10:00am"). */
		i18n_fill(&was, _("Cancelled: {title}"), kv, 2);
		buf_free(&dated);
		dated = was;
	}
	if (form_has_errors(fs)) {
		const char	*kv[] = { "title", dated.data };

		/* TRANSLATORS: the browser's title of the event page when
		 * the form comes back with errors; {title} is the event's
		 * title and start ("Story time, Monday, March 10, 2098,
		 * 10:00am"). */
		i18n_fill(&title, _("Error: {title}"), kv, 2);
	} else
		buf_adds(&title, dated.data);
	html_begin(resp, buf_str(&title));
	buf_free(&title);
	buf_free(&dated);
	buf_adds(b, "<article class=\"event\">\n<h1");
	lang_mark(b, LANG_HTML, lang, i18n_lang());
	buf_adds(b, ">");
	html_esc(b, db_value(res, 0, "title"));
	buf_adds(b, "</h1>\n");
	/* Before the date and the calendar links: in words, not colour. */
	if (cancelled)
		state_line(b, "cancelled-notice", _("This event has been "
		    "cancelled and will not take place."));
	if (!db_isnull(res, 0, "image_path")) {
		buf_adds(b, "<img class=\"event-image\" src=\"");
		html_esc(b, db_value(res, 0, "image_path"));
		buf_adds(b, "\" alt=\"");
		if (strcmp(db_value(res, 0, "image_decorative"), "t") != 0) {
			/* Staff's words, in the event's language. */
			html_esc(b, db_value(res, 0, "image_alt"));
			buf_adds(b, "\"");
			lang_mark(b, LANG_HTML, lang, i18n_lang());
		} else
			buf_adds(b, "\"");
		buf_adds(b, ">\n");
	}
	buf_adds(b, "<dl class=\"facts\">\n");
	date_facts(b, res);
	fact(b, _("Time zone"), zone_label(shown));
	fact(b, _("Format"), i18n_format(format));
	fact_in(b, _("Location"), db_value(res, 0, "location"), lang);
	if (!cancelled)
		fact(b, _("How to join"), online_note(format));
	buf_printf(&cats, "<dt>%s</dt><dd><ul class=\"cats\">",
	    _("Categories"));
	list_items(b, db_value(res, 0, "categories"), cats.data, "</ul></dd>\n",
	    1);
	fact(b, _("Organizer"), db_value(res, 0, "organizer"));
	buf_adds(b, "</dl>\n");
	buf_adds(&action, "/events/");
	buf_adds(&action, slug);
	page_tz_form(b, action.data, shown, db_value(res, 0, "timezone"));
	buf_free(&action);
	calendar_links(b, res, cancelled);
	registration_box(req, resp, res, strcmp(shown,
	    db_value(res, 0, "timezone")) != 0 ? shown : NULL, fs);
	/* Each section only when staff wrote it: a heading with nothing
	 * under it is read out (and shown by text browsers) all the same. */
	if (*db_value(res, 0, "description") != '\0') {
		buf_printf(b, "<section aria-labelledby=\"about\">\n"
		    "<h2 id=\"about\">%s</h2>\n", _("Description"));
		staff_paragraphs(b, db_value(res, 0, "description"), lang);
		buf_adds(b, "</section>\n");
	}
	buf_reset(&cats);
	buf_printf(&cats, "<section aria-labelledby=\"outcomes\">\n"
	    "<h2 id=\"outcomes\">%s</h2>\n<ul class=\"outcomes\"",
	    _("What you will learn"));
	lang_mark(&cats, LANG_HTML, lang, i18n_lang());
	buf_adds(&cats, ">\n");
	list_items(b, db_value(res, 0, "learning_outcomes"), cats.data,
	    "</ul>\n</section>\n", 0);
	buf_free(&cats);
	if (*db_value(res, 0, "audience") != '\0') {
		buf_printf(b, "<section aria-labelledby=\"audience\">\n"
		    "<h2 id=\"audience\">%s</h2>\n", _("Who should attend"));
		staff_paragraphs(b, db_value(res, 0, "audience"), lang);
		buf_adds(b, "</section>\n");
	}
	if (*db_value(res, 0, "presenter") != '\0') {
		buf_printf(b, "<section aria-labelledby=\"presenter\">\n"
		    "<h2 id=\"presenter\">%s</h2>\n", _("Presenter"));
		html_paragraphs(b, db_value(res, 0, "presenter"));
		buf_adds(b, "</section>\n");
	}
	if (*db_value(res, 0, "accessibility_contact") != '\0') {
		const char	*kv[] = { "contact",
				    db_value(res, 0, "accessibility_contact") };
		struct buf	 line = BUF_INIT;

		buf_printf(b, "<section aria-labelledby=\"access\">\n"
		    "<h2 id=\"access\">%s</h2>\n<p>", _("Accessibility"));
		i18n_fill(&line, _("If you have questions or requests about "
		    "accessibility, contact {contact}."), kv, 2);
		html_esc(b, line.data);
		buf_adds(b, "</p>\n</section>\n");
		buf_free(&line);
	}
	buf_adds(b, "</article>\n");
	upcoming(b, slug);
	buf_adds(b, "<script src=\"/static/eventbox.js\" defer>"
	    "</script>\n");
	jsonld_event(b, res);
	html_end(resp);
}

PGresult *
load_event(struct request *req, struct response *resp, const char *tz)
{
	const char	*vals[2] = { req->args[0], tz };

	if (!slug_valid(req->args[0], req->args_len[0])) {
		answer_missing(req, resp, MISSING_PAGE);
		return NULL;
	}
	return db_fetch(req, resp, STMT_PAGE_EVENT, 2, vals, MISSING_EVENT);
}
