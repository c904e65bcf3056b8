/*
 * pages.c: the public HTML pages of events.
 *
 *   GET  /events               upcoming published events, soonest first;
 *                              category, page.  200, 400 bad query, 503.
 *   GET  /events/{slug}        the event box with the registration form;
 *                              tz (one of zones[]) shows the times in
 *                              another zone.  200, 400 unknown zone, 404,
 *                              503.  Sets the CSRF cookie (csrf.h).
 *   GET  /events/{slug}.ics    the event as iCalendar.  200, 404, 503.
 *   POST /events/{slug}/register
 *                              form: csrf, name, email, organization,
 *                              website (the honeypot).  200 with what
 *                              happened (no token in the URL or the page);
 *                              422 with the form again, each field's
 *                              message next to it and the input kept;
 *                              403/409 with the event's state; 400
 *                              malformed form; 403 CSRF check; 404; 503.
 *                              A filled honeypot gets the success page and
 *                              no registration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "handlers.h"
#include "html.h"
#include "ical.h"
#include "pages.h"
#include "registration.h"
#include "validate.h"

#define LIST_PER_PAGE	10
#define FIELD_CAP	8192	/* decoded bytes; the limits come after */

/* The zones a patron may pick, and what they are called on the page. */
static const struct {
	const char	*iana;
	const char	*label;
} zones[] = {
	{ "America/New_York", "Eastern Time - US & Canada" },
	{ "America/Chicago", "Central Time - US & Canada" },
	{ "America/Denver", "Mountain Time - US & Canada" },
	{ "America/Phoenix", "Arizona" },
	{ "America/Los_Angeles", "Pacific Time - US & Canada" },
	{ "America/Anchorage", "Alaska" },
	{ "Pacific/Honolulu", "Hawaii" },
	{ "America/Halifax", "Atlantic Time - Canada" },
	{ "America/St_Johns", "Newfoundland" },
	{ "America/Puerto_Rico", "Puerto Rico" },
	{ "Europe/London", "London" },
	{ "Europe/Paris", "Central European Time" },
	{ "Asia/Tokyo", "Tokyo" },
	{ "Australia/Sydney", "Sydney" },
	{ "UTC", "Coordinated Universal Time (UTC)" },
};

#define NZONES (sizeof(zones) / sizeof(zones[0]))

int
zone_known(const char *iana)
{
	size_t	 i;

	for (i = 0; i < NZONES; i++)
		if (strcmp(zones[i].iana, iana) == 0)
			return 1;
	return 0;
}

/* A zone not in the list is shown by its IANA name. */
const char *
zone_label(const char *iana)
{
	size_t	 i;

	for (i = 0; i < NZONES; i++)
		if (strcmp(zones[i].iana, iana) == 0)
			return zones[i].label;
	return iana;
}

void
page_event_link(struct buf *b, const char *slug, const char *title)
{
	buf_adds(b, "<a href=\"/events/");
	html_esc(b, slug);
	buf_adds(b, "\">");
	html_esc(b, title);
	buf_adds(b, "</a>");
}

/* "Wednesday, December 10, 2026, 2:00pm - 3:00pm Eastern Time ..." */
void
page_when(struct buf *b, const PGresult *res, int row, const char *zone)
{
	const char	*date = db_value(res, row, "date_text");

	buf_adds(b, "<time datetime=\"");
	html_esc(b, db_value(res, row, "starts_local"));
	buf_adds(b, "\">");
	html_esc(b, date);
	buf_adds(b, ", ");
	html_esc(b, db_value(res, row, "start_text"));
	buf_adds(b, "</time> to ");
	if (strcmp(date, db_value(res, row, "end_date_text")) != 0) {
		html_esc(b, db_value(res, row, "end_date_text"));
		buf_adds(b, ", ");
	}
	html_esc(b, db_value(res, row, "end_text"));
	buf_adds(b, " (");
	html_esc(b, zone_label(zone));
	buf_adds(b, ")");
}

static const char *
format_label(const char *format)
{
	if (strcmp(format, "in_person") == 0)
		return "In person";
	if (strcmp(format, "hybrid") == 0)
		return "Hybrid: in person and online";
	if (strcmp(format, "online") == 0)
		return "Online";
	abort();	/* the CHECK on events.format and this disagree */
}

