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
#include "validate.h"

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

/* A registration's fields from a JSON body, checked; trimmed copies. */
struct registration_fields {
	char		 name[NAME_MAX_CHARS * 4 + 1];
	char		 email[EMAIL_MAX_BYTES + 1];
	char		 org[ORG_MAX_CHARS * 4 + 1];
	int		 has_org;
};

/* 0, or -1 after answering 400/422 (naming the field). */
int	 registration_read_fields(struct request *, struct response *,
	    struct registration_fields *);
int	 registration_submit(const struct registration_input *,
	    struct registration_result *);
/* Fills status, code and message for an outcome of eventbox.register(). */
void	 registration_outcome(const char *outcome, struct registration_result *);
void	 registration_json(struct response *, const struct registration_result *);

#endif
