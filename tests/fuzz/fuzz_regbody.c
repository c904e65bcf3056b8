/*
 * fuzz_regbody: the JSON registration body and its Idempotency-Key, as
 * POST /api/v1/events/{id}/registrations checks them (regbody_parse).
 *
 * Input: an optional first line "K:<key>\n" (the Idempotency-Key header),
 * then the body bytes.  Properties: an accepted body yields fields that
 * pass their validators again and can go into a mail header; a refused one
 * gets a 400 or 422 with a JSON error object; never a crash or a leak.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fuzz.h"
#include "http.h"
#include "regbody.h"
#include "validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct response	 resp;
	struct regbody	 rb;
	struct buf	 body = BUF_INIT, key = BUF_INIT;
	const char	*p = (const char *)data, *nl;
	size_t		 n = size;
	cJSON		*err;
	int		 rc;

	if (n >= 2 && p[0] == 'K' && p[1] == ':' &&
	    (nl = memchr(p, '\n', n)) != NULL) {
		buf_add(&key, p + 2, (size_t)(nl - p - 2));
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	/* As http_read_body leaves it: NUL-terminated at len. */
	buf_grow(&body, n);
	buf_add(&body, p, n);

	memset(&resp, 0, sizeof(resp));
	http_response_reset(&resp);
	memset(&rb, 0x5a, sizeof(rb));
	rc = regbody_parse(key.data, body.data, body.len, &rb, &resp);
	if (rc == 0) {
		size_t	 ln = strlen(rb.name), le = strlen(rb.email);

		FUZZ_CHECK(text_valid(rb.name, ln, NAME_MAX_CHARS));
		FUZZ_CHECK(email_valid(rb.email, le));
		FUZZ_CHECK(header_safe(rb.name, ln) && header_safe(rb.email, le));
		if (rb.has_org) {
			size_t	 lo = strlen(rb.org);

			FUZZ_CHECK(text_valid(rb.org, lo, ORG_MAX_CHARS));
			FUZZ_CHECK(header_safe(rb.org, lo));
		}
		FUZZ_CHECK(resp.body.len == 0);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(resp.status == 400 || resp.status == 422);
		err = cJSON_Parse(buf_str(&resp.body));
		FUZZ_CHECK(err != NULL);
		FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(err, "error"), "code")));
		cJSON_Delete(err);
	}
	buf_free(&resp.head);
	buf_free(&resp.body);
	buf_free(&body);
	buf_free(&key);
	return 0;
}
