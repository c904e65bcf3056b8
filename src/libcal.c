/*
 * libcal.c: the pure part of the LibCal-compatible API (see libcal.h and
 * api_libcal.c): its query, its lists of ids, and the client credentials
 * of a token request (its body, or an Authorization: Basic header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "i18n.h"
#include "json.h"
#include "libcal.h"
#include "query.h"
#include "validate.h"

/*
 * "1,2,3" (positive ids, at most LIBCAL_IDS_MAX) to a PostgreSQL array
 * literal "{1,2,3}" in dst.  Returns 0, -1 when malformed or when dst is
 * too small, or LIBCAL_IDS_TOO_MANY: a client told "not found" for a list
 * one id too long looks for the wrong mistake.
 */
int
libcal_id_list(const char *s, size_t len, char *dst, size_t dstsz)
{
	const char	*p = s, *end = s + len, *comma;
	long long	 id;
	size_t		 o = 0, n = 0;
	int		 w;

	if (dstsz < 3 || len == 0)
		return -1;
	dst[o++] = '{';
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (++n > LIBCAL_IDS_MAX)
			return LIBCAL_IDS_TOO_MANY;
		if (parse_int(p, (size_t)(comma - p), 1, ID_MAX, &id) == -1)
			return -1;
		w = snprintf(dst + o, dstsz - o, "%s%lld", n > 1 ? "," : "",
		    id);
		if (w < 0 || (size_t)w >= dstsz - o)
			return -1;
		o += (size_t)w;
		if (comma == end)
			break;
		p = comma + 1;
	}
	if (o + 2 > dstsz)
		return -1;
	dst[o++] = '}';
	dst[o] = '\0';
	return 0;
}

enum { P_CAL_ID, P_DAYS, P_LIMIT, P_PAGE, P_DATE, P_CATEGORY, P_SEARCH,
    P__MAX };

