/*
 * i18n_unit.c: the .mo reader, Plural-Forms, Accept-Language and the
 * dates in each language (src/i18n.c, src/i18n_time.c).
 *
 * The reader is tested on .mo files built here byte by byte (every
 * truncation and a few lies in the header must be refused, never read
 * past), then the catalogues `make locale` compiled (build/locale) are
 * loaded as the service loads them: the Spanish words and dates below
 * come from po/es.po through msgfmt, not from this file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "i18n.h"

/* A little-endian .mo with n sorted (msgid, msgstr) pairs. */
static size_t
build_mo(unsigned char *out, size_t cap, const char *const *pairs, size_t n)
{
	size_t	 off = 28 + 16 * n, i, k, len;
	uint32_t h[7] = { 0x950412de, 0, (uint32_t)n, 28,
			  (uint32_t)(28 + 8 * n), 0, 0 };

	memset(out, 0, cap);
	for (i = 0; i < 7; i++)
		memcpy(out + 4 * i, &h[i], 4);
	for (k = 0; k < 2; k++)
		for (i = 0; i < n; i++) {
			uint32_t	 l, o;

			len = strlen(pairs[2 * i + k]);
			l = (uint32_t)len;
			o = (uint32_t)off;
			memcpy(out + 28 + 8 * (k * n + i), &l, 4);
			memcpy(out + 28 + 8 * (k * n + i) + 4, &o, 4);
			memcpy(out + off, pairs[2 * i + k], len + 1);
			off += len + 1;
		}
	return off;
}

static void
test_mo_reader(void)
{
	static const char *const pairs[] = {
		"", "Plural-Forms: nplurals=3; plural=n==1 ? 0 : n<5 ? 1 : 2;\n",
		"Hello", "Hola",
		"zebra", "cebra",
	};
	unsigned char		 mo[1024], *copy;
	struct mo_catalog	 c;
	size_t			 size = build_mo(mo, sizeof(mo), pairs, 3), cut, len;
	const char		*t;

	copy = malloc(size);
	memcpy(copy, mo, size);
	CHECK("a well-formed .mo parses", mo_parse(&c, (char *)copy, size) == 0);
	t = mo_lookup(&c, "Hello", &len);
	CHECK("a msgid is found", t != NULL && strcmp(t, "Hola") == 0);
	CHECK("a missing msgid is not", mo_lookup(&c, "Hellp", &len) == NULL);
	CHECK("the header's Plural-Forms is read", c.nplurals == 3 &&
	    c.plural != NULL && plural_eval(c.plural, 3) == 1);
	mo_free(&c);

	/* Every truncation is refused, under ASan: nothing read past it. */
	for (cut = 0; cut < size; cut++) {
		int	 ok;

		copy = malloc(cut + 1);
		memcpy(copy, mo, cut);
		ok = mo_parse(&c, (char *)copy, cut) == -1;
		if (!ok)
			mo_free(&c);
		if (!ok) {
			CHECK("a truncated .mo is refused", 0);
			break;
		}
	}
	CHECK("every truncated .mo is refused", cut == size);

	/* A header that lies about the count or the offsets. */
	copy = malloc(size);
	memcpy(copy, mo, size);
	copy[8] = 0xff;
	CHECK("a string count past the file is refused",
	    mo_parse(&c, (char *)copy, size) == -1);
	copy = malloc(size);
	memcpy(copy, mo, size);
	copy[28 + 8 + 5] = 0x10;	/* the second msgid's offset */
	CHECK("a string offset past the file is refused",
	    mo_parse(&c, (char *)copy, size) == -1);
	copy = malloc(size);
	memcpy(copy, mo, size);
	copy[0] = 0;
	CHECK("a wrong magic number is refused",
	    mo_parse(&c, (char *)copy, size) == -1);
}

static void
test_plural(void)
{
	const char	*ru = "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
	    "n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)";

	CHECK("English: 1 is singular", plural_eval("(n != 1)", 1) == 0);
	CHECK("English: 2 is plural", plural_eval("(n != 1)", 2) == 1);
	CHECK("English: 0 is plural", plural_eval("n != 1", 0) == 1);
	CHECK("French: 0 is singular", plural_eval("(n > 1)", 0) == 0);
	CHECK("Russian: 21 is form 0", plural_eval(ru, 21) == 0);
	CHECK("Russian: 23 is form 1", plural_eval(ru, 23) == 1);
	CHECK("Russian: 11 is form 2", plural_eval(ru, 11) == 2);
	CHECK("Japanese: always 0", plural_eval("0", 5) == 0);
	CHECK("division by zero is refused", plural_eval("n/0", 5) == -1);
	CHECK("a dangling operator is refused", plural_eval("n !=", 5) == -1);
	CHECK("an unknown name is refused", plural_eval("m != 1", 5) == -1);
	CHECK("unbalanced parentheses are refused",
	    plural_eval("((n != 1)", 5) == -1);
	CHECK("deep nesting is refused, not a stack overflow", plural_eval(
	    "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	    "((((((((n))))))))))))))))))))))))))))))))))))))))))))))))))))))))"
	    ")))))))))))))))", 1) == -1);
}

