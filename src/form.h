/*
 * form.h: a strict application/x-www-form-urlencoded parser for the HTML
 * forms.  The caller declares every key it accepts, with a byte cap for
 * the decoded value; anything else fails the whole form: an unknown or
 * repeated key, a malformed escape, an encoded NUL, invalid UTF-8, a
 * value over its cap, more than FORM_FIELDS_MAX pairs.  Pure: no
 * allocation, no globals (the fuzzers and unit tests call it directly).
 *
 * Ownership: the caller owns each field's buffer (val, cap bytes, of which
 * one is kept for the NUL); form_parse() fills it and sets len and
 * present.
 */
#ifndef EVENTBOX_FORM_H
#define EVENTBOX_FORM_H

#include <stddef.h>

#define FORM_FIELDS_MAX	16

struct form_field {
	const char	*key;
	char		*val;
	size_t		 cap;
	size_t		 len;
	int		 present;
};

int	 form_parse(const char *body, size_t len, struct form_field *,
	    size_t nfields);

#endif
