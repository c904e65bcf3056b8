/*
 * page_layout.c: the pages' layout and error page, and the pieces every
 * page prints the same way (see page_layout.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "form.h"
#include "i18n.h"
#include "page_layout.h"
#include "validate.h"

static void	 head_close(struct response *);
static void	 all_events_link(struct buf *);

/* The request being answered, for the language switcher's links. */
static const struct request	*cur_req;
/* An error page's switcher leads to its way back (the list, or the event
 * an event page's error is about), never to its own address: that may
 * hold what the patron typed wrong, or a token whose page must read the
 * same whether the token is unknown, malformed or used.  NULL: no error. */
static const char		*error_path;

void
page_lang_link(const struct request *req)
{
	cur_req = req;
}

/* "?lang=es" (or "&lang=es" after a query) when ?lang= chose the page's
 * language, so that it stays with the patron from link to link. */
void
page_lang_query(struct buf *b, int after_query)
{
	if (cur_req == NULL || cur_req->lang_param == NULL)
		return;
	buf_printf(b, "%slang=%s", after_query ? "&amp;" : "?",
	    cur_req->lang_param);
}

void
page_href(struct buf *b, const char *path)
{
	html_esc(b, path);
	page_lang_query(b, strchr(path, '?') != NULL);
}

/*
 * The emails' links to a registration's pages (/cancel/, /confirm/,
 * /registration/ and a token) carry no ?lang=: such a page speaks the
 * language the emails are in, the registrant's (as the mailer reads it:
 * i18n_use()), over the browser's Accept-Language, as ?lang=es in the
 * links did before, and keeps it in its own links and forms as it keeps
 * ?lang= (the links of older emails still say ?lang=, which wins).  An
 * English registrant's language decides nothing: 'en' is also what a
 * registrant who named no language has, and their emails' links never
 * carried ?lang=en, so the browser's language chooses, as it did.
 */
void
page_token_lang(struct request *req, const char *registrant_lang)
{
	if (req->lang_param != NULL)
		return;
	i18n_use(registrant_lang);
	if (strcmp(i18n_lang(), "en") == 0) {
		i18n_use(req->lang);
		return;
	}
	req->lang = req->lang_param = i18n_lang();
}

