/*
 * page_events.c: the public HTML pages of events.  Offers the handlers of
 *
 *   GET /events               upcoming published events
 *   GET /events/{slug}        the event box with the registration form
 *   GET /events/{slug}.ics    the event as iCalendar
 *
 * The event box itself is page_event_box.c's; registering is
 * page_register.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "escape.h"
#include "handlers.h"
#include "ical.h"
#include "page_event_box.h"
#include "page_layout.h"
#include "query.h"
#include "validate.h"

#define LIST_PER_PAGE	10

static void
list_seats(struct buf *b, const PGresult *res, int i)
{
	const char	*state = db_value(res, i, "registration_state");
	long		 seats = strtol(db_value(res, i, "seats_available"),
			    NULL, 10);

	if (strcmp(state, "not_open") == 0)
		buf_adds(b, _("Registration opens later"));
	else if (strcmp(state, "open") != 0)
		buf_adds(b, _("Registration closed"));
	else if (seats > 0)
		buf_printf(b, P_("%ld seat left", "%ld seats left", seats),
		    seats);
	else if (strcmp(db_value(res, i, "waitlist_available"), "t") == 0)
		buf_adds(b, _("Full: waiting list open"));
	else
		buf_adds(b, _("Full"));
}

static void
list_link(struct buf *b, const char *category, long long page,
    const char *rel, const char *text)
{
	buf_adds(b, "<a rel=\"");
	buf_adds(b, rel);
	buf_adds(b, "\" href=\"/events?");
	if (*category != '\0') {
		buf_adds(b, "category=");
		html_urlenc(b, category);
		buf_adds(b, "&amp;");
	}
	buf_printf(b, "page=%lld", page);
	page_lang_query(b, 1);
	buf_printf(b, "\">%s</a>", text);
}

static void
category_filter(struct buf *b, const char *current)
{
	PGresult	*res;
	int		 i;

	if (db_query(STMT_PAGE_CATEGORIES, 0, NULL, &res) != DB_OK)
		return;	/* the list still works without the filter */
	if (PQntuples(res) > 0) {
		buf_adds(b, "<form class=\"filter\" method=\"get\" "
		    "action=\"/events\">\n");
		page_lang_field(b);
		buf_printf(b, "<label for=\"category\">%s</label>\n"
		    "<select id=\"category\" name=\"category\">\n"
		    "<option value=\"\">%s</option>\n", _("Category"),
		    _("All categories"));
		for (i = 0; i < PQntuples(res); i++) {
			const char	*c = db_value(res, i, "category");

			buf_adds(b, "<option value=\"");
			html_esc(b, c);
			buf_adds(b, strcmp(c, current) == 0 ?
			    "\" selected>" : "\">");
			html_esc(b, c);
			buf_adds(b, "</option>\n");
		}
		buf_printf(b, "</select>\n<button type=\"submit\">%s</button>\n"
		    "</form>\n", _("Show"));
	}
	PQclear(res);
}

enum { P_CATEGORY, P_PAGE, P__MAX };

