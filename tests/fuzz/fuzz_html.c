/*
 * fuzz_html: the escapers the public pages put every stored string
 * through (escape.h): html_esc, html_urlenc and html_paragraphs, on the
 * input read as a C string (up to its first NUL, as they are called).
 *
 * Properties, besides no crash and no leak:
 *   html_esc: no '<', '>', '"' or '\'' in the output; every '&' starts one
 *     of the five entities it writes; unescaping gives the input back.
 *   html_urlenc: only unreserved bytes and %XX; decoding gives the input.
 *   html_paragraphs: the only markup is <p>, <br>, <ul>, <li> and their
 *     ends, properly nested (<br> only inside <p>, <li> only inside <ul>,
 *     nothing but newlines between blocks); the text between tags obeys
 *     the html_esc rules, so no '<', '>', '"' or '\'' from the input.
 *   All three: the output is valid UTF-8 whenever the input is.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "escape.h"
#include "validate.h"

static const char *const entities[][2] = {
	{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
	{ "&quot;", "\"" }, { "&#39;", "'" },
};

/* Unescapes n bytes of html_esc output onto out; 0, or -1 when they hold a
 * raw special character or a bare '&'. */
static int
unescape(const char *s, size_t n, struct buf *out)
{
	size_t	 i = 0, k, elen;

	while (i < n) {
		if (strchr("<>\"'", s[i]) != NULL)
			return -1;
		if (s[i] != '&') {
			buf_addc(out, s[i++]);
			continue;
		}
		for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
			elen = strlen(entities[k][0]);
			if (n - i >= elen && memcmp(s + i, entities[k][0],
			    elen) == 0)
				break;
		}
		if (k == sizeof(entities) / sizeof(entities[0]))
			return -1;
		buf_adds(out, entities[k][1]);
		i += elen;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_esc(const char *s, size_t len, int utf8)
{
	struct buf	 b = BUF_INIT, back = BUF_INIT;

	html_esc(&b, s);
	FUZZ_CHECK(b.len >= len);
	FUZZ_CHECK(unescape(b.data, b.len, &back) == 0);
	FUZZ_CHECK(back.len == len && (len == 0 ||
	    memcmp(back.data, s, len) == 0));
	if (utf8)
		FUZZ_CHECK(utf8_valid(b.data, b.len));
	buf_free(&b);
	buf_free(&back);
}

static void
check_urlenc(const char *s, size_t len)
{
	struct buf	 b = BUF_INIT, back = BUF_INIT;
	size_t		 i;
	int		 hi, lo;

	html_urlenc(&b, s);
	for (i = 0; i < b.len; i++) {
		if (b.data[i] != '%') {
			FUZZ_CHECK(strchr("-._~", b.data[i]) != NULL ||
			    (b.data[i] >= 'a' && b.data[i] <= 'z') ||
			    (b.data[i] >= 'A' && b.data[i] <= 'Z') ||
			    (b.data[i] >= '0' && b.data[i] <= '9'));
			buf_addc(&back, b.data[i]);
			continue;
		}
		FUZZ_CHECK(b.len - i >= 3);
		hi = hexval(b.data[i + 1]);
		lo = hexval(b.data[i + 2]);
		FUZZ_CHECK(hi >= 0 && lo >= 0);
		buf_addc(&back, (char)(hi << 4 | lo));
		i += 2;
	}
	FUZZ_CHECK(back.len == len && (len == 0 ||
	    memcmp(back.data, s, len) == 0));
	buf_free(&b);
	buf_free(&back);
}

enum where { TOP, IN_P, IN_UL, IN_LI };

static void
check_paragraphs(const char *s, int utf8)
{
	static const struct {
		const char	*tag;
		enum where	 from, to;
	} tags[] = {
		{ "<p>", TOP, IN_P }, { "</p>\n", IN_P, TOP },
		{ "<br>\n", IN_P, IN_P }, { "<ul>\n", TOP, IN_UL },
		{ "</ul>\n", IN_UL, TOP }, { "<li>", IN_UL, IN_LI },
		{ "</li>\n", IN_LI, IN_UL },
	};
	struct buf	 b = BUF_INIT, text = BUF_INIT;
	enum where	 at = TOP;
	size_t		 i = 0, k, n, tlen;

	html_paragraphs(&b, s);
	while (i < b.len) {
		if (b.data[i] == '<') {
			for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
				tlen = strlen(tags[k].tag);
				if (b.len - i >= tlen && memcmp(b.data + i,
				    tags[k].tag, tlen) == 0)
					break;
			}
			FUZZ_CHECK(k < sizeof(tags) / sizeof(tags[0]));
			FUZZ_CHECK(tags[k].from == at);
			at = tags[k].to;
			i += tlen;
			continue;
		}
		/* Text runs only inside <p> or <li>, up to the next tag. */
		FUZZ_CHECK(at == IN_P || at == IN_LI);
		n = strcspn(b.data + i, "<");
		FUZZ_CHECK(unescape(b.data + i, n, &text) == 0);
		i += n;
	}
	FUZZ_CHECK(at == TOP);
	if (utf8)
		FUZZ_CHECK(utf8_valid(b.data, b.len));
	buf_free(&b);
	buf_free(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;
	size_t	 len;
	int	 utf8;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	utf8 = utf8_valid(s, len);

	check_esc(s, len, utf8);
	check_urlenc(s, len);
	check_paragraphs(s, utf8);
	free(s);
	return 0;
}
