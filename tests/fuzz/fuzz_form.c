/*
 * fuzz_form: application/x-www-form-urlencoded bodies through form_parse(),
 * with the fields the registration form declares (POST
 * /events/{slug}/register, with caps of its own), the same with an event's
 * questions in an arena as page_register.c sizes it (form_parse_arena())
 * and, separately, the cancel form's single field.
 *
 * Properties: on success every present value is NUL-terminated within its
 * cap, has its stated length, contains no NUL and is valid UTF-8; absent
 * fields are empty; a refused form never writes past a cap.  Never a crash
 * or a leak.
 */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "fuzz.h"
#include "validate.h"

static void
check(struct form_field *f, size_t n, int rc)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (rc != 0)
			continue;
		FUZZ_CHECK(f[i].len < f[i].cap);
		FUZZ_CHECK(strlen(f[i].val) == f[i].len);
		FUZZ_CHECK(utf8_valid(f[i].val, f[i].len));
		if (!f[i].present)
			FUZZ_CHECK(f[i].len == 0);
	}
}

/* Question fields with no buffer: an absent one keeps none. */
static int
questions(const char *s, size_t size)
{
	char	 name[64];
	struct form_field f[] = {
		{ "name", name, sizeof(name), 0, 0 },
		{ "q1", NULL, 0, 0, 0 },
		{ "q2-0", NULL, 0, 0, 0 },
		{ "q2-1", NULL, 0, 0, 0 },
	};
	size_t	 n = sizeof(f) / sizeof(f[0]), i;
	char	*arena = malloc(size + n + 1);
	int	 rc;

	FUZZ_CHECK(arena != NULL);
	rc = form_parse_arena(s, size, f, n, arena, size + n + 1);
	for (i = 1; rc == 0 && i < n; i++) {
		if (!f[i].present) {
			FUZZ_CHECK(f[i].val == NULL);
			continue;
		}
		FUZZ_CHECK(f[i].val >= arena && f[i].val + f[i].cap <=
		    arena + size + n + 1);
		FUZZ_CHECK(strlen(f[i].val) == f[i].len);
		FUZZ_CHECK(utf8_valid(f[i].val, f[i].len));
	}
	free(arena);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 csrf[80], name[NAME_MAX_CHARS * 4 + 1];
	char	 email[EMAIL_MAX_BYTES + 1], org[ORG_MAX_CHARS * 4 + 1];
	char	 hp[64], tz[64], confirm[8];
	struct form_field reg[] = {
		{ "csrf", csrf, sizeof(csrf), 0, 0 },
		{ "name", name, sizeof(name), 0, 0 },
		{ "email", email, sizeof(email), 0, 0 },
		{ "organization", org, sizeof(org), 0, 0 },
		{ "website", hp, sizeof(hp), 0, 0 },
		{ "tz", tz, sizeof(tz), 0, 0 },
	};
	struct form_field one[] = {
		{ "confirm", confirm, sizeof(confirm), 0, 0 },
	};
	const char	*s = (const char *)data;
	int		 rc;

	rc = form_parse(s, size, reg, sizeof(reg) / sizeof(reg[0]));
	FUZZ_CHECK(rc == 0 || rc == -1);
	check(reg, sizeof(reg) / sizeof(reg[0]), rc);
	rc = questions(s, size);
	FUZZ_CHECK(rc == 0 || rc == -1);
	rc = form_parse(s, size, one, 1);
	FUZZ_CHECK(rc == 0 || rc == -1);
	check(one, 1, rc);
	return 0;
}
