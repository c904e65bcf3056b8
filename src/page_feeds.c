/*
 * page_feeds.c: the feeds people subscribe to, of upcoming published
 * events (all, or of one category), soonest first, at most FEED_MAX:
 *
 *   GET /events.ics[?category=]    iCalendar, for calendar apps
 *                                  (webcal://host/events.ics)
 *   GET /events.atom[?category=]   Atom, for feed readers
 *
 * Both are public and cacheable: Cache-Control max-age, an ETag of the
 * body and 304 for a matching If-None-Match, so nginx (and the apps,
 * which poll) need not fetch the same feed again.  Never the online URL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "escape.h"
#include "handlers.h"
#include "ical.h"
#include "page_layout.h"
#include "query.h"
#include "validate.h"

#define FEED_MAX	500
#define FEED_MAX_AGE	300	/* seconds a cache may keep a feed */

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
		html_error_page(resp, 400, "That category is not valid.");
		return NULL;
	}
	snprintf(max, sizeof(max), "%d", FEED_MAX);
	vals[0] = cat->present ? cat->text : NULL;
	vals[1] = max;
	return db_fetch(req, resp, STMT_FEED, 2, vals, MISSING_OK);
}

/*
 * Caching for a finished body: a strong ETag of its bytes (FNV-1a), and
 * 304 without a body when the client already has it.
 */
static void
feed_cache(struct request *req, struct response *resp)
{
	const char		*inm = http_param(req, "HTTP_IF_NONE_MATCH");
	unsigned long long	 h = 14695981039346656037ULL;
	char			 etag[24];
	size_t			 i;

	for (i = 0; i < resp->body.len; i++) {
		h ^= (unsigned char)resp->body.data[i];
		h *= 1099511628211ULL;
	}
	snprintf(etag, sizeof(etag), "\"%016llx\"", h);
	resp_header(resp, "ETag", "%s", etag);
	resp_header(resp, "Cache-Control", "public, max-age=%d", FEED_MAX_AGE);
	if (inm != NULL && strstr(inm, etag) != NULL) {
		resp->status = 304;
		buf_reset(&resp->body);
	}
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
 * GET /events.ics: the upcoming events as one calendar, each zone's
 * VTIMEZONE once.  200 text/calendar; 304; 400 bad category; 503.
 */
void
h_feed_ics(struct request *req, struct response *resp)
{
	struct query_value	 cat;
	struct ical_event	 ev;
	struct buf		 uid = BUF_INIT, url = BUF_INIT;
	struct buf		*b = &resp->body;
	const char		*host = strstr(cfg.base_url, "://") + 3;
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
	for (i = 0; i < PQntuples(res); i++) {
		buf_reset(&uid);
		buf_reset(&url);
		/* The same UID as the event's own .ics and its emails. */
		buf_printf(&uid, "event-%s@%.*s", db_value(res, i, "id"),
		    (int)strcspn(host, ":/"), host);
		buf_printf(&url, "%s/events/%s", cfg.base_url,
		    db_value(res, i, "slug"));
		memset(&ev, 0, sizeof(ev));
		ev.uid = uid.data;
		ev.dtstamp = db_value(res, i, "dtstamp");
		ev.tzid = db_value(res, i, "timezone");
		ev.start_local = db_value(res, i, "start_local");
		ev.end_local = db_value(res, i, "end_local");
		ev.summary = db_value(res, i, "title");
		ev.description = db_value(res, i, "description");
		ev.location = *db_value(res, i, "location") != '\0' ?
		    db_value(res, i, "location") :
		    strcmp(db_value(res, i, "format"), "online") == 0 ?
		    "Online" : "";
		ev.url = url.data;
		ical_vevent(b, &ev);
	}
	buf_adds(b, "END:VCALENDAR\r\n");
	PQclear(res);
	buf_free(&uid);
	buf_free(&url);
	resp->content_type = "text/calendar; charset=utf-8";
	feed_cache(req, resp);
}

/* One Atom entry: the event's when, format and description as HTML. */
static void
atom_entry(struct buf *b, const PGresult *res, int i)
{
	struct buf	 html = BUF_INIT;

	buf_adds(b, "<entry>\n<title>");
	html_esc(b, db_value(res, i, "title"));
	buf_printf(b, "</title>\n<id>%s/events/", cfg.base_url);
	html_esc(b, db_value(res, i, "slug"));
	buf_printf(b, "</id>\n<link rel=\"alternate\" type=\"text/html\" "
	    "href=\"%s/events/", cfg.base_url);
	html_esc(b, db_value(res, i, "slug"));
	buf_printf(b, "\"/>\n<updated>%s</updated>\n",
	    db_value(res, i, "updated"));
	buf_adds(&html, "<p>");
	page_when(&html, res, i, db_value(res, i, "timezone"));
	buf_adds(&html, ". ");
	buf_adds(&html, page_format_label(db_value(res, i, "format")));
	if (*db_value(res, i, "location") != '\0') {
		buf_adds(&html, ": ");
		html_esc(&html, db_value(res, i, "location"));
	}
	buf_adds(&html, ".</p>\n");
	html_paragraphs(&html, db_value(res, i, "description"));
	buf_adds(b, "<summary type=\"html\">");
	html_esc(b, html.data);
	buf_adds(b, "</summary>\n</entry>\n");
	buf_free(&html);
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
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
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
	PQclear(res);
	buf_free(&q);
	buf_free(&title);
	resp->content_type = "application/atom+xml; charset=utf-8";
	feed_cache(req, resp);
}
