/*
 * unit.c: unit tests for the pure code (validation, decoding, routing).
 * Built with ASan+UBSan by `make test`; prints "N passed, M failed".
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "csv.h"
#include "config.h"
#include "csrf.h"
#include "db.h"
#include "form.h"
#include "escape.h"
#include "fields.h"
#include "http.h"
#include "ical.h"
#include "json.h"
#include "libcal.h"
#include "query.h"
#include "router.h"
#include "validate.h"
#include "webhook.h"

#include "check.h"

#define S(x) x, strlen(x)

static void
test_email(void)
{
	CHECK("plain address", email_valid(S("ann@example.org")));
	CHECK("plus and dots", email_valid(S("a.b+c@mail.example.org")));
	CHECK("no at", !email_valid(S("ann.example.org")));
	CHECK("two ats", !email_valid(S("a@b@example.org")));
	CHECK("no dot in domain", !email_valid(S("ann@localhost")));
	CHECK("numeric top-level label", !email_valid(S("a@123.123.123.123")));
	CHECK("digits inside the domain", email_valid(S("ann@mail2.example.org")));
	CHECK("digits in the top-level label", email_valid(S("ann@example.x1")));
	CHECK("space", !email_valid(S("ann @example.org")));
	CHECK("crlf", !email_valid(S("a@b.org\r\nBcc: x@y.org")));
	CHECK("leading dot", !email_valid(S(".a@b.org")));
	CHECK("double dot", !email_valid(S("a..b@b.org")));
	CHECK("hyphen label end", !email_valid(S("a@b-.org")));
	CHECK("empty label", !email_valid(S("a@b..org")));
	CHECK("nul inside", !email_valid("a@b\0.org", 8));
	CHECK("quoted local", !email_valid(S("\"a b\"@b.org")));
}

static void
test_text(void)
{
	CHECK("name", text_valid(S("Ann O'Neil"), 200));
	CHECK("accents", text_valid(S("Zoë Ångström"), 200));
	CHECK("blank", !text_valid(S("   "), 200));
	CHECK("zero-width only", !text_valid(S("\xe2\x80\x8b"), 200));
	CHECK("invisible only", !text_valid(S("\xc2\xa0\xe2\x80\x8c \xe2\x81\xa0"
	    "\xef\xbb\xbf\xe3\x80\x80\xe2\x80\x8f"), 200));
	CHECK("a letter among them", text_valid(S("\xe2\x80\x8b" "A\xc2\xa0"), 200));
	CHECK("hebrew with its mark", text_valid(S("\xd7\x93\xd7\x9f\xe2\x80\x8f"), 200));
	CHECK("newline", !text_valid(S("Ann\nBcc"), 200));
	CHECK("tab", !text_valid(S("Ann\tB"), 200));
	CHECK("C1 control", !text_valid(S("Ann\xc2\x85"), 200));
	CHECK("line separator", !text_valid(S("Ann\xe2\x80\xa8"), 200));
	CHECK("paragraph separator", !text_valid(S("Ann\xe2\x80\xa9"), 200));
	CHECK("right-to-left override", !text_valid(S("Ann\xe2\x80\xaegpj.exe"),
	    200));
	CHECK("left-to-right embedding", !text_valid(S("\xe2\x80\xaa" "Ann"), 200));
	CHECK("first strong isolate", !text_valid(S("Ann\xe2\x81\xa8"), 200));
	CHECK("pop directional isolate", !text_valid(S("Ann\xe2\x81\xa9"), 200));
	CHECK("right-to-left mark stays", text_valid(S("\xd7\xa9\xd7\xa8"
	    "\xe2\x80\x8f (Sara)"), 200));
	CHECK("zero-width non-joiner stays", text_valid(S("\xd9\x85\xdb\x8c"
	    "\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85"),
	    200));
	CHECK("word joiner stays", text_valid(S("Ann\xe2\x81\xa0Lee"), 200));
	CHECK("en dash stays", text_valid(S("Ann \xe2\x80\x93 Lee"), 200));
	CHECK("U+FFFE", !text_valid(S("Ann\xef\xbf\xbeLee"), 200));
	CHECK("U+FFFF", !text_valid(S("Ann\xef\xbf\xbf"), 200));
	CHECK("U+FDD0", !text_valid(S("\xef\xb7\x90" "Ann"), 200));
	CHECK("U+FDEF", !text_valid(S("Ann\xef\xb7\xaf"), 200));
	CHECK("U+1FFFE", !text_valid(S("Ann\xf0\x9f\xbf\xbe"), 200));
	CHECK("U+10FFFF", !text_valid(S("Ann\xf4\x8f\xbf\xbf"), 200));
	CHECK("U+FFFD stays", text_valid(S("Ann\xef\xbf\xbd"), 200));
	CHECK("U+FDCF stays", text_valid(S("Ann\xef\xb7\x8f"), 200));
	CHECK("U+FDF0 stays", text_valid(S("Ann\xef\xb7\xb0"), 200));
	CHECK("U+1F600 stays", text_valid(S("Ann\xf0\x9f\x98\x80"), 200));
	CHECK("U+1FFFD stays", text_valid(S("Ann\xf0\x9f\xbf\xbd"), 200));
	CHECK("too long", !text_valid(S("abcdef"), 5));
	CHECK("chars not bytes", text_valid(S("ééééé"), 5));
	CHECK("json \\u0000", json_nul_escape(S("\"a\\u0000\"")));
	CHECK("json escaped backslash, then u0000",
	    !json_nul_escape(S("\"C:\\\\u0000dir\"")));
	CHECK("json escaped backslash, then \\u0000",
	    json_nul_escape(S("\"\\\\\\u0000\"")));
	CHECK("json \\u0000 cut short", !json_nul_escape(S("\"\\u000")));
	CHECK("json \\u00000 is a NUL and a 0", json_nul_escape(S("\\u00000")));
	CHECK("json strict: numbers", !json_lenient(S(
	    "[0, -0, 5, -12, 0.5, 1e400, 1E+2, 2e-3, -0.0e0, 10]")));
	CHECK("json strict: escapes and text", !json_lenient(S(
	    "{\"a\\\"b\": \"\\\\\", \"t\": \"\\t\\n\", \"x\": \"05 5. \\u00e9\"}")));
	CHECK("json strict: white space", !json_lenient(S(" {\t\"a\"\r\n: 1 } ")));
	CHECK("json lenient: leading zero", json_lenient(S("{\"a\": 05}")));
	CHECK("json lenient: -05", json_lenient(S("[-05]")));
	CHECK("json lenient: 00", json_lenient(S("00")));
	CHECK("json lenient: point at the end", json_lenient(S("[5.]")));
	CHECK("json lenient: point before e", json_lenient(S("[1.e1]")));
	CHECK("json lenient: e without digits", json_lenient(S("[1e+]")));
	CHECK("json lenient: minus alone", json_lenient(S("[-]")));
	CHECK("json lenient: raw tab in a string", json_lenient(S("\"a\tb\"")));
	CHECK("json lenient: raw line break in a name",
	    json_lenient(S("{\"a\nb\": 1}")));
	CHECK("json lenient: vertical tab between tokens",
	    json_lenient(S("{\"a\":\v1}")));
	CHECK("json lenient: cut short in a string", json_lenient(S("\"\x01")));
	CHECK("json strict: cut short after a backslash", !json_lenient(S("\"\\")));
}

static void
test_utf8(void)
{
	CHECK("ascii", utf8_valid(S("hello")));
	CHECK("4-byte", utf8_valid(S("\xf0\x9f\x93\x9a")));
	CHECK("lone continuation", !utf8_valid(S("\x80")));
	CHECK("overlong slash", !utf8_valid(S("\xc0\xaf")));
	CHECK("overlong 3", !utf8_valid(S("\xe0\x80\xaf")));
	CHECK("surrogate", !utf8_valid(S("\xed\xa0\x80")));
	CHECK("above max", !utf8_valid(S("\xf4\x90\x80\x80")));
	CHECK("truncated", !utf8_valid(S("\xe2\x82")));
}

static void
test_tokens_and_keys(void)
{
	CHECK("uuid", token_valid(S("0f8fad5b-d9cb-469f-a165-70867728950e")));
	CHECK("upper", !token_valid(S("0F8FAD5B-D9CB-469F-A165-70867728950E")));
	CHECK("short", !token_valid(S("0f8fad5b-d9cb-469f-a165-70867728950")));
	CHECK("no dashes", !token_valid(S("0f8fad5bd9cb469fa16570867728950e0000")));
	CHECK("idem key", idempotency_key_valid(S("abc-123_XYZ=")));
	CHECK("idem space", !idempotency_key_valid(S("a b")));
	CHECK("idem empty", !idempotency_key_valid(S("")));
	CHECK("slug", slug_valid(S("minimizing-social-media")));
	CHECK("slug digits only", !slug_valid(S("12345")));
	CHECK("slug upper", !slug_valid(S("Abc")));
	CHECK("slug slash", !slug_valid(S("a/b")));
	CHECK("ref id", event_ref_valid(S("42")));
	CHECK("ref zero", !event_ref_valid(S("0")));
	CHECK("ref leading zero", !event_ref_valid(S("042")));
	CHECK("ref plus", !event_ref_valid(S("+42")));
}

static void
test_numbers_and_dates(void)
{
	long long	 n = 0;

	CHECK("int", parse_int(S("42"), 1, 100, &n) == 0 && n == 42);
	CHECK("int range", parse_int(S("101"), 1, 100, &n) == -1);
	CHECK("int junk", parse_int(S("4x"), 1, 100, &n) == -1);
	CHECK("int plus", parse_int(S("+4"), 1, 100, &n) == -1);
	CHECK("id", id_parse(S("42"), &n) == 0 && n == 42);
	CHECK("id leading zero", id_parse(S("042"), &n) == -1);
	CHECK("id zero", id_parse(S("0"), &n) == -1);
	CHECK("id space", id_parse(S(" 42"), &n) == -1);
	CHECK("int huge", parse_int(S("99999999999999999999"), 0,
	    9000000000000000000LL, &n) == -1);
	CHECK("date", date_valid(S("2026-12-10")));
	CHECK("leap", date_valid(S("2028-02-29")));
	CHECK("not leap", !date_valid(S("2026-02-29")));
	CHECK("month 13", !date_valid(S("2026-13-01")));
	CHECK("april 31", !date_valid(S("2026-04-31")));
}

/* A name far longer than any buffer (2,000 "é", encoded) is still read
 * to its end: its last character decides. */
