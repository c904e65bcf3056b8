/*
 * webhook.c: delivering webhooks (see webhook.h), for `eventbox mailer`.
 *
 * The delivery's row stays locked (FOR UPDATE SKIP LOCKED in
 * webhook_claim()) until it is marked, so two mailers never send one
 * delivery, and a later delivery of the same registration is not claimed
 * while this one is pending: order per registration holds whatever the
 * number of mailers.  The mark (delivered or failed) is taken from a
 * savepoint: one that gives up at the lock or statement timeout, or that
 * the database has no room for (a full disk, 53100), is rolled back to it
 * and run again, the row still locked, as a message's is
 * (mailer_mark_again(), mailer.h); given up, the delivery stayed due and
 * went to the receiver again at every claim, twice a second, for as long
 * as the disk was full.  A mailer that dies (or is stopped, or loses its
 * session) after the receiver's 2xx and before its COMMIT leaves that
 * delivery to be sent again: at least once, and receivers deduplicate on
 * webhook-id.
 *
 * Only the scheme https is allowed (CURLOPT_PROTOCOLS_STR), redirects are
 * not followed (a 3xx is a failure), and the receiver's answer is judged
 * by its status once its headers are in: its body is read and dropped, but
 * a body over ANSWER_MAX bytes, or still coming ANSWER_WAIT_MS after the
 * headers, is cut short, the status standing (a 200 whose body never ended
 * was read until the timeout, counted as no answer, and sent again).
 * EVENTBOX_WEBHOOK_CA names a CA bundle to trust instead of the system's
 * (a receiver with a private CA).  The log names the outbox row
 * and the webhook's id, never its URL, secret or body.
 *
 * The mailer connects only to public addresses unless
 * EVENTBOX_WEBHOOK_ALLOW_PRIVATE=1: a staff key must not make it a probe of
 * the machine's own ports, the consortium's network or a cloud's metadata
 * service.  The address is checked as each connection is opened (after
 * name resolution, so a name that resolves to 127.0.0.1 is refused too).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mailer.h"
#include "signals.h"
#include "webhook.h"

#define SECRET_PREFIX	"whsec_"

/* How long a delivery in flight may still take once a stop is asked.  A
 * receiver answers in milliseconds; EVENTBOX_WEBHOOK_TIMEOUT_MS may be a
 * minute, more than the mailer unit's TimeoutStopSec leaves a stop after
 * a claim: past this the delivery is given up unmarked, still due, and
 * goes out at the next start (at least once: receivers deduplicate). */
#define STOP_GRACE_MS	2000

/* How much of the body of a receiver's answer is read, and for how long
 * after its headers: nothing in it counts, only the status does. */
#define ANSWER_MAX	65536
#define ANSWER_WAIT_MS	1000

/* A delivery that takes this long is slow: its webhook yields to the
 * others (yield_note()).  A receiver answers in milliseconds; the
 * webhooks' turn (mailer.c) is a second. */
#define SLOW_MS		250
#define YIELD_MAX	32

enum { POST_OK, POST_REFUSED, POST_UNREACHABLE, POST_STOPPED };

static CURL	*curl;

/* The webhooks whose last delivery here was slow or failed, the longest
 * ago first: webhook_claim() gives every other webhook's due deliveries
 * first, then theirs in this order, so that one receiver's backlog does
 * not go ahead of all the others' (each mailer keeps its own list; past
 * YIELD_MAX the longest ago drops out, and is served in age order again). */
static long long	 yielding[YIELD_MAX];
static size_t		 nyielding;

int
webhook_open(const char **errstr)
{
	if ((*errstr = config_ca_error("EVENTBOX_WEBHOOK_CA",
	    cfg.webhook_ca)) != NULL)
		return -1;
	*errstr = "libcurl: cannot start";
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (curl = curl_easy_init()) == NULL)
		return -1;
	*errstr = NULL;
	return 0;
}

void
webhook_close(void)
{
	if (curl == NULL)
		return;
	curl_easy_cleanup(curl);
	curl = NULL;
	curl_global_cleanup();
}

