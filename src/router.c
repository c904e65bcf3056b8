/*
 * router.c: route table and request checks (see router.h).
 */
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "log.h"
#include "router.h"
#include "validate.h"

static const struct route routes[] = {
	{ M_GET | M_HEAD, "/healthz", h_healthz, R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/events", h_events_list, 0 },
	{ M_GET | M_HEAD, "/api/v1/events/:", h_event_get, 0 },
	{ M_POST, "/api/v1/events/:/registrations", h_register,
	    R_JSON_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/registrations/:", h_registration_get,
	    R_NO_STORE },
	{ M_DELETE, "/api/v1/registrations/:", h_registration_cancel,
	    R_NO_STORE },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * Matches the raw path against a pattern segment by segment, decoding each
 * captured segment into req->argbuf.  A capture must be non-empty.
 */
int
route_match(const char *pattern, struct request *req)
{
	const char	*p = req->path, *end = req->path + req->path_len;
	const char	*seg;
	char		*out = req->argbuf;
	size_t		 room = sizeof(req->argbuf), n, outlen;
	int		 nargs = 0;

	while (*pattern != '\0') {
		if (p >= end || *p != '/' || *pattern != '/')
			return 0;
		p++;
		pattern++;
		seg = p;
		while (p < end && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (*pattern == ':') {
			pattern++;
			if (n == 0 || nargs == ARGS_MAX)
				return 0;
			if (pct_decode(out, room, seg, n, 0, &outlen) == -1)
				return 0;
			req->args[nargs] = out;
			req->args_len[nargs++] = outlen;
			out += outlen + 1;
			room -= outlen + 1;
		} else {
			const char	*pend = strchr(pattern, '/');
			size_t		 plen = pend ? (size_t)(pend - pattern) :
					    strlen(pattern);

			if (plen != n || memcmp(pattern, seg, n) != 0)
				return 0;
			pattern += plen;
		}
	}
	return p == end;
}

/* CORS: only for listed origins; everybody else gets no CORS headers. */
static int
cors(struct request *req, struct response *resp)
{
	if (req->origin == NULL)
		return 0;
	if (!config_origin_allowed(req->origin, strlen(req->origin)))
		return -1;
	resp_header(resp, "Access-Control-Allow-Origin", "%s", req->origin);
	return 1;
}

static void
allow_header(struct response *resp, unsigned methods)
{
	struct buf	 b = BUF_INIT;

	if (methods & M_GET)
		buf_adds(&b, "GET, HEAD, ");
	if (methods & M_POST)
		buf_adds(&b, "POST, ");
	if (methods & M_DELETE)
		buf_adds(&b, "DELETE, ");
	buf_adds(&b, "OPTIONS");
	resp_header(resp, "Allow", "%s", b.data);
	buf_free(&b);
}

static void
preflight(struct request *req, struct response *resp, unsigned methods,
    int cors_state)
{
	if (cors_state == -1) {
		resp_error(req, resp, 403, "origin_not_allowed",
		    "this origin may not call the API from a browser");
		return;
	}
	resp->status = 204;
	allow_header(resp, methods);
	if (cors_state == 1) {
		resp_header(resp, "Access-Control-Allow-Methods", "%s",
		    "GET, POST, DELETE");
		resp_header(resp, "Access-Control-Allow-Headers", "%s",
		    "Content-Type, Idempotency-Key");
		resp_header(resp, "Access-Control-Max-Age", "%d", 600);
	}
}

static int
is_json(const char *ctype)
{
	size_t	 n = strlen("application/json");

	if (ctype == NULL || strncasecmp(ctype, "application/json", n) != 0)
		return 0;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

const struct route *
router_find(struct request *req, unsigned *allowed)
{
	const struct route	*r = NULL;
	size_t			 i;

	*allowed = 0;
	for (i = 0; i < NROUTES; i++) {
		if (!route_match(routes[i].pattern, req))
			continue;
		*allowed |= routes[i].methods;
		if ((routes[i].methods & req->method) && r == NULL)
			r = &routes[i];
	}
	/* Re-match the chosen route: later candidates overwrote the captures. */
	if (r != NULL)
		route_match(r->pattern, req);
	return r;
}

void
router_dispatch(struct request *req, struct response *resp)
{
	const struct route	*r;
	unsigned		 allowed;
	int			 cors_state = 0, st;

	/* Not from nginx, or from a broken gateway: nothing to route. */
	if (req->incomplete) {
		resp_error(req, resp, 400, "bad_request",
		    "the request has no method or target");
		return;
	}
	r = router_find(req, &allowed);
	if (req->is_api) {
		resp_header(resp, "Vary", "%s", "Origin");
		cors_state = cors(req, resp);
	}
	if (allowed == 0) {
		resp_error(req, resp, 404, "not_found", "no such resource");
		return;
	}
	if (req->method == M_OPTIONS) {
		preflight(req, resp, allowed, cors_state);
		return;
	}
	if (r == NULL) {
		allow_header(resp, allowed);
		resp_error(req, resp, 405, "method_not_allowed",
		    "this method is not allowed here");
		return;
	}
	if (r->flags & R_NO_STORE)
		resp_header(resp, "Cache-Control", "%s", "no-store");
	if (r->flags & R_JSON_BODY) {
		if (!is_json(req->content_type)) {
			resp_error(req, resp, 415, "unsupported_media_type",
			    "send the body as application/json");
			return;
		}
		if ((st = http_read_body(req, cfg.max_body)) != 0) {
			if (st == 413)
				resp_error(req, resp, 413, "body_too_large",
				    "the request body is too large");
			else
				resp_error(req, resp, 400, "bad_body",
				    "the request body does not match its length");
			return;
		}
	}
	r->handler(req, resp);
}