static void
test_long_name(void)
{
	static char	 q[2000 * 6 + 16];
	char		 out[8];
	size_t		 i, len;

	for (i = 0; i < 2000; i++)
		memcpy(q + i * 6, "%C3%A9", 6);
	memcpy(q + i * 6, "=1&q=2", 7);
	CHECK("query long name", query_get(q, "q", out, sizeof(out),
	    &len) == 1 && strcmp(out, "2") == 0);
	memcpy(q + i * 6 - 6, "%0a=1", 6);
	CHECK("query long name, control at its end", query_get(q, "q", out,
	    sizeof(out), &len) == QUERY_NAME_CONTROL);
	memcpy(q + i * 6 - 6, "%C3=1", 6);
	CHECK("query long name, cut character at its end", query_get(q, "q",
	    out, sizeof(out), &len) == QUERY_NAME_UTF8);
}

static void
test_decoding(void)
{
	char	 out[16];
	size_t	 len;

	CHECK("pct", pct_decode(out, sizeof(out), S("a%20b"), 0, &len) == 0 &&
	    strcmp(out, "a b") == 0);
	CHECK("plus", pct_decode(out, sizeof(out), S("a+b"), 1, &len) == 0 &&
	    strcmp(out, "a b") == 0);
	CHECK("nul escape", pct_decode(out, sizeof(out), S("a%00"), 0, &len) == -1);
	CHECK("bad escape", pct_decode(out, sizeof(out), S("a%zz"), 0, &len) == -1);
	CHECK("cut escape", pct_decode(out, sizeof(out), S("a%2"), 0, &len) == -1);
	CHECK("too long", pct_decode(out, 4, S("abcdef"), 0, &len) == -1);
	CHECK("query", query_get("a=1&q=hello+world&z", "q", out, sizeof(out),
	    &len) == 1 && strcmp(out, "hello world") == 0);
	CHECK("query absent", query_get("a=1", "q", out, sizeof(out), &len) == 0);
	CHECK("query prefix", query_get("qq=1", "q", out, sizeof(out), &len) == 0);
	CHECK("query bare", query_get("z", "z", out, sizeof(out), &len) == 1 &&
	    len == 0);
	CHECK("query twice", query_get("q=1&a=2&q=1", "q", out, sizeof(out),
	    &len) == QUERY_REPEATED);
	CHECK("query twice, once bare", query_get("q&q=1", "q", out,
	    sizeof(out), &len) == QUERY_REPEATED);
	CHECK("query name encoded", query_get("%6Cimit=5", "limit", out,
	    sizeof(out), &len) == 1 && strcmp(out, "5") == 0);
	CHECK("query name encoded underscore", query_get("a=1&per%5fpage=7",
	    "per_page", out, sizeof(out), &len) == 1 && strcmp(out, "7") == 0);
	CHECK("query name plus is space", query_get("a+b=1", "a b", out,
	    sizeof(out), &len) == 1 && strcmp(out, "1") == 0);
	CHECK("query name in UTF-8", query_get("caf%C3%A9=2&caf\xc3\xa9x=3",
	    "caf\xc3\xa9", out, sizeof(out), &len) == 1 &&
	    strcmp(out, "2") == 0);
	CHECK("query name encoded, then plain", query_get("%6cimit=5&limit="
	    "500", "limit", out, sizeof(out), &len) == QUERY_REPEATED);
	CHECK("query name plain, then encoded", query_get("limit=5&%6C%69mit"
	    "=500", "limit", out, sizeof(out), &len) == QUERY_REPEATED);
	CHECK("query name encoded longer cousin", query_get("limit%73=5",
	    "limit", out, sizeof(out), &len) == 0);
	CHECK("query name escape", query_get("q=1&100%=1", "q", out,
	    sizeof(out), &len) == QUERY_NAME_ESCAPE &&
	    query_get("a%2=1", "q", out, sizeof(out), &len) ==
	    QUERY_NAME_ESCAPE && query_get("a%zz", "q", out, sizeof(out),
	    &len) == QUERY_NAME_ESCAPE);
	CHECK("query name not UTF-8", query_get("%ff=1", "q", out, sizeof(out),
	    &len) == QUERY_NAME_UTF8 && query_get("a%c3=1", "q", out,
	    sizeof(out), &len) == QUERY_NAME_UTF8 && query_get("%c3%28=1", "q",
	    out, sizeof(out), &len) == QUERY_NAME_UTF8 && query_get("%c0%af",
	    "q", out, sizeof(out), &len) == QUERY_NAME_UTF8 &&
	    query_get("%ed%a0%80=1", "q", out, sizeof(out), &len) ==
	    QUERY_NAME_UTF8 && query_get("\xe9=1", "q", out, sizeof(out),
	    &len) == QUERY_NAME_UTF8);
	CHECK("query name control", query_get("q=1&a%0ab=1", "q", out,
	    sizeof(out), &len) == QUERY_NAME_CONTROL && query_get("%00=1", "q",
	    out, sizeof(out), &len) == QUERY_NAME_CONTROL &&
	    query_get("%7f", "q", out, sizeof(out), &len) ==
	    QUERY_NAME_CONTROL && query_get("%c2%85=1", "q", out, sizeof(out),
	    &len) == QUERY_NAME_CONTROL && query_get("%e2%80%ae=1", "q", out,
	    sizeof(out), &len) == QUERY_NAME_CONTROL);
	/* ?lang= is read past a bad name (router.c words its 400 so). */
	CHECK("query readable past bad names", query_get_readable(
	    "%ff=1&l%61ng=es&a%zz", "lang", out, sizeof(out), &len) == 1 &&
	    strcmp(out, "es") == 0 && query_get_readable("lang=es&%ff&lang=en",
	    "lang", out, sizeof(out), &len) == QUERY_REPEATED &&
	    query_get_readable("%ff=1", "lang", out, sizeof(out), &len) == 0);
	test_long_name();
}

/* query_date_range() of from and to ("" for absent). */
static int
test_date_range(const char *from, const char *to)
{
	struct query_value	 f = { .present = *from != '\0' };
	struct query_value	 t = { .present = *to != '\0' };

	snprintf(f.text, sizeof(f.text), "%s", from);
	snprintf(t.text, sizeof(t.text), "%s", to);
	return query_date_range(&f, &t);
}

static void
test_query(void)
{
	static const char *const colours[] = { "red", "green", "blue", NULL };
	static const struct query_param p[] = {
		{ "page", Q_INT, 1, 10, 1, NULL, NULL },
		{ "day", Q_DATE, 0, 0, 0, NULL, NULL },
		{ "q", Q_TEXT, 0, 5, 0, NULL, NULL },
		{ "colour", Q_ONEOF, 0, 0, 0, colours, NULL },
	};
	struct query_value	 v[4];
	size_t			 bad = 99;
	char			 msg[QUERY_MESSAGE_MAX];

	CHECK("query defaults", query_parse("", p, 4, v, &bad) == 0 &&
	    v[0].num == 1 && !v[0].present && !v[1].present && !v[3].present);
	CHECK("query all", query_parse("page=3&day=2026-02-28&q=a+b"
	    "&colour=green&other=x", p, 4, v, &bad) == 0 && v[0].num == 3 &&
	    strcmp(v[1].text, "2026-02-28") == 0 &&
	    strcmp(v[2].text, "a b") == 0 && strcmp(v[3].text, "green") == 0);
	CHECK("query empty is absent", query_parse("page=&colour=", p, 4, v,
	    &bad) == 0 && v[0].num == 1 && !v[0].present && !v[3].present);
	CHECK("query spaces only are no text", query_parse("q=+%20+", p, 4, v,
	    &bad) == 0 && !v[2].present && v[2].len == 0);
	CHECK("query text trimmed", query_parse("q=+a+b+", p, 4, v,
	    &bad) == 0 && v[2].present && strcmp(v[2].text, "a b") == 0 &&
	    v[2].len == 3);
	CHECK("query range", query_parse("page=11", p, 4, v, &bad) == -1 &&
	    bad == 0);
	CHECK("query date", query_parse("day=2026-02-30", p, 4, v,
	    &bad) == -1 && bad == 1);
	CHECK("query text length", query_parse("q=abcdef", p, 4, v,
	    &bad) == -1 && bad == 2);
	CHECK("query text control", query_parse("q=a%0ab", p, 4, v,
	    &bad) == -1 && bad == 2);
	CHECK("query choice", query_parse("colour=pink", p, 4, v,
	    &bad) == -1 && bad == 3);
	CHECK("query malformed", query_parse("page=%zz", p, 4, v,
	    &bad) == -1 && bad == 0);
	CHECK("query range of dates", test_date_range("2026-12-31",
	    "2027-01-01") == 0 && test_date_range("2027-01-01",
	    "2027-01-01") == 0 && test_date_range("2027-01-02",
	    "2027-01-01") == -1 && test_date_range("2027-01-02", "") == 0 &&
	    test_date_range("", "2027-01-01") == 0);
	CHECK("query repeated", query_parse("q=a&page=1&page=10", p, 4, v,
	    &bad) == -1 && bad == 0 && v[0].repeated);
	CHECK("query repeated, one empty", query_parse("colour=&colour=red",
	    p, 4, v, &bad) == -1 && bad == 3 && v[3].repeated);
	CHECK("query repeated, the same", query_parse("day=2026-02-28&"
	    "day=2026-02-28", p, 4, v, &bad) == -1 && bad == 1 &&
	    v[1].repeated);
	CHECK("query a key and its longer cousin", query_parse("q=a&qq=b&"
	    "other=1&other=2", p, 4, v, &bad) == 0 && !v[2].repeated &&
	    strcmp(v[2].text, "a") == 0);
	query_message(&p[0], &v[0], msg, sizeof(msg));
	CHECK("query message int", strcmp(msg,
	    "page: a whole number from 1 to 10") == 0);
	query_message(&p[3], &v[3], msg, sizeof(msg));
	CHECK("query message choice", strcmp(msg,
	    "colour: red, green or blue") == 0);
	v[3].repeated = 1;
	query_message(&p[3], &v[3], msg, sizeof(msg));
	CHECK("query message repeated", strcmp(msg,
	    "colour: given more than once") == 0);
	CHECK("query name encoded", query_parse("p%61ge=3&%64ay=2026-02-28&"
	    "%71=a+b", p, 4, v, &bad) == 0 && v[0].num == 3 &&
	    strcmp(v[1].text, "2026-02-28") == 0 &&
	    strcmp(v[2].text, "a b") == 0);
	CHECK("query name encoded, a repeat", query_parse("page=1&%70age=2", p,
	    4, v, &bad) == -1 && bad == 0 && v[0].repeated &&
	    !v[0].name_fault);
	CHECK("query name encoded, a bad value", query_parse("%70age=11", p,
	    4, v, &bad) == -1 && bad == 0 && !v[0].repeated &&
	    !v[0].name_fault);
	CHECK("query name not text", query_parse("q=a&%ff=1", p, 4, v,
	    &bad) == -1 && bad == 0 && v[0].name_fault == QUERY_NAME_UTF8 &&
	    !v[0].repeated);
	query_message(&p[bad], &v[bad], msg, sizeof(msg));
	CHECK("query message name not UTF-8", strcmp(msg, "a parameter name "
	    "in the query is not UTF-8 text") == 0);
	CHECK("query name control", query_parse("a%09b=1", p, 4, v,
	    &bad) == -1 && v[bad].name_fault == QUERY_NAME_CONTROL);
	query_message(&p[bad], &v[bad], msg, sizeof(msg));
	CHECK("query message name control", strcmp(msg, "a parameter name in "
	    "the query holds a control character") == 0);
	CHECK("query name escape", query_parse("50%=1", p, 4, v,
	    &bad) == -1 && v[bad].name_fault == QUERY_NAME_ESCAPE);
	query_message(&p[bad], &v[bad], msg, sizeof(msg));
	CHECK("query message name escape", strcmp(msg, "a parameter name in "
	    "the query has a % without two hex digits after it") == 0);
}

