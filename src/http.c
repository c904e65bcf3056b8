/*
 * http.c: FastCGI in, HTTP response out (see http.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "http.h"
#include "validate.h"

static const struct {
	const char	*name;
	enum method	 m;
} methods[] = {
	{ "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST },
	{ "PUT", M_PUT }, { "PATCH", M_PATCH }, { "DELETE", M_DELETE },
	{ "OPTIONS", M_OPTIONS },
};

const char *
http_param(struct request *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi->envp);
}

const char *
http_param_list(struct request *req, const char *name, const char *sep,
    struct buf *joined)
{
	char		**e;
	const char	 *first = NULL;
	size_t		  len = strlen(name);

	for (e = req->fcgi->envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, name, len) != 0 || (*e)[len] != '=')
			continue;
		if (first == NULL) {
			first = *e + len + 1;
			continue;
		}
		if (joined->len == 0)
			buf_adds(joined, first);
		buf_printf(joined, "%s%s", sep, *e + len + 1);
	}
	return joined->len > 0 ? joined->data : first;
}

/*
 * The parameters a request reads, in groups by their first letters (see
 * read_params()).  bit: a header read as one value (TWICE_*, http.h).
 */
enum {
	P_METHOD, P_URI,				/* 'R' */
	P_CONTENT_TYPE, P_CONTENT_LENGTH,		/* 'C' */
	P_ACCEPT, P_AUTHORIZATION,			/* "HTTP_A" */
	P_COOKIE, P_H_CONTENT_TYPE, P_CONTENT_ENCODING,	/* "HTTP_C" */
	P_IDEMPOTENCY_KEY,				/* "HTTP_I" */
	P_ORIGIN,					/* "HTTP_O" */
	P__MAX
};

static const struct {
	const char	*param;		/* with its '=' */
	size_t		 len;
	unsigned	 bit;
} params[P__MAX] = {
	[P_METHOD] = { "REQUEST_METHOD=", 15, 0 },
	[P_URI] = { "REQUEST_URI=", 12, 0 },
	[P_CONTENT_TYPE] = { "CONTENT_TYPE=", 13, 0 },
	[P_CONTENT_LENGTH] = { "CONTENT_LENGTH=", 15, 0 },
	[P_ACCEPT] = { "HTTP_ACCEPT=", 12, 0 },
	[P_AUTHORIZATION] = { "HTTP_AUTHORIZATION=", 19, 0 },
	[P_COOKIE] = { "HTTP_COOKIE=", 12, 0 },
	[P_H_CONTENT_TYPE] = { "HTTP_CONTENT_TYPE=", 18, TWICE_CONTENT_TYPE },
	[P_CONTENT_ENCODING] = { "HTTP_CONTENT_ENCODING=", 22,
	    TWICE_CONTENT_ENCODING },
	[P_IDEMPOTENCY_KEY] = { "HTTP_IDEMPOTENCY_KEY=", 21,
	    TWICE_IDEMPOTENCY_KEY },
	[P_ORIGIN] = { "HTTP_ORIGIN=", 12, TWICE_ORIGIN },
};

/* The group of params[] a parameter may be, as [*lo, *hi); 0 for none. */
static int
param_group(const char *s, int *lo, int *hi)
{
	if (s[0] == 'R') {
		*lo = P_METHOD, *hi = P_URI + 1;
		return 1;
	}
	if (s[0] == 'C') {
		*lo = P_CONTENT_TYPE, *hi = P_CONTENT_LENGTH + 1;
		return 1;
	}
	if (strncmp(s, "HTTP_", 5) != 0)
		return 0;
	switch (s[5]) {
	case 'A':
		*lo = P_ACCEPT, *hi = P_AUTHORIZATION + 1;
		return 1;
	case 'C':
		*lo = P_COOKIE, *hi = P_CONTENT_ENCODING + 1;
		return 1;
	case 'I':
		*lo = P_IDEMPOTENCY_KEY, *hi = P_IDEMPOTENCY_KEY + 1;
		return 1;
	case 'O':
		*lo = P_ORIGIN, *hi = P_ORIGIN + 1;
		return 1;
	default:
		return 0;
	}
}