int
webhook_sign(const char *secret, const char *id, const char *timestamp,
    const char *body, size_t len, char sig[WEBHOOK_SIG_LEN])
{
	unsigned char	 key[64], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	const char	*b64;
	size_t		 n, pad = 0;
	int		 keylen, rc = -1;
	struct buf	 msg = BUF_INIT;

	if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0)
		return -1;
	b64 = secret + strlen(SECRET_PREFIX);
	n = strlen(b64);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(key))
		return -1;
	while (pad < 2 && b64[n - 1 - pad] == '=')
		pad++;
	if ((keylen = EVP_DecodeBlock(key, (const unsigned char *)b64,
	    (int)n)) < 0 || (size_t)keylen < pad + 1)
		return -1;
	keylen -= (int)pad;		/* EVP_DecodeBlock counts the padding */
	buf_printf(&msg, "%s.%s.", id, timestamp);
	buf_add(&msg, body, len);
	if (HMAC(EVP_sha256(), key, keylen, (const unsigned char *)msg.data,
	    msg.len, mac, &maclen) != NULL && maclen == 32) {
		EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
		rc = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	buf_free(&msg);
	return rc;
}

/* A network by its first 32 bits: all of IPv4, the top of IPv6. */
struct prefix {
	uint32_t	net;
	unsigned	bits;
};

/* IPv4 networks no receiver is on (RFC 6890's table). */
static const struct prefix v4_internal[] = {
	{ 0x00000000, 8 },	/* "this network" */
	{ 0x0a000000, 8 },	/* private */
	{ 0x64400000, 10 },	/* shared (carrier-grade NAT) */
	{ 0x7f000000, 8 },	/* loopback */
	{ 0xa9fe0000, 16 },	/* link-local: cloud metadata services */
	{ 0xac100000, 12 },	/* private */
	{ 0xc0000000, 24 },	/* IETF protocol assignments */
	{ 0xc0000200, 24 },	/* documentation */
	{ 0xc0586300, 24 },	/* 6to4 relay anycast (deprecated) */
	{ 0xc0a80000, 16 },	/* private */
	{ 0xc6120000, 15 },	/* benchmarking */
	{ 0xc6336400, 24 },	/* documentation */
	{ 0xcb007100, 24 },	/* documentation */
	{ 0xe0000000, 4 },	/* multicast */
	{ 0xf0000000, 4 },	/* reserved, broadcast */
};

/* IPv6 networks no receiver is on inside global unicast, 2000::/3
 * (IANA's special-purpose registry). */
static const struct prefix v6_internal[] = {
	{ 0x20010000, 23 },	/* IETF: Teredo, benchmarking, ORCHID, anycast */
	{ 0x20010db8, 32 },	/* documentation */
	{ 0x3fff0000, 20 },	/* documentation */
};

/* 1 when the address starting at b is in none of the n networks. */
static int
outside(const unsigned char b[4], const struct prefix *p, size_t n)
{
	uint32_t	 a;
	size_t		 i;

	a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	for (i = 0; i < n; i++)
		if (a >> (32 - p[i].bits) == p[i].net >> (32 - p[i].bits))
			return 0;
	return 1;
}

static int
v4_public(const unsigned char b[4])
{
	return outside(b, v4_internal,
	    sizeof(v4_internal) / sizeof(v4_internal[0]));
}

/*
 * 1 when a webhook may connect to the address by default.  An IPv4
 * address carried inside IPv6 (mapped, the well-known NAT64 prefix, 6to4)
 * is judged as that IPv4 address; everything else outside 2000::/3 is
 * refused, so the local-use NAT64 prefix 64:ff9b:1::/48 (where the IPv4
 * address sits depends on the gateway's prefix length), the SIIT and
 * IPv4-compatible forms, unique local, link-local, multicast and the
 * unassigned space never reach a gateway that would translate them.
 */