/* out gets the value as stored: an email's canonical form. */
static enum field_error
check(enum field_id id, const char *s, char *out)
{
	char	 v[1024], *start, email[FIELD_EMAIL_SZ] = "";
	size_t	 len;
	enum field_error e;

	snprintf(v, sizeof(v), "%s", s);
	e = field_check(id, v, strlen(v), &start, &len,
	    id == FIELD_EMAIL ? email : NULL);
	snprintf(out, 1024, "%s", id == FIELD_EMAIL && e == FIELD_OK ? email :
	    start);
	return e;
}

static void
test_fields(void)
{
	char	 out[1024], longname[NAME_MAX_CHARS + 2];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK("field trimmed", check(FIELD_NAME, " \tAnn Lee ", out) ==
	    FIELD_OK && strcmp(out, "Ann Lee") == 0);
	CHECK("field required", check(FIELD_NAME, "  ", out) ==
	    FIELD_MISSING);
	CHECK("field optional", check(FIELD_ORGANIZATION, "", out) ==
	    FIELD_ABSENT);
	CHECK("field too long", check(FIELD_NAME, longname, out) ==
	    FIELD_TOO_LONG);
	CHECK("field one line", check(FIELD_ORGANIZATION, "a\nb", out) ==
	    FIELD_NOT_TEXT);
	CHECK("field email", check(FIELD_EMAIL, "ann@example.org", out) ==
	    FIELD_OK);
	CHECK("field not email", check(FIELD_EMAIL, "ann@", out) ==
	    FIELD_NOT_EMAIL);
	/* Internationalised addresses: the domain stored and mailed in
	 * A-labels, whichever way it was typed; é before the @ refused in
	 * its own words. */
	CHECK("IDN domain to A-labels", check(FIELD_EMAIL,
	    "ana@bibliotecá.es", out) == FIELD_OK &&
	    strcmp(out, "ana@xn--bibliotec-81a.es") == 0);
	CHECK("IDN domain, local part in capitals", check(FIELD_EMAIL,
	    "Mueller@BÜCHEREI.de", out) == FIELD_OK &&
	    strcmp(out, "Mueller@xn--bcherei-n2a.de") == 0);
	CHECK("A-label typed is the same address", check(FIELD_EMAIL,
	    "ana@XN--bibliotec-81a.es", out) == FIELD_OK &&
	    strcmp(out, "ana@xn--bibliotec-81a.es") == 0);
	CHECK("ASCII domain as typed", check(FIELD_EMAIL, "Ann@Example.org",
	    out) == FIELD_OK && strcmp(out, "Ann@Example.org") == 0);
	CHECK("non-ASCII local part", check(FIELD_EMAIL, "josé@example.org",
	    out) == FIELD_EMAIL_LOCAL_NOT_ASCII);
	CHECK("disallowed code point in domain", check(FIELD_EMAIL,
	    "ann@a\u2603b.es", out) == FIELD_EMAIL_DOMAIN_NOT_IDNA);
	CHECK("bad A-label", check(FIELD_EMAIL, "ann@xn--zz.es", out) ==
	    FIELD_EMAIL_DOMAIN_NOT_IDNA);
	CHECK("label over 63 octets once converted", check(FIELD_EMAIL,
	    "ann@\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
	    ".de", out) == FIELD_EMAIL_DOMAIN_NOT_IDNA);
	CHECK("over 254 bytes once converted", check(FIELD_EMAIL, "ann@"
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc."
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc."
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc."
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc."
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc."
	    "\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.\u00fc\u00fc.de",
	    out) == FIELD_TOO_LONG);
	CHECK("IDN domain still needs a dot", check(FIELD_EMAIL,
	    "ann@bücherei", out) == FIELD_NOT_EMAIL);
	/* A name is not a message to whatever address was typed. */
	CHECK("name with a link", check(FIELD_NAME, "Gift card at "
	    "https://evil.example/claim", out) == FIELD_NOT_NAME);
	CHECK("name with www", check(FIELD_NAME, "Visit WWW.evil.example", out)
	    == FIELD_NOT_NAME);
	CHECK("name with an address", check(FIELD_NAME, "write to a@b.example",
	    out) == FIELD_NOT_NAME);
	CHECK("names of people pass", check(FIELD_NAME, "Ann O'Lee-Smith 3rd",
	    out) == FIELD_OK && check(FIELD_NAME, "José María Núñez", out) ==
	    FIELD_OK && check(FIELD_NAME, "Ann 1234567", out) ==
	    FIELD_OK && check(FIELD_NAME, "J.R.R. Tolkien", out) == FIELD_OK);
	CHECK("a library may have a web address", check(FIELD_ORGANIZATION,
	    "www.springfield.example", out) == FIELD_OK);
	/* What the emails and the token pages show of a stored name. */
	CHECK("a stored link is shown as no name", strcmp(name_shown(
	    "Call http://evil.example"), "") == 0 && strcmp(name_shown(
	    "a@b.example"), "") == 0);
	CHECK("a stored name is shown", strcmp(name_shown("Ann Reader"),
	    "Ann Reader") == 0);
}

static int
match(const char *pattern, const char *path, const char *arg0)
{
	struct request	 req;

	memset(&req, 0, sizeof(req));
	req.path = path;
	req.path_len = strlen(path);
	if (!route_match(pattern, &req))
		return 0;
	return arg0 == NULL || (req.args[0] != NULL && strcmp(req.args[0], arg0) == 0);
}

static void
test_routes(void)
{
	CHECK("exact", match("/api/v1/events", "/api/v1/events", NULL));
	CHECK("capture", match("/api/v1/events/:", "/api/v1/events/abc", "abc"));
	CHECK("capture decoded", match("/api/v1/events/:", "/api/v1/events/a%2Fb",
	    "a/b"));
	CHECK("trailing slash", !match("/api/v1/events", "/api/v1/events/", NULL));
	CHECK("empty capture", !match("/api/v1/events/:", "/api/v1/events/", NULL));
	CHECK("extra segment", !match("/api/v1/events/:", "/api/v1/events/a/b",
	    NULL));
	CHECK("nested", match("/api/v1/events/:/registrations",
	    "/api/v1/events/x/registrations", "x"));
	CHECK("prefix only", !match("/api/v1/events", "/api/v1/eventsX", NULL));
	CHECK("nul escape", !match("/api/v1/events/:", "/api/v1/events/a%00", NULL));
	CHECK("suffix", match("/events/:.ics", "/events/abc.ics", "abc"));
	CHECK("suffix only", !match("/events/:.ics", "/events/.ics", NULL));
	CHECK("suffix missing", !match("/events/:.ics", "/events/abc", NULL));
	CHECK("suffix elsewhere", !match("/events/:.ics", "/events/a.icsx", NULL));
}

static int
form(const char *body, char *name, char *email)
{
	struct form_field	 f[] = {
		{ "name", name, 16, 0, 0 },
		{ "email", email, 16, 0, 0 },
	};

	return form_parse(body, strlen(body), f, 2);
}

/* Fields without a buffer of their own take their value from an arena. */
static void
test_form_arena(void)
{
	const char	*body = "q1=North&name=Ann&q2-0=E-%20books";
	char		 n[16], arena[64];
	struct form_field f[] = {
		{ "name", n, sizeof(n), 0, 0 },
		{ "q1", NULL, 0, 0, 0 },
		{ "q2-0", NULL, 0, 0, 0 },
		{ "q2-1", NULL, 0, 0, 0 },
	};

	CHECK("form arena", form_parse_arena(body, strlen(body), f, 4, arena,
	    sizeof(arena)) == 0 && strcmp(n, "Ann") == 0 &&
	    strcmp(f[1].val, "North") == 0 && strcmp(f[2].val, "E- books") == 0
	    && f[2].val > f[1].val && f[3].val == NULL && !f[3].present);
	f[1].val = f[2].val = f[3].val = NULL;
	f[1].val = f[2].val = f[3].val = NULL;
	CHECK("form arena encoded names", form_parse_arena("q2%2D0=x&q%31=y",
	    15, f, 4, arena, sizeof(arena)) == 0 && strcmp(f[2].val, "x") == 0
	    && strcmp(f[1].val, "y") == 0 && !f[0].present);
	f[1].val = f[2].val = f[3].val = NULL;
	CHECK("form arena too small", form_parse_arena(body, strlen(body), f,
	    4, arena, 8) == -1);
	f[1].val = f[2].val = f[3].val = NULL;
	CHECK("form no arena", form_parse(body, strlen(body), f, 4) == -1);
}

