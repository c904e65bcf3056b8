/*
 * config.c: environment variables to `cfg` (see config.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "validate.h"

struct config cfg;

const char *
config_env(const char *name, const char *def)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

static long long
env_num(const char *name, long long def, long long min, long long max)
{
	const char	*v = getenv(name);
	long long	 n;

	if (v == NULL || *v == '\0')
		return def;
	if (parse_int(v, strlen(v), min, max, &n) == -1)
		fatalx("%s: expected a whole number from %lld to %lld, got \"%s\"",
		    name, min, max, v);
	return n;
}

static void
load_secret(void)
{
	const char	*v = config_env("EVENTBOX_SECRET", "");
	size_t		 n = strlen(v);

	if (n == 0) {
		cfg.secret_len = 32;
		if (getrandom(cfg.secret, cfg.secret_len, 0) != 32)
			fatal("getrandom");
		return;
	}
	if (n < 32 || n > sizeof(cfg.secret))
		fatalx("EVENTBOX_SECRET: expected 32 to %zu bytes",
		    sizeof(cfg.secret));
	memcpy(cfg.secret, v, n);
	cfg.secret_len = n;
}

void
config_load(void)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	static char	 base[512];
	size_t	 n;

	if (ncpu < 1)
		ncpu = 1;
	cfg.dsn = config_env("EVENTBOX_DSN", "dbname=eventbox");
	cfg.listen = config_env("EVENTBOX_LISTEN", "var/run/eventbox.sock");
	/* Four per core, at most 16: make bench found 8 workers ahead of 4 and
	 * 2 on two cores, for registrations on one hot event and for reads
	 * (a worker waits on the database much of the time); but past 16
	 * connections on one hot row PostgreSQL gets slower, not faster
	 * (pgbench: 64 clients did 0.76x of 16).  See docs/PERFORMANCE.md. */
	cfg.workers = (int)env_num("EVENTBOX_WORKERS",
	    ncpu * 4 > 16 ? 16 : ncpu * 4, 1, 256);
	cfg.cors_origins = config_env("EVENTBOX_CORS_ORIGINS", "");
	cfg.max_body = (size_t)env_num("EVENTBOX_MAX_BODY", 16384, 1024,
	    1048576);
	cfg.lock_timeout_ms = (int)env_num("EVENTBOX_LOCK_TIMEOUT_MS", 3000,
	    10, 600000);
	cfg.statement_timeout_ms = (int)env_num("EVENTBOX_STATEMENT_TIMEOUT_MS",
	    10000, 100, 3600000);
	cfg.drain_seconds = (int)env_num("EVENTBOX_DRAIN_SECONDS", 30, 1, 3600);
	cfg.request_timeout_s = (int)env_num("EVENTBOX_REQUEST_TIMEOUT", 30, 1,
	    3600);
	/* The request timeout ends the worker, not its statement: a
	 * registration still waiting for the event's lock would commit once
	 * granted, while the patron was answered 502.  The database must give
	 * up first, and answer 503. */
	if ((long long)cfg.request_timeout_s * 1000 <= cfg.lock_timeout_ms ||
	    (long long)cfg.request_timeout_s * 1000 <= cfg.statement_timeout_ms)
		fatalx("EVENTBOX_REQUEST_TIMEOUT (%d s) must be longer than "
		    "EVENTBOX_LOCK_TIMEOUT_MS (%d ms) and "
		    "EVENTBOX_STATEMENT_TIMEOUT_MS (%d ms)", cfg.request_timeout_s,
		    cfg.lock_timeout_ms, cfg.statement_timeout_ms);
	cfg.log_file = config_env("EVENTBOX_LOG_FILE", "");
	cfg.sql_dir = config_env("EVENTBOX_SQL_DIR", "sql");
	cfg.locale_dir = config_env("EVENTBOX_LOCALEDIR",
	    EVENTBOX_LOCALEDIR_DEFAULT);
	cfg.smtp_url = config_env("EVENTBOX_SMTP_URL", "");
	cfg.smtp_ca = config_env("EVENTBOX_SMTP_CA", "");
	cfg.mail_from = config_env("EVENTBOX_MAIL_FROM",
	    "eventbox <eventbox@localhost>");
	cfg.mail_dir = config_env("EVENTBOX_MAIL_DIR", "var/mail");
	cfg.mail_max_tries = (int)env_num("EVENTBOX_MAIL_MAX_TRIES", 8, 1, 100);
	cfg.mail_poll_ms = (int)env_num("EVENTBOX_MAIL_POLL_MS", 200, 10, 60000);
	cfg.mail_batch = (int)env_num("EVENTBOX_MAIL_BATCH", 50, 1, 1000);
	/* The mailer's own session (mailer.c): a claim of a full batch may
	 * take longer than any statement of a patron's request, and neither
	 * is tied to EVENTBOX_REQUEST_TIMEOUT.  At most 30 s each, so that a
	 * stop (the message in flight, 30 s, then its mark) stays inside the
	 * mailer unit's TimeoutStopSec. */
	cfg.mail_lock_timeout_ms = (int)env_num("EVENTBOX_MAIL_LOCK_TIMEOUT_MS",
	    3000, 10, 30000);
	cfg.mail_statement_timeout_ms = (int)env_num(
	    "EVENTBOX_MAIL_STATEMENT_TIMEOUT_MS", 30000, 100, 30000);
	cfg.reminder_hours = (int)env_num("EVENTBOX_REMINDER_HOURS", 24, 1,
	    24 * 30);
	/* How long a registration waits for its address (sql/rules/
	 * 55_holds.sql); an event's hold_minutes overrides it. */
	cfg.hold_minutes = (int)env_num("EVENTBOX_HOLD_MINUTES", 60, 1, 10080);
	cfg.retention_days = (int)env_num("EVENTBOX_RETENTION_DAYS", 30, 0,
	    3650);
	/* purge needs a member of eventbox_ops, which the service is not. */
	cfg.purge_dsn = config_env("EVENTBOX_PURGE_DSN", cfg.dsn);
	/* /metrics beyond loopback: "Authorization: Bearer <this>". */
	cfg.metrics_token = config_env("EVENTBOX_METRICS_TOKEN", "");
	cfg.calendar_id = env_num("EVENTBOX_CALENDAR_ID", 1, 1, 999999999);
	cfg.calendar_name = config_env("EVENTBOX_CALENDAR_NAME", "Events");
	cfg.campus = config_env("EVENTBOX_CAMPUS", "");
	cfg.token_seconds = (int)env_num("EVENTBOX_TOKEN_SECONDS", 3600, 60,
	    86400);
	/* Webhooks: a receiver has 10 s to answer; retries after 10 s,
	 * doubling, at most an hour apart, 30 tries (about a day). */
	cfg.webhook_ca = config_env("EVENTBOX_WEBHOOK_CA", "");
	cfg.webhook_allow_private = (int)env_num(
	    "EVENTBOX_WEBHOOK_ALLOW_PRIVATE", 0, 0, 1);
	cfg.webhook_timeout_ms = (int)env_num("EVENTBOX_WEBHOOK_TIMEOUT_MS",
	    10000, 100, 60000);
	cfg.webhook_max_tries = (int)env_num("EVENTBOX_WEBHOOK_MAX_TRIES", 30,
	    1, 10000);
	cfg.webhook_retry_base_ms = (int)env_num(
	    "EVENTBOX_WEBHOOK_RETRY_BASE_MS", 10000, 1, 86400000);
	cfg.webhook_max_backoff_ms = (int)env_num(
	    "EVENTBOX_WEBHOOK_MAX_BACKOFF_MS", 3600000, 1, 86400000);

	/* The base URL goes into emails: keep it bare, without a trailing slash. */
	n = strlen(config_env("EVENTBOX_BASE_URL", "http://127.0.0.1:8080"));
	if (n >= sizeof(base))
		fatalx("EVENTBOX_BASE_URL is too long");
	memcpy(base, config_env("EVENTBOX_BASE_URL", "http://127.0.0.1:8080"),
	    n + 1);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		fatalx("EVENTBOX_BASE_URL must start with http:// or https://");
	cfg.base_url = base;
	load_secret();
}

/* Exact, case-sensitive match against the comma-separated list. */
int
config_origin_allowed(const char *origin, size_t len)
{
	const char	*p = cfg.cors_origins, *end;
	size_t		 n;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		end = p;
		while (*end != '\0' && *end != ',' && *end != ' ')
			end++;
		n = (size_t)(end - p);
		if (n > 0 && n == len && memcmp(p, origin, n) == 0)
			return 1;
		p = end;
	}
	return 0;
}

const char *
config_ca_error(const char *name, const char *path)
{
	static char	 why[512];
	struct stat	 st;
	int		 fd;

	if (*path == '\0')
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, sizeof(why), "%s %s: %s", name, path,
		    strerror(errno));
		return why;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "%s %s: not a file of CA "
		    "certificates", name, path);
		close(fd);
		return why;
	}
	close(fd);
	return NULL;
}
