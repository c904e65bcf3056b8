/*
 * page_feeds.c: the feeds people subscribe to, of upcoming published
 * events (all, or of one category), soonest first, at most FEED_MAX:
 *
 *   GET /events.ics[?category=]    iCalendar, for calendar apps
 *                                  (webcal://host/events.ics)
 *   GET /events.atom[?category=]   Atom, for feed readers
 *   GET /embed/events[?category=&lang=&limit=]
 *                                  an HTML fragment for the consortium's
 *                                  website, in its language
 *
 * All are public and cacheable: Cache-Control max-age, an ETag of the
 * body and 304 for a matching If-None-Match, so nginx (and the apps,
 * which poll) need not fetch the same feed again.  Never the online URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "escape.h"
#include "handlers.h"
#include "ical.h"
#include "i18n.h"
#include "page_layout.h"
#include "query.h"
#include "validate.h"

#define FEED_MAX	500

static const struct query_param feed_param[] = {
	{ "category", Q_TEXT, 0, ORG_MAX_CHARS, 0, NULL, NULL },
};

/* The feed's rows, or NULL after answering 400 or 503; *category is the
 * category asked for, or NULL. */
static PGresult *
feed_rows(struct request *req, struct response *resp,
    struct query_value *cat)
{
	char		 max[16];
	const char	*vals[2];
	size_t		 bad;

	if (query_parse(req->query, feed_param, 1, cat, &bad) == -1) {
		page_query_error(resp, feed_param, cat,
		    N_("That category is not valid."));
		return NULL;
	}
	snprintf(max, sizeof(max), "%d", FEED_MAX);
	vals[0] = cat->present ? cat->text : NULL;
	vals[1] = max;
	return db_fetch(req, resp, STMT_FEED, 2, vals, MISSING_OK);
}

/* "Events" or "Events: Workshops" */
static void
feed_title(struct buf *b, const struct query_value *cat)
{
	buf_adds(b, cfg.calendar_name);
	if (cat->present)
		buf_printf(b, ": %s", cat->text);
}

/*
 * The component of a feed without events: RFC 5545 3.6 wants at least one
 * in a VCALENDAR (icalbody = calprops component), and a calendar app that
 * holds to it refuses a subscription to a category with nothing upcoming
 * yet.  A VTIMEZONE that no event names shows nothing; UTC's is the same
 * everywhere and for ever, so the empty feed stays the same bytes (its
 * ETag).
 */
static const char empty_feed_component[] =
    "BEGIN:VTIMEZONE\r\n"
    "TZID:UTC\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0000\r\n"
    "TZOFFSETTO:+0000\r\n"
    "TZNAME:UTC\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n";

/*
 * GET /events.ics: the upcoming events as one calendar, each zone's
 * VTIMEZONE once, with the zone's changes of clocks around all of its
 * events in the feed (STMT_FEED), not only around the first: a calendar
 * reads a later event with the last change listed; without events,
 * empty_feed_component.  200 text/calendar; 304; 400 bad category; 503.
 */