static void
test_form(void)
{
	char	 n[16], e[16];
	char	 many[256] = "";
	int	 i;

	CHECK("form ok", form("name=Ann+B%C3%A9&email=a%40b.c", n, e) == 0 &&
	    strcmp(n, "Ann B\xc3\xa9") == 0 && strcmp(e, "a@b.c") == 0);
	CHECK("form empty", form("", n, e) == 0 && n[0] == '\0');
	CHECK("form empty value", form("name=&email=x", n, e) == 0);
	CHECK("form duplicate", form("name=a&name=b", n, e) == -1);
	CHECK("form unknown key", form("name=a&admin=1", n, e) == -1);
	CHECK("form no equals", form("name", n, e) == -1);
	CHECK("form trailing amp", form("name=a&", n, e) == -1);
	CHECK("form empty pair", form("name=a&&email=b", n, e) == -1);
	CHECK("form bad utf-8", form("name=%ff", n, e) == -1);
	CHECK("form overlong utf-8", form("name=%c0%af", n, e) == -1);
	CHECK("form nul", form("name=a%00", n, e) == -1);
	CHECK("form too long", form("name=0123456789abcdef", n, e) == -1);
	CHECK("form bad escape", form("name=%g1", n, e) == -1);
	/* Names decode as the query's do (field_name_is()). */
	CHECK("form encoded names", form("na%6De=Ann&%65%6D%61%69%6C=a%40b.c",
	    n, e) == 0 && strcmp(n, "Ann") == 0 && strcmp(e, "a@b.c") == 0);
	CHECK("form encoded name twice", form("name=a&na%6De=b", n, e) == -1);
	CHECK("form encoded name first", form("na%6de=a&name=b", n, e) == -1);
	CHECK("form encoded unknown", form("n%61me2=a", n, e) == -1);
	CHECK("form name bad escape", form("name=a&%zz=1", n, e) == -1);
	CHECK("form name not utf-8", form("%FF=1&name=a", n, e) == -1);
	CHECK("form name control", form("na%0Ame=a", n, e) == -1);
	for (i = 0; i < 20; i++)
		strcat(many, "name=a&");
	strcat(many, "email=b");
	CHECK("form too many pairs", form(many, n, e) == -1);
	test_form_arena();
}

/* lang_mark(): staff text marked only where its language is not the
 * document's, in each markup's own syntax. */
static void
test_lang_mark(void)
{
	static const struct {
		enum lang_markup how;
		const char	*text, *doc, *want;
	} cases[] = {
		{ LANG_HTML, "en", "es", " lang=\"en\"" },
		{ LANG_HTML, "es", "en", " lang=\"es\"" },
		{ LANG_HTML, "en", "en", "" },
		{ LANG_HTML, "es-MX", "es", "" },
		{ LANG_HTML, "es", "es_MX", "" },
		{ LANG_HTML, "esp", "es", " lang=\"esp\"" },
		{ LANG_HTML, "pt_BR", "en", " lang=\"pt-BR\"" },
		{ LANG_XML, "fr", "en", " xml:lang=\"fr\"" },
		{ LANG_ICAL, "de", "es", ";LANGUAGE=de" },
		{ LANG_ICAL, "en", "en", "" },
		{ LANG_HTML, "", "en", "" },
		{ LANG_HTML, NULL, "en", "" },
		{ LANG_HTML, "en\"><x", "es", "" },
		{ LANG_ICAL, "en:x", "es", "" },
		{ LANG_TAG, "pt_BR", NULL, "pt-BR" },
		{ LANG_TAG, "en", NULL, "en" },
	};
	struct buf	 b = BUF_INIT;
	size_t		 i;
	int		 ok = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		lang_mark(&b, cases[i].how, cases[i].text, cases[i].doc);
		ok &= strcmp(buf_str(&b), cases[i].want) == 0;
	}
	CHECK("lang_mark marks only another language", ok);
	buf_free(&b);
}

static void
test_html(void)
{
	struct buf	 b = BUF_INIT;
	int		 i, same;

	html_esc(&b, "<a href=\"x\" title='y'>&amp;</a>");
	CHECK("html escapes", strcmp(b.data, "&lt;a href=&quot;x&quot; "
	    "title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;") == 0);
	buf_reset(&b);
	html_escn(&b, "a&b<c", 3);
	CHECK("html escapes n bytes", strcmp(b.data, "a&amp;b") == 0);
	for (i = 1, same = 0; i < 256; i++) {
		char	 in[4] = { 'x', (char)i, 'y', '\0' };
		char	 want[16];

		snprintf(want, sizeof(want), "x%sy", i == '&' ? "&amp;" :
		    i == '<' ? "&lt;" : i == '>' ? "&gt;" : i == '"' ?
		    "&quot;" : i == '\'' ? "&#39;" : (char[]){ (char)i, 0 });
		buf_reset(&b);
		html_esc(&b, in);
		same += strcmp(b.data, want) == 0;
	}
	CHECK("html escapes the five bytes and keeps the others", same == 255);
	buf_reset(&b);
	html_paragraphs(&b, "One\r\ntwo\n\n- <i>\n- b\nend");
	CHECK("html paragraphs", strcmp(b.data, "<p>One<br>\ntwo</p>\n<ul>\n"
	    "<li>&lt;i&gt;</li>\n<li>b</li>\n</ul>\n<p>end</p>\n") == 0);
	buf_reset(&b);
	html_urlenc(&b, "a b&c=d/\xc3\xa9");
	CHECK("html urlenc", strcmp(b.data, "a%20b%26c%3Dd%2F%C3%A9") == 0);
	buf_free(&b);
	test_lang_mark();
}

static void
test_ical(void)
{
	struct buf		 b = BUF_INIT;
	struct ical_event	 ev;
	const char		*p;
	size_t			 col = 0;
	int			 ok = 1;

	ical_property(&b, "SUMMARY", "a;b,c\\d\nnext", 1);
	CHECK("ical escapes", strcmp(b.data, "SUMMARY:a\\;b\\,c\\\\d\\nnext\r\n") == 0);
	buf_reset(&b);
	ical_property(&b, "DESCRIPTION", "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé", 1);
	for (p = b.data; *p != '\0'; p++) {
		if (*p == '\r') {
			ok &= col <= 75;
			col = 0;
			p++;
			continue;
		}
		col++;
	}
	CHECK("ical folds at 75 octets", ok);
	CHECK("ical fold keeps utf-8 whole", strstr(b.data, "\xc3\r\n") == NULL);
	buf_reset(&b);
	memset(&ev, 0, sizeof(ev));
	ev.uid = "event-1@example.org";
	ev.dtstamp = "20261129T000000Z";
	ev.tzid = "America/New_York";
	ev.vtimezone = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nEND:VTIMEZONE\r\n";
	ev.start_local = "20261210T140000";
	ev.end_local = "20261210T150000";
	ev.summary = "Minimizing Social Media";
	ev.description = "";
	ev.url = "https://example.org/events/x";
	ical_render(&b, &ev);
	CHECK("ical dtstart has tzid",
	    strstr(b.data, "\r\nDTSTART;TZID=America/New_York:20261210T140000\r\n") != NULL);
	CHECK("ical vtimezone before vevent",
	    strstr(b.data, "END:VTIMEZONE") < strstr(b.data, "BEGIN:VEVENT"));
	CHECK("ical ends", strlen(b.data) > 15 &&
	    strcmp(b.data + strlen(b.data) - 15, "END:VCALENDAR\r\n") == 0);
	/* The second 1:30am of the night the clocks go back: in UTC. */
	buf_reset(&b);
	ev.start_local = "20261101T013000";
	ev.end_local = "20261101T023000";
	ev.start_repeated = "20261101T063000Z";
	ev.end_repeated = "";
	ical_render(&b, &ev);
	CHECK("ical repeated dtstart in utc",
	    strstr(b.data, "\r\nDTSTART:20261101T063000Z\r\n") != NULL &&
	    strstr(b.data, "DTSTART;") == NULL);
	CHECK("ical dtend keeps tzid",
	    strstr(b.data, "\r\nDTEND;TZID=America/New_York:20261101T023000\r\n") != NULL);
	buf_free(&b);
}

static int
csv_is(const char *value, int last, const char *want)
{
	struct buf	 b = BUF_INIT;
	int		 ok;

	csv_cell(&b, value, last);
	ok = strcmp(buf_str(&b), want) == 0;
	buf_free(&b);
	return ok;
}

static void
test_csv(void)
{
	CHECK("plain", csv_is("Ann", 0, "Ann,"));
	CHECK("last ends the record", csv_is("Ann", 1, "Ann\r\n"));
	CHECK("empty", csv_is("", 0, ","));
	CHECK("comma quoted", csv_is("a,b", 0, "\"a,b\","));
	CHECK("quote doubled", csv_is("say \"hi\"", 0, "\"say \"\"hi\"\"\","));
	CHECK("newline quoted", csv_is("a\nb", 0, "\"a\nb\","));
	CHECK("formula =", csv_is("=1+1", 0, "\"'=1+1\","));
	CHECK("formula +", csv_is("+1", 0, "\"'+1\","));
	CHECK("formula -", csv_is("-1", 0, "\"'-1\","));
	CHECK("formula @", csv_is("@SUM(A1)", 0, "\"'@SUM(A1)\","));
	CHECK("tab first", csv_is("\t=1", 0, "\"'\t'=1\","));
	CHECK("formula with quote", csv_is("=\"x\"", 1, "\"'=\"\"x\"\"\"\r\n"));
	CHECK("formula char later is fine", csv_is("a=b", 0, "a=b,"));
	CHECK("formula after ;", csv_is("a;=b;", 0, "a;'=b;,"));
	CHECK("formula after ; and a comma", csv_is("a,b;+1", 0,
	    "\"a,b;'+1\","));
	CHECK("formula after a line break", csv_is("a\n-1\r\n@b", 0,
	    "\"a\n'-1\r\n'@b\","));
	CHECK("formula after a tab", csv_is("a\t=1", 0, "a\t'=1,"));
	CHECK("formula first and after ;", csv_is("=a;=b", 1,
	    "\"'=a;'=b\"\r\n"));
	CHECK("a space after ; is no formula", csv_is("a; =b", 0, "a; =b,"));
	CHECK("; last", csv_is("a;", 0, "a;,"));
	CHECK("formula after ; and a quote", csv_is("a;\"=b", 0,
	    "\"a;'\"\"=b\","));
	CHECK("a quote after ; alone", csv_is("a;\"b\"", 0,
	    "\"a;\"\"b\"\"\","));
}

static void
test_bearer(void)
{
	const char	*k = NULL;

	CHECK("bearer", bearer_key("Bearer ebk_abc", &k) == 0 &&
	    strcmp(k, "ebk_abc") == 0);
	CHECK("case", bearer_key("bearer ebk_abc", &k) == 0);
	CHECK("absent", bearer_key(NULL, &k) == -1);
	CHECK("basic", bearer_key("Basic dXNlcg==", &k) == -1);
	CHECK("empty key", bearer_key("Bearer ", &k) == -1);
	CHECK("space in key", bearer_key("Bearer a b", &k) == -1);
	CHECK("control", bearer_key("Bearer a\x01", &k) == -1);
	CHECK("non-ascii", bearer_key("Bearer \xc3\xa9", &k) == -1);
}

