/*
 * csrf.h: the forms' CSRF protection, double-submit style with a cookie
 * the server issued.
 *
 * The cookie (the only one the site ever sets: SameSite=Lax, HttpOnly,
 * Path=/, Max-Age = CSRF_MAX_AGE) is named __Host-eventbox_csrf when
 * EVENTBOX_BASE_URL is https (with Secure, as the prefix requires: no
 * subdomain can then plant or overwrite it) and eventbox_csrf over plain
 * http (a development stack; browsers refuse __Host- cookies there).  Its
 * value is "TTTTTTTT.RRRR....MMMM...": the hex issue time, 128 random
 * bits, and an HMAC-SHA256 (first 128 bits) of both under the per-deployment
 * secret (EVENTBOX_SECRET; see config.h).  A cookie a client made up, or
 * one older than CSRF_MAX_AGE, is not accepted.  Each form carries, in a
 * hidden field, HMAC-SHA256(secret, "form" + the cookie's random part) as
 * CSRF_HEX hex digits; a POST passes when the field matches a good cookie
 * sent with it.  No JavaScript is involved.
 *
 * Lax, not Strict: a patron who arrives from a link elsewhere (the
 * consortium's site, webmail) sends the cookie with that page's request,
 * so no new cookie replaces it under the forms open in other tabs; a
 * cross-site POST still sends none.  And a cookie renewed for its last
 * CSRF_RENEW seconds keeps its random part (a new time, a new signature),
 * so the forms served before the renewal still pass.
 *
 * csrf_prepare() reuses the request's cookie while it is good for at least
 * CSRF_RENEW more seconds, renews it (same random part) or issues a new
 * one and adds its Set-Cookie header; either way it writes the field value
 * into field (CSRF_HEX + 1 bytes).  csrf_issue() makes a new cookie value
 * for a given time (tests).
 */
#ifndef EVENTBOX_CSRF_H
#define EVENTBOX_CSRF_H

#include <time.h>

#include "http.h"

#define CSRF_HEX	64		/* the form field */
#define CSRF_VALUE_LEN	(8 + 1 + 32 + 1 + 32)	/* the cookie's value */
#define CSRF_COOKIE	"eventbox_csrf"
#define CSRF_HOST_COOKIE "__Host-" CSRF_COOKIE
#define CSRF_FIELD	"csrf"
#define CSRF_MAX_AGE	(12 * 60 * 60)	/* a form left open half a day */
#define CSRF_RENEW	(2 * 60 * 60)	/* a fresh cookie for the last two hours */

/*
 * A registration form also carries a random attempt id (CSRF_ATTEMPT
 * field, CSRF_ATTEMPT_HEX hex digits, new on every page served), so that
 * the same form sent again (a reload of the answer, which browsers send as
 * the POST again; a double click) is the same request: csrf_attempt_key()
 * makes the form's idempotency key from the whole body, the attempt id
 * included ("form-" and 64 hex digits, CSRF_ATTEMPT_KEY + 1 bytes), and
 * answers 0 when the attempt id is missing or malformed (a form served
 * before it existed: no key).  Another page's form, or the same form with
 * anything changed, is another request.
 */
#define CSRF_ATTEMPT		"attempt"
#define CSRF_ATTEMPT_HEX	32
#define CSRF_ATTEMPT_KEY	(5 + 64)

void	 csrf_prepare(struct request *, struct response *, char *field);
int	 csrf_check(struct request *, const char *field, size_t len);
void	 csrf_issue(time_t issued, char *value);
void	 csrf_attempt(char *out);
int	 csrf_attempt_key(const char *attempt, size_t alen, const char *body,
	    size_t len, char *key);

#endif
