/*
 * validate.c: checks and decoders for untrusted input (see validate.h).
 *
 * Each returns 1 (or 0 for the decoders) when the input is acceptable and
 * 0 (or -1) otherwise; none of them trusts a length it did not count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "validate.h"

/* Whole-string integer with range check; no sign games, no trailing junk. */
int
parse_int(const char *s, size_t len, long long min, long long max,
    long long *out)
{
	long long	 n = 0;
	size_t		 i = 0;
	int		 neg = 0;

	if (len == 0)
		return -1;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
		if (len == 1)
			return -1;
	}
	if (len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
id_parse(const char *s, size_t len, long long *out)
{
	if (len == 0 || s[0] == '0')
		return -1;
	return parse_int(s, len, 1, ID_MAX, out);
}

/* Bytes in the UTF-8 character that lead starts, 0 when none starts so. */
static size_t
utf8_len(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	unsigned int		 cp;

	while (i < len) {
		if ((n = utf8_len(s[i])) == 0)
			return 0;
		if (n-- == 1) {
			i++;
			continue;
		}
		cp = s[i] & (0x7fu >> (n + 1));
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Code points in valid UTF-8. */
size_t
utf8_chars(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A one-line human text (a name, a library): valid UTF-8, no control
 * characters (C0, DEL, C1, and the Unicode line and paragraph separators,
 * which some mail readers treat as line breaks), none of the bidirectional
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: a name
 * that turns the rest of a roster line or an email around; the marks
 * U+200E and U+200F and the joiners stay, which names in Arabic, Hebrew,
 * Persian and Indic scripts use), no noncharacter (U+FFFE and its kin,
 * noncharacter_at()), not blank (nor only spaces and zero-width
 * characters: a name nobody can read), not too long.
 */
/* 1 when the character at u (valid UTF-8, n bytes left) shows nothing:
 * a no-break, ideographic or typographic space, a zero-width space,
 * joiner or mark (U+200B-U+200F), the word joiner, the byte order mark. */
static int
invisible(const unsigned char *u, size_t n)
{
	if (n >= 2 && u[0] == 0xc2 && u[1] == 0xa0)
		return 1;
	if (n < 3)
		return 0;
	return (u[0] == 0xe2 && u[1] == 0x80 && u[2] <= 0x8f) ||
	    (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0xa0) ||
	    (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) ||
	    (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf);
}

/* 1 when the character at u (valid UTF-8, n bytes left) is one that
 * text_valid() refuses: C0, DEL, C1, a line or paragraph separator, a
 * bidirectional embedding, override or isolate. */
static int
control_at(const unsigned char *u, size_t n)
{
	if (u[0] < 0x20 || u[0] == 0x7f)
		return 1;
	if (u[0] == 0xc2 && n >= 2 && u[1] >= 0x80 && u[1] <= 0x9f)
		return 1;
	if (u[0] == 0xe2 && n >= 3 && u[1] == 0x80 && u[2] >= 0xa8 &&
	    u[2] <= 0xae)
		return 1;
	return u[0] == 0xe2 && n >= 3 && u[1] == 0x81 && u[2] >= 0xa6 &&
	    u[2] <= 0xa9;
}

/*
 * 1 when the character at u (valid UTF-8, n bytes left) is a Unicode
 * noncharacter: U+FDD0-U+FDEF, or the last two code points of a plane
 * (U+FFFE, U+FFFF, U+1FFFE ... U+10FFFF).  Valid UTF-8, but no text: XML
 * 1.0 has no U+FFFE or U+FFFF (a feed reader refuses the whole document
 * that holds one), HTML calls each a parse error.
 */
static int
noncharacter_at(const unsigned char *u, size_t n)
{
	if (u[0] == 0xef && n >= 3)
		return (u[1] == 0xb7 && u[2] >= 0x90 && u[2] <= 0xaf) ||
		    (u[1] == 0xbf && u[2] >= 0xbe);
	return u[0] >= 0xf0 && n >= 4 && (u[1] & 0x0f) == 0x0f &&
	    u[2] == 0xbf && u[3] >= 0xbe;
}

int
text_valid(const char *s, size_t len, size_t max_chars)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;
	int			 seen = 0;

	if (len == 0 || !utf8_valid(s, len) || utf8_chars(s, len) > max_chars)
		return 0;
	for (i = 0; i < len; i++) {
		if (control_at(u + i, len - i) || noncharacter_at(u + i, len - i))
			return 0;
		if (u[i] != ' ' && (u[i] & 0xc0) != 0x80 &&
		    !invisible(u + i, len - i))
			seen = 1;
	}
	return seen;
}

/*
 * A registration's name is the greeting of an email sent from the
 * consortium's own domain to whatever address was typed: anybody could
 * make the service mail their text ("CLAIM YOUR GIFT CARD at https://...")
 * to anybody.  So a name holds no "://", no "www." and no "@": names of
 * people pass, links and addresses do not.  (Digits stay: a number in a
 * name is rare but not wrong, and a rule that counted them would refuse
 * some real names before it stopped a telephone number.)
 */
int
name_plain(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '@')
			return 0;
		if (len - i >= 3 && memcmp(s + i, "://", 3) == 0)
			return 0;
		if (len - i >= 4 && strncasecmp(s + i, "www.", 4) == 0)
			return 0;
	}
	return 1;
}