/* A list one id longer than LibCal's 50 is too long, not malformed; in
 * the query, the message says the limit. */
static void
test_libcal_too_many(void)
{
	struct libcal_query	 q;
	char			 list[LIBCAL_IDS_MAX * 3 + 1];
	char			 query[sizeof(list) + 10], ids[LIBCAL_IDS_SZ],
				 msg[80];
	size_t			 i;

	strcpy(list, "7");
	for (i = 1; i < LIBCAL_IDS_MAX; i++)
		strcat(list, ",7");
	CHECK("50 ids", libcal_id_list(list, strlen(list), ids,
	    sizeof(ids)) == 0);
	strcat(list, ",7");
	CHECK("51 ids", libcal_id_list(list, strlen(list), ids,
	    sizeof(ids)) == LIBCAL_IDS_TOO_MANY);
	list[0] = 'x';
	CHECK("51, the first malformed", libcal_id_list(list, strlen(list),
	    ids, sizeof(ids)) == -1);
	list[0] = '7';
	snprintf(query, sizeof(query), "category=%s", list);
	CHECK("51 categories", libcal_query_parse(query, &q, msg,
	    sizeof(msg)) == -1 && strstr(msg, "at most 50 category ids"));
	snprintf(query, sizeof(query), "cal_id=%s", list);
	CHECK("51 calendars", libcal_query_parse(query, &q, msg,
	    sizeof(msg)) == -1 && strstr(msg, "at most 50 calendar ids"));
}

static void
test_libcal(void)
{
	struct libcal_query	 q;
	char			 ids[LIBCAL_IDS_SZ], msg[80];

	CHECK("ids", libcal_id_list("3,007,12", 8, ids, sizeof(ids)) == 0 &&
	    strcmp(ids, "{3,7,12}") == 0);
	CHECK("one id", libcal_id_list("5", 1, ids, sizeof(ids)) == 0 &&
	    strcmp(ids, "{5}") == 0);
	CHECK("empty id", libcal_id_list("1,,2", 4, ids, sizeof(ids)) == -1);
	CHECK("trailing comma", libcal_id_list("1,", 2, ids, sizeof(ids)) == -1);
	CHECK("zero", libcal_id_list("0", 1, ids, sizeof(ids)) == -1);
	CHECK("negative", libcal_id_list("-1", 2, ids, sizeof(ids)) == -1);
	CHECK("no room", libcal_id_list("12", 2, ids, 4) == -1);
	CHECK("defaults", libcal_query_parse("", &q, msg, sizeof(msg)) == 0 &&
	    q.days == LIBCAL_DAYS_DEFAULT && q.limit == LIBCAL_LIMIT_DEFAULT &&
	    q.date[0] == '\0' && q.cats[0] == '\0');
	CHECK("all", libcal_query_parse("cal_id=9&date=2026-03-01&days=7"
	    "&limit=5&category=2,1", &q, msg, sizeof(msg)) == 0 &&
	    q.days == 7 && q.limit == 5 && strcmp(q.date, "2026-03-01") == 0 &&
	    strcmp(q.cats, "{2,1}") == 0);
	CHECK("empty values", libcal_query_parse("days=&date=&category=", &q,
	    msg, sizeof(msg)) == 0 && q.days == LIBCAL_DAYS_DEFAULT);
	CHECK("days capped", libcal_query_parse("days=1000&limit=9999", &q,
	    msg, sizeof(msg)) == 0 && q.days == LIBCAL_DAYS_MAX &&
	    q.limit == LIBCAL_LIMIT_MAX);
	CHECK("days=0 is the date only", libcal_query_parse("days=0", &q, msg,
	    sizeof(msg)) == 0 && q.days == 0);
	CHECK("days=1 is the date and the next", libcal_query_parse("days=1",
	    &q, msg, sizeof(msg)) == 0 && q.days == 1);
	CHECK("page", libcal_query_parse("limit=10&page=3&search=a%20b", &q,
	    msg, sizeof(msg)) == 0 && q.offset == 20 &&
	    strcmp(q.search, "a b") == 0);
	CHECK("days negative", libcal_query_parse("days=-1", &q, msg,
	    sizeof(msg)) == -1 && strncmp(msg, "days:", 5) == 0);
	CHECK("unknown keys", libcal_query_parse("campus=3&audience=1,2&x=y",
	    &q, msg, sizeof(msg)) == 0);
	CHECK("date of one-digit month and day", libcal_query_parse(
	    "date=2026-3-1", &q, msg, sizeof(msg)) == 0 &&
	    strcmp(q.date, "2026-03-01") == 0);
	CHECK("date of one-digit day", libcal_query_parse("date=2026-12-5",
	    &q, msg, sizeof(msg)) == 0 && strcmp(q.date, "2026-12-05") == 0);
	CHECK("date", libcal_query_parse("date=2026-003-01", &q, msg,
	    sizeof(msg)) == -1 && strcmp(msg, "date: YYYY-MM-DD") == 0);
	CHECK("date without a day", libcal_query_parse("date=2026-3-", &q,
	    msg, sizeof(msg)) == -1 && strcmp(msg, "date: YYYY-MM-DD") == 0);
	CHECK("date of two-digit year", libcal_query_parse("date=26-03-01",
	    &q, msg, sizeof(msg)) == -1);
	CHECK("date too long", libcal_query_parse("date=2026-03-011", &q,
	    msg, sizeof(msg)) == -1 && strcmp(msg, "date: YYYY-MM-DD") == 0);
	CHECK("date with a sign", libcal_query_parse("date=2026--3-1", &q,
	    msg, sizeof(msg)) == -1);
	CHECK("no such day", libcal_query_parse("date=2026-2-29", &q, msg,
	    sizeof(msg)) == -1 && strcmp(msg, "date: YYYY-MM-DD") == 0);
	CHECK("category", libcal_query_parse("category=a", &q, msg,
	    sizeof(msg)) == -1 && strncmp(msg, "category:", 9) == 0);
	test_libcal_too_many();
}

/* libcal_credentials() on a JSON body. */
static int
json_credentials(const char *body, struct libcal_credentials *c)
{
	return libcal_credentials("application/json", body, strlen(body), c);
}

/* libcal_credentials() on a multipart body of one part, "s", with these
 * part headers: its result, and the client_secret it read. */
static int
mp_secret(const char *headers, int want, const char *secret)
{
	struct libcal_credentials	 c;
	char				 body[512];

	snprintf(body, sizeof(body), "--XyZ\r\n%s\r\n\r\ns\r\n--XyZ--\r\n",
	    headers);
	return libcal_credentials("multipart/form-data; boundary=XyZ", body,
	    strlen(body), &c) == want && strcmp(c.client_secret, secret) == 0;
}

