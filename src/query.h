/*
 * query.h: the one query-string parser.  A surface declares the keys it
 * reads in a table of query_param (key, kind, range, default); query_parse()
 * decodes each one's value and checks it.  A key that is absent, or
 * present with an empty value (as an HTML form's blank select sends it),
 * takes its default; keys nobody declared are ignored (query_unknown()
 * finds them for a surface that refuses them).  A declared key
 * given twice (limit=5&limit=500) is refused, empty or not: no client of
 * ours repeats one (the forms' fields each have a name of their own), and
 * picking one of two values silently answers a question nobody asked.
 * Names are percent-decoded as values are (%6Cimit is limit, and given
 * with limit it is a repeat); a name that is not text (a '%' without two
 * hex digits, not UTF-8, a control character) refuses the query, as no
 * key can be told apart from it.  A text loses the spaces around it, so a
 * search of spaces only is none.
 * The surface words the error itself: query_message() gives the API's
 * words.
 *
 * Pure: no allocation, no globals (unit tests and fuzzers call it), but
 * query_message() words its message in the language in use (i18n.h).
 */
#ifndef EVENTBOX_QUERY_H
#define EVENTBOX_QUERY_H

#include <stddef.h>

#define QUERY_VALUE_MAX	1000	/* decoded bytes of one value */
#define PAGE_MAX	100000	/* the last page any list shows */

enum query_kind {
	Q_INT,		/* a whole number from min to max */
	Q_DATE,		/* YYYY-MM-DD, a real day */
	Q_TEXT,		/* one line of text, at most max characters */
	Q_ONEOF		/* one of choices[] */
};

struct query_param {
	const char		*key;
	enum query_kind		 kind;
	long long		 min, max;
	long long		 def;		/* Q_INT: when absent */
	const char *const	*choices;	/* Q_ONEOF: NULL-terminated */
	const char		*message;	/* NULL: query_message()'s own */
};

struct query_value {
	int		 present;	/* a non-empty value was given */
	int		 repeated;	/* refused: the key was given twice */
	int		 name_fault;	/* refused: QUERY_NAME_*, a name in
					 * the query that is not text */
	long long	 num;		/* Q_INT: the number or the default */
	size_t		 len;
	char		 text[QUERY_VALUE_MAX + 1];	/* decoded, NUL-ended */
};

/*
 * Fills vals[i] for params[i], i < n.  Returns 0, or -1 with the index of
 * the first bad parameter in *bad.
 */
int	 query_parse(const char *query, const struct query_param *params,
	    size_t n, struct query_value *vals, size_t *bad);
/* query_parse(), but a name in the query that is not text is passed over
 * as another key's (query_get_readable()): router.c reads ?lang= so, as it
 * chooses the language that query's 400 is worded in. */
int	 query_parse_readable(const char *query,
	    const struct query_param *params, size_t n,
	    struct query_value *vals, size_t *bad);
/*
 * For a surface that refuses keys nobody declared (the staff API: a
 * typo'd filter answered as if absent answers a question nobody asked):
 * 1 with the first field's name that is none of params' keys nor of also
 * (NULL-terminated, or NULL) decoded into name ("?" when it cannot be:
 * too long), else 0.  After query_parse(), which refused names that are
 * not text.
 */
int	 query_unknown(const char *query, const struct query_param *params,
	    size_t n, const char *const *also, char *name, size_t namesz);
/*
 * -1 when both dates of a range are given and from is after to (a range
 * that holds no day is the client's mistake, not an empty list), else 0.
 */
int	 query_date_range(const struct query_value *from,
	    const struct query_value *to);
#define QUERY_RANGE_MESSAGE	N_("from is after to: give from on or before to")
/* "days: a whole number from 1 to 365" (or "days: given more than once"
 * when v, the refused value, was repeated, or what is wrong with a name
 * in the query), for the API's 400: at most QUERY_MESSAGE_MAX bytes. */
#define QUERY_MESSAGE_MAX	160
void	 query_message(const struct query_param *, const struct query_value *v,
	    char *msg, size_t msgsz);

#endif
