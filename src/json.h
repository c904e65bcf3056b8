/*
 * json.h: JSON output.  Thin wrappers over cJSON that abort on allocation
 * failure (so callers need no NULL checks), and the renderers that turn
 * database rows into the API's objects.
 *
 * Ownership: json_new_object() returns a tree the caller cJSON_Delete()s;
 * json_add_*() attach to a parent, which then owns the child.
 */
#ifndef EVENTBOX_JSON_H
#define EVENTBOX_JSON_H

#include <libpq-fe.h>
#include <cjson/cJSON.h>

#include "buf.h"

cJSON	*json_new_object(void);
cJSON	*json_add_object(cJSON *, const char *);
cJSON	*json_add_array(cJSON *, const char *);
void	 json_add_string(cJSON *, const char *, const char *);
void	 json_add_string_or_null(cJSON *, const char *, const char *);
void	 json_add_number(cJSON *, const char *, double);
void	 json_add_bool(cJSON *, const char *, int);
void	 json_add_null(cJSON *, const char *);
void	 json_add_array_text(cJSON *, const char *, const char *json);
/* A JSON object given as text (jsonb from the database); {} if not one. */
void	 json_add_object_text(cJSON *, const char *name, const char *text);
void	 json_add_event_url(cJSON *, const char *, const char *slug);
void	 json_write(struct buf *, const cJSON *);

/* s as a JSON string, escaped as cJSON escapes one. */
void	 json_put_string(struct buf *, const char *);
/* An event's public fields, as compact JSON text appended to the buffer. */
void	 json_put_event(struct buf *, const PGresult *, int row);
/*
 * The time `epoch` (seconds since 1970 as the database's float8 text, a
 * fraction allowed) as ISO 8601 into out: in UTC with "Z" when offset is
 * NULL, else the wall-clock time `offset` seconds from UTC with its
 * "+HH:MM" (the texts eventbox.iso_utc() and eventbox.iso_local() write,
 * sql/rules/20_time.sql: seconds truncated, the offset rounded to the
 * second and its seconds dropped).  -1 when either is not a finite number
 * (a NULL: the caller writes null).
 */
int	 json_iso_time(char *out, size_t size, const char *epoch,
	    const char *offset);

/*
 * What a request body's tree (item) must not hold, found in one walk:
 * - JSON_DUPLICATE: a name that one object (at any depth) gives twice.
 *   cJSON keeps both members and reads the first, PostgreSQL's jsonb keeps
 *   the last: a body with one means two things.
 * - JSON_TOO_LARGE: a number too large for a double (cJSON reads 1e999 as
 *   infinity and writes it as null: {"12": 1e999} became "no answer").
 * A duplicate anywhere comes first.  *name is the member's name (an
 * array's element goes by its array's; "body" for the tree itself).
 */
enum json_problem { JSON_OK, JSON_DUPLICATE, JSON_TOO_LARGE };
enum json_problem json_body_problem(const cJSON *item, const char **name);
/*
 * The name of the first number in item (the tree cJSON read from the
 * len bytes of text) that cJSON read as a whole number though its text is
 * not that number, or NULL: strtod reads 1e-400 as 0 and
 * 1.0000000000000000001 as 1, so {"capacity": 1e-400} set a capacity of 0.
 * Named as json_body_problem() names a member.
 */
const char	*json_inexact_number(const cJSON *item, const char *text,
		    size_t len);
/* The first name given twice, or NULL (json_body_problem()'s first). */
const char	*json_duplicate_key(const cJSON *item);

/*
 * The one reader of a request's JSON body, which every JSON route and the
 * token endpoint share: *text (*len bytes, a NUL after them) read as one
 * JSON object with every check above.  A UTF-8 byte order mark before it
 * is passed over (RFC 8259 8.1): *text and *len then say the text after
 * it.  The tree goes in *out whenever the text was read (JSON_READ_OK,
 * JSON_READ_NOT_OBJECT and the three after it), else NULL; the caller
 * cJSON_Delete()s it.  The three after JSON_READ_NOT_OBJECT, and only
 * they, name a member in *name, a string of the tree.  Pure: unit tests
 * and fuzzers call it.
 */
enum json_read {
	JSON_READ_OK,
	JSON_READ_EMPTY,	/* nothing (but a byte order mark) */
	JSON_READ_UTF8,		/* not UTF-8 */
	JSON_READ_NUL,		/* a NUL, raw or as \u0000 */
	JSON_READ_MALFORMED,	/* not JSON (json_lenient() too) */
	JSON_READ_NOT_OBJECT,	/* JSON, but no object */
	/* the ones that name a member: */
	JSON_READ_DUPLICATE,	/* JSON_DUPLICATE */
	JSON_READ_TOO_LARGE,	/* JSON_TOO_LARGE */
	JSON_READ_INEXACT	/* json_inexact_number() */
};
enum json_read	 json_read_object(const char **text, size_t *len,
		    cJSON **out, const char **name);

#endif
