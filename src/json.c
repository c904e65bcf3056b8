/*
 * json.c: JSON output helpers and row renderers (see json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"

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

/* One event's public fields; never the online URL (the view has none). */
cJSON *
json_event(const PGresult *res, int row)
{
	cJSON		*o = json_new_object();

	json_add_number(o, "id", db_number(res, row, "id"));
	json_add_string(o, "slug", db_value(res, row, "slug"));
	json_add_string(o, "title", db_value(res, row, "title"));
	json_add_string(o, "description", db_value(res, row, "description"));
	json_add_string(o, "presenter", db_value(res, row, "presenter"));
	json_add_string(o, "format", db_value(res, row, "format"));
	json_add_string(o, "location", db_value(res, row, "location"));
	json_add_array_text(o, "categories", db_value(res, row, "categories"));
	json_add_string(o, "organizer", db_value(res, row, "organizer"));
	json_add_string(o, "accessibility_contact",
	    db_value(res, row, "accessibility_contact"));
	json_add_string(o, "audience", db_value(res, row, "audience"));
	json_add_array_text(o, "learning_outcomes",
	    db_value(res, row, "learning_outcomes"));
	json_add_string(o, "starts_at", db_value(res, row, "starts_at"));
	json_add_string(o, "ends_at", db_value(res, row, "ends_at"));
	json_add_string(o, "timezone", db_value(res, row, "timezone"));
	json_add_string(o, "starts_local", db_value(res, row, "starts_local"));
	json_add_string(o, "ends_local", db_value(res, row, "ends_local"));
	json_add_string(o, "status", db_value(res, row, "status"));
	json_add_number(o, "capacity", db_number(res, row, "capacity"));
	json_add_number(o, "seats_available",
	    db_number(res, row, "seats_available"));
	json_add_bool(o, "waitlist_available",
	    db_bool(res, row, "waitlist_available"));
	json_add_string(o, "registration_state",
	    db_value(res, row, "registration_state"));
	json_add_bool(o, "registration_open",
	    strcmp(db_value(res, row, "registration_state"), "open") == 0);
	json_add_string_or_null(o, "registration_opens_at",
	    db_value(res, row, "registration_opens_at"));
	json_add_string_or_null(o, "registration_closes_at",
	    db_value(res, row, "registration_closes_at"));
	json_add_event_url(o, "url", db_value(res, row, "slug"));
	/* One event (not the list) carries the questions of its form. */
	if (PQfnumber(res, "questions") >= 0)
		json_add_array_text(o, "questions",
		    db_value(res, row, "questions"));
	return o;
}
