/*
 * query.c: the table-driven query-string parser (see query.h).
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "query.h"
#include "validate.h"

static int
one_of(const char *const *choices, const char *s)
{
	for (; *choices != NULL; choices++)
		if (strcmp(*choices, s) == 0)
			return 1;
	return 0;
}

/* 1 when v (len bytes, NUL-terminated) is what p wants. */
static int
value_ok(const struct query_param *p, struct query_value *v)
{
	switch (p->kind) {
	case Q_INT:
		return parse_int(v->text, v->len, p->min, p->max,
		    &v->num) == 0;
	case Q_DATE:
		return date_valid(v->text, v->len);
	case Q_TEXT:
		return text_valid(v->text, v->len, (size_t)p->max);
	case Q_ONEOF:
		return one_of(p->choices, v->text);
	}
	return 0;
}

/* A text as typed in a search box: the spaces around it are no part of
 * it, and one of spaces only is none. */
static void
trim_spaces(struct query_value *v)
{
	size_t	 start = 0;

	while (v->len > 0 && v->text[v->len - 1] == ' ')
		v->len--;
	while (start < v->len && v->text[start] == ' ')
		start++;
	memmove(v->text, v->text + start, v->len - start);
	v->len -= start;
	v->text[v->len] = '\0';
}

static int
parse(const char *query, const struct query_param *params, size_t n,
    struct query_value *vals, size_t *bad, int readable)
{
	struct query_value	*v;
	size_t			 i;
	int			 rc;

	for (i = 0; i < n; i++) {
		v = &vals[i];
		v->present = v->repeated = v->name_fault = 0;
		v->num = params[i].def;
		v->len = 0;
		rc = (readable ? query_get_readable : query_get)(query,
		    params[i].key, v->text, sizeof(v->text), &v->len);
		if (rc == 1 && params[i].kind == Q_TEXT)
			trim_spaces(v);
		if (rc == 0 || (rc == 1 && v->len == 0)) {
			v->text[0] = '\0';
			v->len = 0;
			continue;
		}
		if (rc == QUERY_REPEATED || rc >= QUERY_NAME_ESCAPE ||
		    rc == -1 || !value_ok(&params[i], v)) {
			v->repeated = rc == QUERY_REPEATED;
			v->name_fault = rc >= QUERY_NAME_ESCAPE ? rc : 0;
			*bad = i;
			return -1;
		}
		v->present = 1;
	}
	return 0;
}

int
query_parse(const char *query, const struct query_param *params, size_t n,
    struct query_value *vals, size_t *bad)
{
	return parse(query, params, n, vals, bad, 0);
}

int
query_parse_readable(const char *query, const struct query_param *params,
    size_t n, struct query_value *vals, size_t *bad)
{
	return parse(query, params, n, vals, bad, 1);
}

/* 1 when the field's name (src, len as sent) is key or one of also. */
static int
declared(const char *src, size_t len, const struct query_param *params,
    size_t n, const char *const *also)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (field_name_is(src, len, params[i].key,
		    strlen(params[i].key)) == 1)
			return 1;
	for (; also != NULL && *also != NULL; also++)
		if (field_name_is(src, len, *also, strlen(*also)) == 1)
			return 1;
	return 0;
}

int
query_unknown(const char *query, const struct query_param *params,
    size_t n, const char *const *also, char *name, size_t namesz)
{
	const char	*p = query, *amp, *eq;
	size_t		 flen, nlen;

	for (; p != NULL && *p != '\0'; p = amp != NULL ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		flen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', flen);
		nlen = eq != NULL ? (size_t)(eq - p) : flen;
		if (flen == 0 || declared(p, nlen, params, n, also))
			continue;
		/* A name too long to say is said as "?". */
		if (pct_decode(name, namesz, p, nlen, 1, NULL) == -1)
			snprintf(name, namesz, "%s", "?");
		return 1;
	}
	return 0;
}

int
query_date_range(const struct query_value *from, const struct query_value *to)
{
	if (from->present && to->present && strcmp(from->text, to->text) > 0)
		return -1;	/* YYYY-MM-DD sorts as text */
	return 0;
}

void
query_message(const struct query_param *p, const struct query_value *v,
    char *msg, size_t msgsz)
{
	size_t	 i, len;

	switch (v->name_fault) {
	case QUERY_NAME_ESCAPE:
		/* xgettext:no-c-format */
		snprintf(msg, msgsz, "%s", _("a parameter name in the query "
		    "has a % without two hex digits after it"));
		return;
	case QUERY_NAME_UTF8:
		snprintf(msg, msgsz, "%s", _("a parameter name in the query "
		    "is not UTF-8 text"));
		return;
	case QUERY_NAME_CONTROL:
		snprintf(msg, msgsz, "%s", _("a parameter name in the query "
		    "holds a control character"));
		return;
	}
	if (v->repeated) {
		snprintf(msg, msgsz, _("%s: given more than once"), p->key);
		return;
	}
	if (p->message != NULL) {
		snprintf(msg, msgsz, "%s", p->message);
		return;
	}
	switch (p->kind) {
	case Q_INT:
		snprintf(msg, msgsz, _("%s: a whole number from %lld to %lld"),
		    p->key, p->min, p->max);
		return;
	case Q_DATE:
		snprintf(msg, msgsz, "%s: YYYY-MM-DD", p->key);
		return;
	case Q_TEXT:
		snprintf(msg, msgsz, _("%s: one line of text, at most %lld "
		    "characters"), p->key, p->max);
		return;
	case Q_ONEOF:
		snprintf(msg, msgsz, "%s: ", p->key);
		for (i = 0; p->choices[i] != NULL; i++) {
			len = strlen(msg);
			snprintf(msg + len, msgsz - len, "%s%s", i == 0 ? "" :
			    p->choices[i + 1] == NULL ? _(" or ") : ", ",
			    p->choices[i]);
		}
		return;
	}
}