int
webhook_address_public(const struct sockaddr *sa)
{
	static const unsigned char	 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char	 nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	struct sockaddr_in		 in;
	struct sockaddr_in6		 in6;
	const unsigned char		*b;

	if (sa->sa_family == AF_INET) {
		memcpy(&in, sa, sizeof(in));
		return v4_public((const unsigned char *)&in.sin_addr);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	memcpy(&in6, sa, sizeof(in6));
	b = in6.sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_public(b + 12);
	if (b[0] == 0x20 && b[1] == 0x02)		/* 6to4 */
		return v4_public(b + 2);
	if ((b[0] & 0xe0) != 0x20)		/* not global unicast */
		return 0;
	return outside(b, v6_internal,
	    sizeof(v6_internal) / sizeof(v6_internal[0]));
}

/* The address a connection was refused, for the delivery's last_error. */
struct guard {
	char	 refused[INET6_ADDRSTRLEN];
};

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct guard	*g = arg;
	const void	*ip;

	(void)purpose;
	if (!cfg.webhook_allow_private && !webhook_address_public(&a->addr)) {
		ip = a->family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr :
		    (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
		if (inet_ntop(a->family, ip, g->refused,
		    sizeof(g->refused)) == NULL)
			snprintf(g->refused, sizeof(g->refused), "an address");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* A transfer in flight: when the stop was first seen, and the status
 * of the receiver's answer once its headers are in, when, and how much of
 * its body came (tv_sec 0, code 0: not yet). */
struct flight {
	struct timespec	 stop_seen;
	struct timespec	 answered_at;
	long		 code;
	size_t		 body;
};

static long
ms_since(const struct timespec *t, const struct timespec *now)
{
	return (now->tv_sec - t->tv_sec) * 1000 +
	    (now->tv_nsec - t->tv_nsec) / 1000000;
}

/* libcurl's progress callback (at least once a second, idle or not):
 * nonzero ends the transfer STOP_GRACE_MS after a stop was asked, or
 * ANSWER_WAIT_MS after the answer's headers. */
static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct flight	*f = arg;
	struct timespec	 now;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (f->code != 0 && ms_since(&f->answered_at, &now) >= ANSWER_WAIT_MS)
		return 1;
	if (!signals_stop_pending())
		return 0;
	if (f->stop_seen.tv_sec == 0) {
		f->stop_seen = now;
		return 0;
	}
	return ms_since(&f->stop_seen, &now) >= STOP_GRACE_MS;
}

/* Each header line: the empty one ends a block, and a block of a final
 * status (not 1xx) is the answer. */
static size_t
header_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct flight	*f = arg;
	long		 code = 0;

	if (n * size <= 2 && (ptr[0] == '\r' || ptr[0] == '\n') &&
	    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code >= 200) {
		f->code = code;
		clock_gettime(CLOCK_MONOTONIC, &f->answered_at);
	}
	return size * n;
}

/* The answer's body, dropped; past ANSWER_MAX bytes the transfer ends. */
static size_t
drop_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct flight	*f = arg;

	(void)ptr;
	if ((f->body += size * n) > ANSWER_MAX)
		return 0;
	return size * n;
}

/* A header line; on out of memory it is left out and the receiver
 * refuses the delivery, which is retried. */
static void __attribute__((format(printf, 2, 3)))
add_header(struct curl_slist **h, const char *fmt, ...)
{
	char			 line[160];
	struct curl_slist	*t;
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((t = curl_slist_append(*h, line)) != NULL)
		*h = t;
}

/* POSTs body: 0 on a 2xx; else a short reason in err and POST_REFUSED
 * (the receiver answered otherwise) or POST_UNREACHABLE (no answer). */
static int
post(const char *url, const char *id, const char *body, const char *secret,
    char *err, size_t errsz)
{
	struct curl_slist	*h = NULL;
	struct guard		 g = { "" };
	struct flight		 f = { { 0, 0 }, { 0, 0 }, 0, 0 };
	char			 ts[24], sig[WEBHOOK_SIG_LEN];
	long			 code = 0;
	CURLcode		 rc;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (webhook_sign(secret, id, ts, body, strlen(body), sig) == -1) {
		snprintf(err, errsz, "malformed secret");
		return POST_REFUSED;
	}
	add_header(&h, "Content-Type: application/json");
	add_header(&h, "User-Agent: eventbox-webhooks");
	add_header(&h, "Expect:");		/* no 100-continue round trip */
	add_header(&h, "webhook-id: %s", id);
	add_header(&h, "webhook-timestamp: %s", ts);
	add_header(&h, "webhook-signature: v1,%s", sig);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, drop_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &f);
	/* a proxy's answer to CONNECT (https_proxy) is not the receiver's */
	curl_easy_setopt(curl, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)cfg.webhook_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &g);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &f);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	if (*cfg.webhook_ca != '\0')
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg.webhook_ca);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	if (f.code != 0) {		/* answered: the body, cut or not, aside */
		rc = CURLE_OK;
		code = f.code;
	}
	if (rc == CURLE_OK && code >= 200 && code < 300)
		return POST_OK;
	if (rc == CURLE_OK) {
		snprintf(err, errsz, "http %ld", code);
		return POST_REFUSED;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return POST_STOPPED;
	if (*g.refused != '\0' && rc == CURLE_COULDNT_CONNECT)
		snprintf(err, errsz, "not sent to %s: not a public address "
		    "(EVENTBOX_WEBHOOK_ALLOW_PRIVATE)", g.refused);
	else
		snprintf(err, errsz, "%s", curl_easy_strerror(rc));
	return POST_UNREACHABLE;
}

/* Webhook id's place among the yielding: it leaves, and goes to the end
 * when its delivery was slow or failed. */