static const struct query_param list_params[P__MAX] = {
	[P_CATEGORY] = { "category", Q_TEXT, 0, ORG_MAX_CHARS, 0, NULL, NULL },
	[P_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
};

/* What a patron is told about each of list_params. */
static const char *const list_errors[P__MAX] = {
	[P_CATEGORY] = N_("That category is not valid."),
	[P_PAGE] = N_("That page number is not valid."),
};

/* "" or "?category=..." (escaped for an attribute), the feeds' query. */
static void
feed_query(struct buf *q, const char *category)
{
	struct buf	 u = BUF_INIT;

	buf_adds(q, "");
	if (category == NULL)
		return;
	buf_adds(&u, "?category=");
	html_urlenc(&u, category);
	html_esc(q, u.data);
	buf_free(&u);
}

/* The list's feeds (page_feeds.c), for people: subscribe in a calendar
 * app (webcal: opens one), download, or follow in a feed reader. */
static void
feed_links(struct buf *b, const char *query)
{
	const char	*host = strstr(cfg.base_url, "://") + 3;

	struct buf	 a = BUF_INIT, c = BUF_INIT, d = BUF_INIT;
	const char	*kv[6];

	buf_printf(&a, "<a href=\"webcal://%s/events.ics%s\">%s</a>", host,
	    query, _("subscribe in your calendar"));
	buf_printf(&c, "<a href=\"/events.ics%s\" download>%s</a>", query,
	    _("download them as a calendar file"));
	buf_printf(&d, "<a href=\"/events.atom%s\" type=\"application/atom+"
	    "xml\">%s</a>", query, _("follow the news feed (Atom)"));
	kv[0] = "subscribe";
	kv[1] = a.data;
	kv[2] = "download";
	kv[3] = c.data;
	kv[4] = "feed";
	kv[5] = d.data;
	buf_adds(b, "<p class=\"feeds\">");
	/* TRANSLATORS: each {name} is a link with one of the texts above. */
	i18n_fill(b, _("Follow these events: {subscribe}, {download} or "
	    "{feed}."), kv, 6);
	buf_adds(b, "</p>\n");
	buf_free(&a);
	buf_free(&c);
	buf_free(&d);
}

/* The list's title says which part of it this is, the heading does not:
 * "Upcoming events: Workshops, page 2 of 3" (a screen reader announces it
 * after the filter's button, or "Next page"). */
static void
list_title(struct buf *t, const char *category, long long page,
    long long pages)
{
	const char	*kv[6];
	char		 n[24], of[24];
	struct buf	 c = BUF_INIT;

	if (category != NULL) {
		kv[0] = "category";
		kv[1] = category;
		/* TRANSLATORS: the browser's title of the list of one
		 * category's events. */
		i18n_fill(&c, _("Upcoming events: {category}"), kv, 2);
	} else
		buf_adds(&c, _("Upcoming events"));
	if (page > 1) {
		snprintf(n, sizeof(n), "%lld", page);
		snprintf(of, sizeof(of), "%lld", pages);
		kv[0] = "title";
		kv[1] = c.data;
		kv[2] = "page";
		kv[3] = n;
		kv[4] = "pages";
		kv[5] = of;
		/* TRANSLATORS: the browser's title of a later page of the
		 * list; {title} is "Upcoming events" or the one above. */
		i18n_fill(t, _("{title}, page {page} of {pages}"), kv, 6);
	} else
		buf_adds(t, c.data);
	buf_free(&c);
}

/*
 * GET /events: upcoming published events, soonest first, ten a page;
 * category, page.  200; 400 bad query; 404 a page past the last (page 1
 * is always there, empty or not); 503.
 */
void
h_page_events(struct request *req, struct response *resp)
{
	struct query_value	 v[P__MAX];
	const char		*category = v[P_CATEGORY].text;
	char			 limit[24], offset[24];
	const char		*vals[3];
	long long		 page, total, pages;
	PGresult		*res;
	struct buf		*b = &resp->body, q = BUF_INIT;
	struct buf		 title = BUF_INIT;
	size_t			 bad;
	int			 i, n = 0;

	if (query_parse(req->query, list_params, P__MAX, v, &bad) == -1) {
		page_query_error(resp, &list_params[bad], &v[bad],
		    list_errors[bad]);
		return;
	}
	page = v[P_PAGE].num;
	snprintf(limit, sizeof(limit), "%d", LIST_PER_PAGE);
	snprintf(offset, sizeof(offset), "%lld", (page - 1) * LIST_PER_PAGE);
	vals[0] = v[P_CATEGORY].present ? category : NULL;
	vals[1] = limit;
	vals[2] = offset;
	if ((res = db_fetch(req, resp, STMT_PAGE_LIST, 3, vals,
	    MISSING_OK)) == NULL)
		return;
	total = strtoll(db_value(res, 0, "total"), NULL, 10);
	pages = (total + LIST_PER_PAGE - 1) / LIST_PER_PAGE;
	if (page > 1 && (page - 1) * LIST_PER_PAGE >= total) {
		/* A link kept while the events on its page went by. */
		PQclear(res);
		html_error_page(resp, 404, _("That page is past the end of the "
		    "list of upcoming events."));
		return;
	}

	feed_query(&q, v[P_CATEGORY].present ? category : NULL);
	list_title(&title, v[P_CATEGORY].present ? category : NULL, page,
	    pages);
	html_page_with_feeds(resp, title.data, _("Upcoming events"), q.data);
	buf_free(&title);
	category_filter(b, category);
	if (v[P_CATEGORY].present) {
		struct buf	 c = BUF_INIT;
		const char	*kv[2];

		buf_adds(&c, "<strong>");
		html_esc(&c, category);
		buf_adds(&c, "</strong>");
		kv[0] = "category";
		kv[1] = c.data;
		buf_adds(b, "<p>");
		i18n_fill(b, _("Showing events in the category {category}."),
		    kv, 2);
		buf_adds(b, " <a href=\"");
		page_href(b, "/events");
		buf_printf(b, "\">%s</a></p>\n", _("Show all events"));
		buf_free(&c);
	}
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "slug"))
			continue;
		if (n++ == 0)
			buf_adds(b, "<ul class=\"events\">\n");
		buf_adds(b, "<li>\n<h2>");
		page_event_link_dated(b, res, i, "event");
		buf_adds(b, "</h2>\n");
		page_dated_open(b, "p", "event", i);
		page_when(b, res, i, db_value(res, i, "timezone"));
		page_dated_close(b, "p", res, i);
		buf_adds(b, "\n<p>");
		html_esc(b, i18n_format(db_value(res, i, "format")));
		buf_adds(b, ". <span class=\"seats\">");
		list_seats(b, res, i);
		buf_adds(b, "</span></p>\n</li>\n");
	}
	PQclear(res);
	if (n > 0)
		buf_adds(b, "</ul>\n");
	else
		buf_printf(b, "<p>%s</p>\n",
		    _("There are no upcoming events here."));
	if (page > 1 || page * LIST_PER_PAGE < total) {
		buf_printf(b, "<nav class=\"pages\" aria-label=\"%s\"><p>",
		    _("Pages"));
		if (page > 1)
			list_link(b, category, page - 1, "prev",
			    _("Previous page"));
		buf_adds(b, " <span>");
		buf_printf(b, _("Page %lld of %lld"), page, pages);
		buf_adds(b, "</span> ");
		if (page * LIST_PER_PAGE < total)
			list_link(b, category, page + 1, "next",
			    _("Next page"));
		buf_adds(b, "</p></nav>\n");
	}
	feed_links(b, q.data);
	buf_free(&q);
	html_end(resp);
}

