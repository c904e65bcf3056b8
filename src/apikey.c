/*
 * apikey.c: `eventbox apikey create|revoke|list`, staff API keys.
 *
 * A key is 32 random bytes from the kernel, base64url, behind the prefix
 * "ebk_" (so secret scanners and people can tell what it is).  It is
 * printed once, on stdout; the database keeps only its SHA-256, and the
 * workers find a key by hashing what they were sent and looking the hash
 * up, so no comparison of secrets happens byte by byte.
 *
 * Run as the database owner (EVENTBOX_DSN naming the owner): nobody else
 * may create or revoke keys.  Creation and revocation are audited.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "proc.h"

#define KEY_BYTES	32
#define KEY_PREFIX	"ebk_"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; dst holds at least 4 * n / 3 + 2 bytes. */
static void
encode(const unsigned char *src, size_t n, char *dst)
{
	size_t		 i, o = 0;
	unsigned int	 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned int)src[i] << 16 | (unsigned int)src[i + 1] << 8 |
		    src[i + 2];
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
		dst[o++] = b64url[v >> 6 & 63];
		dst[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned int)src[i] << 16;
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned int)src[i] << 16 | (unsigned int)src[i + 1] << 8;
		dst[o++] = b64url[v >> 18 & 63];
		dst[o++] = b64url[v >> 12 & 63];
		dst[o++] = b64url[v >> 6 & 63];
	}
	dst[o] = '\0';
}

/* Same rule as the api_keys.name CHECK: [a-z0-9][a-z0-9._-]{0,63}. */
static int
name_valid(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '_' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
create(const char *name)
{
	unsigned char	 raw[KEY_BYTES];
	char		 key[sizeof(KEY_PREFIX) + KEY_BYTES * 4 / 3 + 4];
	const char	*vals[2] = { name, key };
	PGresult	*res;
	enum db_status	 st;
	int		 rc = 1;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		log_warn("getrandom");
		return 1;
	}
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	encode(raw, sizeof(raw), key + sizeof(KEY_PREFIX) - 1);
	explicit_bzero(raw, sizeof(raw));
	if ((st = db_query(STMT_APIKEY_CREATE, 2, vals, &res)) != DB_OK) {
		fprintf(stderr, "eventbox: could not create key \"%s\": %s\n",
		    name, st == DB_CONFLICT ? "a key of that name exists "
		    "(eventbox apikey list; revoke it first to give its name "
		    "to a new key)" : st == DB_UNAVAILABLE ?
		    "the database cannot be reached (EVENTBOX_DSN)" :
		    "the database refused (the line above says why; keys are "
		    "made as the database owner, as in docs/API.md)");
		goto done;
	}
	PQclear(res);
	printf("%s\n", key);
	fprintf(stderr, "eventbox: key \"%s\" created; it is shown this once "
	    "only\n", name);
	rc = 0;
done:
	explicit_bzero(key, sizeof(key));
	return rc;
}

static int
revoke(const char *name)
{
	PGresult	*res;
	int		 revoked;

	if (db_query(STMT_APIKEY_REVOKE, 1, &name, &res) != DB_OK)
		return 1;
	revoked = strcmp(db_value(res, 0, "revoked"), "t") == 0;
	PQclear(res);
	if (!revoked) {
		fprintf(stderr, "eventbox: no live key \"%s\"\n", name);
		return 1;
	}
	fprintf(stderr, "eventbox: key \"%s\" revoked\n", name);
	return 0;
}

static int
list(void)
{
	PGresult	*res;
	int		 i;

	if (db_query(STMT_APIKEY_LIST, 0, NULL, &res) != DB_OK)
		return 1;
	for (i = 0; i < PQntuples(res); i++)
		printf("%-24s created %s  %s%s\n", db_value(res, i, "name"),
		    db_value(res, i, "created_at"),
		    db_isnull(res, i, "revoked_at") ? "live" : "revoked ",
		    db_value(res, i, "revoked_at"));
	PQclear(res);
	return 0;
}

int
cmd_apikey(int argc, char **argv)
{
	int	 rc;

	config_load();
	log_init("eventbox-apikey", "");
	db_init("eventbox-apikey", 0);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		rc = list();
	else if (argc == 3 && !name_valid(argv[2])) {
		fprintf(stderr, "eventbox: a key name is 1 to 64 of a-z 0-9 . _ -"
		    ", starting with a letter or digit\n");
		rc = 2;
	} else if (argc == 3 && strcmp(argv[1], "create") == 0)
		rc = create(argv[2]);
	else if (argc == 3 && strcmp(argv[1], "revoke") == 0)
		rc = revoke(argv[2]);
	else {
		fprintf(stderr, "usage: eventbox apikey create NAME | revoke "
		    "NAME | list\n");
		rc = 2;
	}
	db_close();
	return rc;
}
