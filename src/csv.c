/*
 * csv.c: RFC 4180 cells with formula neutralisation (see csv.h).
 */
#include <string.h>

#include "csv.h"

void
csv_cell(struct buf *out, const char *value, int last)
{
	const char	*p;
	int		 formula = strchr("=+-@\t\r", value[0]) != NULL &&
			    value[0] != '\0';

	if (strpbrk(value, ",\"\r\n") != NULL || formula) {
		buf_addc(out, '"');
		if (formula)
			buf_addc(out, '\'');
		for (p = value; *p != '\0'; p++) {
			if (*p == '"')
				buf_addc(out, '"');
			buf_addc(out, *p);
		}
		buf_addc(out, '"');
	} else
		buf_adds(out, value);
	buf_adds(out, last ? "\r\n" : ",");
}
