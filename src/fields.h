/*
 * fields.h: what a patron types to register, in one table: each field's
 * name (the JSON key and the form's input name), its limit, whether it is
 * required, and how it is checked.  field_check() is the one check; the
 * JSON API and the HTML form each turn its error codes into their own
 * words.  Pure: no allocation, no globals (fuzzers and unit tests call it).
 */
#ifndef EVENTBOX_FIELDS_H
#define EVENTBOX_FIELDS_H

#include <stddef.h>

#include "validate.h"

enum field_id {
	FIELD_NAME,
	FIELD_EMAIL,
	FIELD_ORGANIZATION,
	FIELD__MAX
};

enum field_kind {
	FIELD_KIND_TEXT,	/* one line of text: no control characters */
	FIELD_KIND_NAME,	/* that, and a name, not a message (name_plain()) */
	FIELD_KIND_EMAIL	/* that, and a deliverable address */
};

enum field_error {
	FIELD_OK,
	FIELD_ABSENT,		/* optional and empty: no value, no error */
	FIELD_MISSING,		/* required, and absent or blank */
	FIELD_NOT_STRING,	/* JSON: a number, an object, ... */
	FIELD_TOO_LONG,		/* more characters than the limit */
	FIELD_NOT_TEXT,		/* control characters, line breaks */
	FIELD_NOT_NAME,		/* a web or email address in a name */
	FIELD_NOT_EMAIL,	/* not an address we can deliver to */
	FIELD_EMAIL_LOCAL_NOT_ASCII,	/* é, ñ, ... before the @ */
	FIELD_EMAIL_DOMAIN_NOT_IDNA	/* a domain IDNA2008 refuses */
};

struct field_spec {
	const char	*name;
	size_t		 max;		/* characters (bytes for an email) */
	int		 required;
	enum field_kind	 kind;
};

extern const struct field_spec field_specs[FIELD__MAX];

/* Room for a field's value: four bytes a character, and the NUL. */
#define FIELD_NAME_SZ	(NAME_MAX_CHARS * 4 + 1)
#define FIELD_EMAIL_SZ	(EMAIL_MAX_BYTES + 1)
#define FIELD_ORG_SZ	(ORG_MAX_CHARS * 4 + 1)

/*
 * Checks the len bytes at v as field id.  Trims blanks (spaces, tabs) in
 * place: *start and *outlen get the trimmed value, NUL-terminated inside
 * v (which holds len + 1 bytes).  FIELD_OK or FIELD_ABSENT, or the
 * first thing wrong with it.  For FIELD_EMAIL, email (FIELD_EMAIL_SZ
 * bytes; NULL for the other fields) gets on FIELD_OK the address as it
 * is stored and mailed (email_canonical(): the domain in A-labels),
 * while *start keeps it as typed, for a form shown again.
 */
enum field_error field_check(enum field_id, char *v, size_t len,
	    char **start, size_t *outlen, char *email);

#endif
