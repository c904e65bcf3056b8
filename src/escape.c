/*
 * escape.c: HTML and URL escaping, and staff text as paragraphs (see
 * escape.h).
 */
#include <ctype.h>
#include <string.h>

#include "escape.h"

/*
 * n bytes of s, each byte with a text in with[] as that text: the bytes
 * between two of them are copied as one run.
 */
void
esc_bytes(struct buf *b, const char *s, size_t n,
    const char *const with[256])
{
	const char	*e;
	size_t		 i, run = 0;

	for (i = 0; i < n; i++) {
		if ((e = with[(unsigned char)s[i]]) == NULL)
			continue;
		buf_add(b, s + run, i - run);
		buf_adds(b, e);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
}

/* Escapes for text and for double- or single-quoted attribute values. */
void
html_escn(struct buf *b, const char *s, size_t n)
{
	static const char *const	 entity[256] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
		['"'] = "&quot;", ['\''] = "&#39;",
	};

	esc_bytes(b, s, n, entity);
}

void
html_esc(struct buf *b, const char *s)
{
	html_escn(b, s, strlen(s));
}

/*
 * Drops from b, after its first from bytes, what XML 1.0 has no character
 * for (its Char production) and PostgreSQL stores as text: the C0 controls
 * but tab, newline and return, and U+FFFE and U+FFFF.  One such character
 * in one event's title made a whole feed no XML, every reader's parse of it
 * failed.
 */
void
xml_chars_only(struct buf *b, size_t from)
{
	unsigned char	*p = (unsigned char *)b->data;
	size_t		 i, o = from;

	if (p == NULL)
		return;
	for (i = from; i < b->len; i++) {
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			continue;
		if (p[i] == 0xef && b->len - i >= 3 && p[i + 1] == 0xbf &&
		    (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) {
			i += 2;
			continue;
		}
		p[o++] = p[i];
	}
	b->len = o;
	b->data[o] = '\0';
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

/* The length of the primary subtag of a language tag: "es" of "es-MX". */
static size_t
primary_len(const char *tag)
{
	return strcspn(tag, "-_");
}

void
lang_mark(struct buf *b, enum lang_markup how, const char *text_lang,
    const char *doc_lang)
{
	static const char *const open[] = { [LANG_HTML] = " lang=\"",
	    [LANG_XML] = " xml:lang=\"", [LANG_ICAL] = ";LANGUAGE=",
	    [LANG_TAG] = "" };
	size_t		 n, i;

	if (text_lang == NULL || (n = strlen(text_lang)) == 0 || n > 16)
		return;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)text_lang[i]) &&
		    text_lang[i] != '-' && text_lang[i] != '_')
			return;
	if (doc_lang != NULL && primary_len(text_lang) == primary_len(doc_lang)
	    && strncmp(text_lang, doc_lang, primary_len(doc_lang)) == 0)
		return;
	buf_adds(b, open[how]);
	for (i = 0; i < n; i++)
		buf_addc(b, text_lang[i] == '_' ? '-' : text_lang[i]);
	if (how == LANG_HTML || how == LANG_XML)
		buf_addc(b, '"');
}

void
hex_encode(char *out, const unsigned char *in, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
