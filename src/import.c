/*
 * import.c: `eventbox import URL`, moving off LibCal: reads a LibCal 1.1
 * API (client credentials, calendars, each calendar's events page by page)
 * and creates each event as a draft for staff to review and publish, with
 * its title, times, description, presenter, location, format, categories,
 * audience (as who should attend) and seats.  Idempotent: an event already imported from that API (by its
 * id there, eventbox.event_imports) is left alone, so a re-run imports only
 * what is new.  With EVENTBOX_IMPORT_REGISTRATIONS=1, each event's
 * registrations too, while its draft is a draft (created now, or imported
 * before and not yet published): seats, then the waiting list, each in
 * LibCal's order, once per booking id (eventbox.registration_imports),
 * mailed nothing; one imported before that LibCal lists no more is named.
 *
 * Settings: EVENTBOX_IMPORT_CLIENT_ID and EVENTBOX_IMPORT_CLIENT_SECRET
 * (the LibCal API's client credentials), EVENTBOX_IMPORT_TIMEZONE (the
 * events' IANA zone, default America/New_York: LibCal's times carry only
 * an offset), EVENTBOX_IMPORT_QUERY (more parameters for /1.1/events, e.g.
 * "category=12"); run as a member of eventbox_ops or the owner (the drafts
 * are audited under that role).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "proc.h"
#include "registration.h"
#include "validate.h"

#define IMPORT_PAGE	500	/* LibCal's largest limit */
#define IMPORT_PAGES	1000	/* a loop guard: 500,000 events */

struct import {
	CURL		*curl;
	const char	*base;
	char		 auth[512];	/* "Authorization: Bearer ..." */
	int		 registrations;	/* EVENTBOX_IMPORT_REGISTRATIONS */
	long		 created, existing, refused;
	/* registrations: seats, waiting places (moved: of those, a seat
	 * at the source with none left here), imported before, refused */
	long		 seats, waiting, moved, reg_existing, reg_refused;
};

/*
 * cJSON reads the escape \u0000 as a NUL that ends its string: "Knitting
 * \u0000Circle" would come in as "Knitting ", silently, and so would a
 * raw NUL.  The JSON text s into out with each of them (the escape as
 * json_nul_escape() finds it) as NUL_MARK, the overlong NUL of "modified
 * UTF-8", which no UTF-8 text holds: text_fault() finds it, and the event
 * with it is refused.
 */
#define NUL_MARK	"\xc0\x80"

static void
mark_nuls(struct buf *out, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (s[i] == '\\' && len - i > 5 &&
		    memcmp(s + i + 1, "u0000", 5) == 0)) {
			buf_adds(out, NUL_MARK);
			i += s[i] == '\0' ? 0 : 5;
			continue;
		}
		buf_addc(out, s[i]);
		if (s[i] == '\\' && i + 1 < len)	/* "\\u0000" is text */
			buf_addc(out, s[++i]);
	}
}

/* Why a text of a remote event cannot be imported, or NULL. */
static const char *
string_fault(const char *s)
{
	if (strstr(s, NUL_MARK) != NULL)
		return "holds a NUL character (\\u0000)";
	if (!utf8_valid(s, strlen(s)))
		return "is not UTF-8";
	return NULL;
}

/* The same for every text in v, its members' names too, at any depth. */
static const char *
text_fault(const cJSON *v)
{
	const cJSON	*c;
	const char	*why;

	if (v->string != NULL && (why = string_fault(v->string)) != NULL)
		return why;
	if (cJSON_IsString(v) && (why = string_fault(v->valuestring)) != NULL)
		return why;
	cJSON_ArrayForEach(c, v)
		if ((why = text_fault(c)) != NULL)
			return why;
	return NULL;
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	buf_add(arg, p, size * n);
	return size * n;
}

/* GET (form NULL) or POST a form; the JSON answer, or NULL after
 * logging why.  The caller cJSON_Delete()s it. */
