/*
 * json.c: JSON output helpers and row renderers (see json.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "validate.h"

static cJSON *
must(cJSON *j)
{
	if (j == NULL)
		fatalx("out of memory building JSON");
	return j;
}

cJSON *
json_new_object(void)
{
	return must(cJSON_CreateObject());
}

cJSON *
json_add_object(cJSON *parent, const char *name)
{
	return must(cJSON_AddObjectToObject(parent, name));
}

cJSON *
json_add_array(cJSON *parent, const char *name)
{
	return must(cJSON_AddArrayToObject(parent, name));
}

void
json_add_string(cJSON *parent, const char *name, const char *value)
{
	must(cJSON_AddStringToObject(parent, name, value));
}

void
json_add_string_or_null(cJSON *parent, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		json_add_null(parent, name);
	else
		json_add_string(parent, name, value);
}

void
json_add_number(cJSON *parent, const char *name, double value)
{
	must(cJSON_AddNumberToObject(parent, name, value));
}

void
json_add_bool(cJSON *parent, const char *name, int value)
{
	must(cJSON_AddBoolToObject(parent, name, value));
}

void
json_add_null(cJSON *parent, const char *name)
{
	must(cJSON_AddNullToObject(parent, name));
}

/* JSON text from the database as a member; an empty one if it is not of
 * the type wanted (array or object). */
static void
add_parsed(cJSON *parent, const char *name, const char *text, int array)
{
	cJSON	*v = cJSON_Parse(text);

	if (v == NULL || (array ? !cJSON_IsArray(v) : !cJSON_IsObject(v))) {
		cJSON_Delete(v);
		v = must(array ? cJSON_CreateArray() : cJSON_CreateObject());
	}
	cJSON_AddItemToObject(parent, name, v);
}

void
json_add_array_text(cJSON *parent, const char *name, const char *text)
{
	add_parsed(parent, name, text, 1);
}

void
json_add_object_text(cJSON *parent, const char *name, const char *text)
{
	add_parsed(parent, name, text, 0);
}

/* The public page of an event (slug NULL: the list), on EVENTBOX_BASE_URL. */
void
json_add_event_url(cJSON *parent, const char *name, const char *slug)
{
	struct buf	 url = BUF_INIT;

	buf_printf(&url, "%s/events%s%s", cfg.base_url, slug != NULL ? "/" : "",
	    slug != NULL ? slug : "");
	json_add_string(parent, name, url.data);
	buf_free(&url);
}

/*
 * Prints into the output buffer's own storage, which a worker keeps from
 * request to request: no allocation, no copy.  cJSON fails when the room is
 * too small, so the room doubles until it fits (once, for a large answer).
 */
void
json_write(struct buf *out, const cJSON *j)
{
	size_t	 room = 1024;

	for (;;) {
		buf_grow(out, room);
		if (cJSON_PrintPreallocated((cJSON *)j, out->data + out->len,
		    (int)(out->cap - out->len), 0)) {
			out->len += strlen(out->data + out->len);
			return;
		}
		if (room > (size_t)1 << 30)
			fatalx("JSON answer too large");
		room = (out->cap - out->len) * 2;
	}
}

/*
 * Nonzero when one of the eight bytes in v is one put_escaped() escapes:
 * below 0x20, '"' or '\\'.  Each test is the "has a zero byte" one
 * (Hacker's Delight 6-1): x - 0x01... borrows into the top bit of a byte
 * below 1 (or 0x20), and & ~v keeps it only where the byte itself is
 * below 0x80 (XOR with '"' or '\\' keeps the top bit).  A byte's flag may
 * be a borrow from a lower one, but only when that one is flagged, so
 * "any" is exact, whatever the byte order.
 */
static uint64_t
escapes_in(uint64_t v)
{
	const uint64_t	 ones = 0x0101010101010101u;

	return ((v - ones * 0x20) | ((v ^ ones * '"') - ones) |
	    ((v ^ ones * '\\') - ones)) & ~v & ones * 0x80;
}

