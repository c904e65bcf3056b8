/*
 * csrf.c: double-submit cookie with an HMAC (see csrf.h).
 */
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config.h"
#include "csrf.h"
#include "log.h"

static void
hex(char *out, const unsigned char *in, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The request's cookie value when it is well-formed, else 0. */
static int
cookie_value(struct request *req, char *out)
{
	const char	*c = req->cookie, *v;
	size_t		 klen = strlen(CSRF_COOKIE);

	while (c != NULL && *c != '\0') {
		while (*c == ' ' || *c == ';')
			c++;
		if (strncmp(c, CSRF_COOKIE, klen) == 0 && c[klen] == '=') {
			v = c + klen + 1;
			if (strcspn(v, "; ") != CSRF_HEX || !is_hex(v, CSRF_HEX))
				return 0;
			memcpy(out, v, CSRF_HEX);
			out[CSRF_HEX] = '\0';
			return 1;
		}
		c = strchr(c, ';');
	}
	return 0;
}

static void
mac(const char *cookie, char *field)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (HMAC(EVP_sha256(), cfg.secret, (int)cfg.secret_len,
	    (const unsigned char *)cookie, CSRF_HEX, md, &mdlen) == NULL ||
	    mdlen != CSRF_HEX / 2)
		fatalx("HMAC failed");
	hex(field, md, mdlen);
}

void
csrf_prepare(struct request *req, struct response *resp, char *field)
{
	char		 cookie[CSRF_HEX + 1];
	unsigned char	 rnd[CSRF_HEX / 2];

	if (!cookie_value(req, cookie)) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			fatal("getrandom");
		hex(cookie, rnd, sizeof(rnd));
		resp_header(resp, "Set-Cookie", "%s=%s; Path=/; HttpOnly; "
		    "SameSite=Strict%s", CSRF_COOKIE, cookie,
		    strncmp(cfg.base_url, "https:", 6) == 0 ? "; Secure" : "");
	}
	mac(cookie, field);
}

/* 1 when the form's field matches the cookie sent with it. */
int
csrf_check(struct request *req, const char *field, size_t len)
{
	char	 cookie[CSRF_HEX + 1], want[CSRF_HEX + 1];

	if (len != CSRF_HEX || !cookie_value(req, cookie))
		return 0;
	mac(cookie, want);
	return CRYPTO_memcmp(want, field, CSRF_HEX) == 0;
}