static const struct query_param params[P__MAX] = {
	[P_CAL_ID] = { "cal_id", Q_TEXT, 0, LIBCAL_IDS_MAX * 20 - 1, 0, NULL,
	    NULL },
	[P_DAYS] = { "days", Q_INT, 0, LIBCAL_NUM_MAX, LIBCAL_DAYS_DEFAULT,
	    NULL, NULL },
	[P_LIMIT] = { "limit", Q_INT, 1, LIBCAL_NUM_MAX, LIBCAL_LIMIT_DEFAULT,
	    NULL, NULL },
	[P_PAGE] = { "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	[P_DATE] = { "date", Q_TEXT, 0, 10, 0, NULL, NULL },
	[P_CATEGORY] = { "category", Q_TEXT, 0, LIBCAL_IDS_MAX * 20 - 1, 0,
	    NULL, NULL },
	[P_SEARCH] = { "search", Q_TEXT, 0, LIBCAL_SEARCH_MAX, 0, NULL, NULL },
};

/* The 400's message for params[bad] (v, its value): a date or a list of
 * ids says what it must be, in the language in use; any other as
 * query_message(). */
static void
query_error(size_t bad, const struct query_value *v, char *msg, size_t msgsz)
{
	if (!v->repeated && !v->name_fault && bad == P_DATE) {
		snprintf(msg, msgsz, "%s", "date: YYYY-MM-DD");
		return;
	}
	if (v->repeated || v->name_fault ||
	    (bad != P_CAL_ID && bad != P_CATEGORY)) {
		query_message(&params[bad], v, msg, msgsz);
		return;
	}
	snprintf(msg, msgsz, bad == P_CAL_ID ? _("cal_id: at most %d "
	    "calendar ids, comma-separated") : _("category: at most %d "
	    "category ids, comma-separated"), LIBCAL_IDS_MAX);
}

/*
 * LibCal's date, s (len bytes), as YYYY-MM-DD in dst (11 bytes): LibCal
 * takes the month and the day with one digit too ("2026-3-1"), as .NET's
 * "yyyy-M-d" and PHP's "Y-n-j" write them.  Returns 0, or -1 for anything
 * else or a day the calendar does not have.
 */
static int
libcal_date(const char *s, size_t len, char *dst)
{
	const char	*dash;
	long long	 y, m, d;
	size_t		 mlen, dlen;

	if (len < 8 || len > 10 || s[4] != '-' ||
	    (dash = memchr(s + 5, '-', len - 5)) == NULL)
		return -1;
	mlen = (size_t)(dash - (s + 5));
	dlen = len - mlen - 6;
	if (mlen < 1 || mlen > 2 || dlen < 1 || dlen > 2 ||
	    s[5] == '-' || dash[1] == '-' ||
	    parse_int(s, 4, 1900, 9999, &y) == -1 ||
	    parse_int(s + 5, mlen, 1, 12, &m) == -1 ||
	    parse_int(dash + 1, dlen, 1, 31, &d) == -1)
		return -1;
	snprintf(dst, 11, "%04lld-%02lld-%02lld", y, m, d);
	return date_valid(dst, 10) ? 0 : -1;
}

int
libcal_query_parse(const char *query, struct libcal_query *q, char *msg,
    size_t msgsz)
{
	struct query_value	 v[P__MAX];
	char			 cal[LIBCAL_IDS_SZ];
	size_t			 bad;

	q->date[0] = q->cats[0] = q->search[0] = '\0';
	if (query_parse(query, params, P__MAX, v, &bad) == -1) {
		query_error(bad, &v[bad], msg, msgsz);
		return -1;
	}
	/* LibCal: the date and the days after it (0: the date only); more
	 * than a year is a year. */
	q->days = v[P_DAYS].num > LIBCAL_DAYS_MAX ? LIBCAL_DAYS_MAX :
	    v[P_DAYS].num;
	q->limit = v[P_LIMIT].num > LIBCAL_LIMIT_MAX ? LIBCAL_LIMIT_MAX :
	    v[P_LIMIT].num;
	q->offset = (v[P_PAGE].num - 1) * q->limit;
	if (v[P_DATE].present && libcal_date(v[P_DATE].text, v[P_DATE].len,
	    q->date) == -1) {
		q->date[0] = '\0';
		query_error(P_DATE, &v[P_DATE], msg, msgsz);
		return -1;
	}
	if (v[P_SEARCH].present)
		memcpy(q->search, v[P_SEARCH].text, v[P_SEARCH].len + 1);
	/* One calendar: its id may be any, as a client configured for
	 * LibCal sends its old one, but it must be an id list. */
	if (v[P_CAL_ID].present && libcal_id_list(v[P_CAL_ID].text,
	    v[P_CAL_ID].len, cal, sizeof(cal)) != 0) {
		query_error(P_CAL_ID, &v[P_CAL_ID], msg, msgsz);
		return -1;
	}
	if (v[P_CATEGORY].present && libcal_id_list(v[P_CATEGORY].text,
	    v[P_CATEGORY].len, q->cats, sizeof(q->cats)) != 0) {
		query_error(P_CATEGORY, &v[P_CATEGORY], msg, msgsz);
		return -1;
	}
	return 0;
}

/*
 * Copies a value into a credentials field; too long leaves it "".  A value
 * that is not one line of text (invalid UTF-8, a NUL, a control character)
 * refuses the request, as the form's query_parse() does: the database
 * would refuse invalid UTF-8 itself, as an error, after a round trip.
 * Returns 0 or -1.
 */
static int
put(char *dst, size_t dstsz, const char *val, size_t len)
{
	dst[0] = '\0';
	if (len >= dstsz || len == 0)
		return 0;
	if (!text_valid(val, len, dstsz - 1))
		return -1;
	memcpy(dst, val, len);
	dst[len] = '\0';
	return 0;
}

static const char *const cred_keys[] = { "grant_type", "client_id",
    "client_secret" };

static int
cred_put(struct libcal_credentials *c, size_t i, const char *val, size_t len)
{
	if (i == 0)
		return put(c->grant_type, sizeof(c->grant_type), val, len);
	if (i == 1)
		return put(c->client_id, sizeof(c->client_id), val, len);
	return put(c->client_secret, sizeof(c->client_secret), val, len);
}

/*
 * c->why: "NAME what" when the member's name is one an error_description
 * may hold (RFC 6749 5.2: %x20-21 / %x23-5B / %x5D-7E) and is short, else
 * "a member what".
 */
static void
why_member(struct libcal_credentials *c, const char *name, const char *what)
{
	const unsigned char	*u;

	for (u = (const unsigned char *)name; *u != '\0'; u++)
		if (*u < 0x20 || *u > 0x7e || *u == '"' || *u == '\\')
			break;
	if (*u != '\0' || u == (const unsigned char *)name ||
	    strlen(name) > 40)
		name = "a member";
	snprintf(c->why, sizeof(c->why), "%s %s", name, what);
}

/* What json_read_object() found, in the words of an error_description. */
static const char *const read_why[] = {
	[JSON_READ_OK] = "",
	[JSON_READ_EMPTY] = "send the token request as the body",
	[JSON_READ_UTF8] = "the body is not valid UTF-8",
	[JSON_READ_NUL] = "the body contains a NUL character, raw or escaped",
	[JSON_READ_MALFORMED] = "the body is not well-formed JSON",
	[JSON_READ_NOT_OBJECT] = "the body must be a JSON object",
	[JSON_READ_DUPLICATE] = "is given more than once; give it once",
	[JSON_READ_TOO_LARGE] = "is a number too large",
	[JSON_READ_INEXACT] = ("is a number that cannot be read exactly: "
	    "too small, or too many digits"),
};

static int
cred_json(const char *body, size_t len, struct libcal_credentials *c)
{
	cJSON		*root, *v;
	const char	*name;
	size_t		 i;
	enum json_read	 r;
	int		 rc = -1;

	r = json_read_object(&body, &len, &root, &name);
	if (r >= JSON_READ_DUPLICATE)	/* the ones that name a member */
		why_member(c, name, read_why[r]);
	else if (r != JSON_READ_OK)
		snprintf(c->why, sizeof(c->why), "%s", read_why[r]);
	if (r != JSON_READ_OK)
		goto done;
	for (i = 0; i < 3; i++) {
		v = cJSON_GetObjectItemCaseSensitive(root, cred_keys[i]);
		/* client_id is a number in some clients' JSON */
		if (cJSON_IsString(v)) {
			if (cred_put(c, i, v->valuestring,
			    strlen(v->valuestring)) == -1)
				goto done;
		} else if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
		    v->valuedouble <= (double)LIBCAL_NUM_MAX &&
		    v->valuedouble == (double)(long long)v->valuedouble) {
			char	 num[24];
			int	 n = snprintf(num, sizeof(num), "%lld",
				    (long long)v->valuedouble);

			cred_put(c, i, num, (size_t)n);
		} else if (v != NULL && !cJSON_IsNull(v))
			goto done;
	}
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

static int
cred_form(const char *body, struct libcal_credentials *c)
{
	static const struct query_param keys[3] = {
		{ "grant_type", Q_TEXT, 0, 31, 0, NULL, NULL },
		{ "client_id", Q_TEXT, 0, 31, 0, NULL, NULL },
		{ "client_secret", Q_TEXT, 0, LIBCAL_SECRET_MAX, 0, NULL, NULL },
	};
	struct query_value	 v[3];
	size_t			 bad, i;

	if (query_parse(body, keys, 3, v, &bad) == -1)
		return -1;
	for (i = 0; i < 3; i++)
		if (cred_put(c, i, v[i].text, v[i].present ? v[i].len : 0) ==
		    -1)
			return -1;
	return 0;
}

/* RFC 9110 5.6.2's tchar: a token's characters. */
static int
is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' &&
	    (ch | 0x20) <= 'z') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~",
	    ch) != NULL);
}