/*
 * Every parameter of params[] in one pass over the request's (a request
 * has some 35, and this runs for every one): the first of each in val[],
 * as FCGX_GetParam() would find it (NULL: none).  nginx passes each line
 * of a repeated header as a parameter of its own.  Cookie's lines are
 * joined with "; " (in req->cookies).  Of the headers read as one value,
 * returns the TWICE_* bits of those that came more than once; one that
 * joins the lines instead ("a, b") gives the Content-Type line list as
 * HTTP_CONTENT_TYPE and the first line alone as CONTENT_TYPE.
 */
static unsigned
read_params(struct request *req, const char *val[P__MAX])
{
	char		**e;
	const char	 *s;
	unsigned	  twice = 0;
	int		  i, lo, hi;

	for (i = 0; i < P__MAX; i++)
		val[i] = NULL;
	buf_reset(&req->cookies);
	for (e = req->fcgi->envp; e != NULL && *e != NULL; e++) {
		s = *e;
		if (!param_group(s, &lo, &hi))
			continue;
		for (i = lo; i < hi; i++)
			if (strncmp(s, params[i].param, params[i].len) == 0)
				break;
		if (i == hi)
			continue;
		s += params[i].len;
		if (val[i] == NULL) {
			val[i] = s;
			continue;
		}
		twice |= params[i].bit;
		if (i == P_COOKIE) {
			if (req->cookies.len == 0)
				buf_adds(&req->cookies, val[i]);
			buf_printf(&req->cookies, "; %s", s);
		}
	}
	if (req->cookies.len > 0)
		val[P_COOKIE] = req->cookies.data;
	if (val[P_CONTENT_TYPE] != NULL && val[P_H_CONTENT_TYPE] != NULL &&
	    strcmp(val[P_CONTENT_TYPE], val[P_H_CONTENT_TYPE]) != 0)
		twice |= TWICE_CONTENT_TYPE;
	/* An origin is a scheme, host and port, or "null": never a list. */
	if (val[P_ORIGIN] != NULL && strpbrk(val[P_ORIGIN], ", ") != NULL)
		twice |= TWICE_ORIGIN;
	return twice;
}

/* NULL for an empty value: "Origin:" with nothing after it names no
 * origin (CORS treats it as a request without the header, not one from
 * a refused origin), and the same for the others. */
static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

void
http_request_reset(struct request *req, struct FCGX_Request *fcgi)
{
	const char	*uri, *q, *m, *cl, *val[P__MAX];
	size_t		 i;
	long long	 n;

	req->fcgi = fcgi;
	req->twice = read_params(req, val);
	req->method = M_OTHER;
	req->incomplete = 0;
	if ((m = val[P_METHOD]) == NULL || *m == '\0')
		req->incomplete = 1;
	else
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcmp(m, methods[i].name) == 0)
				req->method = methods[i].m;

	/* REQUEST_URI is the raw target; the router decodes per segment. */
	if ((uri = val[P_URI]) == NULL || uri[0] != '/') {
		req->incomplete = 1;
		uri = "/";
	}
	req->path = uri;
	if ((q = strchr(uri, '?')) != NULL) {
		req->path_len = (size_t)(q - uri);
		req->query = q + 1;
	} else {
		req->path_len = strlen(uri);
		req->query = "";
	}
	req->content_type = nonempty(val[P_CONTENT_TYPE]);
	req->content_encoding = nonempty(val[P_CONTENT_ENCODING]);
	req->origin = nonempty(val[P_ORIGIN]);
	req->idempotency_key = val[P_IDEMPOTENCY_KEY];
	req->authorization = val[P_AUTHORIZATION];
	req->api_key = NULL;
	req->accept = val[P_ACCEPT];
	req->cookie = val[P_COOKIE];
	req->content_length = -1;
	cl = val[P_CONTENT_LENGTH];
	if (cl != NULL && *cl != '\0') {
		if (parse_int(cl, strlen(cl), 0, 1LL << 40, &n) == 0)
			req->content_length = n;
		else
			req->content_length = -2;	/* lying: reject */
	}
	req->is_api = 0;
	req->route = -1;
	memset(req->args, 0, sizeof(req->args));
	memset(req->args_len, 0, sizeof(req->args_len));
	buf_reset(&req->body);
}