static void
test_libcal_credentials(void)
{
	struct libcal_credentials	 c;
	const char	*mp = "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"client_id\"\r\n\r\n12\r\n--XyZ\r\nContent-Disposition:"
	    " form-data; name=\"client_secret\"\r\n\r\nebs_a-b\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\""
	    "\r\n\r\nclient_credentials\r\n--XyZ--\r\n";
	/* A line break inside a part is the part's, up to the delimiter's
	 * own: a secret of two lines, which is no credential. */
	const char	*mp_lines = "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"client_secret\"\r\n\r\nebs_a\r\nb\r\n--XyZ--\r\n";
	const char	*js = "{\"client_id\": 7, \"client_secret\": \"s\","
	    " \"grant_type\": \"client_credentials\", \"x\": [1]}";
	const char	*form = "grant_type=client_credentials&client_id=7&"
	    "client_secret=s%2B1&scope=";

	CHECK("multipart", libcal_credentials("multipart/form-data; "
	    "boundary=XyZ", mp, strlen(mp), &c) == 0 &&
	    strcmp(c.client_id, "12") == 0 &&
	    strcmp(c.client_secret, "ebs_a-b") == 0 &&
	    strcmp(c.grant_type, "client_credentials") == 0);
	CHECK("multipart, a value of two lines", libcal_credentials(
	    "multipart/form-data; boundary=XyZ", mp_lines, strlen(mp_lines),
	    &c) == -1);
	CHECK("multipart quoted boundary", libcal_credentials(
	    "multipart/form-data; boundary=\"XyZ\"", mp, strlen(mp), &c) == 0 &&
	    strcmp(c.client_id, "12") == 0);
	CHECK("multipart wrong boundary", libcal_credentials(
	    "multipart/form-data; boundary=abc", mp, strlen(mp), &c) == -1);
	CHECK("multipart cut", libcal_credentials(
	    "multipart/form-data; boundary=XyZ", mp, 40, &c) == -1);
	/* The boundary as RFC 9110's parameters have it. */
	CHECK("multipart boundary parameters", libcal_credentials(
	    "multipart/form-data; x=\"boundary=abc\"; BOUNDARY=XyZ", mp,
	    strlen(mp), &c) == 0 && strcmp(c.client_id, "12") == 0 &&
	    libcal_credentials("multipart/form-data;boundary=\"X\\yZ\"", mp,
	    strlen(mp), &c) == 0 && strcmp(c.client_id, "12") == 0 &&
	    libcal_credentials("multipart/form-data; xboundary=XyZ", mp,
	    strlen(mp), &c) == -1 && libcal_credentials("multipart/form-data; "
	    "boundary=XyZ; boundary=abc", mp, strlen(mp), &c) == -1 &&
	    libcal_credentials("multipart/form-data; boundary=\"XyZ", mp,
	    strlen(mp), &c) == -1);
	/* The part's name as RFC 7578 (and PHP, Python) read it. */
	CHECK("multipart names", mp_secret("Content-Disposition: form-data; "
	    "name=client_secret", 0, "s") &&
	    mp_secret("content-disposition:form-data;NAME=\"client_secret\"",
	    0, "s") && mp_secret("Content-Disposition: form-data; filename="
	    "\"a.txt\"; name=\"client_secret\"", 0, "s") &&
	    mp_secret("Content-Disposition: form-data; name=\"client_\\secret\"",
	    0, "s") && mp_secret("Content-Disposition: form-data ; name = "
	    "\"client_secret\" ", 0, "s"));
	CHECK("multipart, a name in another header", mp_secret(
	    "X-Note: name=\"client_secret\"\r\nContent-Disposition: form-data;"
	    " name=\"scope\"", 0, ""));
	CHECK("multipart, a filename alone", mp_secret("Content-Disposition: "
	    "form-data; filename=\"client_secret\"", 0, ""));
	CHECK("multipart, malformed dispositions", mp_secret(
	    "Content-Disposition: attachment; name=\"client_secret\"", -1, "") &&
	    mp_secret("Content-Disposition: form-data; name=\"client_secret",
	    -1, "") && mp_secret("Content-Disposition: form-data; name=\"a\"; "
	    "name=\"client_secret\"", -1, "") && mp_secret(
	    "Content-Disposition: form-data; name=\"scope\"\r\n"
	    "Content-Disposition: form-data; name=\"client_secret\"", -1, "") &&
	    mp_secret("Content-Disposition: form-data name=\"client_secret\"",
	    -1, "") && mp_secret("Content-Disposition: form-data; name=", -1,
	    ""));
	CHECK("json", libcal_credentials("application/json", js, strlen(js),
	    &c) == 0 && strcmp(c.client_id, "7") == 0 &&
	    strcmp(c.client_secret, "s") == 0);
	CHECK("json not an object", libcal_credentials("application/json",
	    "[1]", 3, &c) == -1);
	CHECK("json and more", json_credentials("{} x", &c) == -1);
	CHECK("json and white space", json_credentials(" {}\r\n\t ", &c) == 0);
	CHECK("json, an escaped NUL", json_credentials(
	    "{\"client_secret\": \"s\\u0000x\"}", &c) == -1);
	CHECK("json, an escaped backslash before u0000", json_credentials(
	    "{\"client_secret\": \"s\\\\u0000x\"}", &c) == 0 &&
	    strcmp(c.client_secret, "s\\u0000x") == 0);
	CHECK("json, not UTF-8", json_credentials("{\"client_id\": \"\xff\"}",
	    &c) == -1);
	CHECK("json, a control character", json_credentials(
	    "{\"client_id\": \"a\\tb\"}", &c) == -1);
	/* read as every JSON body is (json_read_object()), saying why */
	CHECK("json, an inexact client_id", json_credentials(
	    "{\"client_id\": 7.0000000000000000001}", &c) == -1 &&
	    strcmp(c.why, "client_id is a number that cannot be read exactly:"
	    " too small, or too many digits") == 0);
	CHECK("json, 7.0", json_credentials("{\"client_id\": 7.0}", &c) == 0 &&
	    strcmp(c.client_id, "7") == 0 && c.why[0] == '\0');
	CHECK("json, a name not read given twice", json_credentials(
	    "{\"scope\": 1, \"scope\": 1}", &c) == -1 &&
	    strcmp(c.why, "scope is given more than once; give it once") == 0);
	CHECK("json, a name no description may hold", json_credentials(
	    "{\"\\\"\": 1, \"\\\"\": 1}", &c) == -1 &&
	    strncmp(c.why, "a member is given", 17) == 0);
	CHECK("json, a byte order mark", json_credentials(
	    "\xEF\xBB\xBF{\"client_id\": \"7\"}", &c) == 0 &&
	    strcmp(c.client_id, "7") == 0);
	CHECK("json, a byte order mark alone", json_credentials("\xEF\xBB\xBF",
	    &c) == -1 && c.why[0] != '\0');
	CHECK("json, two byte order marks", json_credentials(
	    "\xEF\xBB\xBF\xEF\xBB\xBF{\"client_id\": \"7\"}", &c) == -1 &&
	    strcmp(c.why, "the body is not well-formed JSON") == 0);
	CHECK("form", libcal_credentials("application/x-www-form-urlencoded; "
	    "charset=UTF-8", form, strlen(form), &c) == 0 &&
	    strcmp(c.client_secret, "s+1") == 0 &&
	    strcmp(c.grant_type, "client_credentials") == 0);
	CHECK("other type", libcal_credentials("text/plain", form,
	    strlen(form), &c) == -1);
	CHECK("form, a tab before the parameters", libcal_credentials(
	    "application/x-www-form-urlencoded\t; charset=UTF-8", form,
	    strlen(form), &c) == 0 && strcmp(c.client_secret, "s+1") == 0);
	CHECK("media types", media_type_is("Application/JSON", "application/json")
	    && media_type_is("application/json \t;x=y", "application/json") &&
	    !media_type_is("application/json x", "application/json") &&
	    !media_type_is("application/jsonx", "application/json") &&
	    !media_type_is(NULL, "application/json"));
}

/* libcal_basic() on one header: its result, and c's two fields. */
static int
basic_is(const char *authorization, int want, const char *id,
    const char *secret)
{
	struct libcal_credentials	 c;

	strcpy(c.client_id, "kept");
	strcpy(c.client_secret, "kept");
	return libcal_basic(authorization, &c) == want &&
	    strcmp(c.client_id, id) == 0 && strcmp(c.client_secret, secret) == 0;
}

static void
test_libcal_basic(void)
{
	char	 big[2048] = "Basic ";

	/* "7:ebs_a", "7:s%2B1+x", "12:a:b" (the first colon splits) */
	CHECK("basic", basic_is("Basic NzplYnNfYQ==", 0, "7", "ebs_a"));
	CHECK("basic scheme any case, unpadded", basic_is("bAsIc   NzplYnNfYQ",
	    0, "7", "ebs_a"));
	CHECK("basic form-urlencoded", basic_is("Basic NzpzJTJCMSt4", 0, "7",
	    "s+1 x"));
	CHECK("basic colon in secret", basic_is("Basic MTI6YTpi", 0, "12",
	    "a:b"));
	CHECK("no header", basic_is(NULL, 1, "kept", "kept"));
	CHECK("bearer", basic_is("Bearer NzplYnNfYQ==", 1, "kept", "kept"));
	CHECK("another scheme", basic_is("Basically x", 1, "kept", "kept"));
	CHECK("basic alone", basic_is("Basic", -1, "", ""));
	CHECK("basic bad digit", basic_is("Basic NzplYnNf*Q==", -1, "", ""));
	CHECK("basic bad padding", basic_is("Basic NzplYnNfYQ=", -1, "", ""));
	CHECK("basic stray bits", basic_is("Basic NzplYnNfYR==", -1, "", ""));
	/* "7ebs_a", ":ebs_a", "7:", "7:a%zz", "7:a%00", "7:a\tb" */
	CHECK("basic no colon", basic_is("Basic N2Vic19h", -1, "", ""));
	CHECK("basic no id", basic_is("Basic OmVic19h", -1, "", ""));
	CHECK("basic no secret", basic_is("Basic Nzo=", -1, "", ""));
	CHECK("basic bad escape", basic_is("Basic NzphJXp6", -1, "", ""));
	CHECK("basic encoded NUL", basic_is("Basic NzphJTAw", -1, "", ""));
	CHECK("basic control", basic_is("Basic NzphCWI=", -1, "", ""));
	memset(big + 6, 'A', sizeof(big) - 7);
	big[sizeof(big) - 1] = '\0';
	CHECK("basic oversized", basic_is(big, -1, "", ""));
}

/* 1 when want starts with the hex of HMAC-SHA256(cfg.secret, what NUL
 * msg[0..len)) cut to 32 digits, as OpenSSL's one-shot HMAC() makes it. */
static int
hmac_hex(const char *what, const char *msg, size_t len, const char *want)
{
	unsigned char	 in[128], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	char		 hex[3];
	size_t		 wlen = strlen(what) + 1;

	memcpy(in, what, wlen);
	memcpy(in + wlen, msg, len);
	if (HMAC(EVP_sha256(), cfg.secret, (int)cfg.secret_len, in, wlen + len,
	    md, &mdlen) == NULL)
		return 0;
	for (i = 0; i < 16; i++) {
		snprintf(hex, sizeof(hex), "%02x", md[i]);
		if (strncmp(want + 2 * i, hex, 2) != 0)
			return 0;
	}
	return 1;
}

/* The cookie the response sets, as a browser would send it back. */
static void
cookie_from(const struct response *resp, char *out, size_t outsz)
{
	const char	*p = strstr(buf_str(&resp->head), "Set-Cookie: ");

	out[0] = '\0';
	if (p != NULL) {
		p += strlen("Set-Cookie: ");
		snprintf(out, outsz, "%.*s", (int)strcspn(p, ";\r"), p);
	}
}

/*
 * csrf_prepare() for a request whose __Host- cookie was issued age seconds
 * ago (kept in cookie, 128 bytes): 1 when it answered with a new cookie.
 */
static int
prepare_aged(struct request *req, struct response *resp, char *field,
    char *cookie, time_t age)
{
	char	 value[CSRF_VALUE_LEN + 1];

	csrf_issue(time(NULL) - age, value);
	snprintf(cookie, 128, CSRF_HOST_COOKIE "=%s", value);
	req->cookie = cookie;
	buf_reset(&resp->head);
	csrf_prepare(req, resp, field);
	return strstr(buf_str(&resp->head), "Set-Cookie: ") != NULL;
}

