/*
 * form.h: a strict application/x-www-form-urlencoded parser for the HTML
 * forms.  The caller declares every key it accepts, with a byte cap for
 * the decoded value; anything else fails the whole form: an unknown or
 * repeated key, a malformed escape, an encoded NUL, invalid UTF-8, a
 * value over its cap, more than FORM_FIELDS_MAX pairs.  Names are
 * percent-decoded as the query's are (field_name_is(), validate.h):
 * na%6De is name, and given with name it is a repeat; a name that is not
 * text (a '%' without two hex digits, not UTF-8, a control character)
 * fails the form.  Pure: no
 * allocation, no globals (the fuzzers and unit tests call it directly).
 *
 * Ownership: the caller owns each field's buffer (val, cap bytes, of which
 * one is kept for the NUL); form_parse() fills it and sets len and
 * present.  form_parse_arena() also takes fields with no buffer (val
 * NULL): each one present gets its value in the caller's arena (at least
 * the body's length plus one byte per field), val pointing there; one
 * absent keeps val NULL.
 */
#ifndef EVENTBOX_FORM_H
#define EVENTBOX_FORM_H

#include <stddef.h>

/* A form with questions (page_register.c) has a pair per question and per
 * box of a multiple choice: 20 questions of 20 choices at most. */
#define FORM_FIELDS_MAX	512

struct form_field {
	const char	*key;
	char		*val;
	size_t		 cap;
	size_t		 len;
	int		 present;
};

int	 form_parse(const char *body, size_t len, struct form_field *,
	    size_t nfields);
int	 form_parse_arena(const char *body, size_t len, struct form_field *,
	    size_t nfields, char *arena, size_t arenasz);

#endif
