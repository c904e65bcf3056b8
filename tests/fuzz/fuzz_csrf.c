/*
 * fuzz_csrf: csrf_check() on an arbitrary Cookie header and form field,
 * with a fixed secret.  Input: the Cookie header up to the first newline,
 * the field after it (NUL-terminated copies of exact size).
 *
 * Properties, besides no crash and no leak:
 *   - an accepted field is 64 lowercase hex digits and equals
 *     HMAC-SHA256(secret, "form\0" random) for the random part of some
 *     value v after "eventbox_csrf=" in the header whose own signature,
 *     the first 128 bits of HMAC-SHA256(secret, "cookie\0" time "."
 *     random), is right; both computed here with OpenSSL directly;
 *   - for a cookie the server issued, placed among others, the right field
 *     is accepted, and the same field with any one character changed, cut
 *     short or made longer is refused, as is the field of a cookie whose
 *     signature has one character changed;
 *   - the same field is refused under another secret.
 */
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config.h"
#include "csrf.h"
#include "fuzz.h"
#include "http.h"

#define SIGNED	(8 + 1 + 32)	/* the part of the value that is signed */
#define RANDOM	(8 + 1)		/* where its random part starts */

static const char secret[] = "fuzz_csrf fixed secret, 32 bytes+";

/* HMAC-SHA256(key, label NUL v[0..vlen)) as hex, the first n digits. */
static void
hmac_hex(const char *key, size_t keylen, const char *label, const char *v,
    size_t vlen, char *out, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE], in[128];
	unsigned int		 mdlen = 0, i;
	size_t			 llen = strlen(label) + 1;

	FUZZ_CHECK(llen + vlen <= sizeof(in));
	memcpy(in, label, llen);
	memcpy(in + llen, v, vlen);
	FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)keylen, in, llen + vlen, md,
	    &mdlen) != NULL);
	FUZZ_CHECK(mdlen == CSRF_HEX / 2);
	for (i = 0; i < n / 2; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[n] = '\0';
}

/* 1 when field belongs to some correctly signed value in header h. */
static int
some_cookie_matches(const char *h, const char *field)
{
	const char	*p = h, *v;
	char		 sig[33], want[CSRF_HEX + 1];

	while ((p = strstr(p, CSRF_COOKIE "=")) != NULL) {
		v = p + strlen(CSRF_COOKIE "=");
		if (strlen(v) >= CSRF_VALUE_LEN) {
			hmac_hex(secret, sizeof(secret) - 1, "cookie", v, SIGNED,
			    sig, 32);
			hmac_hex(secret, sizeof(secret) - 1, "form", v + RANDOM,
			    32, want, CSRF_HEX);
			if (memcmp(sig, v + SIGNED + 1, 32) == 0 &&
			    memcmp(want, field, CSRF_HEX) == 0)
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
	char		*cookie, *field, built[256], good[CSRF_HEX + 2];
	char		 v[CSRF_VALUE_LEN + 1], was;
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
	cfg.base_url = "http://127.0.0.1";
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

	/* A cookie the server issued, after the input's header. */
	csrf_issue(time(NULL), v);
	snprintf(built, sizeof(built), "%.80s; " CSRF_COOKIE "=%s; c=d", cookie,
	    v);
	req.cookie = built;
	hmac_hex(secret, sizeof(secret) - 1, "form", v + RANDOM, 32, good,
	    CSRF_HEX);
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

	/* The same with one character of the cookie's signature changed. */
	i = SIGNED + 1 + (size > 1 ? data[0] % 32 : 0);
	was = v[i];
	v[i] = was == 'a' ? 'b' : 'a';
	snprintf(built, sizeof(built), CSRF_COOKIE "=%s", v);
	FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX));
	v[i] = was;

	snprintf(built, sizeof(built), CSRF_COOKIE "=%s", v);
	FUZZ_CHECK(csrf_check(&req, good, CSRF_HEX));
	use_secret("another secret", 14);
	FUZZ_CHECK(!csrf_check(&req, good, CSRF_HEX));

	free(cookie);
	free(field);
	return 0;
}