static void
test_csrf(void)
{
	struct request	 req;
	struct response	 resp;
	char		 field[CSRF_HEX + 1], again[CSRF_HEX + 1], cookie[128];
	char		 other[128];

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	memcpy(cfg.secret, "0123456789abcdef0123456789abcdef", 32);
	cfg.secret_len = 32;
	cfg.base_url = "https://events.example.org";
	csrf_prepare(&req, &resp, field);
	CHECK("csrf sets a __Host- cookie, lax, http-only, secure, expiring",
	    strstr(buf_str(&resp.head), "Set-Cookie: " CSRF_HOST_COOKIE "=") &&
	    strstr(buf_str(&resp.head), "; Path=/; Max-Age=43200; HttpOnly; "
	    "SameSite=Lax; Secure\r\n") != NULL);
	cookie_from(&resp, cookie, sizeof(cookie));
	req.cookie = cookie;
	CHECK("csrf field matches its cookie", csrf_check(&req, field,
	    strlen(field)));
	CHECK("csrf signs with HMAC-SHA256 of the secret", hmac_hex("cookie",
	    strchr(cookie, '=') + 1, 8 + 1 + 32, strchr(cookie, '=') + 1 +
	    8 + 1 + 32 + 1) && hmac_hex("form", strchr(cookie, '=') + 1 + 8 + 1,
	    32, field));
	buf_reset(&resp.head);
	csrf_prepare(&req, &resp, again);
	CHECK("csrf reuses a good cookie", resp.head.len == 0 &&
	    strcmp(field, again) == 0);
	field[0] = field[0] == 'a' ? 'b' : 'a';
	CHECK("csrf refuses a changed field", !csrf_check(&req, field,
	    strlen(field)));
	field[0] = again[0];

	/* Values the server did not issue, or issued too long ago. */
	snprintf(other, sizeof(other), "%s", cookie);
	other[strlen(other) - 1] = other[strlen(other) - 1] == '0' ? '1' : '0';
	req.cookie = other;
	CHECK("csrf refuses a cookie with a forged signature",
	    !csrf_check(&req, field, strlen(field)));
	req.cookie = CSRF_HOST_COOKIE "=00000000000000000000000000000000000000"
	    "00000000000000000000000000";
	CHECK("csrf refuses a cookie a client made up", !csrf_check(&req, field,
	    strlen(field)));
	snprintf(other, sizeof(other), "%s", cookie + strlen("__Host-"));
	req.cookie = other;
	CHECK("csrf over https wants the __Host- name", !csrf_check(&req, field,
	    strlen(field)));
	CHECK("csrf replaces an expired cookie", prepare_aged(&req, &resp,
	    field, other, CSRF_MAX_AGE + 1));
	CHECK("csrf refuses an expired cookie", !csrf_check(&req, field,
	    strlen(field)));
	CHECK("csrf renews a cookie about to expire", prepare_aged(&req, &resp,
	    field, other, CSRF_MAX_AGE - 60));
	cookie_from(&resp, cookie, sizeof(cookie));
	req.cookie = cookie;
	CHECK("csrf accepts the renewed cookie's form", csrf_check(&req, field,
	    strlen(field)));
	/* A form served before the renewal (another tab) still passes with
	 * the renewed cookie, which keeps the random part; the renewal is a
	 * new value all the same. */
	req.cookie = other;
	buf_reset(&resp.head);
	csrf_prepare(&req, &resp, again);
	CHECK("csrf keeps the forms of a renewed cookie", strcmp(field,
	    again) == 0 && strcmp(cookie, other) != 0);
	cfg.secret[0] ^= 1;
	CHECK("csrf refuses a cookie signed with another secret",
	    !csrf_check(&req, field, strlen(field)));
	cfg.secret[0] ^= 1;
	CHECK("csrf takes it again with its own", csrf_check(&req, field,
	    strlen(field)));
	req.cookie = NULL;
	CHECK("csrf refuses no cookie", !csrf_check(&req, field, strlen(field)));

	cfg.base_url = "http://127.0.0.1";
	buf_reset(&resp.head);
	csrf_prepare(&req, &resp, field);
	CHECK("csrf cookie over http: plain name, no Secure",
	    strstr(buf_str(&resp.head), "Secure") == NULL &&
	    strstr(buf_str(&resp.head), "Set-Cookie: " CSRF_COOKIE "=") != NULL);
	cookie_from(&resp, cookie, sizeof(cookie));
	req.cookie = cookie;
	CHECK("csrf over http checks too", csrf_check(&req, field,
	    strlen(field)));
	buf_free(&resp.head);
}

/* The test vector of the Standard Webhooks specification (its README and
 * reference libraries), then what a receiver must notice. */
static void
test_webhook_signature(void)
{
	static const char body[] = "{\"test\": 2432232314}";
	char	 sig[WEBHOOK_SIG_LEN];

	CHECK("standard webhooks vector", webhook_sign(
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", S(body), sig) == 0 &&
	    strcmp(sig, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") == 0);
	CHECK("another timestamp, another signature", webhook_sign(
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", S(body), sig) == 0 &&
	    strcmp(sig, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0);
	CHECK("a padded 32-byte key", webhook_sign(
	    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	    "msg_1", "1", S("{}"), sig) == 0 && strlen(sig) == 44);
	CHECK("no prefix", webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "m", "1", S("{}"), sig) == -1);
	CHECK("not base64", webhook_sign("whsec_abc", "m", "1", S("{}"),
	    sig) == -1);
	CHECK("empty key", webhook_sign("whsec_", "m", "1", S("{}"), sig) == -1);
}

/* 1 when the literal address is one a webhook may go to by default. */
static int
public(const char *ip)
{
	struct sockaddr_in	 in = { .sin_family = AF_INET };
	struct sockaddr_in6	 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return webhook_address_public((struct sockaddr *)&in);
	if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
		return webhook_address_public((struct sockaddr *)&in6);
	return -1;
}

static void
test_webhook_addresses(void)
{
	static const char *const internal[] = {
		"127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3",
		"172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "100.127.255.255", "192.0.0.8", "192.0.2.1",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::",
		"2002:c0a8:101::1", "fc00::1", "fd12:3456::1", "fe80::1",
		"febf::1", "fec0::1", "ff02::1", "2001:db8::1", "100::1",
		/* local-use NAT64 (RFC 8215), whatever its prefix length */
		"64:ff9b:1::a9fe:a9fe", "64:ff9b:1:a9fe:a9:fe00::",
		"64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
		/* an IPv4 inside other translation and tunnel prefixes */
		"::ffff:0:a9fe:a9fe", "64:ff9b::1:a9fe:a9fe",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2",	/* Teredo */
		"2001:2::1", "2001:1::1", "2001:20::1", "2001:1ff:ffff::1",
		"3fff::1", "3fff:fff:ffff::1",		/* documentation */
		"100:0:0:1::1", "5f00::1",		/* dummy prefix, SRv6 */
		"4000::1", "e000::1", "fbff::1", "fe7f::1", "1fff:ffff::1",
		"::2", "::ffff:0.0.0.1", "::ffff:192.0.0.9", "192.88.99.1",
		"2002:c058:6301::1",			/* 6to4 of the relay */
	};
	static const char *const outside[] = {
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1",
		"172.15.255.255", "172.32.0.1", "192.167.255.255",
		"192.169.0.1", "100.63.255.255", "100.128.0.1", "169.253.0.1",
		"198.17.255.255", "198.20.0.1", "223.255.255.255", "93.184.216.34",
		"2606:4700:4700::1111", "2001:4860:4860::8888",
		"::ffff:93.184.216.34", "64:ff9b::808:808", "2002:808:808::1",
		"2a00:1450:4001::1", "2000::1", "3ffe:ffff::1", "3fff:1000::1",
		"2001:200::1", "192.88.98.255", "192.88.100.0",
	};
	struct sockaddr	 unix_sa = { .sa_family = AF_UNIX };
	char		 name[64];
	size_t		 i;

	for (i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		snprintf(name, sizeof(name), "internal %s", internal[i]);
		CHECK(name, public(internal[i]) == 0);
	}
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(name, sizeof(name), "public %s", outside[i]);
		CHECK(name, public(outside[i]) == 1);
	}
	CHECK("no other family", webhook_address_public(&unix_sa) == 0);
}

/* 1 when json_put_string() writes s as cJSON prints it, byte for byte. */
static int
json_string_as_cjson(struct buf *b, const char *s)
{
	cJSON	*j = cJSON_CreateString(s);
	char	*want = cJSON_PrintUnformatted(j);
	int	 same;

	buf_reset(b);
	json_put_string(b, s);
	same = strcmp(buf_str(b), want) == 0;
	cJSON_free(want);
	cJSON_Delete(j);
	return same;
}

/* json_put_string() against cJSON's own printing, byte for byte: every
 * byte alone, and a thousand strings of random bytes. */
static void
test_json_strings(void)
{
	struct buf	 b = BUF_INIT;
	char		 s[48];
	unsigned	 seed = 12345;
	int		 i, n, k, same = 0;

	for (i = 0; i < 1256; i++) {
		if (i < 256) {
			s[0] = (char)(i == 0 ? 'x' : i);
			s[1] = '\0';
		} else {
			n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
			for (k = 0; k < n; k++)
				s[k] = (char)(1 + ((seed = seed * 1103515245u +
				    12345u) >> 16) % 255);
			s[n] = '\0';
		}
		same += json_string_as_cjson(&b, s);
	}
	CHECK("json_put_string escapes as cJSON does", same == 1256);

	/* Eight bytes at a time (escapes_in()): every byte at every place
	 * of strings of 1 to 24 bytes, among ASCII or among UTF-8's high
	 * bytes, so each falls in each lane of a block and in the tail. */
	same = 0;
	for (n = 1; n <= 24; n++)
		for (k = 0; k < n; k++)
			for (i = 1; i < 256; i++) {
				memset(s, (n & 1) ? 'a' : 0xc3, (size_t)n);
				s[k] = (char)i;
				s[n] = '\0';
				same += json_string_as_cjson(&b, s);
			}
	CHECK("json_put_string escapes each byte in each place of a block",
	    same == 300 * 255);
	buf_free(&b);
}

/* json_iso_time(): the texts eventbox.iso_utc() and iso_local() write
 * (tests/test_api.py holds the API's to them for every zone). */
static void
test_iso_time(void)
{
	static const struct {
		const char	*epoch, *offset, *want;
	} cases[] = {
		{ "1798830000", NULL, "2027-01-01T19:00:00Z" },
		{ "1798830000", "-18000", "2027-01-01T14:00:00-05:00" },
		{ "1798830000", "0", "2027-01-01T19:00:00+00:00" },
		{ "1798830000", "-12600", "2027-01-01T15:30:00-03:30" },
		{ "1777863721.999999", NULL, "2026-05-04T03:02:01Z" },
		{ "1777863721.999999", "20700", "2026-05-04T08:47:01+05:45" },
		{ "1798830000", "17999.999999761581",
		    "2027-01-02T00:00:00+05:00" },
		{ "-2524521600", "-17762", "1889-12-31T19:03:58-04:56" },
		{ "-0.5", NULL, "1969-12-31T23:59:59Z" },
		{ "253402300799", NULL, "9999-12-31T23:59:59Z" },
		{ "", NULL, NULL }, { "1798830000", "", NULL },
		{ "soon", NULL, NULL }, { "Infinity", NULL, NULL },
		{ "-Infinity", "0", NULL }, { "1e300", NULL, NULL },
		{ "1798830000", "90000", NULL }, { "1798830000", "NaN", NULL },
	};
	char	 out[48], name[96];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = json_iso_time(out, sizeof(out), cases[i].epoch,
		    cases[i].offset);
		snprintf(name, sizeof(name), "iso time %s %s", cases[i].epoch,
		    cases[i].offset != NULL ? cases[i].offset : "UTC");
		CHECK(name, cases[i].want == NULL ? rc == -1 :
		    rc == 0 && strcmp(out, cases[i].want) == 0);
	}
}

/* json_duplicate_key(): the first name one object gives twice, at any
 * depth; names equal only in case, or in different objects, are two. */
static void
test_duplicate_keys(void)
{
	static const struct {
		const char	*json, *want;
	} cases[] = {
		{ "{\"a\":1,\"b\":2}", NULL },
		{ "{\"a\":1,\"a\":2}", "a" },
		{ "{\"a\":1,\"A\":2}", NULL },
		{ "{\"a\":{\"b\":1},\"b\":{\"a\":2}}", NULL },
		{ "{\"x\":[{\"k\":1},{\"k\":2,\"k\":3}]}", "k" },
		{ "{\"x\":{\"y\":{\"\":1,\"\":2}}}", "" },
		{ "{\"\u00e9\":1,\"\u00c3\u00a9\":2,\"\u00e9\":3}",
		    "\xc3\xa9" },
		{ "[1,2,{}]", NULL }, { "{}", NULL }, { "7", NULL },
	};
	struct buf	 b = BUF_INIT;
	cJSON		*j;
	const char	*got;
	char		 name[96];
	size_t		 i;
	int		 k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = cJSON_Parse(cases[i].json);
		got = j != NULL ? json_duplicate_key(j) : "(not parsed)";
		snprintf(name, sizeof(name), "duplicate key in %s",
		    cases[i].json);
		CHECK(name, cases[i].want == NULL ? got == NULL :
		    got != NULL && strcmp(got, cases[i].want) == 0);
		cJSON_Delete(j);
	}
	/* 2,000 names, the repeat last: found, and only it. */
	buf_printf(&b, "{");
	for (k = 0; k < 2000; k++)
		buf_printf(&b, "\"n%d\":%d,", k, k);
	buf_printf(&b, "\"n1234\":0}");
	j = cJSON_Parse(buf_str(&b));
	got = j != NULL ? json_duplicate_key(j) : NULL;
	CHECK("duplicate key among 2000", got != NULL &&
	    strcmp(got, "n1234") == 0);
	cJSON_Delete(j);
	buf_free(&b);
}

/* json_inexact_number(): a number cJSON read as a whole number though
 * its text is another number (underflow, digits a double drops) is
 * named; every way of writing a whole number exactly is not. */
static void
test_inexact_numbers(void)
{
	static const struct {
		const char	*json, *want;
	} cases[] = {
		{ "{\"c\":1e-400}", "c" },
		{ "{\"c\":-1e-400}", "c" },
		{ "{\"c\":1.0000000000000000001}", "c" },
		{ "{\"c\":0.99999999999999999999}", "c" },
		{ "{\"c\":9007199254740993}", "c" },
		{ "{\"c\":1e308}", "c" },
		{ "{\"a\":\"1e-400\",\"b\":[2,{\"k\":1e-330}]}", "k" },
		{ "{\"x\":[1,2,1e-999]}", "x" },
		{ "{\"c\":30}", NULL }, { "{\"c\":30.0}", NULL },
		{ "{\"c\":3e1}", NULL }, { "{\"c\":300E-1}", NULL },
		{ "{\"c\":0.3e+2}", NULL }, { "{\"c\":-0}", NULL },
		{ "{\"c\":-0.0}", NULL }, { "{\"c\":0e-400}", NULL },
		{ "{\"c\":1000000}", NULL }, { "{\"c\":9007199254740992}", NULL },
		{ "{\"c\":1.5}", NULL }, { "{\"c\":1e22}", NULL },
		{ "{\"s\\\"1\":\"2\\\\\",\"c\":7}", NULL },
	};
	cJSON		*j;
	const char	*got;
	char		 name[96];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = cJSON_Parse(cases[i].json);
		got = j != NULL ? json_inexact_number(j, cases[i].json,
		    strlen(cases[i].json)) : "(not parsed)";
		snprintf(name, sizeof(name), "inexact number in %s",
		    cases[i].json);
		CHECK(name, cases[i].want == NULL ? got == NULL :
		    got != NULL && strcmp(got, cases[i].want) == 0);
		cJSON_Delete(j);
	}
}