/* What a patron typed, and what was wrong with it. */
struct form_state {
	const char	*name, *email, *org;
	const char	*err_name, *err_email, *err_org;
	const char	*notice;	/* the event said no: full, closed */
};

/* ------------------------------------------------------------------ */
/* GET /events */

static void
list_seats(struct buf *b, const PGresult *res, int i)
{
	const char	*state = db_value(res, i, "registration_state");
	long		 seats = strtol(db_value(res, i, "seats_available"),
			    NULL, 10);

	if (strcmp(state, "not_open") == 0)
		buf_adds(b, "Registration opens later");
	else if (strcmp(state, "open") != 0)
		buf_adds(b, "Registration closed");
	else if (seats > 0)
		buf_printf(b, "%ld %s left", seats, seats == 1 ? "seat" : "seats");
	else if (strcmp(db_value(res, i, "waitlist_available"), "t") == 0)
		buf_adds(b, "Full: waiting list open");
	else
		buf_adds(b, "Full");
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
	buf_printf(b, "page=%lld\">%s</a>", page, text);
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
		    "action=\"/events\">\n<label for=\"category\">Category"
		    "</label>\n<select id=\"category\" name=\"category\">\n"
		    "<option value=\"\">All categories</option>\n");
		for (i = 0; i < PQntuples(res); i++) {
			const char	*c = db_value(res, i, "category");

			buf_adds(b, "<option value=\"");
			html_esc(b, c);
			buf_adds(b, strcmp(c, current) == 0 ?
			    "\" selected>" : "\">");
			html_esc(b, c);
			buf_adds(b, "</option>\n");
		}
		buf_adds(b, "</select>\n<button type=\"submit\">Show</button>\n"
		    "</form>\n");
	}
	PQclear(res);
}