static void
test_negotiate(void)
{
	CHECK("no header: English", strcmp(i18n_negotiate(NULL, NULL), "en")
	    == 0);
	CHECK("es-MX is Spanish",
	    strcmp(i18n_negotiate(NULL, "es-MX,es;q=0.9"), "es") == 0);
	CHECK("q-values decide, not order", strcmp(i18n_negotiate(NULL,
	    "en;q=0.5, es;q=0.8"), "es") == 0);
	CHECK("an equal q keeps the first", strcmp(i18n_negotiate(NULL,
	    "en, es"), "en") == 0);
	CHECK("q=0 is not acceptable", strcmp(i18n_negotiate(NULL,
	    "es;q=0"), "en") == 0);
	CHECK("a malformed q is ignored", strcmp(i18n_negotiate(NULL,
	    "es;q=2, fr"), "en") == 0);
	CHECK("an unknown language falls back to English",
	    strcmp(i18n_negotiate(NULL, "tlh, xx-YY"), "en") == 0);
	CHECK("?lang= wins over the header", strcmp(i18n_negotiate("en",
	    "es"), "en") == 0);
	CHECK("?lang=ES is es", strcmp(i18n_negotiate("ES", NULL), "es") == 0);
	CHECK("an unknown ?lang= uses the header",
	    strcmp(i18n_negotiate("zz", "es"), "es") == 0);
	/* What a repeated registration keeps (registration.h): English by
	 * default is nobody's choice, English by name is. */
	CHECK("no header asks for nothing", i18n_asked(NULL, NULL) == NULL);
	CHECK("an unknown language asks for nothing",
	    i18n_asked("zz", "tlh, xx-YY, *") == NULL);
	CHECK("q=0 asks for nothing", i18n_asked(NULL, "es;q=0") == NULL);
	CHECK("en-US asks for English",
	    strcmp(i18n_asked(NULL, "en-US"), "en") == 0);
	CHECK("?lang=en asks for English",
	    strcmp(i18n_asked("en", "es"), "en") == 0);
	CHECK("es-MX asks for Spanish",
	    strcmp(i18n_asked(NULL, "es-MX,es;q=0.9"), "es") == 0);
}

static void
test_dates(void)
{
	struct buf		 b = BUF_INIT;
	struct local_time	 t;

	CHECK("ISO local time parses", local_time_parse(
	    "2026-12-16T14:00:00-05:00", &t) == 0 && t.weekday == 3 &&
	    t.hour == 14);
	CHECK("iCalendar local time parses", local_time_parse(
	    "20260301T090500", &t) == 0 && t.weekday == 0 && t.minute == 5);
	CHECK("a bad month is refused", local_time_parse(
	    "2026-13-01T00:00", &t) == -1);

	i18n_use("en");
	i18n_when(&b, "20261216T140000", "20261216T150000",
	    "America/New_York");
	CHECK("English reads as eventbox.human_when()", strcmp(b.data,
	    "Wednesday, December 16, 2026, 2:00pm to 3:00pm Eastern Time") ==
	    0);
	buf_reset(&b);
	i18n_use("es");
	i18n_when(&b, "20261216T140000", "20261216T150000",
	    "America/New_York");
	CHECK("Spanish dates from the catalogue", strcmp(b.data,
	    "miércoles, 16 de diciembre de 2026, 14:00 a 15:00 (hora del Este)")
	    == 0);
	buf_reset(&b);
	i18n_zone(&b, "Europe/Paris");
	CHECK("an unnamed zone, in Spanish", strcmp(b.data,
	    "hora de Europe/Paris") == 0);
	CHECK("ngettext: one", strcmp(P_("%ld seat left", "%ld seats left", 1),
	    "Queda %ld lugar") == 0);
	CHECK("ngettext: many", strcmp(P_("%ld seat left", "%ld seats left",
	    3), "Quedan %ld lugares") == 0);
	CHECK("pgettext: May the month", strcmp(C_("month", "May"), "mayo")
	    == 0);
	CHECK("an unknown msgid is itself", strcmp(_("no such msgid"),
	    "no such msgid") == 0);
	i18n_use("xx");
	CHECK("an unknown language is English", strcmp(_("Register"),
	    "Register") == 0 && strcmp(i18n_lang(), "en") == 0);
	buf_free(&b);
}

int
main(void)
{
	test_mo_reader();
	test_plural();
	CHECK("the compiled catalogues load (make locale)",
	    i18n_load("build/locale") >= 1);
	CHECK("Spanish is offered, by its own name", i18n_count() >= 2 &&
	    strcmp(i18n_code(1), "es") == 0 &&
	    strcmp(i18n_name(1), "Español") == 0);
	test_negotiate();
	test_dates();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
