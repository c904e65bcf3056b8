/*
 * html.c: escaping and the page layout (see html.h).
 */
#include <string.h>

#include "html.h"

/* Escapes for text and for double- or single-quoted attribute values. */
void
html_escn(struct buf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addc(b, s[i]);
		}
	}
}

void
html_esc(struct buf *b, const char *s)
{
	html_escn(b, s, strlen(s));
}

/* Percent-encodes a query parameter value (unreserved bytes kept). */
void
html_urlenc(struct buf *b, const char *s)
{
	static const char	 digits[] = "0123456789ABCDEF";
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(b, (char)*p);
		else {
			buf_addc(b, '%');
			buf_addc(b, digits[*p >> 4]);
			buf_addc(b, digits[*p & 15]);
		}
	}
}

/* Ends a line: CRLF and LF both count. */
static size_t
line_len(const char *p)
{
	size_t	 n = strcspn(p, "\r\n");

	return n;
}

static const char *
next_line(const char *p)
{
	p += line_len(p);
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	return p;
}

static int
is_item(const char *p)
{
	return (p[0] == '-' || p[0] == '*') && p[1] == ' ';
}

/*
 * Staff text to HTML: blank lines separate paragraphs, lines starting with
 * "- " or "* " become a list, other line breaks are kept.  Escaped whole.
 */
void
html_paragraphs(struct buf *b, const char *s)
{
	const char	*p = s;
	size_t		 n;
	int		 in_p = 0, in_ul = 0;

	while (*p != '\0') {
		n = line_len(p);
		if (n == 0 || strspn(p, " \t") == n) {
			if (in_p)
				buf_adds(b, "</p>\n");
			if (in_ul)
				buf_adds(b, "</ul>\n");
			in_p = in_ul = 0;
		} else if (is_item(p)) {
			if (in_p)
				buf_adds(b, "</p>\n");
			in_p = 0;
			if (!in_ul)
				buf_adds(b, "<ul>\n");
			in_ul = 1;
			buf_adds(b, "<li>");
			html_escn(b, p + 2, n - 2);
			buf_adds(b, "</li>\n");
		} else {
			if (in_ul)
				buf_adds(b, "</ul>\n");
			in_ul = 0;
			buf_adds(b, in_p ? "<br>\n" : "<p>");
			in_p = 1;
			html_escn(b, p, n);
		}
		p = next_line(p);
	}
	if (in_p)
		buf_adds(b, "</p>\n");
	if (in_ul)
		buf_adds(b, "</ul>\n");
}

void
html_begin(struct response *resp, const char *title)
{
	resp->content_type = "text/html; charset=utf-8";
	buf_reset(&resp->body);
	buf_adds(&resp->body, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>");
	html_esc(&resp->body, title);
	buf_adds(&resp->body, " - Library events</title>\n"
	    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
	    "</head>\n<body>\n"
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