void
h_page_events(struct request *req, struct response *resp)
{
	char		 category[ORG_MAX_CHARS * 4 + 1], pagestr[12];
	char		 limit[12], offset[24];
	const char	*vals[3];
	size_t		 clen = 0, plen;
	long long	 page = 1, total;
	PGresult	*res;
	enum db_status	 st;
	struct buf	*b = &resp->body;
	int		 i, rc, n = 0;

	category[0] = '\0';
	rc = query_get(req->query, "category", category, sizeof(category),
	    &clen);
	if (rc == -1 || (rc == 1 && clen > 0 && !text_valid(category, clen,
	    ORG_MAX_CHARS))) {
		html_error_page(resp, 400, "That category is not valid.");
		return;
	}
	rc = query_get(req->query, "page", pagestr, sizeof(pagestr), &plen);
	if (rc == -1 || (rc == 1 && parse_int(pagestr, plen, 1, 100000,
	    &page) == -1)) {
		html_error_page(resp, 400, "That page number is not valid.");
		return;
	}
	snprintf(limit, sizeof(limit), "%d", LIST_PER_PAGE);
	snprintf(offset, sizeof(offset), "%lld", (page - 1) * LIST_PER_PAGE);
	vals[0] = clen > 0 ? category : NULL;
	vals[1] = limit;
	vals[2] = offset;
	if ((st = db_query(STMT_PAGE_LIST, 3, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	total = strtoll(db_value(res, 0, "total"), NULL, 10);

	html_page(resp, "Upcoming events");
	category_filter(b, category);
	if (clen > 0) {
		buf_adds(b, "<p>Showing events in the category <strong>");
		html_esc(b, category);
		buf_adds(b, "</strong>. <a href=\"/events\">Show all "
		    "events</a></p>\n");
	}
	for (i = 0; i < PQntuples(res); i++) {
		if (db_isnull(res, i, "slug"))
			continue;
		if (n++ == 0)
			buf_adds(b, "<ul class=\"events\">\n");
		buf_adds(b, "<li>\n<h2>");
		page_event_link(b, db_value(res, i, "slug"),
		    db_value(res, i, "title"));
		buf_adds(b, "</h2>\n<p>");
		page_when(b, res, i, db_value(res, i, "timezone"));
		buf_adds(b, "</p>\n<p>");
		buf_adds(b, format_label(db_value(res, i, "format")));
		buf_adds(b, ". <span class=\"seats\">");
		list_seats(b, res, i);
		buf_adds(b, "</span></p>\n</li>\n");
	}
	PQclear(res);
	if (n > 0)
		buf_adds(b, "</ul>\n");
	else
		buf_adds(b, "<p>There are no upcoming events here.</p>\n");
	if (page > 1 || page * LIST_PER_PAGE < total) {
		buf_adds(b, "<nav class=\"pages\" aria-label=\"Pages\"><p>");
		if (page > 1)
			list_link(b, category, page - 1, "prev",
			    "Previous page");
		buf_printf(b, " <span>Page %lld of %lld</span> ", page,
		    (total + LIST_PER_PAGE - 1) / LIST_PER_PAGE);
		if (page * LIST_PER_PAGE < total)
			list_link(b, category, page + 1, "next", "Next page");
		buf_adds(b, "</p></nav>\n");
	}
	html_end(resp);
}

/* ------------------------------------------------------------------ */
/* GET /events/{slug}: the event box */

static void
tz_form(struct buf *b, const char *slug, const char *shown, const char *own)
{
	size_t	 i;

	buf_adds(b, "<form class=\"tz\" method=\"get\" action=\"/events/");
	html_esc(b, slug);
	buf_adds(b, "\">\n<label for=\"tz\">Show the times in</label>\n"
	    "<select id=\"tz\" name=\"tz\">\n");
	if (!zone_known(own)) {
		buf_adds(b, "<option value=\"\">");
		html_esc(b, own);
		buf_adds(b, " (the event's own)</option>\n");
	}
	for (i = 0; i < NZONES; i++) {
		buf_adds(b, "<option value=\"");
		buf_adds(b, zones[i].iana);
		buf_adds(b, strcmp(zones[i].iana, shown) == 0 ? "\" selected>" :
		    "\">");
		html_esc(b, zones[i].label);
		buf_adds(b, "</option>\n");
	}
	buf_adds(b, "</select>\n<button type=\"submit\">Show</button>\n"
	    "</form>\n");
}

static void
fact(struct buf *b, const char *term, const char *value)
{
	if (*value == '\0')
		return;
	buf_adds(b, "<dt>");
	buf_adds(b, term);
	buf_adds(b, "</dt><dd>");
	html_esc(b, value);
	buf_adds(b, "</dd>\n");
}

static void
categories(struct buf *b, const char *json)
{
	cJSON		*arr = cJSON_Parse(json), *c;
	int		 n = 0;

	if (arr == NULL)
		abort();	/* array_to_json() wrote it */
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c))
			continue;
		buf_adds(b, n++ == 0 ? "<dt>Categories</dt><dd><ul class=\"cats\">"
		    : "");
		buf_adds(b, "<li><a href=\"/events?category=");
		html_urlenc(b, c->valuestring);
		buf_adds(b, "\">");
		html_esc(b, c->valuestring);
		buf_adds(b, "</a></li>");
	}
	if (n > 0)
		buf_adds(b, "</ul></dd>\n");
	cJSON_Delete(arr);
}

/* The field's message, its input and the ARIA that ties them. */
static void
field(struct buf *b, const char *id, const char *label, const char *type,
    const char *autocomplete, const char *hint, const char *value,
    const char *err)
{
	buf_printf(b, "<div class=\"field%s\">\n<label for=\"%s\">%s</label>\n",
	    err ? " invalid" : "", id, label);
	if (hint != NULL)
		buf_printf(b, "<p class=\"hint\" id=\"%s-hint\">%s</p>\n", id,
		    hint);
	if (err != NULL)
		buf_printf(b, "<p class=\"error\" id=\"%s-error\">"
		    "<span class=\"visually-hidden\">Error: </span>%s</p>\n",
		    id, err);
	buf_printf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" "
	    "autocomplete=\"%s\"", id, id, type, autocomplete);
	if (strcmp(id, "organization") != 0)
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

