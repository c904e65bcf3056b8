/*
 * regbody.h: the JSON body of a registration ({name, email, organization?})
 * and its Idempotency-Key, checked without touching FastCGI or the
 * database, so the handler and the fuzzer (tests/fuzz/fuzz_regbody.c) run
 * the same code.
 *
 * regbody_parse() fills *out and returns 0 when everything is acceptable;
 * otherwise it writes the 400 or 422 answer into resp and returns -1.  The
 * body must be NUL-terminated at body[len] (http_read_body does that).
 * Nothing is allocated that outlives the call.
 */
#ifndef EVENTBOX_REGBODY_H
#define EVENTBOX_REGBODY_H

#include <stddef.h>

#include "http.h"
#include "validate.h"

struct regbody {
	char	 name[NAME_MAX_CHARS * 4 + 1];
	char	 email[EMAIL_MAX_BYTES + 1];
	char	 org[ORG_MAX_CHARS * 4 + 1];
	int	 has_org;
};

int	 regbody_parse(const char *idempotency_key, const char *body,
	    size_t len, struct regbody *out, struct response *resp);

#endif
