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

static cJSON *
typed(const char *type)
{
	cJSON	*o = json_new_object();

	json_add_string(o, "@type", type);
	return o;
}

static void
add_url(cJSON *o, const char *key, const char *path, const char *tail)
{
	struct buf	 u = BUF_INIT;

	buf_printf(&u, "%s%s%s", cfg.base_url, path, tail);
	json_add_string(o, key, u.data);
	buf_free(&u);
}

/* The event's place: a Place, its page as a VirtualLocation, or both. */
static void
add_location(cJSON *ev, const PGresult *res, const char *format)
{
	cJSON		*arr = json_add_array(ev, "location"), *p;
	const char	*where = db_value(res, 0, "location");

	if (strcmp(format, "online") != 0) {
		p = typed("Place");
		json_add_string(p, "name", *where != '\0' ? where :
		    cfg.calendar_name);
		json_add_string(p, "address", *where != '\0' ? where :
		    cfg.calendar_name);
		cJSON_AddItemToArray(arr, p);
	}
	if (strcmp(format, "in_person") != 0) {
		p = typed("VirtualLocation");
		add_url(p, "url", "/events/", db_value(res, 0, "slug"));
		cJSON_AddItemToArray(arr, p);
	}
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
add_offer(cJSON *ev, const PGresult *res)
{
	cJSON		*o = typed("Offer");
	const char	*avail = availability(res);

	json_add_string(o, "price", "0");
	json_add_string(o, "availability", avail);
	if (strcmp(avail, SCHEMA "PreOrder") == 0 &&
	    !db_isnull(res, 0, "opens_local")) {
		json_add_string(o, "availabilityStarts",
		    db_value(res, 0, "opens_local"));
		json_add_string(o, "validFrom",
		    db_value(res, 0, "opens_local"));
	}
	json_add_string(o, "description", db_bool(res, 0, "members_only") ?
	    "Free for members of the consortium's libraries; registration "
	    "is required." : "Free; registration is required.");
	add_url(o, "url", "/events/", db_value(res, 0, "slug"));
	cJSON_AddItemToObject(ev, "offers", o);
}

void
jsonld_event(struct buf *b, const PGresult *res)
{
	static const struct { const char *format, *mode; } modes[] = {
		{ "in_person", SCHEMA "OfflineEventAttendanceMode" },
		{ "online", SCHEMA "OnlineEventAttendanceMode" },
		{ "hybrid", SCHEMA "MixedEventAttendanceMode" },
	};
	cJSON		*ev = typed("Event"), *p;
	const char	*format = db_value(res, 0, "format");
	struct buf	 json = BUF_INIT;
	size_t		 i;

	json_add_string(ev, "@context", "https://schema.org");
	json_add_string(ev, "name", db_value(res, 0, "title"));
	json_add_string(ev, "description", db_value(res, 0, "description"));
	/* The language staff wrote its name and description in. */
	lang_mark(&json, LANG_TAG, db_value(res, 0, "language"), NULL);
	if (json.len > 0)
		json_add_string(ev, "inLanguage", json.data);
	buf_reset(&json);
	json_add_string(ev, "startDate", db_value(res, 0, "starts_local"));
	json_add_string(ev, "endDate", db_value(res, 0, "ends_local"));
	json_add_string(ev, "eventStatus", strcmp(db_value(res, 0, "status"),
	    "cancelled") == 0 ? SCHEMA "EventCancelled" :
	    SCHEMA "EventScheduled");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(format, modes[i].format) == 0)
			json_add_string(ev, "eventAttendanceMode",
			    modes[i].mode);
	add_url(ev, "url", "/events/", db_value(res, 0, "slug"));
	if (!db_isnull(res, 0, "image_path"))
		add_url(ev, "image", db_value(res, 0, "image_path"), "");
	add_location(ev, res, format);
	p = typed("Organization");
	json_add_string(p, "name", *db_value(res, 0, "organizer") != '\0' ?
	    db_value(res, 0, "organizer") : cfg.calendar_name);
	add_url(p, "url", "/events", "");
	cJSON_AddItemToObject(ev, "organizer", p);
	if (*db_value(res, 0, "presenter") != '\0') {
		p = typed("Person");
		json_add_string(p, "name", db_value(res, 0, "presenter"));
		cJSON_AddItemToObject(ev, "performer", p);
	}
	cJSON_AddTrueToObject(ev, "isAccessibleForFree");
	add_offer(ev, res);
	json_write(&json, ev);
	cJSON_Delete(ev);
	/* No "<", ">" or "&" inside the script element: it cannot be closed
	 * early, whatever staff typed. */
	buf_adds(b, "<script type=\"application/ld+json\">");
	for (i = 0; i < json.len; i++)
		switch (json.data[i]) {
		case '<': buf_adds(b, "\\u003c"); break;
		case '>': buf_adds(b, "\\u003e"); break;
		case '&': buf_adds(b, "\\u0026"); break;
		default: buf_addc(b, json.data[i]);
		}
	buf_adds(b, "</script>\n");
	buf_free(&json);
}