/* Past the spaces and tabs at p, up to end. */
static const char *
skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * The parameter want of a header's value, from the parameters [p, end)
 * after its type (RFC 9110 5.6.6: "; name=value", OWS around ';' and
 * '=', the value a token or a quoted string, a backslash quoting the next
 * character), the names in any case, the others passed over.  Returns 0
 * with its value in dst ("" when it is absent), or -1 when the parameters
 * are malformed, give want twice, or its value does not fit dstsz.
 */
static int
param_value(const char *p, const char *end, const char *want, char *dst,
    size_t dstsz)
{
	const char	*k;
	size_t		 n, wlen = strlen(want);
	int		 mine, found = 0;

	dst[0] = '\0';
	for (p = skip_ows(p, end); p < end; p = skip_ows(p, end)) {
		if (*p++ != ';')
			return -1;
		for (k = p = skip_ows(p, end); p < end &&
		    is_tchar((unsigned char)*p); p++)
			;
		mine = (size_t)(p - k) == wlen && strncasecmp(k, want, wlen) == 0;
		if (p == k || (p = skip_ows(p, end)) == end || *p++ != '=' ||
		    (found += mine) > 1)
			return -1;
		p = skip_ows(p, end);
		n = 0;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++, n++) {
				if (*p == '\\' && ++p == end)
					break;
				if (mine && n + 1 < dstsz)
					dst[n] = *p;
			}
			if (p++ == end)
				return -1;	/* no closing quote */
		} else {
			for (; p < end && is_tchar((unsigned char)*p); p++, n++)
				if (mine && n + 1 < dstsz)
					dst[n] = *p;
			if (n == 0)
				return -1;
		}
		if (mine) {
			if (n + 1 > dstsz)
				return -1;
			dst[n] = '\0';
		}
	}
	return 0;
}

