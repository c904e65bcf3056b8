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

/* The parameters of the headers read as one value (http.h). */
static const struct {
	const char	*param;		/* with its '=' */
	size_t		 len;
	unsigned	 bit;
} single_headers[] = {
	{ "HTTP_CONTENT_TYPE=", 18, TWICE_CONTENT_TYPE },
	{ "HTTP_CONTENT_ENCODING=", 22, TWICE_CONTENT_ENCODING },
	{ "HTTP_IDEMPOTENCY_KEY=", 21, TWICE_IDEMPOTENCY_KEY },
	{ "HTTP_ORIGIN=", 12, TWICE_ORIGIN },
};

/* Indexes of single_headers[], for the values headers_twice() finds. */
enum { H_CONTENT_TYPE, H_CONTENT_ENCODING, H_IDEMPOTENCY_KEY, H_ORIGIN,
       H__MAX };

/*
 * nginx passes each line of a repeated header as a parameter of its own,
 * and FCGX_GetParam() finds the first.  One that joins the lines instead
 * ("a, b") gives the Content-Type line list as HTTP_CONTENT_TYPE and the
 * first line alone as CONTENT_TYPE.  Returns the TWICE_* bits, with the
 * first value of each of single_headers[] in first[] and CONTENT_TYPE's in
 * *ct (NULL: none), as FCGX_GetParam() would find them, in the same pass.
 */
static unsigned
headers_twice(struct request *req, const char *first[H__MAX],
    const char **ct)
{
	char		**e;
	const char	 *s;
	unsigned	  seen = 0, twice = 0;
	size_t		  i;

	*ct = NULL;
	for (i = 0; i < H__MAX; i++)
		first[i] = NULL;
	/* Each parameter's first letters looked at before any comparison:
	 * a request has some 35, and this runs for every one. */
	for (e = req->fcgi->envp; e != NULL && *e != NULL; e++) {
		s = *e;
		if (s[0] == 'C') {
			if (*ct == NULL && strncmp(s, "CONTENT_TYPE=", 13) == 0)
				*ct = s + 13;
			continue;
		}
		if (strncmp(s, "HTTP_", 5) != 0 ||
		    (s[5] != 'C' && s[5] != 'I' && s[5] != 'O'))
			continue;
		for (i = 0; i < H__MAX; i++)
			if (strncmp(s, single_headers[i].param,
			    single_headers[i].len) == 0) {
				if (first[i] == NULL)
					first[i] = s + single_headers[i].len;
				twice |= seen & single_headers[i].bit;
				seen |= single_headers[i].bit;
			}
	}
	if (*ct != NULL && first[H_CONTENT_TYPE] != NULL &&
	    strcmp(*ct, first[H_CONTENT_TYPE]) != 0)
		twice |= TWICE_CONTENT_TYPE;
	/* An origin is a scheme, host and port, or "null": never a list. */
	if (first[H_ORIGIN] != NULL && strpbrk(first[H_ORIGIN], ", ") != NULL)
		twice |= TWICE_ORIGIN;
	return twice;
}

void
http_request_reset(struct request *req, struct FCGX_Request *fcgi)
{
	const char	*uri, *q, *m, *cl, *first[H__MAX];
	size_t		 i;
	long long	 n;

	req->fcgi = fcgi;
	req->method = M_OTHER;
	req->incomplete = 0;
	if ((m = http_param(req, "REQUEST_METHOD")) == NULL || *m == '\0')
		req->incomplete = 1;
	else
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcmp(m, methods[i].name) == 0)
				req->method = methods[i].m;

	/* REQUEST_URI is the raw target; the router decodes per segment. */
	if ((uri = http_param(req, "REQUEST_URI")) == NULL || uri[0] != '/') {
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
	req->twice = headers_twice(req, first, &req->content_type);
	if (req->content_type != NULL && *req->content_type == '\0')
		req->content_type = NULL;
	req->content_encoding = first[H_CONTENT_ENCODING];
	if (req->content_encoding != NULL && *req->content_encoding == '\0')
		req->content_encoding = NULL;
	/* "Origin:" with nothing after it names no origin: CORS treats it
	 * as a request without the header, not one from a refused origin. */
	req->origin = first[H_ORIGIN];
	if (req->origin != NULL && *req->origin == '\0')
		req->origin = NULL;
	req->idempotency_key = first[H_IDEMPOTENCY_KEY];
	req->authorization = http_param(req, "HTTP_AUTHORIZATION");
	req->api_key = NULL;
	req->accept = http_param(req, "HTTP_ACCEPT");
	buf_reset(&req->cookies);
	req->cookie = http_param_list(req, "HTTP_COOKIE", "; ", &req->cookies);
	req->content_length = -1;
	cl = http_param(req, "CONTENT_LENGTH");
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