/*
 * s inside a JSON string, escaped as cJSON escapes one: the quote, the
 * backslash and every control character (\b \t \n \f \r, else \u00xx);
 * the rest, UTF-8 included, as it is.
 */
static void
put_escaped(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	static const char	 named[] = "btn\0fr";	/* \b \t \n \v \f \r */
	size_t			 i, run = 0, len = strlen(s);
	uint64_t		 v;
	unsigned char		 c;

	for (i = 0; i < len; i++) {
		/* A description is some 1,500 bytes with a few to escape:
		 * eight at a time where none of them is one. */
		if (len - i >= 8) {
			memcpy(&v, s + i, 8);
			if (escapes_in(v) == 0) {
				i += 7;
				continue;
			}
		}
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		buf_addc(b, '\\');
		if (c == '"' || c == '\\')
			buf_addc(b, (char)c);
		else if (c >= '\b' && c <= '\r' && named[c - '\b'] != '\0')
			buf_addc(b, named[c - '\b']);
		else {
			buf_adds(b, "u00");
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
	buf_add(b, s + run, len - run);
}

void
json_put_string(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	put_escaped(b, s);
	buf_addc(b, '"');
}

/* An integer column as its text (the database's digits, exact); a NULL as
 * 0, as cJSON printed it. */
static void
put_integer(struct buf *b, const char *text)
{
	size_t	 n = strspn(text + (*text == '-'), "0123456789");

	if (n == 0 || text[(*text == '-') + n] != '\0')
		buf_addc(b, '0');
	else
		buf_adds(b, text);
}

/* JSON text the database made (array_to_json(), jsonb): an array as it
 * is, anything else (a NULL) as []. */
static void
put_array_text(struct buf *b, const char *text)
{
	buf_adds(b, *text == '[' ? text : "[]");
}

/* An event's public fields in the order of the answer, each named as its
 * column (or read from the columns `col` and `off`); never the online URL
 * (the view has none). */
static const struct {
	const char	*name;
	enum { F_STRING, F_INTEGER, F_BOOL, F_ARRAY, F_UTC, F_LOCAL,
	    F_STATE } kind;
	const char	*col, *off;
} event_fields[] = {
	{ "id", F_INTEGER, NULL, NULL }, { "slug", F_STRING, NULL, NULL },
	{ "title", F_STRING, NULL, NULL },
	{ "description", F_STRING, NULL, NULL },
	{ "presenter", F_STRING, NULL, NULL },
	{ "format", F_STRING, NULL, NULL },
	{ "location", F_STRING, NULL, NULL },
	{ "categories", F_ARRAY, NULL, NULL },
	{ "organizer", F_STRING, NULL, NULL },
	{ "accessibility_contact", F_STRING, NULL, NULL },
	{ "audience", F_STRING, NULL, NULL },
	{ "learning_outcomes", F_ARRAY, NULL, NULL },
	/* the language staff wrote the texts above in */
	{ "language", F_STRING, NULL, NULL },
	{ "starts_at", F_UTC, "starts_epoch", NULL },
	{ "ends_at", F_UTC, "ends_epoch", NULL },
	{ "timezone", F_STRING, NULL, NULL },
	{ "starts_local", F_LOCAL, "starts_epoch", "starts_offset" },
	{ "ends_local", F_LOCAL, "ends_epoch", "ends_offset" },
	{ "status", F_STRING, NULL, NULL },
	{ "capacity", F_INTEGER, NULL, NULL },
	{ "seats_available", F_INTEGER, NULL, NULL },
	{ "waitlist_available", F_BOOL, NULL, NULL },
	/* and registration_open, true when the state is "open" */
	{ "registration_state", F_STATE, NULL, NULL },
	{ "registration_opens_at", F_UTC, "opens_epoch", NULL },
	{ "registration_closes_at", F_UTC, "closes_epoch", NULL },
};

/*
 * The database's float8 text of a number of seconds as whole seconds,
 * rounded down (nearest 0) or to the nearest, halves away from zero
 * (nearest 1); -1 when it is no finite number or over `limit`.  Its usual
 * digits are read here, anything else by strtod() (which, with snprintf()
 * for the text, made an event's six times twice as dear in the worker:
 * 12,000 instructions against 6,600, callgrind).
 */
static int
whole_seconds(const char *text, int nearest, double limit, long long *out)
{
	const char	*p = text;
	char		*end;
	long long	 v = 0;
	double		 d;
	int		 neg = 0, n = 0, up = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p >= '0' && *p <= '9' && n < 15; p++, n++)
		v = v * 10 + (*p - '0');
	if (n > 0 && *p == '.' && p[1] >= '0' && p[1] <= '9') {
		up = nearest ? p[1] >= '5' : 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (!nearest && neg && *p != '0')
				up = 1;			/* floor: away from 0 */
	}
	if (n > 0 && *p == '\0') {
		v += up;
		*out = neg ? -v : v;
		return (double)v > limit ? -1 : 0;
	}
	d = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || !isfinite(d) || fabs(d) > limit)
		return -1;
	if (nearest)
		*out = (long long)(d < 0 ? d - 0.5 : d + 0.5);
	else {
		*out = (long long)d;			/* toward 0 */
		if ((double)*out > d)
			(*out)--;
	}
	return 0;
}

