/*
 * fuzz_regbody: the JSON body of POST /api/v1/events/{id}/registrations, as
 * h_register checks it: json_body() (UTF-8, NUL, cJSON, object)
 * and registration_read_fields() (name, email, organization), with the
 * Idempotency-Key through idempotency_key_valid().
 *
 * Input: an optional first line "K:<key>\n" (the Idempotency-Key header),
 * then the body bytes.  Properties: an accepted body yields fields that
 * pass their validators again and can go into a mail header; a refused one
 * gets a 400 or 422 with a JSON error object; never a crash or a leak.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "buf.h"
#include "fuzz.h"
#include "handlers.h"
#include "http.h"
#include "registration.h"
#include "validate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request		 req;
	struct response		 resp;
	struct registration_fields f;
	struct field_problem	 problem;
	struct buf		 key = BUF_INIT;
	const char		*p = (const char *)data, *nl;
	size_t			 n = size;
	cJSON			*err, *body;
	int			 rc;

	if (n >= 2 && p[0] == 'K' && p[1] == ':' &&
	    (nl = memchr(p, '\n', n)) != NULL) {
		buf_add(&key, p + 2, (size_t)(nl - p - 2));
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
		/* A header value cannot hold a NUL; the handler uses strlen. */
		idempotency_key_valid(key.data, strlen(key.data));
	}
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.is_api = 1;
	/* As http_read_body leaves it: NUL-terminated at len. */
	buf_grow(&req.body, n);
	buf_add(&req.body, p, n);
	http_response_reset(&resp);

	memset(&f, 0x5a, sizeof(f));
	rc = -1;
	if ((body = json_body(&req, &resp)) != NULL) {
		rc = registration_from_json(body, &f, &problem);
		cJSON_Delete(body);
		if (rc == -1)
			api_field_error(&resp, &problem);
	}
	if (rc == 0) {
		size_t	 ln = strlen(f.name), le = strlen(f.email);

		FUZZ_CHECK(text_valid(f.name, ln, NAME_MAX_CHARS));
		FUZZ_CHECK(email_valid(f.email, le));
		FUZZ_CHECK(header_safe(f.name, ln) && header_safe(f.email, le));
		if (f.has_org) {
			size_t	 lo = strlen(f.org);

			FUZZ_CHECK(text_valid(f.org, lo, ORG_MAX_CHARS));
			FUZZ_CHECK(header_safe(f.org, lo));
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
	buf_free(&req.body);
	buf_free(&key);
	return 0;
}
