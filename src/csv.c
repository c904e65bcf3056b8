/*
 * csv.c: RFC 4180 cells with formula neutralisation (see csv.h).
 */
#include <string.h>

#include "csv.h"

/* 1 when c is one of the characters in set (never the NUL). */
static int
one_of(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

void
csv_cell(struct buf *out, const char *value, int last)
{
	const char	*p;
	int		 formula = one_of(value[0], "=+-@\t\r");
	int		 quoted = formula || strpbrk(value, ",\"\r\n") != NULL;

	if (quoted)
		buf_addc(out, '"');
	if (formula)
		buf_addc(out, '\'');
	for (p = value; *p != '\0'; p++) {
		if (*p == '"')
			buf_addc(out, '"');	/* only ever inside quotes */
		buf_addc(out, *p);
		/* Where a spreadsheet may start a field of its own, which
		 * may open with a quote (csv.h). */
		if (one_of(*p, ";\t\r\n") &&
		    one_of(p[1 + strspn(p + 1, "\"")], "=+-@"))
			buf_addc(out, '\'');
	}
	if (quoted)
		buf_addc(out, '"');
	buf_adds(out, last ? "\r\n" : ",");
}
