/*
 * fuzz_bearer: the Authorization header as bearer_key() in router.c reads
 * it for the admin routes, from a malloc'd copy of exactly the input's
 * size plus its NUL, so that ASan sees any read past the header.
 *
 * Properties, besides no crash: a key is accepted exactly when the header
 * is "Bearer " (any case), then spaces, then 1 to 200 bytes of printable
 * ASCII without blanks up to the end (worked out here independently); the
 * key returned points into the header, is that tail and nothing else, and
 * *key is left alone on refusal.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "router.h"

/* What the contract in router.c says, written out the plain way. */
static int
plausible(const char *h, const char **tail)
{
	size_t	 i, n;

	if (strlen(h) < 7 || strncasecmp(h, "bearer ", 7) != 0)
		return 0;
	h += 7;
	h += strspn(h, " ");
	n = strlen(h);
	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++)
		if (h[i] < '!' || h[i] > '~')
			return 0;
	*tail = h;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*h;
	const char	*key, *tail = NULL, *unset = "unset";
	size_t		 i, n;
	int		 rc;

	if ((h = malloc(size + 1)) == NULL)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';		/* a NUL inside ends the header early */

	key = unset;
	rc = bearer_key(h, &key);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == 0 ? plausible(h, &tail) : !plausible(h, &tail));
	if (rc == 0) {
		FUZZ_CHECK(key == tail);
		n = strlen(key);
		FUZZ_CHECK(key >= h + 7 && key + n == h + strlen(h));
		FUZZ_CHECK(n >= 1 && n <= 200);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(key[i] > ' ' && key[i] < 0x7f);
	} else
		FUZZ_CHECK(key == unset);
	free(h);
	return 0;
}