static cJSON *
call(struct import *im, const char *path, const char *form)
{
	struct buf		 url = BUF_INIT, body = BUF_INIT, text = BUF_INIT;
	struct curl_slist	*h = NULL;
	cJSON			*j = NULL;
	long			 status = 0;
	CURLcode		 rc;

	buf_printf(&url, "%s%s", im->base, path);
	curl_easy_reset(im->curl);
	curl_easy_setopt(im->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(im->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(im->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (form != NULL)
		curl_easy_setopt(im->curl, CURLOPT_POSTFIELDS, form);
	else {
		h = curl_slist_append(h, im->auth);
		curl_easy_setopt(im->curl, CURLOPT_HTTPHEADER, h);
	}
	rc = curl_easy_perform(im->curl);
	curl_easy_getinfo(im->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		log_warnx("%s: %s", path, curl_easy_strerror(rc));
	else if (status != 200)
		log_warnx("%s: HTTP %ld", path, status);
	else {
		mark_nuls(&text, body.data, body.len);
		if ((j = cJSON_ParseWithLength(text.data != NULL ? text.data :
		    "", text.len)) == NULL)
			log_warnx("%s: not JSON", path);
	}
	curl_slist_free_all(h);
	buf_free(&url);
	buf_free(&body);
	buf_free(&text);
	return j;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * The Latin letters of U+00C0-U+017F (Latin-1 Supplement, Latin
 * Extended-A) as a slug spells them, by ranges of code points: "Introducción
 * a la genealogía" is "introduccion-a-la-genealogia", not "introducci-n-a-
 * la-genealog-a".  Letters of other scripts are left out, as punctuation is.
 */
static const struct {
	unsigned	 first, last;
	const char	*ascii;
} latin[] = {
	{ 0xc0, 0xc5, "a" }, { 0xc6, 0xc6, "ae" }, { 0xc7, 0xc7, "c" },
	{ 0xc8, 0xcb, "e" }, { 0xcc, 0xcf, "i" }, { 0xd0, 0xd0, "d" },
	{ 0xd1, 0xd1, "n" }, { 0xd2, 0xd6, "o" }, { 0xd8, 0xd8, "o" },
	{ 0xd9, 0xdc, "u" }, { 0xdd, 0xdd, "y" }, { 0xde, 0xde, "th" },
	{ 0xdf, 0xdf, "ss" }, { 0xe0, 0xe5, "a" }, { 0xe6, 0xe6, "ae" },
	{ 0xe7, 0xe7, "c" }, { 0xe8, 0xeb, "e" }, { 0xec, 0xef, "i" },
	{ 0xf0, 0xf0, "d" }, { 0xf1, 0xf1, "n" }, { 0xf2, 0xf6, "o" },
	{ 0xf8, 0xf8, "o" }, { 0xf9, 0xfc, "u" }, { 0xfd, 0xfd, "y" },
	{ 0xfe, 0xfe, "th" }, { 0xff, 0xff, "y" }, { 0x100, 0x105, "a" },
	{ 0x106, 0x10d, "c" }, { 0x10e, 0x111, "d" }, { 0x112, 0x11b, "e" },
	{ 0x11c, 0x123, "g" }, { 0x124, 0x127, "h" }, { 0x128, 0x131, "i" },
	{ 0x132, 0x133, "ij" }, { 0x134, 0x135, "j" }, { 0x136, 0x138, "k" },
	{ 0x139, 0x142, "l" }, { 0x143, 0x14b, "n" }, { 0x14c, 0x151, "o" },
	{ 0x152, 0x153, "oe" }, { 0x154, 0x159, "r" }, { 0x15a, 0x161, "s" },
	{ 0x162, 0x167, "t" }, { 0x168, 0x173, "u" }, { 0x174, 0x175, "w" },
	{ 0x176, 0x178, "y" }, { 0x179, 0x17e, "z" }, { 0x17f, 0x17f, "s" },
};

/* What *s (UTF-8, a title from JSON) spells in a slug: its letters and
 * digits, lower-case, else "" (a separator); *s moves past it. */
static const char *
slug_letters(const char **s)
{
	static char		 one[2];
	const unsigned char	*u = (const unsigned char *)*s;
	unsigned		 cp;
	size_t			 i;

	if (u[0] < 0x80) {
		(*s)++;
		one[0] = (char)(u[0] >= 'A' && u[0] <= 'Z' ? u[0] - 'A' + 'a' :
		    u[0]);
		return (one[0] >= 'a' && one[0] <= 'z') ||
		    (one[0] >= '0' && one[0] <= '9') ? one : "";
	}
	if ((u[0] == 0xc3 || u[0] == 0xc4 || u[0] == 0xc5) &&
	    (u[1] & 0xc0) == 0x80) {
		cp = (unsigned)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
		*s += 2;
		for (i = 0; i < sizeof(latin) / sizeof(latin[0]); i++)
			if (cp >= latin[i].first && cp <= latin[i].last)
				return latin[i].ascii;
		return "";
	}
	do			/* any other character, whole */
		(*s)++;
	while ((**s & 0xc0) == 0x80);
	return "";
}

/* "Knitting Circle" and 42: "knitting-circle-42". */
static void
slug_of(struct buf *b, const char *title, double id)
{
	const char	*t;
	size_t		 n = 0;
	int		 dash = 0;

	while (*title != '\0' && n < 50) {
		if (*(t = slug_letters(&title)) == '\0') {
			dash = 1;
			continue;
		}
		if (dash && n > 0)
			buf_addc(b, '-'), n++;
		for (; *t != '\0'; t++, n++)
			buf_addc(b, *t);
		dash = 0;
	}
	buf_printf(b, "%s%.0f", n > 0 ? "-" : "event-", id);
}

/* LibCal's audiences ("Adults", "Teens") as who should attend, one text. */
static void
audience(cJSON *f, const cJSON *list)
{
	struct buf	 b = BUF_INIT;
	const cJSON	*a;

	cJSON_ArrayForEach(a, list)
		if (*str(a, "name") != '\0') {
			buf_adds(&b, b.len > 0 ? ", " : "");
			buf_adds(&b, str(a, "name"));
		}
	if (b.len > 0)
		cJSON_AddStringToObject(f, "audience", b.data);
	buf_free(&b);
}

/* One LibCal event as save_event()'s fields (a new JSON object). */
static cJSON *
fields_of(const cJSON *e, const char *tz)
{
	cJSON		*f = cJSON_CreateObject(), *cats, *c;
	const cJSON	*seats = cJSON_GetObjectItemCaseSensitive(e, "seats");
	const cJSON	*loc = cJSON_GetObjectItemCaseSensitive(e, "location");
	const char	*where = str(loc, "name");
	struct buf	 slug = BUF_INIT;
	int		 online = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(e, "online_event"));

	slug_of(&slug, str(e, "title"), cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(e, "id")));
	cJSON_AddStringToObject(f, "slug", slug.data);
	cJSON_AddStringToObject(f, "title", str(e, "title"));
	cJSON_AddStringToObject(f, "starts_at", str(e, "start"));
	cJSON_AddStringToObject(f, "ends_at", str(e, "end"));
	cJSON_AddStringToObject(f, "timezone", tz);
	cJSON_AddStringToObject(f, "description", str(e, "description"));
	cJSON_AddStringToObject(f, "presenter", str(e, "presenter"));
	cJSON_AddStringToObject(f, "organizer",
	    str(cJSON_GetObjectItemCaseSensitive(e, "owner"), "name"));
	if (strcmp(where, "Online") == 0)
		where = "";
	cJSON_AddStringToObject(f, "location", where);
	cJSON_AddStringToObject(f, "format", !online ? "in_person" :
	    *where != '\0' ? "hybrid" : "online");
	/* LibCal sends seats as a number or a string; none: staff decide. */
	cJSON_AddNumberToObject(f, "capacity", cJSON_IsNumber(seats) ?
	    seats->valuedouble : cJSON_IsString(seats) ?
	    strtod(seats->valuestring, NULL) : 0);
	audience(f, cJSON_GetObjectItemCaseSensitive(e, "audience"));
	cats = cJSON_AddArrayToObject(f, "categories");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(e, "category"))
		if (*str(c, "name") != '\0')
			cJSON_AddItemToArray(cats, cJSON_CreateString(
			    str(c, "name")));
	buf_free(&slug);
	return f;
}

/* Why a registrant's field is refused (registration_from_json()), for
 * the sysadmin reading stderr. */
static const char *
field_fault(enum field_error e)
{
	switch (e) {
	case FIELD_MISSING:
		return "is missing";
	case FIELD_NOT_STRING:
		return "is not a string";
	case FIELD_TOO_LONG:
		return "is too long";
	case FIELD_NOT_TEXT:
		return "is not one line of text";
	case FIELD_NOT_NAME:
		return "holds a web or email address";
	case FIELD_NOT_EMAIL:
		return "is not a valid email address";
	case FIELD_EMAIL_LOCAL_NOT_ASCII:
		return "has a letter such as é before the @";
	case FIELD_EMAIL_DOMAIN_NOT_IDNA:
		return "has a domain IDNA2008 refuses";
	case FIELD_OK:
	case FIELD_ABSENT:
		break;
	}
	abort();	/* not a fault */
}

/* Why import_registration() refused one, or NULL when it did not. */
static const char *
registration_fault(const char *outcome)
{
	static const struct {
		const char	*outcome, *why;
	} faults[] = {
		{ "full", "no seat left on the draft and no room on its "
		    "waiting list" },
		{ "not_draft", "the event is no longer a draft" },
		{ "invalid_name", "name refused" },
		{ "invalid_email", "email refused (a dot in the domain, no "
		    "all-digit last label)" },
		{ "invalid_organization", "organization refused" },
		{ "already_registered", "the address is registered for the "
		    "event already" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(faults[i].outcome, outcome) == 0)
			return faults[i].why;
	return NULL;
}

/*
 * One LibCal registrant r of the event source_id onto its draft event_id:
 * its fields checked as a staff registration's are (the domain in
 * A-labels), then import_registration().  Counted; a refusal is said on
 * stderr with the booking id, and the import goes on.  1 when the draft
 * has no seats, which refuses all of its registrants alike.
 */
static int
import_registrant(struct import *im, const char *source_id,
    const char *event_id, const cJSON *r, int waiting, struct buf *listed)
{
	struct registration_fields	 f;
	struct field_problem		 problem;
	struct buf			 name = BUF_INIT;
	cJSON				*in = cJSON_CreateObject();
	const cJSON			*b = cJSON_GetObjectItemCaseSensitive(r,
					    "booking_id");
	const char			*vals[8], *outcome, *why;
	char				 booking[32];
	PGresult			*res;
	int				 rc = 0;

	memset(&f, 0, sizeof(f));
	/* A whole number a double holds exactly (and a bigint too). */
	if (!cJSON_IsNumber(b) || !(b->valuedouble >= 1 &&
	    b->valuedouble <= 9007199254740991.0) ||
	    (double)(long long)b->valuedouble != b->valuedouble) {
		im->reg_refused++;
		fprintf(stderr, "eventbox: a registration of event %s not "
		    "imported: its booking_id is not a positive whole "
		    "number\n", source_id);
		goto done;
	}
	snprintf(booking, sizeof(booking), "%.0f", b->valuedouble);
	buf_printf(listed, "%s%s", listed->len > 1 ? "," : "", booking);
	/* eventbox's own /1.1 keeps a name whole, in first_name. */
	buf_adds(&name, str(r, "first_name"));
	if (*str(r, "last_name") != '\0')
		buf_printf(&name, "%s%s", name.len > 0 ? " " : "",
		    str(r, "last_name"));
	cJSON_AddStringToObject(in, "name", name.data != NULL ? name.data : "");
	cJSON_AddStringToObject(in, "email", str(r, "email"));
	cJSON_AddStringToObject(in, "organization", str(r, "organization"));
	if (registration_from_json(in, &f, &problem) == -1) {
		im->reg_refused++;
		fprintf(stderr, "eventbox: booking %s (event %s) not imported: "
		    "%s %s\n", booking, source_id,
		    field_specs[problem.field].name, field_fault(problem.error));
		goto done;
	}
	vals[0] = im->base;
	vals[1] = booking;
	vals[2] = event_id;
	vals[3] = f.name;
	vals[4] = f.email;
	vals[5] = f.has_org ? f.org : NULL;
	/* Bytes that are no UTF-8 would fail the statement: now, then. */
	vals[6] = string_fault(str(r, "registered_date")) == NULL ?
	    str(r, "registered_date") : NULL;
	vals[7] = waiting ? "true" : "false";
	if (db_query(STMT_IMPORT_REGISTRATION, 8, vals, &res) != DB_OK) {
		rc = -1;
		goto done;
	}
	outcome = db_value(res, 0, "outcome");
	if (strcmp(outcome, "confirmed") == 0)
		im->seats++;
	else if (strcmp(outcome, "waitlisted") == 0)
		im->waiting++;
	else if (strcmp(outcome, "moved") == 0) {
		im->waiting++;
		im->moved++;
		fprintf(stderr, "eventbox: booking %s (event %s) had a seat; no "
		    "seat left on the draft: on its waiting list, place %s\n",
		    booking, source_id, db_value(res, 0, "position"));
	} else if (strcmp(outcome, "exists") == 0)
		im->reg_existing++;
	else if (strcmp(outcome, "no_seats") == 0)
		rc = 1;		/* the event's: import_registrations() */
	else {
		im->reg_refused++;
		why = registration_fault(outcome);
		fprintf(stderr, "eventbox: booking %s (event %s) not imported: "
		    "%s\n", booking, source_id, why != NULL ? why : outcome);
	}
	PQclear(res);
done:
	registration_fields_free(&f);
	cJSON_Delete(in);
	buf_free(&name);
	return rc;
}

/*
 * The bookings imported before onto the draft event_id that LibCal lists
 * no more (listed: the booking ids it lists now, "{1,2}"), named on
 * stderr: cancelled there since the last run, or removed by its staff.
 * Their registrations stay as they are: staff cancel or keep each.
 */
static int
name_unlisted(struct import *im, const char *source_id,
    const char *event_id, const char *listed)
{
	const char	*vals[3] = { im->base, event_id, listed };
	PGresult	*res;
	int		 i;

	if (db_query(STMT_IMPORT_UNLISTED, 3, vals, &res) != DB_OK)
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		fprintf(stderr, "eventbox: booking %s (event %s) imported "
		    "before is no longer listed by LibCal; still %s here "
		    "(registration %s): cancel it as staff if it was "
		    "cancelled there\n", db_value(res, i, "booking_id"),
		    source_id, db_value(res, i, "status"),
		    db_value(res, i, "registration_id"));
	PQclear(res);
	return 0;
}

/*
 * The registrations of the LibCal event source_id onto its draft event_id:
 * GET /1.1/events/{id}/registrations?waitlist=1 (the client needs the
 * registrations scope), the seats ("registrants") first, then the waiting
 * list, each in LibCal's order.  0, or -1 when they could not be read or
 * the database failed.
 */
static int
import_registrations(struct import *im, const char *source_id,
    const char *event_id)
{
	struct buf	 path = BUF_INIT, listed = BUF_INIT;
	cJSON		*j;
	const cJSON	*ev, *r, *seats, *waiting;
	long		 refused = im->reg_refused;
	int		 rc = 0;

	buf_printf(&path, "/1.1/events/%s/registrations?waitlist=1", source_id);
	if ((j = call(im, path.data, NULL)) == NULL) {
		fprintf(stderr, "eventbox: could not read the registrations of "
		    "event %s (the line above says why; does the client have "
		    "the registrations scope?)\n", source_id);
		buf_free(&path);
		return -1;
	}
	ev = cJSON_GetArrayItem(j, 0);
	seats = cJSON_GetObjectItemCaseSensitive(ev, "registrants");
	waiting = cJSON_GetObjectItemCaseSensitive(ev, "waitlist");
	buf_adds(&listed, "{");
	cJSON_ArrayForEach(r, seats)
		if (rc == 0)
			rc = import_registrant(im, source_id, event_id, r, 0,
			    &listed);
	cJSON_ArrayForEach(r, waiting)
		if (rc == 0)
			rc = import_registrant(im, source_id, event_id, r, 1,
			    &listed);
	buf_adds(&listed, "}");
	if (rc == 1) {
		/* Not one each: the sysadmin has one thing to do. */
		im->reg_refused = refused + cJSON_GetArraySize(seats) +
		    cJSON_GetArraySize(waiting);
		fprintf(stderr, "eventbox: the registrations of event %s not "
		    "imported: its draft has no seats (LibCal set no limit); "
		    "set its capacity, then run the import again\n",
		    source_id);
		rc = 0;
	} else if (rc == 0 && cJSON_IsArray(seats))
		/* An answer with no list of registrants lists nobody. */
		rc = name_unlisted(im, source_id, event_id, listed.data);
	cJSON_Delete(j);
	buf_free(&path);
	buf_free(&listed);
	return rc;
}

static int
import_event(struct import *im, const cJSON *e, const char *tz)
{
	cJSON		*f;
	char		*json, id[32], event_id[32] = "";
	const char	*vals[3] = { im->base, id, NULL };
	const char	*outcome, *why;
	const cJSON	*m;
	PGresult	*res;
	int		 rc = 0;

	snprintf(id, sizeof(id), "%.0f", cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(e, "id")));
	/* Bytes that are no UTF-8 would stop the calendar (the database
	 * refuses them), a NUL would cut a text short: refused, counted. */
	cJSON_ArrayForEach(m, e)
		if ((why = text_fault(m)) != NULL) {
			im->refused++;
			fprintf(stderr, "eventbox: event %s not imported: %s "
			    "%s\n", id, m->string != NULL &&
			    string_fault(m->string) == NULL ? m->string :
			    "a field's name", why);
			return 0;
		}
	f = fields_of(e, tz);
	vals[2] = json = cJSON_PrintUnformatted(f);
	if (db_query(STMT_IMPORT_EVENT, 3, vals, &res) != DB_OK) {
		rc = -1;
		goto done;
	}
	outcome = db_value(res, 0, "outcome");
	if (im->registrations && !db_isnull(res, 0, "draft") &&
	    db_bool(res, 0, "draft"))
		snprintf(event_id, sizeof(event_id), "%s",
		    db_value(res, 0, "event_id"));
	if (strcmp(outcome, "created") == 0)
		im->created++;
	else if (strcmp(outcome, "exists") == 0)
		im->existing++;
	else {
		im->refused++;
		fprintf(stderr, "eventbox: event %s (%s) not imported: %s %s\n",
		    id, str(e, "title"), db_value(res, 0, "field"),
		    db_value(res, 0, "message"));
	}
	PQclear(res);
	if (*event_id != '\0')
		rc = import_registrations(im, id, event_id);
done:
	free(json);
	cJSON_Delete(f);
	return rc;
}

/* Every event of one calendar, from today for a year, page by page. */
static int
import_calendar(struct import *im, double cal_id, const char *tz,
    const char *extra)
{
	struct buf	 path = BUF_INIT;
	cJSON		*page, *e;
	int		 n, p, rc = 0;

	for (p = 1; p <= IMPORT_PAGES; p++) {
		buf_reset(&path);
		buf_printf(&path, "/1.1/events?cal_id=%.0f&days=365&limit=%d"
		    "&page=%d%s%s", cal_id, IMPORT_PAGE, p, *extra ? "&" : "",
		    extra);
		if ((page = call(im, path.data, NULL)) == NULL) {
			rc = -1;
			break;
		}
		n = 0;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(page,
		    "events")) {
			n++;
			if (rc == 0 && import_event(im, e, tz) == -1)
				rc = -1;
		}
		cJSON_Delete(page);
		if (rc == -1 || n < IMPORT_PAGE)
			break;
	}
	buf_free(&path);
	return rc;
}

/* 1 when the zone is a place's (eventbox.is_valid_timezone()); else 0,
 * having said why (a mistyped zone refused every event one by one, and the
 * import ended "0 refused" short of the truth with exit 0). */
static int
zone_known(const char *tz)
{
	PGresult	*res;
	int		 known;

	if (db_query(STMT_IMPORT_ZONE, 1, &tz, &res) != DB_OK) {
		fprintf(stderr, "eventbox: could not check "
		    "EVENTBOX_IMPORT_TIMEZONE (the line above says why)\n");
		return 0;
	}
	if (!(known = db_bool(res, 0, "valid")))
		fprintf(stderr, "eventbox: EVENTBOX_IMPORT_TIMEZONE \"%s\" is not "
		    "a time zone of a place (e.g. America/Chicago; not "
		    "localtime, Factory or posix/...)\n", tz);
	PQclear(res);
	return known;
}

int
cmd_import(int argc, char **argv)
{
	struct import	 im;
	const char	*id = config_env("EVENTBOX_IMPORT_CLIENT_ID", NULL);
	const char	*secret = config_env("EVENTBOX_IMPORT_CLIENT_SECRET", NULL);
	const char	*tz = config_env("EVENTBOX_IMPORT_TIMEZONE",
			    "America/New_York");
	const char	*extra = config_env("EVENTBOX_IMPORT_QUERY", "");
	const char	*regs = config_env("EVENTBOX_IMPORT_REGISTRATIONS", "0");
	struct buf	 form = BUF_INIT;
	cJSON		*tok = NULL, *cals = NULL, *cal;
	char		*eid, *esecret;
	size_t		 n;
	int		 rc = 1;

	if (argc != 2 || id == NULL || secret == NULL ||
	    (strcmp(regs, "0") != 0 && strcmp(regs, "1") != 0)) {
		fprintf(stderr, "usage: EVENTBOX_IMPORT_CLIENT_ID=... "
		    "EVENTBOX_IMPORT_CLIENT_SECRET=... "
		    "[EVENTBOX_IMPORT_REGISTRATIONS=0|1] eventbox import "
		    "https://LIBCAL-HOST\n");
		return 2;
	}
	config_load();
	log_init("eventbox-import", "");
	db_init("eventbox-import", 0);
	if (!zone_known(tz)) {
		db_close();
		return 2;
	}
	memset(&im, 0, sizeof(im));
	im.registrations = strcmp(regs, "1") == 0;
	n = strlen(argv[1]);
	while (n > 0 && argv[1][n - 1] == '/')
		argv[1][--n] = '\0';
	im.base = argv[1];
	if ((im.curl = curl_easy_init()) == NULL)
		goto done;
	eid = curl_easy_escape(im.curl, id, 0);
	esecret = curl_easy_escape(im.curl, secret, 0);
	buf_printf(&form, "grant_type=client_credentials&client_id=%s"
	    "&client_secret=%s", eid, esecret);
	curl_free(eid);
	curl_free(esecret);
	if ((tok = call(&im, "/1.1/oauth/token", form.data)) == NULL ||
	    *str(tok, "access_token") == '\0') {
		fprintf(stderr, "eventbox: no access token from %s/1.1/oauth/"
		    "token (client id and secret right?)\n", im.base);
		goto done;
	}
	snprintf(im.auth, sizeof(im.auth), "Authorization: Bearer %s",
	    str(tok, "access_token"));
	if ((cals = call(&im, "/1.1/calendars", NULL)) == NULL)
		goto done;
	rc = 0;
	cJSON_ArrayForEach(cal, cJSON_GetObjectItemCaseSensitive(cals,
	    "calendars"))
		if (import_calendar(&im, cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(cal, "cal_id")),
		    tz, extra) == -1)
			rc = 1;
	printf("%ld created as drafts, %ld imported before, %ld refused",
	    im.created, im.existing, im.refused);
	if (im.registrations)
		printf("; registrations: %ld confirmed, %ld on the waiting list "
		    "(%ld of them had a seat), %ld imported before, %ld "
		    "refused", im.seats, im.waiting, im.moved, im.reg_existing,
		    im.reg_refused);
	printf("\n");
done:
	explicit_bzero(form.data, form.len);
	explicit_bzero(im.auth, sizeof(im.auth));
	buf_free(&form);
	cJSON_Delete(tok);
	cJSON_Delete(cals);
	if (im.curl != NULL)
		curl_easy_cleanup(im.curl);
	db_close();
	return rc;
}