void
h_feed_ics(struct request *req, struct response *resp)
{
	struct query_value	 cat;
	struct ical_event	 ev;
	struct buf		 uid = BUF_INIT, url = BUF_INIT;
	struct buf		*b = &resp->body;
	PGresult		*res;
	int			 i;

	if ((res = feed_rows(req, resp, &cat)) == NULL)
		return;
	ical_begin(b);
	feed_title(&uid, &cat);
	ical_property(b, "X-WR-CALNAME", uid.data, 1);
	buf_adds(b, "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"
	    "X-PUBLISHED-TTL:PT1H\r\n");
	for (i = 0; i < PQntuples(res); i++)
		if (!db_isnull(res, i, "vtimezone"))
			buf_adds(b, db_value(res, i, "vtimezone"));
	if (PQntuples(res) == 0)
		buf_adds(b, empty_feed_component);
	for (i = 0; i < PQntuples(res); i++) {
		buf_reset(&uid);
		buf_reset(&url);
		/* The same UID as the event's own .ics and its emails. */
		ical_uid(&uid, db_value(res, i, "id"), cfg.base_url);
		buf_printf(&url, "%s/events/%s", cfg.base_url,
		    db_value(res, i, "slug"));
		memset(&ev, 0, sizeof(ev));
		ev.uid = uid.data;
		ev.dtstamp = db_value(res, i, "dtstamp");
		ev.tzid = db_value(res, i, "timezone");
		ev.start_local = db_value(res, i, "start_local");
		ev.end_local = db_value(res, i, "end_local");
		ev.start_repeated = db_value(res, i, "start_repeated");
		ev.end_repeated = db_value(res, i, "end_repeated");
		ev.summary = db_value(res, i, "title");
		ev.description = db_value(res, i, "description");
		/* The calendar's own words are English ("Online"). */
		ev.summary_lang = ev.description_lang =
		    db_value(res, i, "language");
		ev.doc_lang = "en";
		if (*db_value(res, i, "location") != '\0') {
			ev.location = db_value(res, i, "location");
			ev.location_lang = ev.summary_lang;
		} else
			ev.location = strcmp(db_value(res, i, "format"),
			    "online") == 0 ? "Online" : "";
		ev.url = url.data;
		ev.sequence = strtol(db_value(res, i, "ical_sequence"), NULL,
		    10);
		ical_vevent(b, &ev);
	}
	buf_adds(b, "END:VCALENDAR\r\n");
	PQclear(res);
	buf_free(&uid);
	buf_free(&url);
	resp->content_type = "text/calendar; charset=utf-8";
	page_cache(req, resp);
}

/*
 * One Atom entry: its title the event's and its start (a reader lists
 * entries by title, and dates them by their change: a weekly story time
 * would be several entries of one name), with the location when another
 * entry has the same title and start (twin); the event's when, format
 * and description as HTML.
 */
static void
atom_entry(struct buf *b, const PGresult *res, int i)
{
	struct buf	 html = BUF_INIT, mark = BUF_INIT;

	buf_adds(b, "<entry>\n<title>");
	html_esc(b, db_value(res, i, "title"));
	buf_adds(b, ", ");
	page_start(b, res, i);
	if (db_bool(res, i, "twin") && *db_value(res, i, "location") != '\0') {
		buf_adds(b, ", ");
		html_esc(b, db_value(res, i, "location"));
	}
	/* The id by the event's id, which never changes, as RFC 4287 4.2.6
	 * asks: by its slug, which staff may change, a reader that had the
	 * entry showed the event a second time under the new one.  No slug
	 * is all digits, so no id is another event's page. */
	buf_printf(b, "</title>\n<id>%s/events/%s</id>\n"
	    "<link rel=\"alternate\" type=\"text/html\" href=\"%s/events/",
	    cfg.base_url, db_value(res, i, "id"), cfg.base_url);
	html_esc(b, db_value(res, i, "slug"));
	buf_printf(b, "\"/>\n<updated>%s</updated>\n",
	    db_value(res, i, "updated"));
	/* The event's own text in the summary marked with its language where
	 * that is not the feed's (xml:lang of <feed>). */
	lang_mark(&mark, LANG_HTML, db_value(res, i, "language"), i18n_lang());
	buf_adds(&html, "<p>");
	page_when(&html, res, i, db_value(res, i, "timezone"));
	buf_adds(&html, ". ");
	buf_adds(&html, i18n_format(db_value(res, i, "format")));
	if (*db_value(res, i, "location") != '\0') {
		buf_adds(&html, ": ");
		if (mark.len > 0)
			buf_printf(&html, "<span%s>", mark.data);
		html_esc(&html, db_value(res, i, "location"));
		if (mark.len > 0)
			buf_adds(&html, "</span>");
	}
	buf_adds(&html, ".</p>\n");
	if (mark.len > 0 && *db_value(res, i, "description") != '\0') {
		buf_printf(&html, "<div%s>\n", mark.data);
		html_paragraphs(&html, db_value(res, i, "description"));
		buf_adds(&html, "</div>\n");
	} else
		html_paragraphs(&html, db_value(res, i, "description"));
	buf_adds(b, "<summary type=\"html\">");
	html_esc(b, html.data);
	buf_adds(b, "</summary>\n</entry>\n");
	buf_free(&html);
	buf_free(&mark);
}

