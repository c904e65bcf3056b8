/*
 * mime.c: the RFC 5322 / MIME encodings the emails need (see mime.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mime.h"

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

void
mime_base64(struct buf *out, const unsigned char *p, size_t len, size_t wrap)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, col = 0;
	unsigned long		 v;

	for (i = 0; i < len; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		buf_addc(out, tab[(v >> 18) & 63]);
		buf_addc(out, tab[(v >> 12) & 63]);
		buf_addc(out, i + 1 < len ? tab[(v >> 6) & 63] : '=');
		buf_addc(out, i + 2 < len ? tab[v & 63] : '=');
		col += 4;
		if (wrap > 0 && col >= wrap && i + 3 < len) {
			buf_adds(out, "\r\n");
			col = 0;
		}
	}
}

static size_t
utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/*
 * Whether s holds what a reader could take for an encoded word: "=?" with
 * "?=" after it.  RFC 2047 5 has such text go as encoded words itself;
 * Python's email decodes one anywhere, even inside a word, or in a
 * quoted string.
 */
static int
looks_encoded(const char *s)
{
	const char	*p = strstr(s, "=?");

	return p != NULL && strstr(p + 2, "?=") != NULL;
}

/*
 * RFC 2047 "B" words, separated by a fold; each fits the line it starts on
 * (col: where the first one starts), so no line passes 78 octets and no
 * word 75.  A word is cut after the text's last space that fits, the space
 * kept at the end of its encoded text: the whitespace between two encoded
 * words is no part of the text (RFC 2047 6.2), but some readers show it
 * all the same (Python's email with policy.default, in a name), and then
 * show two spaces rather than a name cut in two.  Only where no space fits
 * (a word longer than an encoded word, 45 octets) is the cut inside a
 * word, and never inside a UTF-8 character; in a name (whole), not even
 * there: the word goes whole in one longer encoded word, past RFC 2047's
 * 75 octets, while its line stays within 998 (RFC 5322 2.1.1), as
 * Python's email shows a name's cut as a space (CPython gh-128110: its
 * address headers keep the whitespace between two encoded words; its
 * Subject drops it).  A word no line holds is cut as the room says.
 */
static void
encoded_words(struct buf *out, const char *s, size_t col, int whole)
{
	size_t	 len = strlen(s), i = 0, n, c, room, space, word;

	while (i < len) {
		/* 12 octets of "=?UTF-8?B?" and "?="; 3 in make 4 out. */
		room = col + 12 < 76 ? (76 - col - 12) / 4 * 3 : 3;
		if (room > 45)
			room = 45;
		space = 0;
		for (n = 0; i + n < len; n += c) {
			c = utf8_len((unsigned char)s[i + n]);
			if (n + c > room)
				break;
			if (s[i + n] == ' ')
				space = n + 1;
		}
		if (i + n < len && space > 0)
			n = space;
		else if (i + n < len && whole && (i == 0 || s[i - 1] == ' ')) {
			word = strcspn(s + i, " ");
			if (i + word < len)
				word++;		/* and its space */
			if (col + 12 + (word + 2) / 3 * 4 <= 998)
				n = word;
		}
		if (n == 0)
			n = len - i < 4 ? len - i : 4;
		if (i > 0)
			buf_adds(out, "\r\n ");
		buf_adds(out, "=?UTF-8?B?");
		mime_base64(out, (const unsigned char *)s + i, n, 0);
		buf_adds(out, "?=");
		i += n;
		col = 1;
	}
}

/*
 * ASCII text folded at its spaces (RFC 5322 2.2.3): before a word that
 * would take the line past 78 octets.  A word longer than that (a long
 * name, a link in a title) stays whole on a line of its own, which RFC
 * 5322 2.1.1 allows up to 998 octets: encoding it to cut it would send
 * plain ASCII as encoded words, which readers may cut apart and spam
 * filters score.  Returns the column it ends in.
 */
static size_t
folded(struct buf *out, const char *s, size_t col)
{
	const char	*sp;
	size_t		 word;

	while (*s != '\0') {
		sp = strchr(s + 1, ' ');
		word = sp != NULL ? (size_t)(sp - s) : strlen(s);
		if (col + word > 78 && *s == ' ' && col > 1) {
			buf_adds(out, "\r\n");
			col = 0;
		}
		buf_add(out, s, word);
		col += word;
		s += word;
	}
	return col;
}

/* Whether folded() keeps s from column col within the 998 octets a line
 * must keep to (RFC 5322 2.1.1): no word, with the space it starts with,
 * is longer than a line of its own. */
static int
foldable(const char *s, size_t col)
{
	size_t	 word;

	for (; *s != '\0'; s += word, col = 1) {
		word = strcspn(s + 1, " ") + 1;
		if (col + word > 998)
			return 0;
	}
	return 1;
}

