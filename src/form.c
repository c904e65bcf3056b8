/*
 * form.c: the strict form parser (see form.h).
 */
#include <string.h>

#include "form.h"
#include "validate.h"

/* The field a pair's name (as sent, len bytes) decodes to, as a query's
 * names do (field_name_is()): NULL for none, or a name that is not text. */
static struct form_field *
find(struct form_field *f, size_t n, const char *name, size_t len)
{
	size_t	 i;
	int	 is;

	for (i = 0; i < n; i++)
		if ((is = field_name_is(name, len, f[i].key,
		    strlen(f[i].key))) == 1)
			return &f[i];
		else if (is != 0)
			return NULL;
	return NULL;
}

/* Returns 0 when every pair was accepted, -1 otherwise. */
int
form_parse(const char *body, size_t len, struct form_field *fields,
    size_t nfields)
{
	return form_parse_arena(body, len, fields, nfields, NULL, 0);
}

int
form_parse_arena(const char *body, size_t len, struct form_field *fields,
    size_t nfields, char *arena, size_t arenasz)
{
	const char		*p = body, *end = body + len, *amp, *eq;
	struct form_field	*f;
	size_t			 i, pairs = 0, flen, klen, used = 0;
	int			 in_arena;

	for (i = 0; i < nfields; i++) {
		fields[i].len = 0;
		fields[i].present = 0;
		if (fields[i].val != NULL && fields[i].cap > 0)
			fields[i].val[0] = '\0';
	}
	if (memchr(body, '\0', len) != NULL)
		return -1;
	while (p < end) {
		if (++pairs > FORM_FIELDS_MAX)
			return -1;
		amp = memchr(p, '&', (size_t)(end - p));
		flen = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
		eq = memchr(p, '=', flen);
		if (eq == NULL)
			return -1;
		klen = (size_t)(eq - p);
		if ((f = find(fields, nfields, p, klen)) == NULL || f->present)
			return -1;
		if ((in_arena = f->val == NULL)) {
			if (arena == NULL || used >= arenasz)
				return -1;
			f->val = arena + used;
			f->cap = arenasz - used;
		}
		if (pct_decode(f->val, f->cap, eq + 1, flen - klen - 1, 1,
		    &f->len) == -1 || !utf8_valid(f->val, f->len))
			return -1;
		f->present = 1;
		if (in_arena) {
			f->cap = f->len + 1;
			used += f->cap;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
		if (p == end)
			return -1;	/* a trailing '&' */
	}
	return 0;
}