/* v (>= 0) in decimal, at least width digits, at p; past them. */
static char *
put_digits(char *p, long long v, int width)
{
	char	 tmp[24];
	int	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(tmp));
	while (n < width)
		tmp[n++] = '0';
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

int
json_iso_time(char *out, size_t size, const char *epoch, const char *offset)
{
	struct tm	 tm;
	long long	 e, off = 0, a;
	time_t		 t;
	char		 text[64], *p = text;

	if (whole_seconds(epoch, 0, 1e14, &e) == -1 ||
	    (offset != NULL && whole_seconds(offset, 1, 86400, &off) == -1))
		return -1;
	t = (time_t)(e + off);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900)
		return -1;
	p = put_digits(p, tm.tm_year + 1900LL, 4);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	if (offset == NULL)
		*p++ = 'Z';
	else {
		a = off < 0 ? -off : off;
		*p++ = off < 0 ? '-' : '+';
		p = put_digits(p, a / 3600, 2);
		*p++ = ':';
		p = put_digits(p, a % 3600 / 60, 2);
	}
	if ((size_t)(p - text) >= size)
		return -1;
	memcpy(out, text, (size_t)(p - text));
	out[p - text] = '\0';
	return 0;
}

/*
 * One event (above), its page's url and, for one event rather than the
 * list, the questions of its form, written as compact JSON text straight
 * into b: no tree to build, print and free (every GET writes one, the list
 * up to a hundred; docs/PERFORMANCE.md).  Keys are the literal names
 * above, strings go through json_put_string(), numbers and the database's
 * JSON arrays as their text.
 */
