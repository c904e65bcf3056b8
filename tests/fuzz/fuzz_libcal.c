/*
 * fuzz_libcal: the LibCal API's own parsing (libcal.h): the query of
 * GET /1.1/events (cal_id, days, limit, date, category) and the
 * {id[,id...]} list of GET /1.1/events/{ids}.  Input: the query string up
 * to the first newline; the whole input is also tried as an id list.
 *
 * Properties, besides no crash and no leak:
 *   id list: accepted exactly when the input is 1..50 comma-separated
 *     pieces of 1..18 digits, none all zeros; the result is "{...}" with
 *     as many ids, each plain decimal without leading zeros; converting
 *     its inside again gives the same; a destination too small fails
 *     cleanly and never writes past its size.
 *   query: days and limit within their ranges, the offset a multiple of
 *     the limit, the date empty or a valid YYYY-MM-DD, the categories
 *     empty or an id-list result; on refusal a message naming the
 *     parameter, or saying a name in the query is not one.
 *   credentials (the rest after the first newline, as the body of a token
 *   request in each media type): every field NUL-terminated within its
 *   size, and when taken, empty or one line of text (what reaches the
 *   database is valid UTF-8); a media type other than the three always
 *   refused.  The same
 *   rest behind "Basic " as an Authorization header: taken (both fields
 *   text, neither empty) or refused (both emptied), never another
 *   scheme.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libcal.h"
#include "validate.h"

/* The contract, counted the plain way. */
static int
plausible_ids(const char *s, size_t len, size_t *count)
{
	size_t	 i, run = 0, nonzero = 0;

	*count = 1;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (run == 0 || run > 18 || !nonzero)
				return 0;
			if (i < len)
				++*count;
			run = nonzero = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return 0;
		run++;
		nonzero |= s[i] != '0';
	}
	return *count <= LIBCAL_IDS_MAX;
}

static void
check_list_shape(const char *d, size_t count)
{
	size_t	 i, len = strlen(d), ids = 1;

	FUZZ_CHECK(len >= 3 && d[0] == '{' && d[len - 1] == '}');
	for (i = 1; i < len - 1; i++) {
		if (d[i] == ',') {
			ids++;
			FUZZ_CHECK(d[i + 1] >= '1' && d[i + 1] <= '9');
		} else
			FUZZ_CHECK(d[i] >= '0' && d[i] <= '9');
	}
	FUZZ_CHECK(d[1] >= '1' && d[1] <= '9');
	FUZZ_CHECK(ids == count);
}

static void
check_ids(const char *s, size_t len)
{
	char	 dst[LIBCAL_IDS_SZ], again[LIBCAL_IDS_SZ], small[16];
	size_t	 count, i;
	int	 ok;

	ok = plausible_ids(s, len, &count);
	FUZZ_CHECK((libcal_id_list(s, len, dst, sizeof(dst)) == 0) == ok);
	if (!ok)
		return;
	check_list_shape(dst, count);
	FUZZ_CHECK(libcal_id_list(dst + 1, strlen(dst) - 2, again,
	    sizeof(again)) == 0);
	FUZZ_CHECK(strcmp(dst, again) == 0);

	memset(small, 0x5a, sizeof(small));
	for (i = 0; i < sizeof(small); i++)
		if (libcal_id_list(s, len, small, i) == 0) {
			FUZZ_CHECK(strlen(small) < i);
			FUZZ_CHECK(strcmp(small, dst) == 0);
		}
	FUZZ_CHECK(strlen(dst) + 1 > sizeof(small) ||
	    libcal_id_list(s, len, small, strlen(dst) + 1) == 0);
}

static void
check_basic(const char *data, size_t size)
{
	struct libcal_credentials	 c;
	char				*header;
	size_t				 idlen, secretlen;
	int				 rc;

	if ((header = malloc(size + 7)) == NULL)
		return;
	memcpy(header, "Basic ", 6);
	memcpy(header + 6, data, size);
	header[size + 6] = '\0';
	rc = libcal_basic(header, &c);
	idlen = strlen(c.client_id);
	secretlen = strlen(c.client_secret);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(idlen < sizeof(c.client_id));
	FUZZ_CHECK(secretlen < sizeof(c.client_secret));
	if (rc == 0)
		FUZZ_CHECK(text_valid(c.client_id, idlen, idlen) &&
		    text_valid(c.client_secret, secretlen, secretlen));
	else
		FUZZ_CHECK(idlen == 0 && secretlen == 0);
	free(header);
}

static int
text_or_empty(const char *s)
{
	size_t	 n = strlen(s);

	return n == 0 || text_valid(s, n, n);
}

/* What an error_description may hold (RFC 6749 5.2). */
static int
description_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static void
check_credentials(const char *data, size_t size)
{
	static const char *const types[] = { "application/json",
	    "application/x-www-form-urlencoded",
	    "multipart/form-data; boundary=XyZ", "text/plain" };
	struct libcal_credentials	 c;
	char				*body;
	size_t				 i;
	int				 rc;

	if ((body = malloc(size + 1)) == NULL)
		return;
	memcpy(body, data, size);
	body[size] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		rc = libcal_credentials(types[i], body, size, &c);
		FUZZ_CHECK(strlen(c.grant_type) < sizeof(c.grant_type));
		FUZZ_CHECK(strlen(c.client_id) < sizeof(c.client_id));
		FUZZ_CHECK(strlen(c.client_secret) < sizeof(c.client_secret));
		FUZZ_CHECK(i < 3 || rc == -1);
		if (rc == 0)
			FUZZ_CHECK(text_or_empty(c.grant_type) &&
			    text_or_empty(c.client_id) &&
			    text_or_empty(c.client_secret));
		FUZZ_CHECK(rc == -1 || c.why[0] == '\0');
		FUZZ_CHECK(description_ok(c.why));
	}
	free(body);
	check_basic(data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct libcal_query	 q;
	const char		*nl;
	char			*query, msg[80];
	size_t			 qlen, count;

	check_ids((const char *)data, size);

	nl = memchr(data, '\n', size);
	qlen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	if ((query = malloc(qlen + 1)) == NULL)
		return 0;
	memcpy(query, data, qlen);
	query[qlen] = '\0';
	msg[0] = '\0';
	if (libcal_query_parse(query, &q, msg, sizeof(msg)) == 0) {
		FUZZ_CHECK(q.days >= 0 && q.days <= LIBCAL_DAYS_MAX);
		FUZZ_CHECK(q.offset >= 0 && q.offset % q.limit == 0);
		FUZZ_CHECK(q.limit >= 1 && q.limit <= LIBCAL_LIMIT_MAX);
		FUZZ_CHECK(q.date[0] == '\0' ||
		    date_valid(q.date, strlen(q.date)));
		if (q.cats[0] != '\0') {
			FUZZ_CHECK(plausible_ids(q.cats + 1,
			    strlen(q.cats) - 2, &count));
			check_list_shape(q.cats, count);
		}
	} else
		FUZZ_CHECK(strncmp(msg, "cal_id:", 7) == 0 ||
		    strncmp(msg, "days:", 5) == 0 ||
		    strncmp(msg, "limit:", 6) == 0 ||
		    strncmp(msg, "date:", 5) == 0 ||
		    strncmp(msg, "category:", 9) == 0 ||
		    strncmp(msg, "page:", 5) == 0 ||
		    strncmp(msg, "search:", 7) == 0 ||
		    strncmp(msg, "a parameter name in the query ", 30) == 0);
	free(query);
	if (nl != NULL)
		check_credentials(nl + 1, size - qlen - 1);
	return 0;
}
