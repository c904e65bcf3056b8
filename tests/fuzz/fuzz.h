/*
 * fuzz.h: what every libFuzzer target shares.  FUZZ_CHECK aborts (and so
 * fails the run with a reproducer) when a property the code promises does
 * not hold; sanitizer reports and leaks fail the run by themselves.
 */
#ifndef EVENTBOX_FUZZ_H
#define EVENTBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "http.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* An API request whose body is the n bytes at p, NUL-terminated at n as
 * http_read_body() leaves it, and a response to fill; fuzz_api_free(). */
static inline void
fuzz_api_request(struct request *req, struct response *resp, const char *p,
    size_t n)
{
	memset(req, 0, sizeof(*req));
	memset(resp, 0, sizeof(*resp));
	req->is_api = 1;
	buf_grow(&req->body, n);
	buf_add(&req->body, p, n);
	http_response_reset(resp);
}

static inline void
fuzz_api_free(struct request *req, struct response *resp)
{
	buf_free(&resp->head);
	buf_free(&resp->body);
	buf_free(&req->body);
}

/* A refusal: 400 or 422 with a JSON {"error": {"code": "..."}}. */
static inline void
fuzz_check_refusal(const struct response *resp)
{
	cJSON	*err;

	FUZZ_CHECK(resp->status == 400 || resp->status == 422);
	err = cJSON_Parse(buf_str(&resp->body));
	FUZZ_CHECK(err != NULL);
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(err, "error"), "code")));
	cJSON_Delete(err);
}

#endif