/* The hidden field that keeps ?lang= through a GET form. */
void
page_lang_field(struct buf *b)
{
	if (cur_req == NULL || cur_req->lang_param == NULL)
		return;
	buf_printf(b, "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	    cur_req->lang_param);
}

/* One entry of the switcher: path (plen bytes) and query (may be NULL)
 * with lang= replaced by language i's code. */
static void
lang_link(struct buf *b, const char *path, size_t plen, const char *query,
    size_t i)
{
	const char	*q, *amp;
	size_t		 n;

	buf_adds(b, "<li><a href=\"");
	html_escn(b, path, plen);
	buf_adds(b, "?");
	for (q = query; q != NULL && *q != '\0'; q = amp) {
		amp = strchr(q, '&');
		n = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if (n > 0 && strncmp(q, "lang=", 5) != 0) {
			html_escn(b, q, n);
			buf_adds(b, "&amp;");
		}
		if (amp != NULL)
			amp++;
	}
	buf_printf(b, "lang=%s\" hreflang=\"%s\" lang=\"%s\">", i18n_code(i),
	    i18n_code(i), i18n_code(i));
	html_esc(b, i18n_name(i));
	buf_adds(b, "</a></li>\n");
}

/* This page in each other language: its path and query, lang replaced
 * (after a POST, the page the form came from: a link is a GET). */
static void
lang_switcher(struct buf *b)
{
	const char	*path, *query;
	size_t		 i, plen;
	int		 post;

	if (cur_req == NULL || cur_req->path == NULL || i18n_count() < 2)
		return;
	post = !(cur_req->method & (M_GET | M_HEAD));
	path = error_path != NULL ? error_path : cur_req->path;
	plen = error_path != NULL ? strlen(error_path) : cur_req->path_len;
	query = error_path != NULL || post ? NULL : cur_req->query;
	if (post && plen > 9 && memcmp(path + plen - 9, "/register", 9) == 0)
		plen -= 9;
	/* TRANSLATORS: the label of the list of languages in the header. */
	buf_printf(b, "<nav class=\"lang\" aria-label=\"%s\"><ul>\n",
	    _("Language"));
	for (i = 0; i < i18n_count(); i++)
		if (strcmp(i18n_code(i), i18n_lang()) != 0)
			lang_link(b, path, plen, query, i);
	buf_adds(b, "</ul></nav>\n");
}

/* The head up to its end, which the caller may still add to. */
static void
head_open(struct response *resp, const char *title)
{
	resp->content_type = "text/html; charset=utf-8";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "<!DOCTYPE html>\n<html lang=\"%s\">\n"
	    "<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", i18n_lang());
	html_esc(&resp->body, title);
	buf_adds(&resp->body, " - ");
	html_esc(&resp->body, _("Library events"));
	buf_adds(&resp->body, "</title>\n"
	    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n");
}

void
html_begin(struct response *resp, const char *title)
{
	head_open(resp, title);
	head_close(resp);
}

/* The feeds of a list (page_feeds.c), for feed readers and calendar apps
 * that find them from the page; query is "" or "?category=...", escaped.
 * The <h1> is heading, the title may say more (which part of the list). */
void
html_page_with_feeds(struct response *resp, const char *title,
    const char *heading, const char *query)
{
	head_open(resp, title);
	buf_printf(&resp->body, "<link rel=\"alternate\" "
	    "type=\"application/atom+xml\" title=\"%s\" "
	    "href=\"/events.atom%s\">\n<link rel=\"alternate\" "
	    "type=\"text/calendar\" title=\"%s\" "
	    "href=\"/events.ics%s\">\n", _("Events (Atom)"), query,
	    _("Events (iCalendar)"), query);
	head_close(resp);
	buf_adds(&resp->body, "<h1>");
	html_esc(&resp->body, heading);
	buf_adds(&resp->body, "</h1>\n");
}

static void
head_close(struct response *resp)
{
	struct buf	*b = &resp->body;

	buf_adds(b, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
	html_esc(b, _("Skip to main content"));
	buf_adds(b, "</a>\n<header class=\"site\"><p><a href=\"");
	page_href(b, "/events");
	buf_adds(b, "\">");
	html_esc(b, _("Library events"));
	buf_adds(b, "</a></p>\n");
	lang_switcher(b);
	buf_adds(b, "</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

/* The layout's start and the page's one <h1>, the same as its title. */
void
html_page(struct response *resp, const char *title)
{
	html_begin(resp, title);
	buf_adds(&resp->body, "<h1>");
	html_esc(&resp->body, title);
	buf_adds(&resp->body, "</h1>\n");
}

void
html_end(struct response *resp)
{
	buf_adds(&resp->body, "</main>\n<footer class=\"site\"><p>");
	html_esc(&resp->body, _("This site sets no tracking cookies and loads "
	    "nothing from other sites."));
	buf_adds(&resp->body, "</p></footer>\n</body>\n</html>\n");
}

/* A paragraph with the link to path (a page of ours, its ?lang= kept). */
static void
back_link(struct buf *b, const char *path, const char *text)
{
	buf_adds(b, "<p><a href=\"");
	page_href(b, path);
	buf_adds(b, "\">");
	html_esc(b, text);
	buf_adds(b, "</a></p>\n");
}

/* A path under /embed/ (the fragments websites include), whose errors
 * are fragments too. */
static int
embed_path(const struct request *req)
{
	return req != NULL && req->path != NULL && req->path_len >= 6 &&
	    memcmp(req->path, "/embed", 6) == 0 &&
	    (req->path_len == 6 || req->path[6] == '/');
}

/* The error page, its way back the page at path, the link named text
 * (path NULL: the list of all events). */
static void
error_page_to(struct response *resp, int status, const char *message,
    const char *path, const char *text_back)
{
	const char	*title = http_reason(status);
	const char	*text = N_("That request could not be handled.");

	switch (status) {
	case 400:
		title = N_("Something was wrong with that request");
		text = N_("The request was malformed. Go back and try again.");
		break;
	case 403:
		title = N_("This form has expired");
		text = N_("Go back to the event page, reload it and send the "
		    "form again.");
		break;
	case 404:
		title = N_("Page not found");
		text = N_("There is nothing at this address.");
		break;
	case 405:
		title = N_("Not allowed here");
		text = N_("This address does not accept that kind of request.");
		break;
	case 413:
		title = N_("Too much text");
		text = N_("The form was too large. Shorten what you typed and "
		    "try again.");
		break;
	case 414:
		title = N_("Address too long");
		text = N_("The address of the request is too long.");
		break;
	case 415:
		title = N_("Form not understood");
		text = N_("Send the form from the event page.");
		break;
	case 503:
		title = N_("Please try again in a moment");
		text = N_("The service is busy or briefly unavailable. Nothing "
		    "was changed.");
		break;
	}
	if (message != NULL)
		text = message;
	if (embed_path(cur_req)) {
		embed_error(resp, cur_req->query, status, _(text));
		return;
	}
	resp->status = status;
	error_path = path != NULL ? path : "/events";
	html_page(resp, _(title));
	error_path = NULL;
	buf_adds(&resp->body, "<p>");
	html_esc(&resp->body, _(text));
	if (path != NULL) {
		buf_adds(&resp->body, "</p>\n");
		back_link(&resp->body, path, text_back);
	} else
		all_events_link(&resp->body);
	html_end(resp);
}

void
html_error_page(struct response *resp, int status, const char *message)
{
	error_page_to(resp, status, message, NULL, NULL);
}

static void
query_error_to(struct response *resp, const struct query_param *p,
    const struct query_value *v, const char *why, const char *path,
    const char *text_back)
{
	struct buf	 m = BUF_INIT;
	const char	*kv[2] = { "key", p->key };
	char		 why_name[QUERY_MESSAGE_MAX];

	if (v->name_fault) {
		query_message(p, v, why_name, sizeof(why_name));
		kv[0] = "why";
		kv[1] = why_name;
		/* TRANSLATORS: {why} says what is wrong, as "a parameter
		   name in the query holds a control character". */
		i18n_fill(&m, _("The address is not valid: {why}. Check it "
		    "and try again."), kv, 2);
		error_page_to(resp, 400, buf_str(&m), path, text_back);
		buf_free(&m);
		return;
	}
	if (!v->repeated) {
		error_page_to(resp, 400, why, path, text_back);
		return;
	}
	/* TRANSLATORS: {key} is the name of a parameter in the address
	 * ("tz", "category"), as it is typed there. */
	i18n_fill(&m, _("The address gives {key} more than once. Keep one "
	    "and try again."), kv, 2);
	error_page_to(resp, 400, buf_str(&m), path, text_back);
	buf_free(&m);
}

void
page_query_error(struct response *resp, const struct query_param *p,
    const struct query_value *v, const char *why)
{
	query_error_to(resp, p, v, why, NULL, NULL);
}

/* The way back that every dead end offers. */
static void
all_events_link(struct buf *b)
{
	buf_adds(b, "</p>\n<p><a href=\"");
	page_href(b, "/events");
	buf_adds(b, "\">");
	html_esc(b, _("See all upcoming events"));
	buf_adds(b, "</a></p>\n");
}

void
page_back_link(struct buf *b, const char *slug)
{
	struct buf	 path = BUF_INIT;

	buf_printf(&path, "/events/%s", slug);
	back_link(b, buf_str(&path), _("Back to the event"));
	buf_free(&path);
}

void
html_link_inactive(struct response *resp, const char *why)
{
	resp->status = 404;
	error_path = "/events";
	html_page(resp, _("This link is not active"));
	error_path = NULL;
	buf_adds(&resp->body, "<p>");
	html_esc(&resp->body, _(why));
	buf_adds(&resp->body, "</p>\n<p>");
	html_esc(&resp->body, _("If you need help, contact the event's "
	    "organizer."));
	all_events_link(&resp->body);
	html_end(resp);
}

/* The zones a patron may pick, and what they are called on the page. */
const struct page_zone page_zones[] = {
	{ "America/New_York", N_("Eastern Time - US & Canada") },
	{ "America/Chicago", N_("Central Time - US & Canada") },
	{ "America/Denver", N_("Mountain Time - US & Canada") },
	{ "America/Phoenix", N_("Arizona") },
	{ "America/Los_Angeles", N_("Pacific Time - US & Canada") },
	{ "America/Anchorage", N_("Alaska") },
	{ "Pacific/Honolulu", N_("Hawaii") },
	{ "America/Halifax", N_("Atlantic Time - Canada") },
	{ "America/St_Johns", N_("Newfoundland") },
	{ "America/Puerto_Rico", N_("Puerto Rico") },
	{ "Europe/London", N_("London") },
	{ "Europe/Paris", N_("Central European Time") },
	{ "Asia/Tokyo", N_("Tokyo") },
	{ "Australia/Sydney", N_("Sydney") },
	{ "UTC", N_("Coordinated Universal Time (UTC)") },
};

const size_t page_nzones = sizeof(page_zones) / sizeof(page_zones[0]);

int
zone_known(const char *iana)
{
	size_t	 i;

	for (i = 0; i < page_nzones; i++)
		if (strcmp(page_zones[i].iana, iana) == 0)
			return 1;
	return 0;
}

/* A zone not in the list is shown by its IANA name. */
const char *
zone_label(const char *iana)
{
	size_t	 i;

	for (i = 0; i < page_nzones; i++)
		if (strcmp(page_zones[i].iana, iana) == 0)
			return _(page_zones[i].label);
	return iana;
}

/* ?tz= of the GET form that shows the times in another of page_zones[];
 * a refusal leads back to the page at path, its link named text_back
 * (path NULL: the list). */
static int
tz_query(const struct request *req, struct response *resp,
    struct query_value *tz, const char *why, const char *path,
    const char *text_back)
{
	static const struct query_param	 param[] = {
		{ "tz", Q_TEXT, 0, 63, 0, NULL, NULL },
	};
	size_t				 bad;

	if (query_parse(req->query, param, 1, tz, &bad) == -1 ||
	    (tz->present && !zone_known(tz->text))) {
		query_error_to(resp, param, tz, why, path, text_back);
		return -1;
	}
	return 0;
}

/* An emailed link's own page ("/confirm/TOKEN"), the request's first
 * segment and its token, nothing else of the address; nothing for a
 * token no link can hold, which leads nowhere (then the list). */
static void
link_page(struct buf *path, const struct request *req)
{
	const char	*end;

	if (!token_valid(req->args[0], req->args_len[0]) || req->path_len < 2 ||
	    (end = memchr(req->path + 1, '/', req->path_len - 1)) == NULL)
		return;
	buf_printf(path, "%.*s/%s", (int)(end - req->path), req->path,
	    req->args[0]);
}

int
page_link_tz_query(const struct request *req, struct response *resp,
    struct query_value *tz)
{
	struct buf	 path = BUF_INIT;
	int		 r;

	link_page(&path, req);
	r = tz_query(req, resp, tz, _("That time zone is not one we can "
	    "show. Pick one from the list on the page."), path.data,
	    _("Back to your registration"));
	buf_free(&path);
	return r;
}

int
page_event_tz_query(const struct request *req, struct response *resp,
    struct query_value *tz)
{
	struct buf	 path = BUF_INIT;
	int		 r;

	/* A slug no event can have leads nowhere: then the list. */
	if (slug_valid(req->args[0], req->args_len[0]))
		buf_printf(&path, "/events/%s", req->args[0]);
	r = tz_query(req, resp, tz, _("That time zone is not one we can "
	    "show. Pick one from the list on the event page."), path.data,
	    _("Back to the event"));
	buf_free(&path);
	return r;
}

void
page_tz_form(struct buf *b, const char *action, const char *shown,
    const char *own)
{
	size_t	 i;

	buf_adds(b, "<form class=\"tz\" method=\"get\" action=\"");
	html_esc(b, action);
	buf_adds(b, "\">\n");
	page_lang_field(b);
	buf_printf(b, "<label for=\"tz\">%s</label>\n"
	    "<select id=\"tz\" name=\"tz\">\n", _("Show the times in"));
	if (!zone_known(own)) {
		const char	*kv[] = { "zone", own };

		buf_adds(b, "<option value=\"\">");
		i18n_fill(b, _("{zone} (the event's own)"), kv, 2);
		buf_adds(b, "</option>\n");
	}
	for (i = 0; i < page_nzones; i++) {
		buf_adds(b, "<option value=\"");
		buf_adds(b, page_zones[i].iana);
		buf_adds(b, strcmp(page_zones[i].iana, shown) == 0 ? "\" selected>" :
		    "\">");
		html_esc(b, _(page_zones[i].label));
		buf_adds(b, "</option>\n");
	}
	buf_printf(b, "</select>\n<button type=\"submit\">%s</button>\n"
	    "</form>\n", _("Show"));
}

void
page_event_link(struct buf *b, const char *slug, const char *title,
    const char *lang)
{
	buf_adds(b, "<a href=\"/events/");
	html_esc(b, slug);
	page_lang_query(b, 0);
	buf_adds(b, "\"");
	lang_mark(b, LANG_HTML, lang, i18n_lang());
	buf_adds(b, ">");
	html_esc(b, title);
	buf_adds(b, "</a>");
}

void
page_event_link_dated(struct buf *b, const PGresult *res, int row,
    const char *list)
{
	struct buf	 mark = BUF_INIT;

	buf_adds(b, "<a href=\"/events/");
	html_esc(b, db_value(res, row, "slug"));
	page_lang_query(b, 0);
	buf_printf(b, "\" id=\"%s-%d\" aria-labelledby=\"%s-%d %s-%d-when\"",
	    list, row, list, row, list, row);
	/* The link's name is its title and the line that dates it, in the
	 * page's language: only the title is marked as the event's. */
	lang_mark(&mark, LANG_HTML, db_value(res, row, "language"),
	    i18n_lang());
	buf_printf(b, ">%s%s%s", mark.len > 0 ? "<span" : "",
	    mark.len > 0 ? mark.data : "", mark.len > 0 ? ">" : "");
	html_esc(b, db_value(res, row, "title"));
	buf_adds(b, mark.len > 0 ? "</span></a>" : "</a>");
	buf_free(&mark);
}

void
page_dated_open(struct buf *b, const char *tag, const char *list, int row)
{
	buf_printf(b, "<%s id=\"%s-%d-when\" aria-hidden=\"true\">", tag, list,
	    row);
}

void
page_dated_close(struct buf *b, const char *tag, const PGresult *res,
    int row)
{
	const char	*where = db_value(res, row, "location");

	if (db_bool(res, row, "twin") && *where != '\0') {
		buf_adds(b, ", ");
		html_esc(b, where);
	}
	buf_printf(b, "</%s>", tag);
}

void
page_start(struct buf *b, const PGresult *res, int row)
{
	struct local_time	 s;
	struct buf		 d = BUF_INIT;

	page_local(res, row, "starts_local", &s);
	i18n_date(&d, &s);
	html_esc(b, d.data);
	buf_adds(b, ", ");
	i18n_time(b, &s);
	buf_free(&d);
}

void
page_dated_title(struct buf *b, const PGresult *res, const char *col)
{
	struct local_time	 s;

	page_local(res, 0, "starts_local", &s);
	buf_adds(b, db_value(res, 0, col));
	buf_adds(b, ", ");
	i18n_date(b, &s);
	buf_adds(b, ", ");
	i18n_time(b, &s);
}

void
page_facts_begin(struct buf *b, const char *name)
{
	buf_adds(b, "<dl class=\"facts\">\n");
	if (*name_shown(name) == '\0')
		return;
	buf_printf(b, "<dt>%s</dt><dd>", _("Name"));
	html_esc(b, name);
	buf_adds(b, "</dd>\n");
}

void
page_fill_date_time(struct buf *b, const char *tpl, const PGresult *res,
    const char *col, const char *zone)
{
	struct local_time	 t;

	page_local(res, 0, col, &t);
	i18n_fill_date_time(b, tpl, &t, zone != NULL ? zone_label(zone) : "");
}

/* A PAGE_TIMES column (db.c) as a local time. */
void
page_local(const PGresult *res, int row, const char *col,
    struct local_time *t)
{
	if (local_time_parse(db_value(res, row, col), t) == -1)
		abort();	/* iso_local() and this disagree */
}

/* An event's end: its date when not the start's day, and its time. */
void
page_until(struct buf *b, const PGresult *res, int row)
{
	struct local_time	 s, e;

	page_local(res, row, "starts_local", &s);
	page_local(res, row, "ends_local", &e);
	if (s.year != e.year || s.month != e.month || s.day != e.day) {
		struct buf	 d = BUF_INIT;

		i18n_date(&d, &e);
		html_esc(b, d.data);
		buf_adds(b, ", ");
		buf_free(&d);
	}
	i18n_time(b, &e);
}

/* "Wednesday, December 10, 2026, 2:00pm to 3:00pm (Eastern Time ...)",
 * in the language in use. */
void
page_when(struct buf *b, const PGresult *res, int row, const char *zone)
{
	buf_adds(b, "<time datetime=\"");
	html_esc(b, db_value(res, row, "starts_local"));
	buf_adds(b, "\">");
	page_start(b, res, row);
	buf_adds(b, "</time> ");
	/* TRANSLATORS: between two times: "2:00pm to 3:00pm". */
	html_esc(b, C_("time range", "to"));
	buf_adds(b, " ");
	page_until(b, res, row);
	buf_adds(b, " (");
	html_esc(b, zone_label(zone));
	buf_adds(b, ")");
}

int
html_link_form(struct request *req, struct response *resp)
{
	char			 csrf[CSRF_HEX + 2];
	struct form_field	 f[] = { { CSRF_FIELD, csrf, sizeof(csrf), 0, 0 } };

	if (form_parse(req->body.data, req->body.len, f, 1) == -1) {
		html_error_page(resp, 400, NULL);
		return -1;
	}
	if (!csrf_check(req, csrf, f[0].len)) {
		struct buf	 path = BUF_INIT;

		/* Back to the page the form came from, for a fresh form. */
		link_page(&path, req);
		error_page_to(resp, 403, path.data != NULL ? _("Go back to the "
		    "page and press the button again.") : _("Go back to the "
		    "link in your email and press the button again."),
		    path.data, _("Back to your registration"));
		buf_free(&path);
		return -1;
	}
	if (!token_valid(req->args[0], req->args_len[0])) {
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return -1;
	}
	return 0;
}

/*
 * Caching for a finished public body (the feeds, an event's .ics): public
 * for a while, with resp_etag()'s ETag and 304.
 */
void
page_cache(struct request *req, struct response *resp)
{
	resp_etag(req, resp);
	resp_header(resp, "Cache-Control", "public, max-age=%d",
	    PAGE_CACHE_MAX_AGE);
}
