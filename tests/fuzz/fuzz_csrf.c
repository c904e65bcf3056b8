/*
 * fuzz_csrf: csrf_check() on an arbitrary Cookie header and form field,
 * with a fixed secret.  Input: the Cookie header up to the first newline,
 * the field after it (NUL-terminated copies of exact size).
 *
 * Properties, besides no crash and no leak:
 *   - an accepted field is 64 lowercase hex digits and equals
 *     HMAC-SHA256(secret, v) for some v that follows "eventbox_csrf=" in
 *     the header, computed here with OpenSSL directly;
 *   - the right field for a well-formed cookie built from the input is
 *     accepted, and the same field with any one character changed, cut
 *     short or made longer is refused;
 *   - the same field is refused under another secret.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config.h"
#include "csrf.h"
#include "fuzz.h"
#include "http.h"

static const char secret[] = "fuzz_csrf fixed secret, 32 bytes+";

static void
hmac_hex(const char *key, size_t keylen, const char *v, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;

	FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)keylen,
	    (const unsigned char *)v, CSRF_HEX, md, &mdlen) != NULL);
	FUZZ_CHECK(mdlen == CSRF_HEX / 2);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[CSRF_HEX] = '\0';
}

/* 1 when field is the HMAC of some value after "eventbox_csrf=" in h. */
static int
some_cookie_matches(const char *h, const char *field)
{
	const char	*p = h, *v;
	char		 want[CSRF_HEX + 1];

	while ((p = strstr(p, CSRF_COOKIE "=")) != NULL) {
		v = p + strlen(CSRF_COOKIE "=");
		if (strlen(v) >= CSRF_HEX) {
			hmac_hex(secret, sizeof(secret) - 1, v, want);
			if (memcmp(want, field, CSRF_HEX) == 0)
				return 1;
		}
		p++;
	}
	return 0;
}

static void
use_secret(const char *s, size_t len)
{
	memcpy(cfg.secret, s, len);
	cfg.secret_len = len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	const char	*nl;
	char		*cookie, *field, built[128 + CSRF_HEX], good[CSRF_HEX + 2];
	size_t		 clen, flen, i;

	nl = memchr(data, '\n', size);
	clen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	flen = nl != NULL ? size - clen - 1 : 0;
	if ((cookie = malloc(clen + 1)) == NULL)
		return 0;
	if ((field = malloc(flen + 1)) == NULL) {
		free(cookie);
		return 0;
	}
	memcpy(cookie, data, clen);
	cookie[clen] = '\0';
	if (flen > 0)
		memcpy(field, nl + 1, flen);
	field[flen] = '\0';
	use_secret(secret, sizeof(secret) - 1);
	memset(&req, 0, sizeof(req));

	/* Arbitrary header and field. */
	req.cookie = cookie;
	if (csrf_check(&req, field, flen)) {
		FUZZ_CHECK(flen == CSRF_HEX);
		for (i = 0; i < flen; i++)
			FUZZ_CHECK((field[i] >= '0' && field[i] <= '9') ||
			    (field[i] >= 'a' && field[i] <= 'f'));
		FUZZ_CHECK(some_cookie_matches(cookie, field));
	}
	req.cookie = NULL;
	FUZZ_CHECK(!csrf_check(&req, field, flen));

	/* A well-formed cookie from the input's bytes, after another one. */
	{
		static const char	 digits[] = "0123456789abcdef";
		char			 v[CSRF_HEX + 1], was;

		for (i = 0; i < CSRF_HEX; i++)
			v[i] = digits[(i < size ? data[i] : i) & 15];
		v[CSRF_HEX] = '\0';
		snprintf(built, sizeof(built), "a=b; " CSRF_COOKIE "=%s; c=d", v);
		req.cookie = built;
		hmac_hex(secret, sizeof(secret) - 1, v, good);
		FUZZ_CHECK(csrf_check(&req, good, CSRF_HEX));
		FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX - 1));
		good[CSRF_HEX] = 'a';
		good[CSRF_HEX + 1] = '\0';
		FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX + 1));
		good[CSRF_HEX] = '\0';
		i = size > 0 ? data[size - 1] % CSRF_HEX : 0;
		was = good[i];
		good[i] = was == 'a' ? 'b' : 'a';
		FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX));
		good[i] = was;
		use_secret("another secret", 14);
		FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX));
	}

	free(cookie);
	free(field);
	return 0;
}
