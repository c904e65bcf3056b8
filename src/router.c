/*
 * router.c: route table and request checks (see router.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "page_layout.h"
#include "query.h"
#include "router.h"
#include "validate.h"

/*
 * One method per entry (HEAD goes with GET): /metrics counts requests by
 * entry and labels each with its method (router_labels()), so a path that
 * takes two methods has two entries.
 */
static const struct route routes[] = {
	{ M_GET | M_HEAD, "/healthz", h_healthz, R_API | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/events", h_events_list, R_API },
	{ M_GET | M_HEAD, "/api/v1/events/:", h_event_get, R_API },
	{ M_POST, "/api/v1/events/:/registrations", h_register,
	    R_API | R_JSON_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/registrations/:", h_registration_get,
	    R_API | R_NO_STORE },
	{ M_DELETE, "/api/v1/registrations/:", h_registration_cancel,
	    R_API | R_NO_STORE },
	{ M_POST, "/api/v1/registrations/:/confirm", h_registration_confirm,
	    R_API | R_NO_STORE },
	{ M_GET | M_HEAD, "/metrics", h_metrics, R_NO_STORE },
	{ M_GET | M_HEAD, "/events", h_page_events, 0 },
	{ M_GET | M_HEAD, "/events.ics", h_feed_ics, 0 },
	{ M_GET | M_HEAD, "/events.atom", h_feed_atom, 0 },
	{ M_GET | M_HEAD, "/embed/events", h_embed_events, 0 },
	{ M_GET | M_HEAD, "/events/:.ics", h_page_ics, 0 },
	/* The form page sets the CSRF cookie: never cached anywhere. */
	{ M_GET | M_HEAD, "/events/:", h_page_event, R_NO_STORE },
	{ M_POST, "/events/:/register", h_page_register,
	    R_FORM_BODY | R_NO_STORE },
	/* The form's target opened in a tab or reloaded: back to the form. */
	{ M_GET | M_HEAD, "/events/:/register", h_page_register_redirect, 0 },
	{ M_GET | M_HEAD, "/cancel/:", h_page_cancel_show, R_NO_STORE },
	{ M_POST, "/cancel/:", h_page_cancel, R_FORM_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/confirm/:", h_page_confirm_show, R_NO_STORE },
	{ M_POST, "/confirm/:", h_page_confirm, R_FORM_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/registration/:", h_page_registration, R_NO_STORE },

	{ M_POST, "/api/v1/admin/events", h_admin_event_create,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events", h_admin_events_list,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/audit", h_admin_audit,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events/:/waitlist", h_admin_waitlist,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events/:/questions",
	    h_admin_questions_get, R_API | R_ADMIN | R_NO_STORE },
	{ M_PUT, "/api/v1/admin/events/:/questions", h_admin_questions_put,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events/:", h_admin_event_get,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_PATCH, "/api/v1/admin/events/:", h_admin_event_update,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_POST, "/api/v1/admin/events/:/publish", h_admin_event_publish,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/events/:/unpublish", h_admin_event_unpublish,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/events/:/cancel", h_admin_event_cancel,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_PUT, "/api/v1/admin/events/:/capacity", h_admin_capacity,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events/:/registrations",
	    h_admin_roster, R_API | R_ADMIN | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/events/:/registrations.csv",
	    h_admin_roster_csv, R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/events/:/registrations", h_admin_register,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_DELETE, "/api/v1/admin/registrations/:", h_admin_cancel,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/registrations/:/promote", h_admin_promote,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/registrations/:/check-in",
	    h_admin_check_in, R_API | R_ADMIN | R_NO_STORE },
	{ M_DELETE, "/api/v1/admin/registrations/:/check-in",
	    h_admin_check_in, R_API | R_ADMIN | R_NO_STORE },
	{ M_PATCH, "/api/v1/admin/registrations/:",
	    h_admin_registration_update,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_POST, "/api/v1/admin/registrations/:/resend", h_admin_resend,
	    R_API | R_ADMIN | R_NO_STORE },

	{ M_GET | M_HEAD, "/api/v1/admin/api-clients", h_admin_clients,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/api-clients", h_admin_client_create,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_DELETE, "/api/v1/admin/api-clients/:", h_admin_client_revoke,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_GET | M_HEAD, "/api/v1/admin/webhooks", h_admin_webhooks,
	    R_API | R_ADMIN | R_NO_STORE },
	{ M_POST, "/api/v1/admin/webhooks", h_admin_webhook_create,
	    R_API | R_ADMIN | R_JSON_BODY | R_NO_STORE },
	{ M_DELETE, "/api/v1/admin/webhooks/:", h_admin_webhook_disable,
	    R_API | R_ADMIN | R_NO_STORE },

	/* LibCal's API 1.1, also under /api/1.1/ (see router_find). */
	{ M_POST, "/1.1/oauth/token", h_oauth_token,
	    R_API | R_TOKEN_BODY | R_NO_STORE },
	{ M_GET | M_HEAD, "/1.1/calendars", h_libcal_calendars, R_API },
	{ M_GET | M_HEAD, "/1.1/categories/:", h_libcal_categories, R_API },
	{ M_GET | M_HEAD, "/1.1/events", h_libcal_events, R_API },
	{ M_GET | M_HEAD, "/1.1/event_search", h_libcal_events, R_API },
	{ M_GET | M_HEAD, "/1.1/events/:", h_libcal_event, R_API },
	{ M_GET | M_HEAD, "/1.1/event/:", h_libcal_event, R_API },
	{ M_GET | M_HEAD, "/1.1/events/:/registrations", h_libcal_registrations,
	    R_API | R_NO_STORE },
};

/* LibCal clients configured with this prefix reach /1.1/ the same. */
#define LIBCAL_ALIAS	"/api/1.1/"


/*
 * A path no route knows still gets its 404 in the format of the part of
 * the site it was meant for: JSON below these, a page elsewhere.
 */
static const char *const api_areas[] = { "/api/", "/1.1/" };


#define NROUTES (sizeof(routes) / sizeof(routes[0]))

_Static_assert(NROUTES < METRICS_ROUTES_MAX, "raise METRICS_ROUTES_MAX");
_Static_assert(PATH_MAX_BYTES == 1024, "the 414 of router_dispatch() says 1024");

/* The routes as /metrics labels them: "GET /api/v1/events/:" (a pattern
 * may appear with several methods). */
const char *const *
router_labels(int *nroutes)
{
	static char		 buf[NROUTES][PATH_MAX_BYTES];
	static const char	*labels[NROUTES];
	const char		*m;
	size_t			 i;
	unsigned		 ms;

	for (i = 0; i < NROUTES && labels[0] == NULL; i++) {
		ms = routes[i].methods;
		m = (ms & M_GET) ? "GET" : (ms & M_POST) ? "POST" :
		    (ms & M_DELETE) ? "DELETE" : (ms & M_PUT) ? "PUT" :
		    (ms & M_PATCH) ? "PATCH" : "OTHER";
		snprintf(buf[i], sizeof(buf[i]), "%s %s", m, routes[i].pattern);
	}
	for (i = 0; i < NROUTES; i++)
		labels[i] = buf[i];
	*nroutes = (int)NROUTES;
	return labels;
}

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
	size_t		 i;

	/* Most routes part from the path before their first capture: a
	 * plain comparison rejects them before any segment is cut. */
	for (i = 0; pattern[i] != '\0' && pattern[i] != ':'; i++)
		if (i == req->path_len || pattern[i] != req->path[i])
			return 0;
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
			const char	*send = strchr(++pattern, '/');
			size_t		 slen = send ? (size_t)(send - pattern) :
					    strlen(pattern);

			/* A literal suffix after ':' must end the segment. */
			if (slen > 0) {
				if (n <= slen || memcmp(seg + n - slen, pattern,
				    slen) != 0)
					return 0;
				n -= slen;
				pattern += slen;
			}
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

/*
 * The headers of the service's answers a script may read besides the
 * CORS-safelisted ones: Location of an admin 201, Retry-After of a 429 or
 * 503, WWW-Authenticate of a 401, ETag of a staff read (for its
 * If-None-Match), and what a 405 or 415 names instead.
 */
#define CORS_EXPOSED	"Accept-Encoding, Accept-Patch, Allow, " \
			"Content-Disposition, ETag, Location, Retry-After, " \
			"WWW-Authenticate"

/*
 * The bodies a PATCH takes (RFC 5789 2.2, 3.1): a JSON object of the
 * fields to change, which is a JSON Merge Patch (RFC 7396) as it stands:
 * a field present is set (null clears one that may be empty), a field
 * absent is kept, a list is replaced whole; no field is an object.
 */
#define ACCEPT_PATCH	"application/json, application/merge-patch+json"

/* CORS: only for listed origins; everybody else gets no CORS headers.
 * Two Origin lines are no listed origin: which one the browser sent is a
 * guess (a request that changes something is refused: router_dispatch()). */
static int
cors(struct request *req, struct response *resp)
{
	if (req->origin == NULL)
		return 0;
	if ((req->twice & TWICE_ORIGIN) ||
	    !config_origin_allowed(req->origin, strlen(req->origin)))
		return -1;
	resp_header(resp, "Access-Control-Allow-Origin", "%s", req->origin);
	if (req->method != M_OPTIONS)
		resp_header(resp, "Access-Control-Expose-Headers", "%s",
		    CORS_EXPOSED);
	return 1;
}

/*
 * The header `name` listing the methods of one path, as the route table
 * has them.  Allow and a preflight's Access-Control-Allow-Methods give the
 * same list, so that a listed origin's script may use every method the API
 * has there (PATCH and PUT too), and no other.
 */
static void
methods_header(struct response *resp, const char *name, unsigned methods)
{
	struct buf	 b = BUF_INIT;

	if (methods & M_GET)
		buf_adds(&b, "GET, HEAD, ");
	if (methods & M_POST)
		buf_adds(&b, "POST, ");
	if (methods & M_PUT)
		buf_adds(&b, "PUT, ");
	if (methods & M_PATCH)
		buf_adds(&b, "PATCH, ");
	if (methods & M_DELETE)
		buf_adds(&b, "DELETE, ");
	buf_adds(&b, "OPTIONS");
	resp_header(resp, name, "%s", b.data);
	buf_free(&b);
}

static void
preflight(struct request *req, struct response *resp, unsigned methods,
    int cors_state)
{
	if (cors_state == -1) {
		answer_error(req, resp, 403, "origin_not_allowed",
		    "this origin may not call the API from a browser");
		return;
	}
	resp->status = 204;
	methods_header(resp, "Allow", methods);
	if (methods & M_PATCH)
		resp_header(resp, "Accept-Patch", "%s", ACCEPT_PATCH);
	if (cors_state == 1) {
		methods_header(resp, "Access-Control-Allow-Methods", methods);
		resp_header(resp, "Access-Control-Allow-Headers", "%s",
		    "Authorization, Content-Type, Idempotency-Key, If-None-Match");
		resp_header(resp, "Access-Control-Max-Age", "%d", 600);
	}
}

/*
 * "Bearer <key>": sets *key to the key.  Returns 0, or -1 when the header
 * is absent or not a plausible key (printable ASCII without blanks, at most
 * BEARER_KEY_MAX bytes), so that nothing odd reaches the database.
 */
int
bearer_key(const char *authorization, const char **key)
{
	const char	*k;
	size_t		 i;

	if (authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return -1;
	k = authorization + 7;
	while (*k == ' ')
		k++;
	for (i = 0; k[i] != '\0'; i++)
		if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f ||
		    i >= BEARER_KEY_MAX)
			return -1;
	if (i == 0)
		return -1;
	*key = k;
	return 0;
}

/*
 * Admin routes: the key must name a live API key.  Missing, malformed,
 * unknown and revoked keys get the same answer, so a caller learns nothing
 * about which it was.  Returns 0, or -1 when an error was answered.
 */
static int
staff_auth(struct request *req, struct response *resp)
{
	const char	*key;
	PGresult	*res;
	int		 ok, revoked;

	if (bearer_key(req->authorization, &key) == -1)
		goto refuse;
	if ((res = db_fetch(req, resp, STMT_API_KEY_NAME, 1, &key,
	    MISSING_OK)) == NULL)
		return -1;
	ok = !db_isnull(res, 0, "name");
	revoked = ok && strcmp(db_value(res, 0, "revoked"), "t") == 0;
	PQclear(res);
	if (!ok)
		goto refuse;
	if (revoked) {
		answer_error(req, resp, 403, "key_revoked",
		    "this staff API key was revoked");
		return -1;
	}
	req->api_key = key;
	return 0;
refuse:
	resp_header(resp, "WWW-Authenticate", "%s", "Bearer realm=\"eventbox\"");
	answer_error(req, resp, 401, "unauthorized",
	    "a valid staff API key is required");
	return -1;
}

/*
 * A body whose Content-Type or Content-Encoding came twice: one of the two
 * would be guessed at (http.h).  Returns 0, or -1 after answering 400.
 */
static int
check_single(struct request *req, struct response *resp)
{
	if (req->twice & TWICE_CONTENT_TYPE)
		answer_error(req, resp, 400, "duplicate_header",
		    "the Content-Type header is given more than once; "
		    "send it once");
	else if (req->twice & TWICE_CONTENT_ENCODING)
		answer_error(req, resp, 400, "duplicate_header",
		    "the Content-Encoding header is given more than once; "
		    "send it once");
	else
		return 0;
	return -1;
}

/*
 * RFC 7694: a body in a coding the service does not decode (gzip, br, ...)
 * is a 415 that names the one it takes, not bytes for the parsers to call
 * malformed.  identity, or no Content-Encoding at all, is no coding.
 * Returns 0, or -1 after answering.
 */
static int
check_coding(struct request *req, struct response *resp)
{
	if (req->content_encoding == NULL ||
	    strcasecmp(req->content_encoding, "identity") == 0)
		return 0;
	resp_header(resp, "Accept-Encoding", "%s", "identity");
	if (!req->is_api)
		html_error_page(resp, 415, N_("This site takes forms sent "
		    "uncompressed. Send the form again from the event page."));
	else
		answer_error(req, resp, 415, "unsupported_content_encoding",
		    "send the body uncompressed, with no Content-Encoding");
	return -1;
}

const struct route *
router_find(struct request *req, unsigned *allowed)
{
	const struct route	*r = NULL;
	size_t			 i;

	*allowed = 0;
	req->is_api = 0;
	if (req->path_len >= strlen(LIBCAL_ALIAS) && strncmp(req->path,
	    LIBCAL_ALIAS, strlen(LIBCAL_ALIAS)) == 0) {
		req->path += 4;
		req->path_len -= 4;
	}
	for (i = 0; i < sizeof(api_areas) / sizeof(api_areas[0]); i++)
		if (req->path_len >= strlen(api_areas[i]) &&
		    strncmp(req->path, api_areas[i], strlen(api_areas[i])) == 0)
			req->is_api = 1;
	for (i = 0; i < NROUTES; i++) {
		if (!route_match(routes[i].pattern, req))
			continue;
		/* Every route of one pattern answers in one format. */
		req->is_api = (routes[i].flags & R_API) != 0;
		*allowed |= routes[i].methods;
		if ((routes[i].methods & req->method) && r == NULL)
			r = &routes[i];
	}
	/* Re-match the chosen route: later candidates overwrote the captures. */
	if (r != NULL) {
		route_match(r->pattern, req);
		req->route = (int)(r - routes);
	}
	return r;
}

/*
 * The language of everything this request answers: ?lang= (a link of the
 * switcher, kept in the page's links and forms), else Accept-Language,
 * else English.  Every answer may depend on the header: router_dispatch()
 * says so in Vary.  English by default is no choice of the reader's, so
 * lang_asked stays NULL then: a repeated registration without either
 * keeps the language its registrant chose before (docs/TRANSLATING.md).
 */
static void
choose_language(struct request *req)
{
	static const struct query_param	 p[] = {
		{ "lang", Q_TEXT, 0, I18N_CODE_MAX - 1, 0, NULL, NULL },
	};
	struct query_value		 v;
	struct buf			 joined = BUF_INIT;
	size_t				 bad;
	const char			*q = NULL;

	req->lang_param = NULL;
	/* Read even when another name in the query is not text: the 400
	 * that query gets is worded in the language ?lang= asks for. */
	if (query_parse_readable(req->query, p, 1, &v, &bad) == 0 &&
	    v.present) {
		q = i18n_negotiate(v.text, NULL);
		/* "en" is also the answer for a language nobody knows */
		if (strcmp(q, "en") != 0 || strncasecmp(v.text, "en", 2) == 0)
			req->lang_param = q;
	}
	/* Accept-Language on two lines is one list (RFC 9110 5.3): "fr" and
	 * "es" ask for Spanish, which the first line alone does not. */
	req->lang_asked = req->lang_param != NULL ? req->lang_param :
	    i18n_asked(NULL, http_param_list(req, "HTTP_ACCEPT_LANGUAGE",
	    ", ", &joined));
	buf_free(&joined);
	req->lang = req->lang_asked != NULL ? req->lang_asked : "en";
	i18n_use(req->lang);
	page_lang_link(req);
}

void
router_dispatch(struct request *req, struct response *resp)
{
	const struct route	*r;
	size_t			 path_len = req->path_len;
	unsigned		 allowed;
	int			 cors_state = 0, st;

	r = router_find(req, &allowed);
	choose_language(req);
	/* Not from nginx, or from a broken gateway: nothing to route. */
	if (req->incomplete) {
		answer_error(req, resp, 400, "bad_request",
		    "the request has no method or target");
		return;
	}
	/* One Vary: every answer depends on the language, CORS answers on
	 * the Origin too. */
	resp_header(resp, "Vary", "%s", req->is_api ? "Origin, Accept-Language" :
	    "Accept-Language");
	if (req->is_api)
		cors_state = cors(req, resp);
	/* No path of the site is this long, and its captures would not fit
	 * req->argbuf: said as what it is, not as a 404.  (nginx answers the
	 * same 414 itself above 8 KiB, large_client_header_buffers.) */
	if (path_len > PATH_MAX_BYTES) {
		answer_error(req, resp, 414, "uri_too_long",
		    "the path of the address is too long: at most 1024 bytes");
		return;
	}
	if (allowed == 0) {
		answer_missing(req, resp, MISSING_PAGE);
		return;
	}
	if (req->method == M_OPTIONS) {
		preflight(req, resp, allowed, cors_state);
		return;
	}
	if (r == NULL) {
		methods_header(resp, "Allow", allowed);
		answer_error(req, resp, 405, "method_not_allowed",
		    "this method is not allowed here");
		return;
	}
	if (r->flags & R_NO_STORE)
		resp_header(resp, "Cache-Control", "%s", "no-store");
	if ((r->flags & R_ADMIN) && staff_auth(req, resp) == -1)
		return;
	if (req->is_api && (req->twice & TWICE_ORIGIN) &&
	    (req->method & (M_GET | M_HEAD)) == 0) {
		answer_error(req, resp, 400, "duplicate_header",
		    "the Origin header is given more than once; send it once");
		return;
	}
	if ((r->flags & (R_JSON_BODY | R_FORM_BODY | R_TOKEN_BODY)) &&
	    (check_single(req, resp) == -1 || check_coding(req, resp) == -1))
		return;
	if ((r->flags & R_TOKEN_BODY) &&
	    !media_type_is(req->content_type, "application/json") &&
	    !media_type_is(req->content_type, "application/x-www-form-urlencoded") &&
	    !media_type_is(req->content_type, "multipart/form-data")) {
		answer_error(req, resp, 415, "unsupported_media_type",
		    "send the body as JSON, a form or multipart/form-data");
		return;
	}
	if (r->flags & (R_JSON_BODY | R_FORM_BODY | R_TOKEN_BODY)) {
		if ((r->flags & R_JSON_BODY) &&
		    !media_type_is(req->content_type, "application/json") &&
		    !(req->method == M_PATCH && media_type_is(req->content_type,
		    "application/merge-patch+json"))) {
			if (req->method == M_PATCH)
				resp_header(resp, "Accept-Patch", "%s",
				    ACCEPT_PATCH);
			answer_error(req, resp, 415, "unsupported_media_type",
			    "send the body as application/json");
			return;
		}
		if ((r->flags & R_FORM_BODY) && !media_type_is(req->content_type,
		    "application/x-www-form-urlencoded")) {
			answer_error(req, resp, 415, "unsupported_media_type",
			    "send the form as application/x-www-form-urlencoded");
			return;
		}
		/* A form writes each byte of a letter outside ASCII as three
		 * ("%E6%BC%A2"): it may be three times what JSON, which
		 * carries the bytes as they are, may be, so that the answers
		 * the API takes fit the form too. */
		if ((st = http_read_body(req, (r->flags & R_FORM_BODY) ?
		    3 * cfg.max_body : cfg.max_body)) != 0) {
			if (st == 413)
				answer_error(req, resp, 413, "body_too_large",
				    "the request body is too large");
			else
				answer_error(req, resp, 400, "bad_body",
				    "the request body does not match its length");
			return;
		}
	}
	r->handler(req, resp);
	/* A staff tool polling a roster or an event asks "changed?" with
	 * If-None-Match, as a calendar app asks the feeds; the answers stay
	 * no-store: the tool keeps its own copy. */
	if ((r->flags & R_ADMIN) && (req->method & (M_GET | M_HEAD)) &&
	    resp->status == 200)
		resp_etag(req, resp);
}