void
json_put_event(struct buf *b, const PGresult *res, int row)
{
	const char	*v, *col, *seen[sizeof(event_fields) /
			    sizeof(event_fields[0])];
	char		 when[48];
	size_t		 i, j;

	buf_addc(b, '{');
	for (i = 0; i < sizeof(event_fields) / sizeof(event_fields[0]); i++) {
		col = event_fields[i].col;
		/* a local time's instant is its UTC field's, read already:
		 * the columns are read in their order (db_value()) */
		for (j = 0; event_fields[i].kind == F_LOCAL && j < i; j++)
			if (event_fields[j].kind == F_UTC &&
			    strcmp(event_fields[j].col, col) == 0)
				break;
		if (event_fields[i].kind == F_LOCAL && j < i)
			v = seen[j];
		else
			v = db_value(res, row, col != NULL ? col :
			    event_fields[i].name);
		seen[i] = v;
		buf_adds(b, i > 0 ? ",\"" : "\"");
		buf_adds(b, event_fields[i].name);
		buf_adds(b, "\":");
		switch (event_fields[i].kind) {
		case F_STRING:
			json_put_string(b, v);
			break;
		case F_INTEGER:
			put_integer(b, v);
			break;
		case F_BOOL:
			buf_adds(b, strcmp(v, "t") == 0 ? "true" : "false");
			break;
		case F_ARRAY:
			put_array_text(b, v);
			break;
		case F_UTC:
		case F_LOCAL:
			if (json_iso_time(when, sizeof(when), v,
			    event_fields[i].off == NULL ? NULL :
			    db_value(res, row, event_fields[i].off)) == -1)
				buf_adds(b, "null");
			else
				json_put_string(b, when);
			break;
		case F_STATE:
			json_put_string(b, v);
			buf_adds(b, strcmp(v, "open") == 0 ?
			    ",\"registration_open\":true" :
			    ",\"registration_open\":false");
			break;
		}
	}
	/* its page, as json_add_event_url() makes it */
	buf_adds(b, ",\"url\":\"");
	put_escaped(b, cfg.base_url);
	buf_adds(b, "/events/");
	put_escaped(b, db_value(res, row, "slug"));
	buf_addc(b, '"');
	if (PQfnumber(res, "questions") >= 0) {
		buf_adds(b, ",\"questions\":");
		put_array_text(b, db_value(res, row, "questions"));
	}
	buf_addc(b, '}');
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name given twice below item (NULL if none); the first
 * member too large for a double goes in *big while none is there yet. */
static const char *
walk(const cJSON *item, const char *name, const char **big)
{
	const cJSON	*c;
	const char	*dup, **names, *few[16];
	size_t		 n = 0, i;

	if (cJSON_IsNumber(item) && !isfinite(item->valuedouble) &&
	    *big == NULL)
		*big = name;
	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return NULL;
	for (c = item->child; c != NULL; c = c->next, n++)
		if ((dup = walk(c, c->string != NULL ? c->string : name,
		    big)) != NULL)
			return dup;
	if (!cJSON_IsObject(item) || n < 2)
		return NULL;
	/* Sorted, so a body of many names costs n log n, not n squared; a
	 * registration's few names need no allocation. */
	names = n <= sizeof(few) / sizeof(few[0]) ? few :
	    calloc(n, sizeof(*names));
	if (names == NULL)
		fatalx("out of memory checking JSON");
	for (c = item->child, i = 0; c != NULL; c = c->next)
		names[i++] = c->string;
	qsort(names, n, sizeof(*names), by_name);
	for (i = 1, dup = NULL; i < n && dup == NULL; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = names[i];
	if (names != few)
		free(names);
	return dup;
}

enum json_problem
json_body_problem(const cJSON *item, const char **name)
{
	const char	*big = NULL;

	if ((*name = walk(item, "body", &big)) != NULL)
		return JSON_DUPLICATE;
	if ((*name = big) != NULL)
		return JSON_TOO_LARGE;
	return JSON_OK;
}

const char *
json_duplicate_key(const cJSON *item)
{
	const char	*name;

	return json_body_problem(item, &name) == JSON_DUPLICATE ? name : NULL;
}

/* The start of the next number in the JSON text [p, end), past strings
 * (whose names and values may hold digits); end when there is none. */
static const char *
next_number(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
		} else if (*p == '-' || (*p >= '0' && *p <= '9'))
			return p;
	}
	return end;
}

/* Whether the JSON number s (len bytes, well-formed) is exactly the whole
 * number d.  Its digits from the first non-zero one to the last make a
 * whole number, times ten to the power of its exponent, less the digits
 * after the point, plus the zeros after that last digit: the number is
 * whole when that power is not negative, and then exactly d when d, in
 * full, is those digits and that many zeros. */