static void
error_summary(struct buf *b, const struct form_state *fs)
{
	if (fs == NULL || (!fs->err_name && !fs->err_email && !fs->err_org &&
	    !fs->notice))
		return;
	buf_adds(b, "<div class=\"error-summary\" id=\"error-summary\" "
	    "tabindex=\"-1\" role=\"alert\" aria-labelledby=\"error-summary-"
	    "title\">\n<h3 id=\"error-summary-title\">There is a problem</h3>"
	    "\n<ul>\n");
	if (fs->notice != NULL) {
		buf_adds(b, "<li>");
		html_esc(b, fs->notice);
		buf_adds(b, "</li>\n");
	}
	if (fs->err_name)
		buf_printf(b, "<li><a href=\"#name\">%s</a></li>\n",
		    fs->err_name);
	if (fs->err_email)
		buf_printf(b, "<li><a href=\"#email\">%s</a></li>\n",
		    fs->err_email);
	if (fs->err_org)
		buf_printf(b, "<li><a href=\"#organization\">%s</a></li>\n",
		    fs->err_org);
	buf_adds(b, "</ul>\n</div>\n");
}

static void
reg_form(struct request *req, struct response *resp, const char *slug,
    const struct form_state *fs, int waitlist)
{
	struct buf	*b = &resp->body;
	char		 tok[CSRF_HEX + 1];
	struct form_state empty;

	memset(&empty, 0, sizeof(empty));
	if (fs == NULL)
		fs = &empty;
	csrf_prepare(req, resp, tok);
	buf_adds(b, "<form class=\"register\" method=\"post\" novalidate "
	    "action=\"/events/");
	html_esc(b, slug);
	buf_adds(b, "/register\">\n<input type=\"hidden\" name=\""
	    CSRF_FIELD "\" value=\"");
	buf_adds(b, tok);
	buf_adds(b, "\">\n");
	field(b, "name", "Your name", "text", "name", NULL, fs->name,
	    fs->err_name);
	field(b, "email", "Email address", "email", "email",
	    "We send the confirmation and your cancellation link here.",
	    fs->email, fs->err_email);
	field(b, "organization", "Member library (optional)", "text",
	    "organization", NULL, fs->org, fs->err_org);
	/* Hidden from people by the stylesheet; bots fill it in. */
	buf_adds(b, "<div class=\"hp\">\n<label for=\"website\">Leave this "
	    "field empty</label>\n<input id=\"website\" name=\"website\" "
	    "type=\"text\" tabindex=\"-1\" autocomplete=\"off\" value=\"\">\n"
	    "</div>\n<button type=\"submit\">");
	buf_adds(b, waitlist ? "Join the waiting list" : "Register");
	buf_adds(b, "</button>\n</form>\n");
}

static void
registration_box(struct request *req, struct response *resp,
    const PGresult *res, const struct form_state *fs)
{
	struct buf	*b = &resp->body;
	const char	*state = db_value(res, 0, "registration_state");
	const char	*slug = db_value(res, 0, "slug");
	long		 seats = strtol(db_value(res, 0, "seats_available"),
			    NULL, 10);
	int		 waitlist = strcmp(db_value(res, 0,
			    "waitlist_available"), "t") == 0;

	buf_adds(b, "<section class=\"registration\" aria-labelledby="
	    "\"register\">\n<h2 id=\"register\">Registration</h2>\n");
	error_summary(b, fs);
	if (strcmp(state, "cancelled") == 0)
		buf_adds(b, "<p class=\"state\">This event was cancelled.</p>\n");
	else if (strcmp(state, "not_open") == 0) {
		buf_adds(b, "<p class=\"state\">Registration opens ");
		html_esc(b, db_value(res, 0, "opens_date_text"));
		buf_adds(b, " at ");
		html_esc(b, db_value(res, 0, "opens_time_text"));
		buf_adds(b, ".</p>\n");
	} else if (strcmp(state, "open") != 0)
		buf_adds(b, "<p class=\"state\">Registration is closed.</p>\n");
	else if (seats > 0) {
		buf_printf(b, "<p class=\"state\">Registration is required. "
		    "There %s %ld %s available.%s</p>\n",
		    seats == 1 ? "is" : "are", seats, seats == 1 ? "seat" :
		    "seats", waitlist ? " Waiting list may be available if "
		    "full." : "");
		reg_form(req, resp, slug, fs, 0);
	} else if (waitlist) {
		buf_adds(b, "<p class=\"state\">This event is full. Join the "
		    "waiting list.</p>\n");
		reg_form(req, resp, slug, fs, 1);
	} else
		buf_adds(b, "<p class=\"state\">This event is full.</p>\n");
	buf_adds(b, "</section>\n");
}

