/*
 * regbody.c: the registration body and its Idempotency-Key (see regbody.h).
 * Moved out of api_registrations.c unchanged, so that a fuzzer can drive
 * it without a FastCGI request or a database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "regbody.h"

/* Trims ASCII blanks in place; returns the new start, sets *len. */
static const char *
trim(const char *s, size_t *len)
{
	size_t	 n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

/*
 * Takes one string field out of the object into dst.  Returns 1 when
 * present and valid, 0 when absent or null (and optional), -1 when an error
 * was answered.
 */
static int
take_field(struct response *resp, const cJSON *obj, const char *field,
    int required, int is_email, char *dst, size_t dstsz)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(obj, field);
	const char	*v;
	size_t		 len, max = is_email ? EMAIL_MAX_BYTES :
			    (strcmp(field, "name") == 0 ? NAME_MAX_CHARS :
			    ORG_MAX_CHARS);

	if (item == NULL || cJSON_IsNull(item)) {
		if (!required)
			return 0;
		resp_field_error(NULL, resp, field, "is required");
		return -1;
	}
	if (!cJSON_IsString(item) || item->valuestring == NULL) {
		resp_field_error(NULL, resp, field, "must be a string");
		return -1;
	}
	v = trim(item->valuestring, &len);
	if (len == 0 && !required)
		return 0;
	if (len == 0) {
		resp_field_error(NULL, resp, field, "is required");
		return -1;
	}
	if (is_email) {
		if (!email_valid(v, len)) {
			resp_field_error(NULL, resp, field,
			    "is not a valid email address");
			return -1;
		}
	} else if (utf8_chars(v, len) > max) {
		char	 msg[64];

		snprintf(msg, sizeof(msg), "is too long (at most %zu characters)",
		    max);
		resp_field_error(NULL, resp, field, msg);
		return -1;
	} else if (!text_valid(v, len, max)) {
		resp_field_error(NULL, resp, field,
		    "must be one line of text without control characters");
		return -1;
	}
	if (len >= dstsz)
		abort();	/* bounded by max above */
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 1;
}

int
regbody_parse(const char *idempotency_key, const char *body, size_t len,
    struct regbody *out, struct response *resp)
{
	cJSON	*root;
	int	 has_org;

	if (idempotency_key != NULL &&
	    !idempotency_key_valid(idempotency_key, strlen(idempotency_key))) {
		resp_error(NULL, resp, 400, "invalid_idempotency_key",
		    "Idempotency-Key: 1 to 200 printable ASCII characters");
		return -1;
	}
	if (len == 0) {
		resp_error(NULL, resp, 400, "empty_body",
		    "send {\"name\": ..., \"email\": ...} as JSON");
		return -1;
	}
	if (!utf8_valid(body, len)) {
		resp_error(NULL, resp, 400, "invalid_utf8",
		    "the body is not valid UTF-8");
		return -1;
	}
	/* cJSON would silently cut a string at a NUL, raw or escaped. */
	if (memchr(body, '\0', len) != NULL ||
	    strstr(body, "\\u0000") != NULL) {
		resp_error(NULL, resp, 400, "invalid_json",
		    "the body contains an escaped NUL character");
		return -1;
	}
	/* The length includes the terminating NUL, which cJSON wants to see. */
	root = cJSON_ParseWithLengthOpts(body, len + 1, NULL, 1);
	if (root == NULL) {
		resp_error(NULL, resp, 400, "invalid_json",
		    "the body is not well-formed JSON");
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		resp_error(NULL, resp, 422, "invalid_body",
		    "the body must be a JSON object");
		return -1;
	}
	if (take_field(resp, root, "name", 1, 0, out->name,
	    sizeof(out->name)) == -1 ||
	    take_field(resp, root, "email", 1, 1, out->email,
	    sizeof(out->email)) == -1 ||
	    (has_org = take_field(resp, root, "organization", 0, 0, out->org,
	    sizeof(out->org))) == -1) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_Delete(root);
	out->has_org = has_org;
	return 0;
}
