/*
 * fuzz_route: a request line as nginx passes it (REQUEST_METHOD,
 * REQUEST_URI, CONTENT_LENGTH, CONTENT_TYPE, Origin, Idempotency-Key), read
 * by http_request_reset() and routed by router_find() over the real route
 * table, then the query string picked apart by query_get() and by
 * query_parse() with a table of every kind, and the Origin checked against
 * a CORS list.
 *
 * Input: up to six lines, one per parameter in that order; a missing line
 * is a missing parameter.  Properties: the path stays inside the URI, the
 * captures are NUL-terminated inside argbuf with their stated lengths, a
 * route is only chosen for its own method, decoded values fit their
 * buffers, a parsed parameter that is present holds what its kind allows
 * (absent ones their default), an origin is allowed only when it is
 * exactly one on the list;
 * never a crash or a leak.
 */
#include <string.h>

#include <fcgiapp.h>

#include "buf.h"
#include "config.h"
#include "fuzz.h"
#include "http.h"
#include "query.h"
#include "router.h"
#include "validate.h"

#define NPARAMS	6

static const char *const names[NPARAMS] = {
	"REQUEST_METHOD", "REQUEST_URI", "CONTENT_LENGTH", "CONTENT_TYPE",
	"HTTP_ORIGIN", "HTTP_IDEMPOTENCY_KEY",
};

static const char *const choices[] = { "confirmed", "waitlisted", NULL };

static const struct query_param qparams[] = {
	{ "page", Q_INT, 1, PAGE_MAX, 1, NULL, NULL },
	{ "from", Q_DATE, 0, 0, 0, NULL, NULL },
	{ "q", Q_TEXT, 0, QUERY_TEXT_MAX, 0, NULL, NULL },
	{ "status", Q_ONEOF, 0, 0, 0, choices, NULL },
};

#define NPARAMS_Q	(sizeof(qparams) / sizeof(qparams[0]))

static const char *const query_keys[] = {
	"category", "from", "to", "q", "page", "per_page", "",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FCGX_Request		 fcgi;
	struct request		 req;
	const struct route	*r;
	struct buf		 params[NPARAMS];
	char			*envp[NPARAMS + 1];
	const char		*p = (const char *)data, *end = p + size, *nl;
	char			 dst[QUERY_TEXT_MAX + 1];
	size_t			 i, k = 0, outlen, uri_len = 0;
	unsigned		 allowed;
	int			 rc;

	if (memchr(data, '\0', size) != NULL)
		return 0;	/* FastCGI params are C strings */
	memset(&fcgi, 0, sizeof(fcgi));
	memset(&req, 0, sizeof(req));
	for (i = 0; i < NPARAMS && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		params[k] = (struct buf)BUF_INIT;
		buf_printf(&params[k], "%s=", names[i]);
		buf_add(&params[k], p, (size_t)(nl - p));
		if (i == 1)
			uri_len = (size_t)(nl - p);
		envp[k] = params[k].data;
		k++;
		p = nl < end ? nl + 1 : end;
	}
	envp[k] = NULL;
	fcgi.envp = envp;

	http_request_reset(&req, &fcgi);
	FUZZ_CHECK(req.path != NULL && req.path[0] == '/');
	FUZZ_CHECK(req.path_len <= strlen(req.path));
	FUZZ_CHECK(req.path_len <= uri_len || strcmp(req.path, "/") == 0);
	FUZZ_CHECK(req.content_length >= -2);

	r = router_find(&req, &allowed);
	if (r != NULL) {
		FUZZ_CHECK(r->methods & req.method);
		FUZZ_CHECK(allowed & req.method);
		for (i = 0; i < ARGS_MAX && req.args[i] != NULL; i++) {
			FUZZ_CHECK(req.args[i] >= req.argbuf);
			FUZZ_CHECK(req.args[i] + req.args_len[i] <
			    req.argbuf + sizeof(req.argbuf));
			FUZZ_CHECK(strlen(req.args[i]) == req.args_len[i]);
			FUZZ_CHECK(req.args_len[i] > 0);
		}
	} else
		FUZZ_CHECK((allowed & req.method) == 0);

	cfg.cors_origins = " https://library.example.org,https://b.example ";
	if (req.origin != NULL &&
	    config_origin_allowed(req.origin, strlen(req.origin)))
		FUZZ_CHECK(strcmp(req.origin, "https://library.example.org") == 0 ||
		    strcmp(req.origin, "https://b.example") == 0);

	for (i = 0; i < sizeof(query_keys) / sizeof(query_keys[0]); i++) {
		memset(dst, 0x5a, sizeof(dst));
		rc = query_get(req.query, query_keys[i], dst, sizeof(dst),
		    &outlen);
		FUZZ_CHECK(rc >= -1 && rc <= QUERY_NAME_CONTROL);
		if (rc == 1) {
			FUZZ_CHECK(outlen < sizeof(dst));
			FUZZ_CHECK(strlen(dst) == outlen);
		}
	}

	{
		static struct query_value	 v[NPARAMS_Q];
		size_t				 bad = NPARAMS_Q;

		if (query_parse(req.query, qparams, NPARAMS_Q, v, &bad) == 0) {
			FUZZ_CHECK(v[0].num >= 1 && v[0].num <= PAGE_MAX);
			FUZZ_CHECK(!v[0].present || strlen(v[0].text) ==
			    v[0].len);
			FUZZ_CHECK(!v[1].present || date_valid(v[1].text,
			    v[1].len));
			FUZZ_CHECK(!v[2].present || text_valid(v[2].text,
			    v[2].len, QUERY_TEXT_MAX));
			FUZZ_CHECK(!v[3].present ||
			    strcmp(v[3].text, "confirmed") == 0 ||
			    strcmp(v[3].text, "waitlisted") == 0);
			for (i = 0; i < NPARAMS_Q; i++)
				FUZZ_CHECK(v[i].present || v[i].len == 0);
		} else
			FUZZ_CHECK(bad < NPARAMS_Q);
	}

	buf_free(&req.body);
	buf_free(&req.cookies);
	for (i = 0; i < k; i++)
		buf_free(&params[i]);
	return 0;
}
