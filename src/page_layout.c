/*
 * page_layout.c: the pages' layout and error page, and the pieces every
 * page prints the same way (see page_layout.h).
 */
#include <stdlib.h>
#include <string.h>

#include "csrf.h"
#include "db.h"
#include "escape.h"
#include "form.h"
#include "page_layout.h"
#include "validate.h"

static void	 head_close(struct response *);

/* The head up to its end, which the caller may still add to. */
static void
head_open(struct response *resp, const char *title)
{
	resp->content_type = "text/html; charset=utf-8";
	buf_reset(&resp->body);
	buf_adds(&resp->body, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>");
	html_esc(&resp->body, title);
	buf_adds(&resp->body, " - Library events</title>\n"
	    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n");
}

void
html_begin(struct response *resp, const char *title)
{
	head_open(resp, title);
	head_close(resp);
}

/* The feeds of a list (page_feeds.c), for feed readers and calendar apps
 * that find them from the page; query is "" or "?category=...", escaped. */
void
html_page_with_feeds(struct response *resp, const char *title,
    const char *query)
{
	head_open(resp, title);
	buf_printf(&resp->body, "<link rel=\"alternate\" "
	    "type=\"application/atom+xml\" title=\"Events (Atom)\" "
	    "href=\"/events.atom%s\">\n<link rel=\"alternate\" "
	    "type=\"text/calendar\" title=\"Events (iCalendar)\" "
	    "href=\"/events.ics%s\">\n", query, query);
	head_close(resp);
	buf_adds(&resp->body, "<h1>");
	html_esc(&resp->body, title);
	buf_adds(&resp->body, "</h1>\n");
}

static void
head_close(struct response *resp)
{
	buf_adds(&resp->body, "</head>\n<body>\n"
	    "<a class=\"skip\" href=\"#main\">Skip to main content</a>\n"
	    "<header class=\"site\"><p><a href=\"/events\">Library events"
	    "</a></p></header>\n"
	    "<main id=\"main\" tabindex=\"-1\">\n");
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
	buf_adds(&resp->body, "</main>\n<footer class=\"site\"><p>"
	    "This site sets no tracking cookies and loads nothing from "
	    "other sites.</p></footer>\n</body>\n</html>\n");
}

void
html_error_page(struct response *resp, int status, const char *message)
{
	const char	*title = http_reason(status);
	const char	*text = "That request could not be handled.";

	switch (status) {
	case 400:
		title = "Something was wrong with that request";
		text = "The request was malformed. Go back and try again.";
		break;
	case 403:
		title = "This form has expired";
		text = "Go back to the event page, reload it and send the form "
		    "again.";
		break;
	case 404:
		title = "Page not found";
		text = "There is nothing at this address.";
		break;
	case 405:
		title = "Not allowed here";
		text = "This address does not accept that kind of request.";
		break;
	case 413:
		title = "Too much text";
		text = "The form was too large. Shorten what you typed and try "
		    "again.";
		break;
	case 415:
		title = "Form not understood";
		text = "Send the form from the event page.";
		break;
	case 503:
		title = "Please try again in a moment";
		text = "The service is busy or briefly unavailable. Nothing was "
		    "changed.";
		break;
	}
	if (message != NULL)
		text = message;
	resp->status = status;
	html_page(resp, title);
	buf_adds(&resp->body, "<p>");
	html_esc(&resp->body, text);
	buf_adds(&resp->body, "</p>\n<p><a href=\"/events\">See all upcoming "
	    "events</a></p>\n");
	html_end(resp);
}

void
html_link_inactive(struct response *resp, const char *why)
{
	resp->status = 404;
	html_page(resp, "This link is not active");
	buf_adds(&resp->body, "<p>");
	buf_adds(&resp->body, why);
	buf_adds(&resp->body, "</p>\n"
	    "<p>If you need help, contact the event's organizer.</p>\n"
	    "<p><a href=\"/events\">See all upcoming events</a></p>\n");
	html_end(resp);
}

/* The zones a patron may pick, and what they are called on the page. */
const struct page_zone page_zones[] = {
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
			return page_zones[i].label;
	return iana;
}

/* The GET form that shows the times in another of page_zones[]. */
void
page_tz_form(struct buf *b, const char *action, const char *shown,
    const char *own)
{
	size_t	 i;

	buf_adds(b, "<form class=\"tz\" method=\"get\" action=\"");
	html_esc(b, action);
	buf_adds(b, "\">\n<label for=\"tz\">Show the times in</label>\n"
	    "<select id=\"tz\" name=\"tz\">\n");
	if (!zone_known(own)) {
		buf_adds(b, "<option value=\"\">");
		html_esc(b, own);
		buf_adds(b, " (the event's own)</option>\n");
	}
	for (i = 0; i < page_nzones; i++) {
		buf_adds(b, "<option value=\"");
		buf_adds(b, page_zones[i].iana);
		buf_adds(b, strcmp(page_zones[i].iana, shown) == 0 ? "\" selected>" :
		    "\">");
		html_esc(b, page_zones[i].label);
		buf_adds(b, "</option>\n");
	}
	buf_adds(b, "</select>\n<button type=\"submit\">Show</button>\n"
	    "</form>\n");
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

const char *
page_format_label(const char *format)
{
	if (strcmp(format, "in_person") == 0)
		return "In person";
	if (strcmp(format, "hybrid") == 0)
		return "Hybrid: in person and online";
	if (strcmp(format, "online") == 0)
		return "Online";
	abort();	/* the CHECK on events.format and this disagree */
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
		html_error_page(resp, 403, "Go back to the link in your email "
		    "and press the button again.");
		return -1;
	}
	if (!token_valid(req->args[0], req->args_len[0])) {
		html_link_inactive(resp, LINK_INACTIVE_WHY);
		return -1;
	}
	return 0;
}
