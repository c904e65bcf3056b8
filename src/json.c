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

/*
 * json_event's members point into the result: literal keys, values in res's
 * storage, neither copied nor freed (every GET builds one, the list up to a
 * hundred).  An integer column goes out as its text, as cJSON would print it
 * (up to 15 digits; anything else through strtod()), not through printf.
 */
static void
ref_string(cJSON *o, const char *name, const char *value)
{
	cJSON_AddItemToObjectCS(o, name, must(cJSON_CreateStringReference(value)));
}

static void
ref_integer(cJSON *o, const char *name, const char *text)
{
	size_t	 n = strspn(text + (*text == '-'), "0123456789");

	if (n == 0 || n > 15 || text[(*text == '-') + n] != '\0') {
		json_add_number(o, name, strtod(text, NULL));
		return;
	}
	cJSON_AddItemToObjectCS(o, name, must(cJSON_CreateRaw(text)));
}

static void
ref_bool(cJSON *o, const char *name, int value)
{
	cJSON_AddItemToObjectCS(o, name, must(cJSON_CreateBool(value)));
}

/* An event's public fields in the order of the answer, each named as its
 * column; never the online URL (the view has none). */
static const struct {
	const char	*name;
	enum { F_STRING, F_INTEGER, F_BOOL, F_ARRAY, F_TIME, F_STATE } kind;
} event_fields[] = {
	{ "id", F_INTEGER }, { "slug", F_STRING }, { "title", F_STRING },
	{ "description", F_STRING }, { "presenter", F_STRING },
	{ "format", F_STRING }, { "location", F_STRING },
	{ "categories", F_ARRAY }, { "organizer", F_STRING },
	{ "accessibility_contact", F_STRING }, { "audience", F_STRING },
	{ "learning_outcomes", F_ARRAY }, { "starts_at", F_STRING },
	{ "ends_at", F_STRING }, { "timezone", F_STRING },
	{ "starts_local", F_STRING }, { "ends_local", F_STRING },
	{ "status", F_STRING }, { "capacity", F_INTEGER },
	{ "seats_available", F_INTEGER }, { "waitlist_available", F_BOOL },
	/* and registration_open, true when the state is "open" */
	{ "registration_state", F_STATE },
	{ "registration_opens_at", F_TIME }, { "registration_closes_at", F_TIME },
};

/* One event (above), its page's url and, for one event rather than the
 * list, the questions of its form.  The object refers to res (above):
 * print it before PQclear(res). */
cJSON *
json_event(const PGresult *res, int row)
{
	cJSON		*o = json_new_object();
	const char	*name, *v;
	size_t		 i;

	for (i = 0; i < sizeof(event_fields) / sizeof(event_fields[0]); i++) {
		name = event_fields[i].name;
		v = db_value(res, row, name);
		switch (event_fields[i].kind) {
		case F_STRING:
			ref_string(o, name, v);
			break;
		case F_INTEGER:
			ref_integer(o, name, v);
			break;
		case F_BOOL:
			ref_bool(o, name, strcmp(v, "t") == 0);
			break;
		case F_ARRAY:
			json_add_array_text(o, name, v);
			break;
		case F_TIME:
			json_add_string_or_null(o, name, v);
			break;
		case F_STATE:
			ref_string(o, name, v);
			ref_bool(o, "registration_open", strcmp(v, "open") == 0);
			break;
		}
	}
	json_add_event_url(o, "url", db_value(res, row, "slug"));
	if (PQfnumber(res, "questions") >= 0)
		json_add_array_text(o, "questions",
		    db_value(res, row, "questions"));
	return o;
}
