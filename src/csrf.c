/*
 * csrf.c: double-submit cookie issued and signed by the server (csrf.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "config.h"
#include "csrf.h"
#include "escape.h"
#include "log.h"

#define TIME_HEX	8
#define RAND_HEX	32
#define SIG_HEX		32

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * HMAC-SHA256 keyed with the secret, set up once per process: HMAC() or a
 * new context per call looks the digest up among the providers and works
 * the key into its pads every time (some 29,000 instructions a call, two
 * calls a page with a form).  Set up again if the secret is another.
 */
static EVP_MAC_CTX *
mac_ctx(void)
{
	static EVP_MAC_CTX	*ctx;
	static unsigned char	 key[sizeof(cfg.secret)];
	static size_t		 keylen;
	EVP_MAC			*hmac;
	OSSL_PARAM		 params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (ctx != NULL && keylen == cfg.secret_len &&
	    memcmp(key, cfg.secret, keylen) == 0) {
		if (!EVP_MAC_init(ctx, NULL, 0, NULL))	/* the same key */
			fatalx("HMAC failed");
		return ctx;
	}
	EVP_MAC_CTX_free(ctx);
	if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(hmac)) == NULL ||
	    !EVP_MAC_init(ctx, (const unsigned char *)cfg.secret,
	    cfg.secret_len, params))
		fatalx("HMAC failed");
	EVP_MAC_free(hmac);
	memcpy(key, cfg.secret, cfg.secret_len);
	keylen = cfg.secret_len;
	return ctx;
}

/*
 * HMAC-SHA256(secret, what NUL msg[0..len)) as hex, cut to outhex digits:
 * the label keeps a cookie's signature from ever serving as a form field.
 */
static void
mac(const char *what, const char *msg, size_t len, char *out, size_t outhex)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	size_t		 mdlen = 0;
	EVP_MAC_CTX	*ctx = mac_ctx();

	if (!EVP_MAC_update(ctx, (const unsigned char *)what,
	    strlen(what) + 1) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)msg, len) ||
	    !EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) || mdlen * 2 < outhex)
		fatalx("HMAC failed");
	hex_encode(out, md, outhex / 2);
}

static const char *
cookie_name(void)
{
	return strncmp(cfg.base_url, "https:", 6) == 0 ? CSRF_HOST_COOKIE :
	    CSRF_COOKIE;
}

/* The cookie value's issue time set to issued and signed again; its
 * random part, already in value, stays. */
static void
stamp(time_t issued, char *value)
{
	char	 t[TIME_HEX + 1];

	snprintf(t, sizeof(t), "%08lx", (unsigned long)issued & 0xffffffffUL);
	memcpy(value, t, TIME_HEX);
	value[TIME_HEX] = '.';
	value[TIME_HEX + 1 + RAND_HEX] = '.';
	mac("cookie", value, TIME_HEX + 1 + RAND_HEX,
	    value + TIME_HEX + 1 + RAND_HEX + 1, SIG_HEX);
	value[CSRF_VALUE_LEN] = '\0';
}

void
csrf_issue(time_t issued, char *value)
{
	unsigned char	 rnd[RAND_HEX / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("getrandom");
	hex_encode(value + TIME_HEX + 1, rnd, sizeof(rnd));
	stamp(issued, value);
}

/* A form's field: the HMAC of the cookie's random part, which a renewed
 * cookie keeps, so the forms open in other tabs still pass. */
static void
form_field(const char *cookie, char *field)
{
	mac("form", cookie + TIME_HEX + 1, RAND_HEX, field, CSRF_HEX);
}

/*
 * The seconds of life the cookie value v has left, or -1 when it is not
 * one this deployment issued or has expired.
 */
static long
cookie_life(const char *v, size_t len)
{
	char		 want[SIG_HEX + 1];
	unsigned long	 issued = 0;
	long		 age;
	size_t		 i;

	if (len != CSRF_VALUE_LEN || v[TIME_HEX] != '.' ||
	    v[TIME_HEX + 1 + RAND_HEX] != '.' || !is_hex(v, TIME_HEX) ||
	    !is_hex(v + TIME_HEX + 1, RAND_HEX) ||
	    !is_hex(v + TIME_HEX + RAND_HEX + 2, SIG_HEX))
		return -1;
	mac("cookie", v, TIME_HEX + 1 + RAND_HEX, want, SIG_HEX);
	if (CRYPTO_memcmp(want, v + TIME_HEX + RAND_HEX + 2, SIG_HEX) != 0)
		return -1;
	for (i = 0; i < TIME_HEX; i++)
		issued = issued * 16 + (unsigned long)(v[i] <= '9' ? v[i] - '0' :
		    v[i] - 'a' + 10);
	age = (long)((unsigned long)time(NULL) & 0xffffffffUL) - (long)issued;
	if (age < -60 || age >= CSRF_MAX_AGE)	/* a minute of clock skew */
		return -1;
	return CSRF_MAX_AGE - age;
}

/*
 * The request's good cookie into out (CSRF_VALUE_LEN + 1 bytes) and its
 * life left, or -1.  Of several cookies by that name the first good one
 * counts.
 */
static long
cookie_value(struct request *req, char *out)
{
	const char	*c = req->cookie, *name = cookie_name();
	size_t		 klen = strlen(name), vlen;
	long		 life;

	while (c != NULL && *c != '\0') {
		while (*c == ' ' || *c == ';')
			c++;
		if (strncmp(c, name, klen) == 0 && c[klen] == '=') {
			vlen = strcspn(c + klen + 1, "; ");
			if ((life = cookie_life(c + klen + 1, vlen)) >= 0) {
				memcpy(out, c + klen + 1, CSRF_VALUE_LEN);
				out[CSRF_VALUE_LEN] = '\0';
				return life;
			}
		}
		c = strchr(c, ';');
	}
	return -1;
}

void
csrf_prepare(struct request *req, struct response *resp, char *field)
{
	char	 cookie[CSRF_VALUE_LEN + 1];
	int	 https = strncmp(cfg.base_url, "https:", 6) == 0;
	long	 life = cookie_value(req, cookie);

	if (life < CSRF_RENEW) {
		if (life < 0)
			csrf_issue(time(NULL), cookie);
		else
			stamp(time(NULL), cookie);
		resp_header(resp, "Set-Cookie", "%s=%s; Path=/; Max-Age=%d; "
		    "HttpOnly; SameSite=Lax%s", cookie_name(), cookie,
		    CSRF_MAX_AGE, https ? "; Secure" : "");
	}
	form_field(cookie, field);
}

/* 1 when the form's field matches a good cookie sent with it. */
int
csrf_check(struct request *req, const char *field, size_t len)
{
	char	 cookie[CSRF_VALUE_LEN + 1], want[CSRF_HEX + 1];

	if (len != CSRF_HEX || cookie_value(req, cookie) < 0)
		return 0;
	form_field(cookie, want);
	return CRYPTO_memcmp(want, field, CSRF_HEX) == 0;
}

void
csrf_attempt(char *out)
{
	unsigned char	 rnd[CSRF_ATTEMPT_HEX / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("getrandom");
	hex_encode(out, rnd, sizeof(rnd));
}

int
csrf_attempt_key(const char *attempt, size_t alen, const char *body,
    size_t len, char *key)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (alen != CSRF_ATTEMPT_HEX || !is_hex(attempt, alen))
		return 0;
	if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 32)
		fatalx("SHA-256 failed");
	memcpy(key, "form-", 5);
	hex_encode(key + 5, md, 32);
	return 1;
}