static void
event_box(struct request *req, struct response *resp, const PGresult *res,
    const char *shown, const struct form_state *fs)
{
	struct buf	*b = &resp->body;
	const char	*slug = db_value(res, 0, "slug");
	const char	*format = db_value(res, 0, "format");

	html_begin(resp, db_value(res, 0, "title"));
	buf_adds(b, "<article class=\"event\">\n<h1>");
	html_esc(b, db_value(res, 0, "title"));
	buf_adds(b, "</h1>\n");
	if (!db_isnull(res, 0, "image_path")) {
		buf_adds(b, "<img class=\"event-image\" src=\"");
		html_esc(b, db_value(res, 0, "image_path"));
		buf_adds(b, "\" alt=\"");
		if (strcmp(db_value(res, 0, "image_decorative"), "t") != 0)
			html_esc(b, db_value(res, 0, "image_alt"));
		buf_adds(b, "\">\n");
	}
	buf_adds(b, "<dl class=\"facts\">\n<dt>Date</dt><dd><time datetime=\"");
	html_esc(b, db_value(res, 0, "starts_local"));
	buf_adds(b, "\">");
	html_esc(b, db_value(res, 0, "date_text"));
	buf_adds(b, "</time></dd>\n<dt>Time</dt><dd>");
	html_esc(b, db_value(res, 0, "start_text"));
	buf_adds(b, " - ");
	if (strcmp(db_value(res, 0, "date_text"),
	    db_value(res, 0, "end_date_text")) != 0) {
		html_esc(b, db_value(res, 0, "end_date_text"));
		buf_adds(b, ", ");
	}
	html_esc(b, db_value(res, 0, "end_text"));
	buf_adds(b, "</dd>\n");
	fact(b, "Time zone", zone_label(shown));
	fact(b, "Format", format_label(format));
	fact(b, "Location", db_value(res, 0, "location"));
	if (strcmp(format, "in_person") != 0)
		fact(b, "Online", "This is an online event. The link to join is "
		    "sent in the registration email.");
	categories(b, db_value(res, 0, "categories"));
	fact(b, "Organizer", db_value(res, 0, "organizer"));
	buf_adds(b, "</dl>\n");
	tz_form(b, slug, shown, db_value(res, 0, "timezone"));
	buf_adds(b, "<p><a href=\"/events/");
	html_esc(b, slug);
	buf_adds(b, ".ics\">Add to my calendar (.ics file)</a></p>\n");
	registration_box(req, resp, res, fs);
	buf_adds(b, "<section aria-labelledby=\"about\">\n<h2 id=\"about\">"
	    "Description</h2>\n");
	html_paragraphs(b, db_value(res, 0, "description"));
	buf_adds(b, "</section>\n");
	if (*db_value(res, 0, "presenter") != '\0') {
		buf_adds(b, "<section aria-labelledby=\"presenter\">\n"
		    "<h2 id=\"presenter\">Presenter</h2>\n");
		html_paragraphs(b, db_value(res, 0, "presenter"));
		buf_adds(b, "</section>\n");
	}
	if (*db_value(res, 0, "accessibility_contact") != '\0') {
		buf_adds(b, "<section aria-labelledby=\"access\">\n"
		    "<h2 id=\"access\">Accessibility</h2>\n<p>If you have "
		    "questions or requests about accessibility, contact ");
		html_esc(b, db_value(res, 0, "accessibility_contact"));
		buf_adds(b, ".</p>\n</section>\n");
	}
	buf_adds(b, "</article>\n<script src=\"/static/eventbox.js\" defer>"
	    "</script>\n");
	html_end(resp);
}

/*
 * Loads the event for a page, in the zone tz (NULL: its own).  Returns the
 * result, or NULL when the answer (404, 503) is already written.
 */
