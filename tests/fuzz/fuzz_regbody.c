/*
 * fuzz_regbody: the JSON body of POST /api/v1/events/{id}/registrations, as
 * h_register checks it: json_body() (UTF-8, NUL, cJSON, object)
 * and registration_read_fields() (name, email, organization), with the
 * Idempotency-Key through idempotency_key_valid().
 *
 * Input: an optional first line "K:<key>\n" (the Idempotency-Key header),
 * then the body bytes.  Properties: an accepted body yields fields that
 * pass their validators again and can go into a mail header; a refused one
 * gets a 400 or 422 with a JSON error object; on well-formed JSON,
 * json_nul_escape() finds a \u0000 exactly when a scan that follows the
 * strings finds one in a string; never a crash or a leak.
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

/* json_nul_escape() the long way: the quotes followed, the escapes looked
 * at inside strings only. */
static int
nul_escape_in_strings(const char *s, size_t len)
{
	size_t	 i;
	int	 in_string = 0;

	for (i = 0; i < len; i++) {
		if (!in_string)
			in_string = s[i] == '"';
		else if (s[i] == '"')
			in_string = 0;
		else if (s[i] == '\\') {
			if (len - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0)
				return 1;
			i++;
		}
	}
	return 0;
}

static void
check_nul_escape(const char *s, size_t len)
{
	cJSON	*tree;

	/* NUL-terminated at len, as the body is: the length includes it.
	 * A raw NUL ends the JSON early, and what follows it is none. */
	if (memchr(s, '\0', len) != NULL ||
	    (tree = cJSON_ParseWithLengthOpts(s, len + 1, NULL, 1)) == NULL)
		return;
	FUZZ_CHECK(json_nul_escape(s, len) == nul_escape_in_strings(s, len));
	cJSON_Delete(tree);
}

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
	cJSON			*body;
	int			 rc;

	if (n >= 2 && p[0] == 'K' && p[1] == ':' &&
	    (nl = memchr(p, '\n', n)) != NULL) {
		buf_add(&key, p + 2, (size_t)(nl - p - 2));
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
		/* A header value cannot hold a NUL; the handler uses strlen. */
		idempotency_key_valid(key.data, strlen(key.data));
	}
	fuzz_api_request(&req, &resp, p, n);
	check_nul_escape(req.body.data, req.body.len);

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
		fuzz_check_refusal(&resp);
	}
	fuzz_api_free(&req, &resp);
	buf_free(&key);
	return 0;
}