void
http_response_reset(struct response *resp)
{
	resp->status = 200;
	resp->content_type = "application/json";
	buf_reset(&resp->head);
	buf_reset(&resp->body);
}

/*
 * Reads exactly CONTENT_LENGTH bytes.  Returns 0, or the HTTP status to
 * answer: 413 above max, 400 for a missing, lying or short length.
 */
int
http_read_body(struct request *req, size_t max)
{
	size_t	 want, got = 0;
	int	 n;

	if (req->content_length == -2)
		return 400;
	if ((unsigned long long)req->content_length > max &&
	    req->content_length > 0)
		return 413;
	/* No Content-Length at all: an empty body, which handlers reject. */
	want = req->content_length > 0 ? (size_t)req->content_length : 0;
	buf_reset(&req->body);
	buf_grow(&req->body, want);
	while (got < want) {
		n = FCGX_GetStr(req->body.data + got, (int)(want - got),
		    req->fcgi->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req->body.len = got;
	req->body.data[got] = '\0';
	if (got != want)
		return 400;
	/* Trailing bytes beyond the declared length mean a lying client. */
	if (FCGX_GetChar(req->fcgi->in) != EOF)
		return 400;
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: abort();
	}
}

void
resp_etag(struct request *req, struct response *resp)
{
	const char		*inm = http_param(req, "HTTP_IF_NONE_MATCH");
	unsigned long long	 h = 14695981039346656037ULL;
	char			 etag[24];
	size_t			 i;

	for (i = 0; i < resp->body.len; i++) {
		h ^= (unsigned char)resp->body.data[i];
		h *= 1099511628211ULL;
	}
	snprintf(etag, sizeof(etag), "\"%016llx\"", h);
	resp_header(resp, "ETag", "%s", etag);
	if (inm != NULL && strstr(inm, etag) != NULL) {
		resp->status = 304;
		buf_reset(&resp->body);
	}
}

void
resp_header(struct response *resp, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	buf_adds(&resp->head, name);
	buf_adds(&resp->head, ": ");
	va_start(ap, fmt);
	buf_vprintf(&resp->head, fmt, ap);
	va_end(ap);
	buf_adds(&resp->head, "\r\n");
}

/*
 * Writes straight into libfcgi's output buffer: the status line and the
 * fixed headers are formatted on the stack, so an answer allocates nothing.
 */
void
http_send(struct request *req, struct response *resp)
{
	char	 line[512];
	int	 n;

	if (resp->status != 204 && resp->status != 304)
		n = snprintf(line, sizeof(line), "Status: %d %s\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    resp->status, http_reason(resp->status), resp->content_type,
		    resp->body.len);
	else
		n = snprintf(line, sizeof(line), "Status: %d %s\r\n",
		    resp->status, http_reason(resp->status));
	if (n < 0 || (size_t)n >= sizeof(line))
		abort();	/* content types are short literals */
	FCGX_PutStr(line, n, req->fcgi->out);
	if (resp->head.len > 0)
		FCGX_PutStr(resp->head.data, (int)resp->head.len,
		    req->fcgi->out);
	FCGX_PutStr("\r\n", 2, req->fcgi->out);
	if (req->method != M_HEAD && resp->body.len > 0)
		FCGX_PutStr(resp->body.data, (int)resp->body.len,
		    req->fcgi->out);
}
