/*
 * router.h: the route table and the checks every request passes, in one
 * place and one order: method known (405), path known (404), CORS, the
 * staff key for admin routes (401, before any body is read), then for
 * routes with a body: media type (415), size (413), whole body (400).
 * Routes flagged R_API answer errors in JSON, the others with an HTML page
 * (answer.c); a path no route knows, by the part of the site it is in.
 * Handlers see only requests that passed.
 */
#ifndef EVENTBOX_ROUTER_H
#define EVENTBOX_ROUTER_H

#include "http.h"

#define BEARER_KEY_MAX	200	/* bytes of a plausible staff API key */

typedef void handler_fn(struct request *, struct response *);

enum route_flags {
	R_JSON_BODY = 1 << 0,	/* POST/PUT/PATCH with application/json */
	R_NO_STORE = 1 << 1,	/* Cache-Control: no-store (token pages) */
	R_FORM_BODY = 1 << 2,	/* POST application/x-www-form-urlencoded */
	R_ADMIN = 1 << 3,	/* Authorization: Bearer <staff API key> */
	R_API = 1 << 4,		/* JSON errors, CORS; else HTML pages */
	R_TOKEN_BODY = 1 << 5,	/* POST as JSON, form or multipart (OAuth) */
};

struct route {
	unsigned	 methods;	/* enum method bits */
	const char	*pattern;	/* "/api/v1/events/:" ; ':' = one segment,
					   ":.ics" = one ending in .ics (the
					   capture is without it) */
	handler_fn	*handler;
	unsigned	 flags;
};

void	 router_dispatch(struct request *, struct response *);
const char *const *router_labels(int *nroutes);
/* The first route whose pattern and method match (NULL when none), with
 * its captures in req->args; *allowed gets the methods of every route whose
 * pattern matches (0: 404; nonzero and NULL returned: 405). */
const struct route *router_find(struct request *, unsigned *allowed);
int	 route_match(const char *pattern, struct request *);
int	 bearer_key(const char *authorization, const char **key);

#endif