/*
 * "--" and the boundary parameter of a multipart/form-data media type
 * (RFC 2046: 1 to 70 characters) in dst; its length, or 0 when it has
 * none, or its parameters are malformed.
 */
static size_t
boundary_of(const char *ctype, char *dst, size_t dstsz)
{
	size_t	 n;

	if (dstsz < 3 || param_value(ctype + 19, ctype + strlen(ctype),
	    "boundary", dst + 2, dstsz - 2) == -1 ||
	    (n = strlen(dst + 2)) == 0 || n > 70)
		return 0;
	dst[0] = dst[1] = '-';
	return n + 2;
}

/*
 * The name of a part of multipart/form-data, from its headers [p, end)
 * (CRLF-separated lines): the name parameter of its Content-Disposition:
 * form-data (RFC 7578 4.2), as a standard parser reads one: the header's
 * name in any case, the rest of the part's headers passed over.  Returns
 * 0 with the name in dst ("" for a part without one, which names
 * nothing), or -1 when the header is given twice, is of another type than
 * form-data, or its parameters are malformed or give name twice.
 */
static int
part_name(const char *p, const char *end, char *dst, size_t dstsz)
{
	const char	*line, *eol;
	int		 seen = 0;

	dst[0] = '\0';
	for (line = p; line < end; line = eol + 2) {
		if ((eol = memmem(line, (size_t)(end - line), "\r\n", 2)) ==
		    NULL)
			eol = end;
		if ((size_t)(eol - line) < 20 ||
		    strncasecmp(line, "Content-Disposition:", 20) != 0)
			continue;
		p = skip_ows(line + 20, eol);
		if (seen++ || (size_t)(eol - p) < 9 ||
		    strncasecmp(p, "form-data", 9) != 0 ||
		    param_value(p + 9, eol, "name", dst, dstsz) == -1)
			return -1;
	}
	return 0;
}

/*
 * multipart/form-data (RFC 7578): each part between "--boundary" lines,
 * headers up to an empty line, its name in Content-Disposition
 * (part_name()); each of the three names at most once.
 */
static int
cred_multipart(const char *ctype, const char *body, size_t len,
    struct libcal_credentials *c)
{
	char		 delim[80], name[40];
	const char	*p, *end = body + len, *hdr_end, *next;
	size_t		 dlen, i;
	int		 seen[3] = { 0, 0, 0 };