static PGresult *
load_event(struct request *req, struct response *resp, const char *tz)
{
	const char	*vals[2] = { req->args[0], tz };
	PGresult	*res;
	enum db_status	 st;

	if (!slug_valid(req->args[0], req->args_len[0])) {
		html_error_page(resp, 404, NULL);
		return NULL;
	}
	if ((st = db_query(STMT_PAGE_EVENT, 2, vals, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		html_error_page(resp, 404, "There is no event at this address. "
		    "It may have been removed.");
		return NULL;
	}
	return res;
}

void
h_page_event(struct request *req, struct response *resp)
{
	char		 tz[64];
	size_t		 len;
	int		 rc;
	PGresult	*res;

	rc = query_get(req->query, "tz", tz, sizeof(tz), &len);
	if (rc == -1 || (rc == 1 && len > 0 && !zone_known(tz))) {
		html_error_page(resp, 400, "That time zone is not one we can "
		    "show. Pick one from the list on the event page.");
		return;
	}
	if ((res = load_event(req, resp, rc == 1 && len > 0 ? tz : NULL)) ==
	    NULL)
		return;
	event_box(req, resp, res, rc == 1 && len > 0 ? tz :
	    db_value(res, 0, "timezone"), NULL);
	PQclear(res);
}

/* ------------------------------------------------------------------ */
/* GET /events/{slug}.ics */

void
h_page_ics(struct request *req, struct response *resp)
{
	const char		*slug = req->args[0];
	PGresult		*res;
	enum db_status		 st;
	struct ical_event	 ev;
	struct buf		 uid = BUF_INIT, url = BUF_INIT;
	const char		*host;

	if (!slug_valid(slug, req->args_len[0])) {
		html_error_page(resp, 404, NULL);
		return;
	}
	if ((st = db_query(STMT_PAGE_ICS, 1, &slug, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		html_error_page(resp, 404, NULL);
		return;
	}
	host = strstr(cfg.base_url, "://") + 3;
	buf_printf(&uid, "event-%s@%.*s", db_value(res, 0, "id"),
	    (int)strcspn(host, ":/"), host);
	buf_printf(&url, "%s/events/%s", cfg.base_url, slug);
	memset(&ev, 0, sizeof(ev));
	ev.uid = uid.data;
	ev.dtstamp = db_value(res, 0, "dtstamp");
	ev.tzid = db_value(res, 0, "timezone");
	ev.vtimezone = db_value(res, 0, "vtimezone");
	ev.start_local = db_value(res, 0, "start_local");
	ev.end_local = db_value(res, 0, "end_local");
	ev.summary = db_value(res, 0, "title");
	ev.description = db_value(res, 0, "description");
	ev.location = *db_value(res, 0, "location") != '\0' ?
	    db_value(res, 0, "location") :
	    strcmp(db_value(res, 0, "format"), "online") == 0 ? "Online" : "";
	ev.url = url.data;
	ev.cancelled = strcmp(db_value(res, 0, "status"), "cancelled") == 0;
	resp->content_type = "text/calendar; charset=utf-8";
	resp_header(resp, "Content-Disposition",
	    "attachment; filename=\"%s.ics\"", slug);
	ical_render(&resp->body, &ev);
	PQclear(res);
	buf_free(&uid);
	buf_free(&url);
}

/* ------------------------------------------------------------------ */
/* POST /events/{slug}/register */

/*
 * Trims blanks in place and checks one line of text; on a problem writes
 * the message for the patron into msg and points *err at it.
 */
static const char *
check_text(char *v, size_t *len, size_t max, int required, const char *what,
    char *msg, size_t msgsz, const char **err)
{
	char	*s = v;
	size_t	 n = *len;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s[n] = '\0';
	*len = n;
	*err = msg;
	if (n == 0 && required)
		snprintf(msg, msgsz, "Enter your %s", what);
	else if (n > 0 && utf8_chars(s, n) > max)
		snprintf(msg, msgsz, "Your %s must be %zu characters or fewer",
		    what, max);
	else if (n > 0 && !text_valid(s, n, max))
		snprintf(msg, msgsz, "Your %s must be one line of text", what);
	else
		*err = NULL;
	return s;
}

static void
result_page(struct response *resp, const PGresult *ev,
    const struct registration_result *out, int waitlisted)
{
	struct buf	*b = &resp->body;

	resp->status = 200;
	html_page(resp, waitlisted ? "You are on the waiting list" :
	    "You are registered");
	buf_adds(b, "<p>For ");
	page_event_link(b, db_value(ev, 0, "slug"), db_value(ev, 0, "title"));
	buf_adds(b, ": ");
	page_when(b, ev, 0, db_value(ev, 0, "timezone"));
	buf_adds(b, ".</p>\n<p>");
	if (waitlisted && out->position > 0)
		buf_printf(b, "You are number %ld on the waiting list. ",
		    out->position);
	html_esc(b, out->message);
	buf_adds(b, "</p>\n<p>If you cannot attend, please use the "
	    "cancellation link in that email, so that someone else can have "
	    "your seat.</p>\n");
	html_end(resp);
}

void
h_page_register(struct request *req, struct response *resp)
{
	static char	 name[FIELD_CAP], email[FIELD_CAP], org[FIELD_CAP];
	static char	 hp[FIELD_CAP];
	char		 csrf[CSRF_HEX + 2];
	struct form_field f[] = {
		{ CSRF_FIELD, csrf, sizeof(csrf), 0, 0 },
		{ "name", name, sizeof(name), 0, 0 },
		{ "email", email, sizeof(email), 0, 0 },
		{ "organization", org, sizeof(org), 0, 0 },
		{ "website", hp, sizeof(hp), 0, 0 },
	};
	struct form_state	 fs;
	char		 msg[3][96];
	struct registration_input in;
	struct registration_result out;
	PGresult	*ev;
	size_t		 nlen, elen, olen;

	if (form_parse(req->body.data, req->body.len, f, 5) == -1) {
		html_error_page(resp, 400, "The form arrived damaged. Go back, "
		    "reload the event page and try again.");
		return;
	}
	if (!csrf_check(req, csrf, f[0].len)) {
		html_error_page(resp, 403, NULL);
		return;
	}
	if ((ev = load_event(req, resp, NULL)) == NULL)
		return;

	memset(&fs, 0, sizeof(fs));
	memset(&out, 0, sizeof(out));
	nlen = f[1].len;
	elen = f[2].len;
	olen = f[3].len;
	fs.name = check_text(name, &nlen, NAME_MAX_CHARS, 1, "name",
	    msg[0], sizeof(msg[0]), &fs.err_name);
	fs.email = check_text(email, &elen, EMAIL_MAX_BYTES, 1,
	    "email address", msg[1], sizeof(msg[1]), &fs.err_email);
	if (fs.err_email == NULL && !email_valid(fs.email, elen))
		fs.err_email = "Enter an email address like name@example.org";
	fs.org = check_text(org, &olen, ORG_MAX_CHARS, 0, "library",
	    msg[2], sizeof(msg[2]), &fs.err_org);

	if (f[4].len > 0) {
		/* The honeypot: a bot.  Looks like success, does nothing. */
		out.message = "You are registered. A confirmation email with "
		    "your cancellation link is on its way.";
		result_page(resp, ev, &out, 0);
		goto done;
	}
	if (fs.err_name || fs.err_email || fs.err_org) {
		resp->status = 422;
		event_box(req, resp, ev, db_value(ev, 0, "timezone"), &fs);
		goto done;
	}
	memset(&in, 0, sizeof(in));
	in.event = req->args[0];
	in.event_len = req->args_len[0];
	in.name = fs.name;
	in.email = fs.email;
	in.organization = olen > 0 ? fs.org : NULL;
	in.source = "web";
	if (registration_submit(&in, &out) == -1) {
		resp_unavailable(req, resp, out.busy);
		goto done;
	}
	if (out.http_status == 201)
		result_page(resp, ev, &out,
		    strcmp(out.status, "waitlisted") == 0);
	else if (out.http_status == 404)
		html_error_page(resp, 404, NULL);
	else {
		/* Full or closed since the page was loaded: show it as it
		 * is now, with what happened on top. */
		PQclear(ev);
		if ((ev = load_event(req, resp, NULL)) == NULL)
			return;
		fs.notice = out.message;
		event_box(req, resp, ev, db_value(ev, 0, "timezone"), &fs);
		resp->status = out.http_status;
	}
done:
	PQclear(ev);
}