/* "Name: value", encoded when not ASCII (or, ASCII, when a word would not
 * fit in 998 octets, or when it holds what looks like an encoded word). */
void
mime_header_text(struct buf *out, const char *name, const char *value)
{
	size_t	 col = strlen(name) + 2;

	buf_printf(out, "%s: ", name);
	if (is_ascii(value) && foldable(value, col) && !looks_encoded(value))
		folded(out, value, col);
	else
		encoded_words(out, value, col, 0);
	buf_adds(out, "\r\n");
}

/* Whether a display name can go as atoms (RFC 5322 3.2.3): words of atext
 * one space apart.  Not '=' or '?': a word like "=?UTF-8?B?...?=" would be
 * read as an encoded word (RFC 2047 5), text the name never had. */
static int
atoms(const char *s)
{
	static const char	 other[] = "!#$%&'*+-/^_`{|}~";
	const char		*p;

	for (p = s; *p != '\0'; p++) {
		if (*p == ' ' ? p == s || p[-1] == ' ' || p[1] == '\0' :
		    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(other, *p) != NULL))
			return 0;
	}
	return 1;
}

/* The octets of s as a quoted string: its quotes and backslashes escaped. */
static size_t
quoted_len(const char *s)
{
	size_t	 n = 2;

	for (; *s != '\0'; s++)
		n += *s == '"' || *s == '\\' ? 2 : 1;
	return n;
}

static void
quoted(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *s);
	}
	buf_addc(out, '"');
}

/*
 * A display name and address.  An ASCII name of atoms goes as they are,
 * folded at its spaces like any header.  Another ASCII name (a comma, a
 * dot, a quote in it) is one quoted string (RFC 5322 3.2.4), never folded
 * inside: RFC 5322 allows it, but Python's email.utils.parseaddr() (its
 * compat32 API) then loses the name and the address, and readers such as
 * Perl's Mail::Message and maildrop's reformime misread a name cut into
 * several quoted strings; so a long one takes a line of up to 998 octets
 * (RFC 5322 2.1.1).  Only a name that is not ASCII, that no line can
 * hold, or that holds what looks like an encoded word (which readers
 * decode even in a quoted string) goes as encoded words.  The address is
 * never split: it follows the name on its line when it fits, else on a
 * line of its own.
 */
void
mime_header_address(struct buf *out, const char *name, const char *display,
    const char *addr)
{
	size_t	 col = strlen(name) + 2;

	buf_printf(out, "%s: ", name);
	if (*display == '\0') {
		buf_printf(out, "<%s>\r\n", addr);
		return;
	}
	if (is_ascii(display) && atoms(display) && foldable(display, col))
		col = folded(out, display, col);
	else if (is_ascii(display) && !looks_encoded(display) &&
	    col + quoted_len(display) <= 998) {
		quoted(out, display);
		col += quoted_len(display);
	} else {
		encoded_words(out, display, col, 1);
		col = 78;	/* the address on a line of its own */
	}
	buf_printf(out, "%s<%s>\r\n", col + strlen(addr) + 3 > 78 ?
	    "\r\n " : " ", addr);
}

/*
 * Quoted-printable (RFC 2045 6.7): lines of at most 76 octets, "\n" in the
 * text becomes a CRLF line break, '=', non-ASCII octets and whitespace
 * before a break are encoded, and so is the F of a line's "From ".  A
 * soft line break never falls inside a UTF-8 character: RFC 2045 allows
 * it, but a reader that decodes or converts one line at a time shows both
 * halves as mojibake.
 */
void
mime_quoted_printable(struct buf *out, const char *s)
{
	const unsigned char	*p;
	char			 enc[4];
	size_t			 col = 0, n, k, i;
	int			 plain;

	for (p = (const unsigned char *)s; *p != '\0'; p += k) {
		k = 1;
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			buf_adds(out, "\r\n");
			col = 0;
			continue;
		}
		plain = (*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && p[1] != '\n' &&
		    p[1] != '\r' && p[1] != '\0');
		/* A character's octets (as many as follow its first). */
		if (*p >= 0xc0)
			while (k < utf8_len(*p) && (p[k] & 0xc0) == 0x80)
				k++;
		n = plain ? 1 : 3 * k;
		if (col + n > 75) {
			buf_adds(out, "=\r\n");
			col = 0;
		}
		/* Not "From " at the start of a line (RFC 2049 3): a mailbox
		 * file would have it ">From ", and readers show the ">". */
		if (col == 0 && strncmp((const char *)p, "From ", 5) == 0) {
			plain = 0;
			n = 3;
		}
		if (plain)
			buf_addc(out, (char)*p);
		else
			for (i = 0; i < k; i++) {
				snprintf(enc, sizeof(enc), "=%02X", p[i]);
				buf_adds(out, enc);
			}
		col += n;
	}
}

void
mime_date(struct buf *out, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;

	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %d %s %d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