	if ((dlen = boundary_of(ctype, delim, sizeof(delim))) == 0)
		return -1;
	if ((p = memmem(body, len, delim, dlen)) == NULL)
		return -1;
	for (;;) {
		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;		/* the closing delimiter */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		if ((hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) ==
		    NULL)
			return -1;
		if ((next = memmem(hdr_end, (size_t)(end - hdr_end), delim,
		    dlen)) == NULL || next - hdr_end < 6 || next[-2] != '\r' ||
		    next[-1] != '\n')
			return -1;
		if (part_name(p, hdr_end, name, sizeof(name)) == -1) {
			snprintf(c->why, sizeof(c->why), "%s", "a part's "
			    "Content-Disposition is not form-data with one name");
			return -1;
		}
		for (i = 0; i < 3; i++)
			if (strcmp(name, cred_keys[i]) == 0 && (seen[i]++ ||
			    cred_put(c, i, hdr_end + 4,
			    (size_t)(next - 2 - (hdr_end + 4))) == -1))
				return -1;	/* twice (RFC 6749 3.2), or not text */
		p = next;
	}
}

int
libcal_credentials(const char *ctype, const char *body, size_t len,
    struct libcal_credentials *c)
{
	c->grant_type[0] = c->client_id[0] = c->client_secret[0] = '\0';
	c->why[0] = '\0';
	if (media_type_is(ctype, "application/json"))
		return cred_json(body, len, c);
	if (media_type_is(ctype, "application/x-www-form-urlencoded"))
		return strlen(body) == len ? cred_form(body, c) : -1;
	if (media_type_is(ctype, "multipart/form-data"))
		return cred_multipart(ctype, body, len, c);
	return -1;
}

/* The value of a base64 digit (RFC 4648 section 4), -1 for another byte. */
static int
b64_digit(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Decodes len bytes of base64, with its padding or without, into dst
 * (NUL-terminated, *outlen bytes before it).  Returns 0, or -1 when it is
 * not base64 in its one canonical form or does not fit dstsz.
 */
static int
b64_decode(char *dst, size_t dstsz, const char *src, size_t len,
    size_t *outlen)
{
	unsigned int	 acc = 0;
	size_t		 i, o = 0, pad = 0;
	int		 v, bits = 0;

	while (len > 0 && src[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_digit((unsigned char)src[i])) == -1)
			return -1;
		acc = acc << 6 | (unsigned int)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o + 1 >= dstsz)
				return -1;
			dst[o++] = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0 || dstsz == 0)	/* bits the encoder never sets */
		return -1;
	dst[o] = '\0';
	*outlen = o;
	return 0;
}

/* One form-urlencoded part of Basic credentials, decoded into dst: at
 * most max characters of one line of text.  Returns 0 or -1. */
static int
basic_part(char *dst, size_t dstsz, const char *src, size_t len, size_t max)
{
	size_t	 n;

	if (pct_decode(dst, dstsz, src, len, 1, &n) == -1 ||
	    !text_valid(dst, n, max)) {
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

int
libcal_basic(const char *authorization, struct libcal_credentials *c)
{
	char		 raw[LIBCAL_BASIC_MAX + 1];
	const char	*p, *colon;
	size_t		 len, n;
	int		 rc = -1;

	if (authorization == NULL || strncasecmp(authorization, "Basic", 5) != 0 ||
	    (authorization[5] != ' ' && authorization[5] != '\0'))
		return 1;
	for (p = authorization + 5; *p == ' '; p++)
		;
	len = strlen(p);
	c->client_id[0] = c->client_secret[0] = '\0';
	if (len == 0 || len > (LIBCAL_BASIC_MAX + 2) / 3 * 4 ||
	    b64_decode(raw, sizeof(raw), p, len, &n) == -1)
		goto done;
	if ((colon = memchr(raw, ':', n)) == NULL)
		goto done;
	if (basic_part(c->client_id, sizeof(c->client_id), raw,
	    (size_t)(colon - raw), sizeof(c->client_id) - 1) == -1 ||
	    basic_part(c->client_secret, sizeof(c->client_secret), colon + 1,
	    n - (size_t)(colon - raw) - 1, LIBCAL_SECRET_MAX) == -1) {
		c->client_id[0] = c->client_secret[0] = '\0';
		goto done;
	}
	rc = 0;
done:
	explicit_bzero(raw, sizeof(raw));
	return rc;
}