static int
is_exactly(const char *s, size_t len, double d)
{
	char		 want[400];
	const char	*end = s + len, *mant, *first = NULL, *last = NULL,
			*q, *w;
	long		 exp = 0, after_point = 0, zeros = 0, digits = 0;
	int		 point = 0, neg_exp = 0;

	mant = s + (*s == '-');
	for (q = mant; q < end && *q != 'e' && *q != 'E'; q++) {
		if (*q == '.') {
			point = 1;
			continue;
		}
		after_point += point;
		if (*q != '0') {
			if (first == NULL)
				first = q;
			last = q;
			zeros = 0;
		} else
			zeros++;
	}
	if (first == NULL)
		return d == 0;		/* 0, -0, 0.000, 0e7 */
	if (q < end) {
		q++;
		neg_exp = *q == '-';
		q += *q == '-' || *q == '+';
		for (; q < end; q++)
			if (exp < 100000)
				exp = exp * 10 + (*q - '0');
	}
	exp = (neg_exp ? -exp : exp) - after_point + zeros;
	for (q = first; q <= last; q++)
		digits += *q != '.';
	if (exp < 0 || digits + exp >= (long)sizeof(want) ||
	    snprintf(want, sizeof(want), "%.0f", fabs(d)) != digits + exp)
		return 0;
	for (q = first, w = want; q <= last; q++)
		if (*q != '.' && *q != *w++)
			return 0;
	for (; *w != '\0'; w++)
		if (*w != '0')
			return 0;
	return 1;
}

/* The name of the first whole number below item whose text is another
 * number, or NULL; *p walks the text's numbers in step with the tree's. */
static const char *
walk_numbers(const cJSON *item, const char *name, const char **p,
    const char *end)
{
	const cJSON	*c;
	const char	*bad;
	size_t		 len;

	if (cJSON_IsNumber(item)) {
		*p = next_number(*p, end);
		len = strspn(*p, "-+.0123456789eE");
		if (*p + len > end)
			len = (size_t)(end - *p);
		bad = isfinite(item->valuedouble) &&
		    item->valuedouble == trunc(item->valuedouble) &&
		    !is_exactly(*p, len, item->valuedouble) ? name : NULL;
		*p += len;
		return bad;
	}
	for (c = item->child; c != NULL; c = c->next)
		if ((bad = walk_numbers(c, c->string != NULL ? c->string :
		    name, p, end)) != NULL)
			return bad;
	return NULL;
}

const char *
json_inexact_number(const cJSON *item, const char *text, size_t len)
{
	const char	*p = text;

	return walk_numbers(item, "body", &p, text + len);
}

enum json_read
json_read_object(const char **text, size_t *len, cJSON **out,
    const char **name)
{
	*out = NULL;
	*name = "body";
	/* PowerShell and .NET write a byte order mark; the routes that hand
	 * the text to PostgreSQL pass it the text after it (jsonb refuses
	 * one). */
	if (*len >= 3 && memcmp(*text, "\xEF\xBB\xBF", 3) == 0) {
		*text += 3;
		*len -= 3;
	}
	if (*len == 0)
		return JSON_READ_EMPTY;
	/* A second mark is no JSON: cJSON would pass over it as over the
	 * first, and jsonb refuse the text that still begins with it. */
	if (*len >= 3 && memcmp(*text, "\xEF\xBB\xBF", 3) == 0)
		return JSON_READ_MALFORMED;
	if (!utf8_valid(*text, *len))
		return JSON_READ_UTF8;
	/* cJSON would silently cut a string at a NUL, raw or escaped as
	 * \u0000; an escaped backslash before the letters u0000 is text. */
	if (memchr(*text, '\0', *len) != NULL || json_nul_escape(*text, *len))
		return JSON_READ_NUL;
	/* The length includes the terminating NUL, which cJSON wants to see
	 * to refuse anything but white space after the value. */
	if (json_lenient(*text, *len) || (*out = cJSON_ParseWithLengthOpts(
	    *text, *len + 1, NULL, 1)) == NULL)
		return JSON_READ_MALFORMED;	/* json_lenient(): not JSON,
						 * though cJSON reads it */
	if (!cJSON_IsObject(*out))
		return JSON_READ_NOT_OBJECT;
	switch (json_body_problem(*out, name)) {
	case JSON_DUPLICATE:
		return JSON_READ_DUPLICATE;
	case JSON_TOO_LARGE:
		return JSON_READ_TOO_LARGE;
	case JSON_OK:
		break;
	}
	if ((*name = json_inexact_number(*out, *text, *len)) != NULL)
		return JSON_READ_INEXACT;
	*name = "body";
	return JSON_READ_OK;
}
