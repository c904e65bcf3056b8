/*
 * registration.h: one registration attempt, shared by the JSON API and the
 * HTML form.  registration_submit() makes the token, calls
 * eventbox.register() in one round trip and maps its outcome to an HTTP
 * status, an error code and a message a patron can read.
 *
 * The input strings must already be validated (validate.h); the result's
 * strings are static.
 */
#ifndef EVENTBOX_REGISTRATION_H
#define EVENTBOX_REGISTRATION_H

#include <stddef.h>

#include "http.h"

struct registration_input {
	const char	*event;		/* id or slug, not yet checked */
	size_t		 event_len;
	const char	*name;
	const char	*email;
	const char	*organization;	/* NULL when none */
	const char	*source;	/* "api" or "web" */
	const char	*idempotency_key;	/* NULL when none */
};

struct registration_result {
	int		 http_status;	/* 201, 403, 404, 409, 422 */
	const char	*code;		/* error code, NULL on 201 */
	const char	*message;
	const char	*status;	/* confirmed | waitlisted on 201 */
	long		 position;	/* > 0 when waitlisted */
	char		 event_slug[128];
	int		 busy;		/* on -1: 1 = lock timeout, 0 = no db */
};

int	 registration_submit(const struct registration_input *,
	    struct registration_result *);
void	 registration_json(struct response *, const struct registration_result *);

#endif
