/*
 * csrf.h: the forms' CSRF protection, double-submit style.  The browser
 * holds a random value in the cookie eventbox_csrf (the only cookie the
 * site ever sets: SameSite=Strict, HttpOnly, Path=/, Secure when
 * EVENTBOX_BASE_URL is https); each form carries, in a hidden field,
 * HMAC-SHA256(secret, cookie value).  A POST passes when the field matches
 * the cookie it came with: a page on another site can neither read the
 * cookie nor compute the HMAC without the per-deployment secret
 * (EVENTBOX_SECRET; see config.h).
 *
 * csrf_prepare() reuses the request's cookie when it is well-formed, or
 * makes a new one and adds its Set-Cookie header; either way it writes the
 * field value into field (CSRF_HEX + 1 bytes).
 */
#ifndef EVENTBOX_CSRF_H
#define EVENTBOX_CSRF_H

#include "http.h"

#define CSRF_HEX	64
#define CSRF_COOKIE	"eventbox_csrf"
#define CSRF_FIELD	"csrf"

void	 csrf_prepare(struct request *, struct response *, char *field);
int	 csrf_check(struct request *, const char *field, size_t len);

#endif