/* One event row as the statements give it (libpq's own result, made
 * here): the text parses, and each member is what the row said. */
static void
test_json_event(void)
{
	static const char *names[] = { "id", "slug", "title", "description",
	    "presenter", "format", "location", "categories", "organizer",
	    "accessibility_contact", "audience", "learning_outcomes",
	    "language", "starts_epoch", "ends_epoch", "timezone", "starts_offset",
	    "ends_offset", "status", "capacity", "seats_available",
	    "waitlist_available", "registration_state", "opens_epoch",
	    "closes_epoch", "questions" };
	static const char *values[] = { "42", "social-media",
	    "Tabs\tand \"quotes\" \\ \x01", "Line\nbreak, caf\xc3\xa9",
	    "", "online", "", "[\"Tech\",\"Ma\\\"rketing\"]", "Lib", "a@b.org",
	    "", "[]", "es", "1798830000", "1798833600.5",
	    "America/New_York", "-18000", "-18000",
	    "published", "100", "7", "t", "open",
	    NULL, "1798830000",
	    "[{\"id\": 3, \"kind\": \"yes_no\", \"label\": \"Photos?\"}]" };
	PGresAttDesc	 att[26];
	PGresult	*res;
	struct buf	 b = BUF_INIT;
	cJSON		*o, *q;
	const char	*old = cfg.base_url;
	int		 i, ok;

	memset(att, 0, sizeof(att));
	for (i = 0; i < 26; i++) {
		att[i].name = (char *)names[i];
		att[i].format = 0;
		att[i].typid = 25;
		att[i].typlen = -1;
		att[i].atttypmod = -1;
	}
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ok = res != NULL && PQsetResultAttrs(res, 26, att);
	for (i = 0; ok && i < 26; i++)
		ok = values[i] == NULL ? PQsetvalue(res, 0, i, NULL, -1) :
		    PQsetvalue(res, 0, i, (char *)values[i],
		    (int)strlen(values[i]));
	CHECK("a result made by hand", ok);
	if (!ok)
		return;
	cfg.base_url = "https://events.example.org/a\"b";
	json_put_event(&b, res, 0);
	o = cJSON_Parse(buf_str(&b));
	CHECK("json_put_event writes JSON", cJSON_IsObject(o));
	CHECK("event: a number", cJSON_GetNumberValue(
	    cJSON_GetObjectItem(o, "id")) == 42.0 && cJSON_GetNumberValue(
	    cJSON_GetObjectItem(o, "seats_available")) == 7.0);
	CHECK("event: strings as stored", strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItem(o, "title")), values[2]) == 0 &&
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o,
	    "description")), values[3]) == 0);
	CHECK("event: the language staff wrote it in", strcmp(
	    cJSON_GetStringValue(cJSON_GetObjectItem(o, "language")), "es")
	    == 0);
	CHECK("event: arrays", cJSON_GetArraySize(cJSON_GetObjectItem(o,
	    "categories")) == 2 && strcmp(cJSON_GetStringValue(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(o, "categories"), 1)),
	    "Ma\"rketing") == 0 && cJSON_IsArray(cJSON_GetObjectItem(o,
	    "learning_outcomes")));
	CHECK("event: booleans and null", cJSON_IsTrue(cJSON_GetObjectItem(o,
	    "waitlist_available")) && cJSON_IsTrue(cJSON_GetObjectItem(o,
	    "registration_open")) && cJSON_IsNull(cJSON_GetObjectItem(o,
	    "registration_opens_at")));
	CHECK("event: times in UTC and local", strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItem(o, "starts_at")), "2027-01-01T19:00:00Z") == 0 &&
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "ends_local")),
	    "2027-01-01T15:00:00-05:00") == 0 && strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItem(o, "registration_closes_at")),
	    "2027-01-01T19:00:00Z") == 0);
	CHECK("event: its page", strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItem(o, "url")),
	    "https://events.example.org/a\"b/events/social-media") == 0);
	q = cJSON_GetObjectItem(o, "questions");
	CHECK("event: its questions", cJSON_GetArraySize(q) == 1 &&
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(q, 0), "label")), "Photos?") == 0);
	CHECK("event: 28 members", cJSON_GetArraySize(o) == 28);
	cJSON_Delete(o);
	cfg.base_url = old;
	buf_free(&b);
	PQclear(res);
}

/* A one-row result with these columns, each holding its own name. */
static PGresult *
result_of(const char *const names[], int n)
{
	PGresAttDesc	 att[8];
	PGresult	*res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	int		 i, ok;

	memset(att, 0, sizeof(att));
	for (i = 0; i < n; i++) {
		att[i].name = (char *)names[i];
		att[i].typid = 25;
		att[i].typlen = -1;
		att[i].atttypmod = -1;
	}
	ok = res != NULL && PQsetResultAttrs(res, n, att);
	for (i = 0; ok && i < n; i++)
		ok = PQsetvalue(res, 0, i, (char *)names[i],
		    (int)strlen(names[i]));
	return ok ? res : NULL;
}

/* db_value() by name, in any order and again, and in new results with
 * the same names in other places.  (Under ASan's quarantine a new result
 * is never at a freed one's address; the release build's would be, which
 * is why a remembered place is checked against the name.) */
static void
test_db_value(void)
{
	static const char *const	 one[] = { "a", "b", "c", "d" };
	static const char *const	 two[] = { "d", "c", "e" };
	static const char		*order[] = { "a", "b", "c", "d", "c",
					    "a", "d", "a", "b", "c" };
	PGresult			*res;
	size_t				 i;
	int				 ok = 1, round;

	for (round = 0; round < 50; round++) {
		if ((res = result_of(one, 4)) == NULL)
			break;
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			ok &= strcmp(db_value(res, 0, order[i]), order[i]) == 0;
		PQclear(res);
		if ((res = result_of(two, 3)) == NULL)
			break;
		ok &= strcmp(db_value(res, 0, "c"), "c") == 0 &&
		    strcmp(db_value(res, 0, "d"), "d") == 0 &&
		    strcmp(db_value(res, 0, "e"), "e") == 0 &&
		    strcmp(db_value(res, 0, "c"), "c") == 0 &&
		    db_isnull(res, 0, "a");
		PQclear(res);
	}
	CHECK("db_value finds columns in any order, in results made again",
	    ok && round == 50);
}

int
main(void)
{
	test_json_strings();
	test_json_event();
	test_iso_time();
	test_duplicate_keys();
	test_inexact_numbers();
	test_webhook_signature();
	test_webhook_addresses();
	test_ical();
	test_email();
	test_text();
	test_utf8();
	test_tokens_and_keys();
	test_numbers_and_dates();
	test_decoding();
	test_query();
	test_fields();
	test_routes();
	test_form();
	test_html();
	test_db_value();
	test_csrf();
	test_csv();
	test_bearer();
	test_libcal();
	test_libcal_credentials();
	test_libcal_basic();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