/* The newest change among the entries; a feed without any was last
 * updated when it was asked for (in buf). */
static const char *
feed_updated(const PGresult *res, char *buf, size_t bufsz)
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	if (PQntuples(res) > 0)
		return db_value(res, 0, "feed_updated");
	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/*
 * GET /events.atom: the upcoming events as an Atom feed (RFC 4287), one
 * entry each, linking to its page.  200 application/atom+xml; 304; 400;
 * 503.
 */
void
h_feed_atom(struct request *req, struct response *resp)
{
	struct query_value	 cat;
	struct buf		*b = &resp->body, q = BUF_INIT, title = BUF_INIT;
	PGresult		*res;
	char			 now[32];
	int			 i;

	if ((res = feed_rows(req, resp, &cat)) == NULL)
		return;
	if (cat.present) {
		buf_adds(&q, "?category=");
		html_urlenc(&q, cat.text);
	} else
		buf_adds(&q, "");
	feed_title(&title, &cat);
	/* The feed's language: its own words' (the date lines, the
	 * format), which the entries' marks are read against. */
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"");
	lang_mark(b, LANG_XML, i18n_lang(), NULL);
	buf_adds(b, ">\n<title>");
	html_esc(b, title.data);
	buf_printf(b, "</title>\n<id>%s/events.atom", cfg.base_url);
	html_esc(b, q.data);
	buf_printf(b, "</id>\n<link rel=\"self\" "
	    "type=\"application/atom+xml\" href=\"%s/events.atom", cfg.base_url);
	html_esc(b, q.data);
	buf_printf(b, "\"/>\n<link rel=\"alternate\" type=\"text/html\" "
	    "href=\"%s/events", cfg.base_url);
	html_esc(b, q.data);
	buf_printf(b, "\"/>\n<updated>%s</updated>\n<author><name>",
	    feed_updated(res, now, sizeof(now)));
	html_esc(b, cfg.calendar_name);
	buf_adds(b, "</name></author>\n");
	for (i = 0; i < PQntuples(res); i++)
		atom_entry(b, res, i);
	buf_adds(b, "</feed>\n");
	xml_chars_only(b, 0);
	PQclear(res);
	buf_free(&q);
	buf_free(&title);
	resp->content_type = "application/atom+xml; charset=utf-8";
	page_cache(req, resp);
}

