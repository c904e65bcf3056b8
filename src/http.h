/*
 * http.h: one request and its response, as a worker sees them.
 *
 * The request is filled by http_read_request() from the FastCGI params
 * and, for routes that take one, the body (capped, read whole, NUL-
 * terminated).  The response is built in memory and written once by
 * http_send(): a handler never touches the FastCGI stream.  How a handler
 * words its answers is answer.h's business, not this file's.
 *
 * Ownership: both structs belong to the worker and are reset between
 * requests; their buffers are reused.  Strings in struct request point
 * into libfcgi's params (valid until FCGX_Finish_r) or into the struct.
 */
#ifndef EVENTBOX_HTTP_H
#define EVENTBOX_HTTP_H

#include <stddef.h>

#include "buf.h"

struct FCGX_Request;

enum method {
	M_GET = 1 << 0,
	M_HEAD = 1 << 1,
	M_POST = 1 << 2,
	M_PUT = 1 << 3,
	M_PATCH = 1 << 4,
	M_DELETE = 1 << 5,
	M_OPTIONS = 1 << 6,
	M_OTHER = 1 << 7
};

#define PATH_MAX_BYTES	1024
#define ARGS_MAX	4

struct request {
	struct FCGX_Request	*fcgi;
	enum method		 method;
	const char		*path;		/* raw path, without query */
	size_t			 path_len;
	const char		*query;		/* raw query, "" when none */
	const char		*content_type;	/* NULL when absent */
	const char		*content_encoding;	/* NULL when absent */
	const char		*origin;
	const char		*idempotency_key;
	const char		*authorization;
	const char		*api_key;	/* admin routes: the checked key */
	const char		*accept;
	const char		*cookie;	/* NULL when absent; its lines
						   joined with "; " */
	struct buf		 cookies;	/* that join's storage */
	long long		 content_length;	/* -1 when absent */
	unsigned		 twice;		/* TWICE_*: a header read as one
						   value that came more than
						   once */
	int			 is_api;	/* JSON errors, CORS (router.c) */
	const char		*lang;		/* "en", "es": i18n_negotiate() */
	const char		*lang_param;	/* the same when ?lang= chose it,
						   else NULL: links carry it */
	const char		*lang_asked;	/* the same when ?lang= or
						   Accept-Language named it,
						   else NULL: kept with a
						   registration */
	int			 route;		/* index in the route table, -1 */
	int			 incomplete;	/* no REQUEST_METHOD or REQUEST_URI */
	const char		*args[ARGS_MAX];	/* decoded path captures */
	size_t			 args_len[ARGS_MAX];
	char			 argbuf[PATH_MAX_BYTES + ARGS_MAX];
	struct buf		 body;
};

struct response {
	int			 status;
	const char		*content_type;
	struct buf		 head;	/* extra header lines, CRLF-ended */
	struct buf		 body;
};

/*
 * The headers the service reads as one value, in req->twice when one came
 * more than once: which of two counts is anybody's guess (the service read
 * the first, a proxy in front may read the last), so such a request is
 * refused where the header is read (router.c, h_register()).
 */
#define TWICE_CONTENT_TYPE	0x1u
#define TWICE_CONTENT_ENCODING	0x2u
#define TWICE_IDEMPOTENCY_KEY	0x4u
#define TWICE_ORIGIN		0x8u

void	 http_request_reset(struct request *, struct FCGX_Request *);
void	 http_response_reset(struct response *);
int	 http_read_body(struct request *, size_t max);
void	 http_send(struct request *, struct response *);
const char *http_param(struct request *, const char *);
/*
 * A header whose lines make one value, by its parameter name: a list
 * (RFC 9110 5.3: as if joined by ", "), or Cookie (RFC 9113 8.2.3: joined
 * by "; ").  nginx 1.22 passes each line of a repeated header as a
 * parameter of its own (from 1.23 it joins them so), and http_param()
 * finds the first.  The only line's value, the lines joined with sep in
 * joined (which the caller empties first and frees) when there are
 * several, or NULL.
 */
const char *http_param_list(struct request *, const char *name,
	    const char *sep, struct buf *joined);

void	 resp_header(struct response *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A strong ETag of the finished body's bytes (FNV-1a), and 304 without
 * the body when If-None-Match names it (gzip's W/ prefix or not). */
void	 resp_etag(struct request *, struct response *);
const char *http_reason(int status);

#endif