/*
 * GET /events/{slug}: the event box with the registration form; tz (one
 * of page_zones[]) shows the times in another zone.  200; 400 unknown
 * zone; 404; 503.  Sets the CSRF cookie (csrf.h).
 */
void
h_page_event(struct request *req, struct response *resp)
{
	struct query_value	 tz;
	PGresult		*res;

	if (page_event_tz_query(req, resp, &tz) == -1)
		return;
	if ((res = load_event(req, resp, tz.present ? tz.text : NULL)) ==
	    NULL)
		return;
	event_box(req, resp, res, tz.present ? tz.text :
	    db_value(res, 0, "timezone"), NULL);
	PQclear(res);
}

/*
 * GET /events/{slug}.ics: the event as iCalendar, with its own VTIMEZONE.
 * A calendar app subscribed to it polls it: cacheable, with an ETag and
 * 304 (page_cache()), its DTSTAMP the event's last change (STMT_PAGE_ICS)
 * so that an unchanged event is the same bytes.  200 text/calendar; 304;
 * 404; 503.
 */
void
h_page_ics(struct request *req, struct response *resp)
{
	const char		*slug = req->args[0];
	PGresult		*res;
	struct ical_event	 ev;
	struct buf		 uid = BUF_INIT, url = BUF_INIT;

	if (!slug_valid(slug, req->args_len[0])) {
		answer_missing(req, resp, MISSING_PAGE);
		return;
	}
	if ((res = db_fetch(req, resp, STMT_PAGE_ICS, 1, &slug,
	    MISSING_PAGE)) == NULL)
		return;
	ical_uid(&uid, db_value(res, 0, "id"), cfg.base_url);
	buf_printf(&url, "%s/events/%s", cfg.base_url, slug);
	memset(&ev, 0, sizeof(ev));
	ev.uid = uid.data;
	ev.dtstamp = db_value(res, 0, "dtstamp");
	ev.tzid = db_value(res, 0, "timezone");
	ev.vtimezone = db_value(res, 0, "vtimezone");
	ev.start_local = db_value(res, 0, "start_local");
	ev.end_local = db_value(res, 0, "end_local");
	ev.start_repeated = db_value(res, 0, "start_repeated");
	ev.end_repeated = db_value(res, 0, "end_repeated");
	ev.summary = db_value(res, 0, "title");
	ev.description = db_value(res, 0, "description");
	ev.summary_lang = ev.description_lang = db_value(res, 0, "language");
	ev.doc_lang = i18n_lang();
	if (*db_value(res, 0, "location") != '\0') {
		ev.location = db_value(res, 0, "location");
		ev.location_lang = ev.summary_lang;
	} else
		ev.location = strcmp(db_value(res, 0, "format"), "online") == 0 ?
		    _("Online") : "";
	ev.url = url.data;
	ev.cancelled = strcmp(db_value(res, 0, "status"), "cancelled") == 0;
	ev.sequence = strtol(db_value(res, 0, "ical_sequence"), NULL, 10);
	resp->content_type = "text/calendar; charset=utf-8";
	resp_header(resp, "Content-Disposition",
	    "attachment; filename=\"%s.ics\"", slug);
	ical_render(&resp->body, &ev);
	PQclear(res);
	buf_free(&uid);
	buf_free(&url);
	page_cache(req, resp);
}