/* The embeddable list's words, per language (lang=). */
static const struct embed_lang {
	const char	*code;
	const char	*heading, *all, *none;
	const char	*in_person, *online, *hybrid;
	const char	*refused, *unavailable;	/* an error's fragment */
	const char	*days[7];	/* Monday first (ISO) */
	const char	*months[12];
	const char	*date_fmt;	/* weekday, day, month, year */
} embed_langs[] = {
	{ "en", "Upcoming events", "All events", "There are no upcoming events.",
	    "In person", "Online", "In person and online",
	    "This list of events cannot be shown: its address is not valid.",
	    "The list of events is unavailable for the moment.",
	    { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	    "Saturday", "Sunday" },
	    { "January", "February", "March", "April", "May", "June", "July",
	    "August", "September", "October", "November", "December" },
	    "%1$s, %3$s %2$d, %4$d" },
	{ "fr", "Événements à venir", "Tous les événements",
	    "Aucun événement à venir.", "Sur place", "En ligne",
	    "Sur place et en ligne",
	    "Cette liste d’événements ne peut pas être affichée : son adresse "
	    "n’est pas valide.",
	    "La liste des événements est momentanément indisponible.",
	    { "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
	    "dimanche" },
	    { "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	    "août", "septembre", "octobre", "novembre", "décembre" },
	    "%1$s %2$d %3$s %4$d" },
	{ "es", "Próximos eventos", "Todos los eventos",
	    "No hay eventos próximos.", "Presencial", "En línea",
	    "Presencial y en línea",
	    "Esta lista de eventos no se puede mostrar: su dirección no es "
	    "válida.",
	    "La lista de eventos no está disponible en este momento.",
	    { "lunes", "martes", "miércoles", "jueves", "viernes", "sábado",
	    "domingo" },
	    { "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
	    "agosto", "septiembre", "octubre", "noviembre", "diciembre" },
	    "%1$s, %2$d de %3$s de %4$d" },
	{ "de", "Kommende Veranstaltungen", "Alle Veranstaltungen",
	    "Keine kommenden Veranstaltungen.", "Vor Ort", "Online",
	    "Vor Ort und online",
	    "Diese Veranstaltungsliste kann nicht angezeigt werden: ihre "
	    "Adresse ist ungültig.",
	    "Die Veranstaltungsliste ist im Moment nicht verfügbar.",
	    { "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag",
	    "Samstag", "Sonntag" },
	    { "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli",
	    "August", "September", "Oktober", "November", "Dezember" },
	    "%1$s, %2$d. %3$s %4$d" },
};

static const char *const embed_codes[] = { "en", "fr", "es", "de", NULL };

enum { E_CATEGORY, E_LANG, E_LIMIT, E__MAX };

static const struct query_param embed_params[E__MAX] = {
	[E_CATEGORY] = { "category", Q_TEXT, 0, ORG_MAX_CHARS, 0, NULL, NULL },
	[E_LANG] = { "lang", Q_ONEOF, 0, 0, 0, embed_codes, NULL },
	[E_LIMIT] = { "limit", Q_INT, 1, 50, 10, NULL, NULL },
};

/*
 * The fragment's start: its <section> (class eventbox-list, and cls when
 * not NULL) and <h2>, in l's words.  The section is named by the words of
 * its heading (aria-label), not by the heading's id: a website that
 * includes two lists (two categories, two languages) would have one id
 * twice, and a screen reader name both by the first one's heading.
 */
static void
embed_open(struct buf *b, const struct embed_lang *l, const char *cls)
{
	buf_printf(b, "<section class=\"eventbox-list%s%s\" lang=\"%s\" "
	    "aria-label=\"", cls != NULL ? " " : "", cls != NULL ? cls : "",
	    l->code);
	html_esc(b, l->heading);
	buf_adds(b, "\">\n<h2>");
	html_esc(b, l->heading);
	buf_adds(b, "</h2>\n");
}

/* Its end: the link to all events (query "" or "?category=...", not
 * escaped yet) and </section>. */
static void
embed_close(struct buf *b, const struct embed_lang *l, const char *query)
{
	buf_printf(b, "<p><a href=\"%s/events", cfg.base_url);
	html_esc(b, query);
	buf_printf(b, "\">%s</a></p>\n</section>\n", l->all);
}

/* "2:00pm" in English, "14:00" elsewhere (from "HH24:MI"). */
static void
embed_time(struct buf *b, const struct embed_lang *l, const char *hm)
{
	int	 h = atoi(hm), m = atoi(hm + 3);

	if (strcmp(l->code, "en") == 0)
		buf_printf(b, "%d:%02d%s", h % 12 == 0 ? 12 : h % 12, m,
		    h < 12 ? "am" : "pm");
	else
		buf_printf(b, "%02d:%02d", h, m);
}

/* The date of "YYYY-MM-DD D HH:MI" (D the ISO weekday, 1 Monday .. 7
 * Sunday: to_char()'s local_parts and end_parts, 18 characters) in l's
 * words. */
static void
embed_date(struct buf *b, const struct embed_lang *l, const char *d)
{
	int	 y, mo, day, dow;

	y = atoi(d);
	mo = atoi(d + 5);
	day = atoi(d + 8);
	dow = atoi(d + 11);
	if (mo < 1 || mo > 12 || dow < 1 || dow > 7)
		abort();	/* to_char() and this disagree */
	buf_printf(b, l->date_fmt, l->days[dow - 1], day, l->months[mo - 1], y);
}

/* The day, start and end of row i in the event's zone, in l's words (the
 * end's day too when it is another), and its location when another row
 * has its title and start (twin); the day and start in a <time>, or as
 * plain text (markup 0: for an attribute, not escaped). */
static void
embed_when(struct buf *b, const struct embed_lang *l, const PGresult *res,
    int i, int markup)
{
	const char	*d = db_value(res, i, "local_parts");
	const char	*e = db_value(res, i, "end_parts");
	const char	*zone = strcmp(l->code, "en") == 0 ?
	    zone_label(db_value(res, i, "timezone")) :
	    db_value(res, i, "timezone");
	const char	*where = db_value(res, i, "location");

	if (strlen(d) != 18 || strlen(e) != 18)
		abort();	/* to_char() and this disagree */
	if (markup) {
		buf_adds(b, "<time datetime=\"");
		html_esc(b, db_value(res, i, "starts_local"));
		buf_adds(b, "\">");
	}
	embed_date(b, l, d);
	buf_adds(b, ", ");
	embed_time(b, l, d + 13);
	buf_adds(b, markup ? "</time>&#8211;" : "\u2013");
	if (strncmp(d, e, 10) != 0) {
		embed_date(b, l, e);
		buf_adds(b, ", ");
	}
	embed_time(b, l, e + 13);
	buf_adds(b, " (");
	if (markup)
		html_esc(b, zone);
	else
		buf_adds(b, zone);
	buf_adds(b, ")");
	if (db_bool(res, i, "twin") && *where != '\0') {
		buf_adds(b, ", ");
		if (markup)
			html_esc(b, where);
		else
			buf_adds(b, where);
	}
}

/*
 * An event's link, named by its title and its line (aria-label, no ids: a
 * site may include two lists in one page), and that line, aria-hidden so
 * that a screen reader reading on says the date once: two events of one
 * title (a weekly story time) have links of their own names, as in the
 * list of events (page_layout.h).
 */
static void
embed_event(struct buf *b, const struct embed_lang *l, const PGresult *res,
    int i)
{
	struct buf	 name = BUF_INIT, mark = BUF_INIT;
	const char	*fmt = db_value(res, i, "format");

	buf_printf(&name, "%s, ", db_value(res, i, "title"));
	embed_when(&name, l, res, i, 0);
	buf_printf(b, "<li><a href=\"%s/events/", cfg.base_url);
	html_esc(b, db_value(res, i, "slug"));
	buf_adds(b, "\" aria-label=\"");
	html_esc(b, name.data);
	buf_adds(b, "\">");
	/* The title staff wrote, in its language where that is not the
	 * list's (the aria-label, one text, stays the list's). */
	lang_mark(&mark, LANG_HTML, db_value(res, i, "language"), l->code);
	if (mark.len > 0)
		buf_printf(b, "<span%s>", mark.data);
	html_esc(b, db_value(res, i, "title"));
	if (mark.len > 0)
		buf_adds(b, "</span>");
	buf_adds(b, "</a><br><span aria-hidden=\"true\">");
	embed_when(b, l, res, i, 1);
	buf_printf(b, "</span>. %s</li>\n", strcmp(fmt, "online") == 0 ?
	    l->online : strcmp(fmt, "hybrid") == 0 ? l->hybrid : l->in_person);
	buf_free(&name);
	buf_free(&mark);
}

/*
 * GET /embed/events[?category=&lang=en|fr|es|de&limit=1..50]: the upcoming
 * events as an HTML fragment (a <section>, no page around it, no script,
 * absolute links) for a consortium website to include with one line, in
 * the site's language.  200 text/html; 304; 400, 503 (fragments too:
 * embed_error()).
 */
void
h_embed_events(struct request *req, struct response *resp)
{
	struct query_value	 v[E__MAX];
	const struct embed_lang	*l = &embed_langs[0];
	const char		*vals[2];
	char			 limit[8];
	struct buf		*b = &resp->body, q = BUF_INIT;
	PGresult		*res;
	size_t			 bad, k;
	int			 i;

	if (query_parse(req->query, embed_params, E__MAX, v, &bad) == -1) {
		page_query_error(resp, &embed_params[bad], &v[bad],
		    bad == E_LANG ? N_("That language is not one we have: en, "
		    "fr, es or de.") : bad == E_LIMIT ? N_("limit is a number "
		    "from 1 to 50.") : N_("That category is not valid."));
		return;
	}
	for (k = 0; k < sizeof(embed_langs) / sizeof(embed_langs[0]); k++)
		if (v[E_LANG].present && strcmp(v[E_LANG].text,
		    embed_langs[k].code) == 0)
			l = &embed_langs[k];
	snprintf(limit, sizeof(limit), "%lld", v[E_LIMIT].num);
	vals[0] = v[E_CATEGORY].present ? v[E_CATEGORY].text : NULL;
	vals[1] = limit;
	if ((res = db_fetch(req, resp, STMT_FEED, 2, vals,
	    MISSING_OK)) == NULL)
		return;
	resp->content_type = "text/html; charset=utf-8";
	embed_open(b, l, NULL);
	if (PQntuples(res) == 0)
		buf_printf(b, "<p>%s</p>\n", l->none);
	else
		buf_adds(b, "<ul>\n");
	for (i = 0; i < PQntuples(res); i++)
		embed_event(b, l, res, i);
	if (PQntuples(res) > 0)
		buf_adds(b, "</ul>\n");
	PQclear(res);
	if (v[E_CATEGORY].present) {
		buf_adds(&q, "?category=");
		html_urlenc(&q, v[E_CATEGORY].text);
	} else
		buf_adds(&q, "");
	embed_close(b, l, q.data);
	buf_free(&q);
	page_cache(req, resp);
}

/*
 * The answer of an error on /embed/ (page_layout.c sends every error of
 * those paths here): the fragment a website includes, not a page, which
 * would put a document in its document (a second <html>, its layout in
 * the site's).  The same status, one <section class="eventbox-list
 * eventbox-error"> in the language ?lang= asks for (English when it asks
 * for none we have, or twice), what went wrong in its words, for a 4xx
 * why (in the request's language, marked when not the fragment's: the
 * site's webmaster, testing the include, reads it) and the link to all
 * events.  Not cached.
 */
void
embed_error(struct response *resp, const char *query, int status,
    const char *why)
{
	struct query_value	 v;
	const struct embed_lang	*l = &embed_langs[0];
	struct buf		*b = &resp->body;
	size_t			 bad, k;

	if (query_parse_readable(query, &embed_params[E_LANG], 1, &v,
	    &bad) == 0 && v.present)
		for (k = 0; k < sizeof(embed_langs) / sizeof(embed_langs[0]);
		    k++)
			if (strcmp(v.text, embed_langs[k].code) == 0)
				l = &embed_langs[k];
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	buf_reset(b);
	embed_open(b, l, "eventbox-error");
	buf_printf(b, "<p>%s</p>\n", status >= 500 ? l->unavailable :
	    l->refused);
	if (status < 500 && why != NULL) {
		if (strcmp(i18n_lang(), l->code) == 0)
			buf_adds(b, "<p>");
		else
			buf_printf(b, "<p lang=\"%s\">", i18n_lang());
		html_esc(b, why);
		buf_adds(b, "</p>\n");
	}
	embed_close(b, l, "");
}
