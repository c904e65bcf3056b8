/*
 * fuzz_validate: every validator and decoder in validate.c on the same
 * bytes: UTF-8, one-line text, email (and its canonical form), token, Idempotency-Key, slug, event
 * reference, date, whole numbers, header_safe, percent-decoding.
 *
 * Properties, besides no crash and no leak: whatever a validator accepts
 * is safe to put in a mail or HTTP header (no CR, LF or NUL); an address
 * email_canonical() takes is one email_valid() takes; each accepted
 * value has the shape its contract states; percent-decoding never grows
 * the input, fits its buffer and yields no NUL.
 */
#include <string.h>

#include "fuzz.h"
#include "validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	char		 dst[256];
	size_t		 outlen = 0, i, ats = 0;
	long long	 n;
	int		 u;

	u = utf8_valid(s, size);
	if (u)
		FUZZ_CHECK(utf8_chars(s, size) <= size);

	if (text_valid(s, size, NAME_MAX_CHARS)) {
		FUZZ_CHECK(u && header_safe(s, size));
		FUZZ_CHECK(utf8_chars(s, size) <= NAME_MAX_CHARS);
	}
	if (email_valid(s, size)) {
		FUZZ_CHECK(u && header_safe(s, size));
		FUZZ_CHECK(size <= EMAIL_MAX_BYTES);
		for (i = 0; i < size; i++) {
			ats += s[i] == '@';
			FUZZ_CHECK(s[i] > ' ' && s[i] < 0x7f);
		}
		FUZZ_CHECK(ats == 1);
	}
	/* What email_canonical() stores is an address email_valid() takes,
	 * whatever was typed (a U-label domain, an A-label, ASCII). */
	if (u && email_canonical(s, size, dst, EMAIL_MAX_BYTES + 1) ==
	    EMAIL_OK) {
		outlen = strlen(dst);
		FUZZ_CHECK(email_valid(dst, outlen) && header_safe(dst, outlen));
	}
	if (token_valid(s, size))
		FUZZ_CHECK(size == TOKEN_LEN && header_safe(s, size));
	if (idempotency_key_valid(s, size))
		FUZZ_CHECK(size <= IDEMPOTENCY_MAX && header_safe(s, size) &&
		    memchr(s, ' ', size) == NULL);
	if (slug_valid(s, size))
		FUZZ_CHECK(size <= SLUG_MAX && event_ref_valid(s, size) &&
		    memchr(s, '/', size) == NULL);
	if (event_ref_valid(s, size))
		FUZZ_CHECK(header_safe(s, size) && memchr(s, '/', size) == NULL);
	if (date_valid(s, size))
		FUZZ_CHECK(size == 10);
	if (parse_int(s, size, -1000000, 1000000, &n) == 0)
		FUZZ_CHECK(n >= -1000000 && n <= 1000000);
	if (parse_int(s, size, 0, 1LL << 40, &n) == 0)
		FUZZ_CHECK(n >= 0 && n <= 1LL << 40);

	for (u = 0; u <= 1; u++) {
		if (pct_decode(dst, sizeof(dst), s, size, u, &outlen) == 0) {
			FUZZ_CHECK(outlen <= size && outlen < sizeof(dst));
			FUZZ_CHECK(strlen(dst) == outlen);
		}
	}
	/* A tiny buffer must fail cleanly, never write past it. */
	{
		char	 tiny[4];

		if (pct_decode(tiny, sizeof(tiny), s, size, 1, &outlen) == 0)
			FUZZ_CHECK(outlen < sizeof(tiny));
		FUZZ_CHECK(pct_decode(tiny, 0, s, size, 1, &outlen) == -1);
	}
	return 0;
}