/*
 * The service refuses a name that is not name_plain(), but a registration
 * an older release took, or one staff typed at psql, may hold one ("Claim
 * your gift card at https://..."), and whatever shows it to the address
 * typed carries its text from the consortium's domain: the email's
 * greeting and To:, the pages the email links to (SECURITY.md).  None of
 * them shows such a name.
 */
const char *
name_shown(const char *name)
{
	return name_plain(name, strlen(name)) ? name : "";
}

/*
 * JSON text that holds the escape \u0000 (cJSON decodes it into a NUL,
 * which cuts the string short where C reads it).  A backslash escapes the
 * one character after it, so an escaped backslash followed by the letters
 * u0000 is text, not a NUL.  A backslash outside a string is not JSON at
 * all, which the parser refuses anyway, so strings need not be tracked.
 */
int
json_nul_escape(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (len - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0)
			return 1;
		i++;
	}
	return 0;
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * What cJSON reads as JSON and RFC 8259 does not: a control character
 * raw in a string (a literal tab or line break), white space between
 * tokens other than space, tab, LF and CR (cJSON skips every byte up to
 * 0x20), a number outside the grammar: a leading zero before digits
 * ("05"), a point without a digit after it ("5.", "1.e1").  Not a
 * grammar check: cJSON finds what it does not read at all.  Returns 1 when
 * the text has one.
 */
int
json_lenient(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p < 0x20)
					return 1;
				if (*p == '\\' && p + 1 < end)
					p++;	/* an escaped quote ends nothing */
			}
			if (p < end)
				p++;
		} else if (*p == '-' || is_digit(*p)) {
			if (*p == '-')
				p++;
			if (p < end && *p == '0')
				p++;
			else if (p < end && is_digit(*p))
				while (p < end && is_digit(*p))
					p++;
			else
				return 1;
			if (p < end && *p == '.') {
				if (++p == end || !is_digit(*p))
					return 1;
				while (p < end && is_digit(*p))
					p++;
			}
			if (p < end && (*p == 'e' || *p == 'E')) {
				if (++p < end && (*p == '+' || *p == '-'))
					p++;
				if (p == end || !is_digit(*p))
					return 1;
				while (p < end && is_digit(*p))
					p++;
			}
			if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' ||
			    *p == 'E' || *p == '+' || *p == '-'))
				return 1;
		} else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return 1;
		else
			p++;
	}
	return 0;
}

static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

/*
 * An address in the common form local@domain: dot-atom local part (no
 * quoted strings), a domain of LDH labels.  A patron's (public) has at
 * least one dot in the domain, the last label not all digits (no top-level
 * domain is: RFC 3696 2, so ann@192.0.2.1 is a mistyped address, not a
 * host; an address literal would need brackets, which no patron types).
 * Deliberately ASCII-only: it goes into an SMTP envelope and a header.
 */
static int
addr_spec_valid(const char *s, size_t len, int public)
{
	const char	*at;
	size_t		 i, local, label = 0, dots = 0;
	int		 digits = 1;

	if (len < 3 || len > EMAIL_MAX_BYTES)
		return 0;
	if ((at = memchr(s, '@', len)) == NULL)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
			continue;
		}
		if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	for (i = local + 1; i < len; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			digits = 1;
			dots++;
			continue;
		}
		if (c == '-' && label == 0)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c < '0' || c > '9')
			digits = 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 || s[len - 1] == '-')
		return 0;
	return !public || (dots > 0 && !digits);
}

/* A patron's address as stored and mailed: one a relay can deliver to
 * (ASCII; email_canonical() makes it from what a patron typed). */
int
email_valid(const char *s, size_t len)
{
	return addr_spec_valid(s, len, 1);
}

