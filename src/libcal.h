/*
 * libcal.h: the pure part of the LibCal-compatible API (api_libcal.c): its
 * query and id-list parsing, apart from the database so that unit tests
 * and fuzz_libcal can drive it.  Nothing here allocates.
 */
#ifndef EVENTBOX_LIBCAL_H
#define EVENTBOX_LIBCAL_H

#include <stddef.h>

#define LIBCAL_IDS_MAX		50	/* ids in one list */
#define LIBCAL_IDS_SZ		(LIBCAL_IDS_MAX * 20 + 3)	/* "{...}" */
#define LIBCAL_DAYS_DEFAULT	30
#define LIBCAL_DAYS_MAX		365	/* larger values are capped */
#define LIBCAL_LIMIT_DEFAULT	20
#define LIBCAL_LIMIT_MAX	500	/* larger values are capped */
#define LIBCAL_CAL_ID_MAX	999999999LL	/* accepted, and ignored */
#define LIBCAL_NUM_MAX		999999999LL	/* days, limit: accepted */
#define LIBCAL_SEARCH_MAX	200
#define LIBCAL_SECRET_MAX	200

/* GET /1.1/events's (and event_search's) parameters, checked. */
struct libcal_query {
	char		 date[11];	/* YYYY-MM-DD, "" for today (in each
					 * event's zone) */
	char		 cats[LIBCAL_IDS_SZ];	/* "{1,2}", "" for any */
	char		 search[LIBCAL_SEARCH_MAX * 4 + 1];	/* "" for any */
	long long	 days;		/* days after date: 0..LIBCAL_DAYS_MAX */
	long long	 limit;		/* 1..LIBCAL_LIMIT_MAX */
	long long	 offset;	/* (page - 1) * limit */
};

/*
 * The longest Basic credentials taken, decoded: a client_id and a secret
 * that fit struct libcal_credentials, each wholly percent-encoded, and the
 * colon between them.  Longer is refused, before any decoding.
 */
#define LIBCAL_BASIC_MAX	((31 + LIBCAL_SECRET_MAX) * 3 + 1)

/* What POST /1.1/oauth/token was sent, each "" when absent. */
struct libcal_credentials {
	char		 grant_type[32];
	char		 client_id[32];
	char		 client_secret[LIBCAL_SECRET_MAX + 1];
	/* What libcal_credentials() found wrong when it returns -1, as an
	 * error_description (RFC 6749 5.2: printable ASCII, no '"' or
	 * '\\'), "" when it has no words of its own. */
	char		 why[120];
};

/*
 * "1,2,3" (1..LIBCAL_IDS_MAX positive ids, len bytes, no NUL needed) to the
 * PostgreSQL array literal "{1,2,3}" in dst.  Returns 0, -1 when malformed
 * or when it does not fit dstsz, or LIBCAL_IDS_TOO_MANY when the first
 * LIBCAL_IDS_MAX ids are well formed and more follow.
 */
#define LIBCAL_IDS_TOO_MANY	(-2)
int	 libcal_id_list(const char *, size_t len, char *dst, size_t dstsz);

/*
 * cal_id, days, limit, page, date, category and search from a raw query
 * string (cal_id checked and ignored, days and limit capped; campus,
 * audience and any other key ignored).  Returns 0, or -1 with the client's message for the
 * 400 in msg.
 */
int	 libcal_query_parse(const char *query, struct libcal_query *,
	    char *msg, size_t msgsz);

/*
 * grant_type, client_id and client_secret from a token request's body of
 * media type ctype: application/json, application/x-www-form-urlencoded
 * or multipart/form-data (body NUL-terminated at len).  Other keys are
 * ignored; a value too long for its field counts as absent.  Returns 0
 * (each field "" or one line of text, as text_valid() says), or -1 when
 * the body is not of that type, is malformed or gives a value that is not
 * text (invalid UTF-8, a control character), with c->why saying what.
 * JSON is read by json_read_object(), as every JSON route reads its body:
 * a byte order mark passed over, a NUL (raw or escaped), a name given
 * twice in one object (RFC 6749 3.2: a parameter at most once), a number
 * too large or not exactly the whole number a double makes of it, and
 * anything but JSON (trailing text, what only a lenient parser reads)
 * refused.
 */
int	 libcal_credentials(const char *ctype, const char *body, size_t len,
	    struct libcal_credentials *);

/*
 * client_id and client_secret from an Authorization header of the Basic
 * scheme (RFC 6749 2.3.1, RFC 7617): base64 of the two, each
 * form-urlencoded, joined by a colon.  Only those two fields of c are
 * written.  Returns 1 when the header is absent or of another scheme (c
 * untouched), 0 when both were taken, -1 when it is malformed: bad base64,
 * no colon, a part empty, badly encoded, not text, or too long.
 */
int	 libcal_basic(const char *authorization, struct libcal_credentials *);

#endif