static void
yield_note(long long id, int yields)
{
	size_t	 i;

	for (i = 0; i < nyielding && yielding[i] != id; i++)
		;
	if (i < nyielding) {
		memmove(&yielding[i], &yielding[i + 1],
		    (nyielding - i - 1) * sizeof(yielding[0]));
		nyielding--;
	}
	if (!yields)
		return;
	if (nyielding == YIELD_MAX) {
		memmove(&yielding[0], &yielding[1],
		    (YIELD_MAX - 1) * sizeof(yielding[0]));
		nyielding--;
	}
	yielding[nyielding++] = id;
}

/* The yielding webhooks as an array literal: "{3,1}". */
static void
yield_list(char *out, size_t outsz)
{
	size_t	 i, len;

	len = (size_t)snprintf(out, outsz, "{");
	for (i = 0; i < nyielding && len < outsz; i++)
		len += (size_t)snprintf(out + len, outsz - len, "%s%lld",
		    i > 0 ? "," : "", yielding[i]);
	if (len < outsz)
		snprintf(out + len, outsz - len, "}");
}

int
webhook_send_one(void)
{
	PGresult	*res = NULL, *out[3];
	struct db_step	 steps[3];
	char		 err[128], tries[16], base[16], cap[16], what[48];
	char		 yields[YIELD_MAX * 21 + 3];
	const char	*id, *hook, *status, *params[6];
	struct timespec	 t0, t1;
	size_t		 answered;
	int		 rc = -1, sent, ran, marks = 0;

	yield_list(yields, sizeof(yields));
	if ((rc = db_claim(STMT_WEBHOOK_CLAIM, 1, yields, &res)) != 1)
		return rc;
	rc = -1;
	id = db_value(res, 0, "id");
	hook = db_value(res, 0, "webhook_id");
	params[0] = id;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sent = post(db_value(res, 0, "url"), db_value(res, 0, "msg_id"),
	    db_value(res, 0, "body"), db_value(res, 0, "secret"), err,
	    sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	yield_note(strtoll(hook, NULL, 10),
	    sent != POST_OK || ms_since(&t0, &t1) >= SLOW_MS);
	if (sent == POST_STOPPED) {
		/* Nothing recorded: no attempt counted against the receiver. */
		log_warnx("outbox %s: webhook %s not answered %d s into the "
		    "stop: left pending, sent again at the next start", id,
		    hook, STOP_GRACE_MS / 1000);
		rc = db_run_simple(STMT_ROLLBACK, 0, NULL) == -1 ? -1 : 0;
		goto done;
	}
	if (sent == POST_OK)
		steps[1] = (struct db_step){ STMT_WEBHOOK_DELIVERED, 1,
		    params };
	else {
		snprintf(tries, sizeof(tries), "%d", cfg.webhook_max_tries);
		snprintf(base, sizeof(base), "%d", cfg.webhook_retry_base_ms);
		snprintf(cap, sizeof(cap), "%d", cfg.webhook_max_backoff_ms);
		params[1] = err;
		params[2] = tries;
		params[3] = base;
		params[4] = cap;
		params[5] = sent == POST_UNREACHABLE ? "true" : "false";
		steps[1] = (struct db_step){ STMT_WEBHOOK_FAILED, 6, params };
	}
	steps[2] = (struct db_step){ STMT_COMMIT, 0, NULL };
	snprintf(what, sizeof(what), "webhook %s delivery", hook);
	/* The mark, from a savepoint: one that gave up at a timeout or found
	 * no room is run again, the row still locked, as a message's is. */
	do {
		steps[0] = (struct db_step){ marks == 0 ? STMT_MAIL_SAVEPOINT :
		    STMT_MAIL_UNDO, 0, NULL };
		ran = db_run_steps(steps, 3, out, &answered, 1);
	} while (ran <= -2 && answered == 1 &&
	    mailer_mark_again(id, what, ++marks, ran == -3));
	if (ran != 0) {
		db_close();		/* -2, -3: still open */
		if (sent == POST_OK && answered < 3)
			log_warnx("outbox %s: webhook %s delivery answered 2xx "
			    "but not recorded (its mark did not commit); it "
			    "will be sent again", id, hook);
		goto done;
	}
	if (sent == POST_OK)
		log_info("outbox %s: webhook %s delivered", id, hook);
	else {
		status = db_value(out[1], 0, "status");
		log_warnx("outbox %s: webhook %s not delivered (%s): %s", id,
		    hook, err,
		    strcmp(status, "failed") == 0 ? "gave up, left for staff" :
		    strcmp(status, "sent") == 0 ? "dropped, the webhook was "
		    "disabled meanwhile" : "will retry");
	}
	PQclear(out[0]);
	PQclear(out[1]);
	PQclear(out[2]);
	rc = 1;
done:
	PQclear(res);
	return rc;
}