/* 1 when the len bytes at s hold a byte outside ASCII. */
static int
has_non_ascii(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* 1 when a label of the domain (len bytes at d) starts with "xn--": an
 * A-label, which only IDNA can say is well formed. */
static int
has_a_label(const char *d, size_t len)
{
	size_t	 i;

	for (i = 0; i + 4 <= len; i++)
		if ((i == 0 || d[i - 1] == '.') &&
		    strncasecmp(d + i, "xn--", 4) == 0)
			return 1;
	return 0;
}

/*
 * A patron's address as typed (valid UTF-8, len bytes) into the form it
 * is stored and mailed in (RFC 6530's "internationalised" addresses meet
 * relays that take ASCII only): a domain with a U-label (bücherei.de) or
 * an A-label (xn--bcherei-n2a.de) becomes its A-labels, lower case, by
 * IDNA2008 as UTS #46 nontransitional processing reads it (libidn2: case
 * mapped, NFC, disallowed code points refused, at most 63 octets a label
 * once converted); an ASCII domain stays as typed.  A local part outside
 * ASCII needs SMTPUTF8 all the way to the mailbox, which the mailer
 * cannot know: refused, in its own words.  out (outsz bytes) gets the
 * address, NUL-terminated, on EMAIL_OK.  libidn2 allocates, and its
 * result is freed before this returns.
 */
enum email_check
email_canonical(const char *s, size_t len, char *out, size_t outsz)
{
	const char	*at;
	char		 typed[EMAIL_TYPED_MAX + 1], *ascii = NULL;
	size_t		 local, n;

	if (len > EMAIL_TYPED_MAX)
		return EMAIL_TOO_LONG;
	if (memchr(s, '\0', len) != NULL || (at = memchr(s, '@', len)) == NULL)
		return EMAIL_INVALID;
	local = (size_t)(at - s);
	if (has_non_ascii(s, local))
		return EMAIL_LOCAL_NOT_ASCII;
	if (!has_non_ascii(at + 1, len - local - 1) &&
	    !has_a_label(at + 1, len - local - 1)) {
		if (len > EMAIL_MAX_BYTES || len >= outsz)
			return EMAIL_TOO_LONG;
		memcpy(out, s, len);
		out[len] = '\0';
		return email_valid(out, len) ? EMAIL_OK : EMAIL_INVALID;
	}
	memcpy(typed, at + 1, len - local - 1);
	typed[len - local - 1] = '\0';
	switch (idn2_to_ascii_8z(typed, &ascii, IDN2_NONTRANSITIONAL)) {
	case IDN2_OK:
		break;
	case IDN2_TOO_BIG_DOMAIN:	/* over 253 octets in A-labels */
		return EMAIL_TOO_LONG;
	default:
		return EMAIL_DOMAIN_NOT_IDNA;
	}
	n = local + 1 + strlen(ascii);
	if (n < outsz) {
		memcpy(out, s, local + 1);
		memcpy(out + local + 1, ascii, n - local);
	}
	idn2_free(ascii);
	if (n >= outsz || n > EMAIL_MAX_BYTES)
		return EMAIL_TOO_LONG;
	return email_valid(out, n) ? EMAIL_OK : EMAIL_INVALID;
}

/* The address of EVENTBOX_MAIL_FROM: as a patron's, but any host name
 * (the default is eventbox@localhost). */
int
sender_valid(const char *s, size_t len)
{
	return addr_spec_valid(s, len, 0);
}

/* A canonical lower-case UUID: 8-4-4-4-12 hex digits. */
int
token_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len != TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* Printable ASCII without spaces, 1 to 200 bytes (UUIDs, ULIDs, base64). */
int
idempotency_key_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > IDEMPOTENCY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Same rule as the events.slug CHECK constraint. */
int
slug_valid(const char *s, size_t len)
{
	size_t	 i;
	int	 digits = 1;

	if (len == 0 || len > SLUG_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			continue;
		digits = 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return 0;
	}
	return !digits;
}

/* An event is named by its numeric id or its slug. */
int
event_ref_valid(const char *s, size_t len)
{
	long long	 id;

	if (id_parse(s, len, &id) == 0)
		return 1;
	return slug_valid(s, len);
}

/* YYYY-MM-DD with a real month and day (leap years included). */
int
date_valid(const char *s, size_t len)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long long	 y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (parse_int(s, 4, 1900, 9999, &y) == -1 ||
	    parse_int(s + 5, 2, 1, 12, &m) == -1 ||
	    parse_int(s + 8, 2, 1, 31, &d) == -1)
		return 0;
	if (d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

/* Is Content-Type ctype the media type want?  (validate.h) */
int
media_type_is(const char *ctype, const char *want)
{
	size_t	 n = strlen(want);

	if (ctype == NULL || strncasecmp(ctype, want, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

/* Nothing that could end or fold a mail or HTTP header line. */
int
header_safe(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 0;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The byte that src[*i] begins (a %XX escape, '+' a space when
 * plus_is_space, else itself), *i left on its last character; -1 for a
 * '%' without two hex digits after it.
 */
static int
pct_byte(const char *src, size_t len, size_t *i, int plus_is_space)
{
	int	 hi, lo;

	if (src[*i] == '+' && plus_is_space)
		return ' ';
	if (src[*i] != '%')
		return (unsigned char)src[*i];
	if (len - *i < 3 || (hi = hexval(src[*i + 1])) < 0 ||
	    (lo = hexval(src[*i + 2])) < 0)
		return -1;
	*i += 2;
	return hi * 16 + lo;
}

/*
 * Percent-decodes src into dst (NUL-terminated).  Fails on a malformed
 * escape, an encoded NUL, or when dst is too small.
 */
int
pct_decode(char *dst, size_t dstsz, const char *src, size_t len,
    int plus_is_space, size_t *outlen)
{
	size_t	 i, o = 0;
	int	 c;

	for (i = 0; i < len; i++) {
		if ((c = pct_byte(src, len, &i, plus_is_space)) <= 0)
			return -1;	/* malformed, or a NUL */
		if (o + 1 >= dstsz)
			return -1;
		dst[o++] = (char)c;
	}
	if (dstsz == 0)
		return -1;
	dst[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/*
 * Whether a field's name (src, len: escapes and '+' read as in a value)
 * is key: 1 when it decodes to key, 0 when to another name, or
 * QUERY_NAME_ESCAPE, QUERY_NAME_UTF8 or QUERY_NAME_CONTROL when it is not
 * a name at all (which key it was meant to be is anybody's guess).  One
 * character at a time, so a name of any length needs no buffer.
 */
int
field_name_is(const char *src, size_t len, const char *key, size_t klen)
{
	unsigned char	 ch[4];
	size_t		 i, o = 0, have = 0, want = 1;
	int		 c, same = 1;

	for (i = 0; i < len; i++) {
		if ((c = pct_byte(src, len, &i, 1)) == -1)
			return QUERY_NAME_ESCAPE;
		same = same && o < klen && (unsigned char)key[o] == c;
		o++;
		if (have == 0 && (want = utf8_len((unsigned char)c)) == 0)
			return QUERY_NAME_UTF8;
		ch[have++] = (unsigned char)c;
		if (have < want)
			continue;
		if (!utf8_valid((const char *)ch, have))
			return QUERY_NAME_UTF8;
		if (control_at(ch, have))
			return QUERY_NAME_CONTROL;
		have = 0;
	}
	if (have != 0)
		return QUERY_NAME_UTF8;
	return same && o == klen;
}

/*
 * Finds key in an application/x-www-form-urlencoded string and decodes
 * its value into dst.  A name is decoded as a value is, so %6Cimit is
 * limit.  Returns 1 when found, 0 when absent, -1 when the value is
 * malformed or too long, QUERY_REPEATED (dst unset) when the key is there
 * more than once (which one was meant is the client's to say), or one of
 * the QUERY_NAME_ faults when any field's name is not text (unless
 * readable: then such a name is another key's).
 */
static int
query_find(const char *query, const char *key, char *dst, size_t dstsz,
    size_t *outlen, int readable)
{
	const char	*p = query, *amp, *eq, *val = NULL;
	size_t		 klen = strlen(key), flen, vlen = 0;
	int		 found = 0, is;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		flen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', flen);
		is = field_name_is(p, eq != NULL ? (size_t)(eq - p) : flen, key, klen);
		if (is > 1 && !readable)
			return is;
		if (is == 1) {
			if (found)
				return QUERY_REPEATED;
			found = 1;
			val = eq != NULL ? eq + 1 : p + flen;
			vlen = eq != NULL ? flen - (size_t)(eq - p) - 1 : 0;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	if (!found)
		return 0;
	if (pct_decode(dst, dstsz, val, vlen, 1, outlen) == -1)
		return -1;
	return 1;
}

int
query_get(const char *query, const char *key, char *dst, size_t dstsz,
    size_t *outlen)
{
	return query_find(query, key, dst, dstsz, outlen, 0);
}

int
query_get_readable(const char *query, const char *key, char *dst,
    size_t dstsz, size_t *outlen)
{
	return query_find(query, key, dst, dstsz, outlen, 1);
}
