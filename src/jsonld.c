/*
 * jsonld.c: schema.org/Event as JSON-LD for the event page (jsonld.h).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "escape.h"
#include "json.h"
#include "jsonld.h"

#define SCHEMA	"https://schema.org/"

/*
 * The JSON is written as text (json_put_string() escapes as cJSON does),
 * with no tree to build, print and free.  Every object opens with its
 * @type, so each member after it starts with a comma.
 */
static void
put_key(struct buf *b, const char *key)
{
	buf_addc(b, ',');
	json_put_string(b, key);
	buf_addc(b, ':');
}

static void
member(struct buf *b, const char *key, const char *value)
{
	put_key(b, key);
	json_put_string(b, value);
}

/* {"@type":TYPE, as the member KEY (NULL: a value of its own). */
static void
open_typed(struct buf *b, const char *key, const char *type)
{
	if (key != NULL)
		put_key(b, key);
	buf_adds(b, "{\"@type\":");
	json_put_string(b, type);
}

static void
member_url(struct buf *b, const char *key, const char *path,
    const char *tail)
{
	struct buf	 u = BUF_INIT;

	buf_printf(&u, "%s%s%s", cfg.base_url, path, tail);
	member(b, key, u.data);
	buf_free(&u);
}

/* The event's place: a Place, its page as a VirtualLocation, or both. */
static void
add_location(struct buf *b, const PGresult *res, const char *format)
{
	const char	*where = db_value(res, 0, "location");
	int		 place = strcmp(format, "online") != 0;

	put_key(b, "location");
	buf_addc(b, '[');
	if (place) {
		open_typed(b, NULL, "Place");
		member(b, "name", *where != '\0' ? where : cfg.calendar_name);
		member(b, "address", *where != '\0' ? where :
		    cfg.calendar_name);
		buf_addc(b, '}');
	}
	if (strcmp(format, "in_person") != 0) {
		if (place)
			buf_addc(b, ',');
		open_typed(b, NULL, "VirtualLocation");
		member_url(b, "url", "/events/", db_value(res, 0, "slug"));
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/*
 * What a search engine may tell people about registering, from the event's
 * registration_state (sql/rules/10_seats.sql) first and its seats second:
 * nobody can register for a cancelled event (Discontinued), nor once
 * registration has closed or the event has begun (SoldOut: Google reads
 * only InStock, SoldOut and PreOrder for events); before registration
 * opens it is a PreOrder that starts then; while open, seats left
 * (InStock), only the waiting list (LimitedAvailability), or full.
 */
static const char *
availability(const PGresult *res)
{
	const char	*st = db_value(res, 0, "registration_state");

	if (strcmp(st, "cancelled") == 0)
		return SCHEMA "Discontinued";
	if (strcmp(st, "not_open") == 0)
		return SCHEMA "PreOrder";
	if (strcmp(st, "open") != 0)		/* closed, as the page says */
		return SCHEMA "SoldOut";
	if (strtol(db_value(res, 0, "seats_available"), NULL, 10) > 0)
		return SCHEMA "InStock";
	return db_bool(res, 0, "waitlist_available") ?
	    SCHEMA "LimitedAvailability" : SCHEMA "SoldOut";
}

/* Free, with its availability; a PreOrder says when registration opens
 * (schema.org's availabilityStarts, and validFrom, which Google reads). */
static void
add_offer(struct buf *b, const PGresult *res)
{
	const char	*avail = availability(res);

	open_typed(b, "offers", "Offer");
	member(b, "price", "0");
	member(b, "availability", avail);
	if (strcmp(avail, SCHEMA "PreOrder") == 0 &&
	    !db_isnull(res, 0, "opens_local")) {
		member(b, "availabilityStarts", db_value(res, 0, "opens_local"));
		member(b, "validFrom", db_value(res, 0, "opens_local"));
	}
	member(b, "description", db_bool(res, 0, "members_only") ?
	    "Free for members of the consortium's libraries; registration "
	    "is required." : "Free; registration is required.");
	member_url(b, "url", "/events/", db_value(res, 0, "slug"));
	buf_addc(b, '}');
}

void
jsonld_event(struct buf *b, const PGresult *res)
{
	static const struct { const char *format, *mode; } modes[] = {
		{ "in_person", SCHEMA "OfflineEventAttendanceMode" },
		{ "online", SCHEMA "OnlineEventAttendanceMode" },
		{ "hybrid", SCHEMA "MixedEventAttendanceMode" },
	};
	static const char *const	 escape[256] = {
		['<'] = "\\u003c", ['>'] = "\\u003e", ['&'] = "\\u0026",
	};
	const char	*format = db_value(res, 0, "format");
	struct buf	 json = BUF_INIT, lang = BUF_INIT;
	size_t		 i;

	open_typed(&json, NULL, "Event");
	member(&json, "@context", "https://schema.org");
	member(&json, "name", db_value(res, 0, "title"));
	member(&json, "description", db_value(res, 0, "description"));
	/* The language staff wrote its name and description in. */
	lang_mark(&lang, LANG_TAG, db_value(res, 0, "language"), NULL);
	if (lang.len > 0)
		member(&json, "inLanguage", lang.data);
	buf_free(&lang);
	member(&json, "startDate", db_value(res, 0, "starts_local"));
	member(&json, "endDate", db_value(res, 0, "ends_local"));
	member(&json, "eventStatus", strcmp(db_value(res, 0, "status"),
	    "cancelled") == 0 ? SCHEMA "EventCancelled" :
	    SCHEMA "EventScheduled");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(format, modes[i].format) == 0)
			member(&json, "eventAttendanceMode", modes[i].mode);
	member_url(&json, "url", "/events/", db_value(res, 0, "slug"));
	if (!db_isnull(res, 0, "image_path"))
		member_url(&json, "image", db_value(res, 0, "image_path"), "");
	add_location(&json, res, format);
	open_typed(&json, "organizer", "Organization");
	member(&json, "name", *db_value(res, 0, "organizer") != '\0' ?
	    db_value(res, 0, "organizer") : cfg.calendar_name);
	member_url(&json, "url", "/events", "");
	buf_addc(&json, '}');
	if (*db_value(res, 0, "presenter") != '\0') {
		open_typed(&json, "performer", "Person");
		member(&json, "name", db_value(res, 0, "presenter"));
		buf_addc(&json, '}');
	}
	put_key(&json, "isAccessibleForFree");
	buf_adds(&json, "true");
	add_offer(&json, res);
	buf_addc(&json, '}');
	/* No "<", ">" or "&" inside the script element: it cannot be closed
	 * early, whatever staff typed. */
	buf_adds(b, "<script type=\"application/ld+json\">");
	esc_bytes(b, json.data, json.len, escape);
	buf_adds(b, "</script>\n");
	buf_free(&json);
}
