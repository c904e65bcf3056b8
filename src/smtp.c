/*
 * smtp.c: SMTP submission with libcurl (see smtp.h).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "smtp.h"
#include "validate.h"

static CURL		*curl;
static char		 url[1024];
static int		 starttls;
static const char	*ca_file;	/* empty: the system's CA store */

/* How far the dialogue of the message in flight got: the last command
 * libcurl sent (debug_cb()), or the whole text handed over (read_cb()).
 * A refusal answers the recipient only once RCPT TO was sent; until then
 * it is the relay's, whatever the message.  No answer once the text went
 * is the message's: the relay may have kept it (smtp_send()). */
static enum { SENT_NOTHING, SENT_RCPT, SENT_TEXT } sent;

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload	*u = arg;
	size_t		 n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	if (u->left == 0)
		sent = SENT_TEXT;	/* libcurl's now, and the "." after it */
	return n;
}

/* libcurl shows this each command it sends (CURLOPT_VERBOSE, with no
 * other output); only RCPT TO and DATA are looked at. */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	(void)h;
	(void)arg;
	if (type == CURLINFO_HEADER_OUT &&
	    ((size >= 4 && strncmp(data, "RCPT", 4) == 0) ||
	    (size >= 4 && strncmp(data, "DATA", 4) == 0)))
		sent = SENT_RCPT;
	return 0;
}

/* Whether host (as libcurl's parser gives it) is this machine: a user and
 * password sent to it unencrypted cross no network. */
static int
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    (strncmp(host, "127.", 4) == 0 &&
	    host[4 + strspn(host + 4, "0123456789.")] == '\0');
}

/* NULL, or what is wrong with the host and port of `s`, as read by
 * libcurl's own parser, the one every smtp_send() goes through; and with
 * a user or password in a plain smtp:// URL (`clear`: no "?starttls"), a
 * host other than this machine's, which would have libcurl send them
 * unencrypted: AUTH follows EHLO over whatever connection there is. */
static const char *
url_error(const char *s, int clear)
{
	CURLU		*u;
	CURLUcode	 rc;
	char		*port = NULL, *host = NULL, *user = NULL, *pass = NULL;
	const char	*errstr = NULL, *bad_port;
	long long	 n;

	bad_port = "the port must be a number from 1 to 65535";
	if ((u = curl_url()) == NULL)
		return "out of memory";
	if ((rc = curl_url_set(u, CURLUPART_URL, s, 0)) != CURLUE_OK)
		errstr = rc == CURLUE_NO_HOST ? "a host is required" :
		    rc == CURLUE_BAD_PORT_NUMBER ? bad_port :
		    curl_url_strerror(rc);
	else if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    parse_int(port, strlen(port), 1, 65535, &n) == -1)
		errstr = bad_port;
	else if (clear && strncmp(s, "smtp://", 7) == 0 &&
	    (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    !loopback(host))
		errstr = "a user and password in smtp:// would cross the "
		    "network unencrypted: add /?starttls (the submission port, "
		    "587) or use smtps:// (465)";
	curl_free(port);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return errstr;
}

int
smtp_open(const char *s, const char *ca, const char **errstr)
{
	char	*q;

	*errstr = "expected smtp://host[:port][/?starttls] or "
	    "smtps://host[:port]";
	if ((strncmp(s, "smtp://", 7) != 0 && strncmp(s, "smtps://", 8) != 0) ||
	    strlen(s) >= sizeof(url))
		return -1;
	memcpy(url, s, strlen(s) + 1);
	starttls = 0;
	if ((q = strchr(url, '?')) != NULL) {
		if (strcmp(q, "?starttls") != 0)
			return -1;
		starttls = 1;
		*q = '\0';
	}
	if ((*errstr = url_error(url, !starttls)) != NULL)
		return -1;
	ca_file = ca;
	*errstr = "libcurl: cannot start";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (curl = curl_easy_init()) == NULL)
		return -1;
	*errstr = NULL;
	return 0;
}

void
smtp_close(void)
{
	if (curl == NULL)
		return;
	curl_easy_cleanup(curl);
	curl = NULL;
	curl_global_cleanup();
}

enum smtp_result
smtp_send(const char *from, const char *rcpt, const char *msg, size_t len,
    char *err, size_t errsz)
{
	struct curl_slist	*rcpts = NULL;
	struct upload		 up = { msg, len };
	char			 envfrom[300];
	long			 code = 0;
	CURLcode		 rc;

	snprintf(envfrom, sizeof(envfrom), "<%s>", from);
	rcpts = curl_slist_append(NULL, rcpt);
	if (rcpts == NULL) {
		snprintf(err, errsz, "out of memory");
		return SMTP_TEMPORARY;
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_USE_SSL,
	    (long)(starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
	if (*ca_file != '\0')
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envfrom);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE, (long)len);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	sent = SENT_NOTHING;
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpts);

	if (rc == CURLE_OK)
		return SMTP_SENT;
	/* The whole text went and no answer came (a connection lost, a
	 * timeout): the relay may have kept it and dropped the line before
	 * its 250 (RFC 1047).  Tried again with the same Message-ID, but as
	 * a try of the message's, not the relay's pause: a relay that does
	 * that every time sends it EVENTBOX_MAIL_MAX_TRIES times, not
	 * forever. */
	if (sent == SENT_TEXT && (code < 400 || code >= 600)) {
		snprintf(err, errsz, "no answer after the message, which may "
		    "have arrived (%s)", curl_easy_strerror(rc));
		return SMTP_TEMPORARY;
	}
	if (code >= 400 && code < 600)
		snprintf(err, errsz, "smtp %ld", code);
	else
		snprintf(err, errsz, "%s", curl_easy_strerror(rc));
	/* No answer (no connection, a timeout, a connection lost), a 421
	 * (closing), or a refusal of the greeting, EHLO, STARTTLS, AUTH or
	 * MAIL FROM: the relay takes no mail, this one or any other. */
	if (code < 400 || code >= 600 || code == 421 || sent == SENT_NOTHING)
		return SMTP_RELAY;
	return code >= 500 ? SMTP_PERMANENT : SMTP_TEMPORARY;
}
