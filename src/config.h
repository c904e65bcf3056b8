/*
 * config.h: settings, all from environment variables, each with a default
 * that works on a laptop.  docs/CONFIG.md lists them; keep the two in step.
 *
 * config_load() fills the one global `cfg` and exits with a message when a
 * value is malformed (a typo in a unit file should stop the start, not be
 * ignored).  Strings point into the environment or static storage.
 */
#ifndef EVENTBOX_CONFIG_H
#define EVENTBOX_CONFIG_H

#include <stddef.h>

struct config {
	const char	*dsn;		/* EVENTBOX_DSN */
	const char	*listen;	/* EVENTBOX_LISTEN: unix path or host:port */
	int		 workers;	/* EVENTBOX_WORKERS */
	const char	*base_url;	/* EVENTBOX_BASE_URL, no trailing slash */
	const char	*cors_origins;	/* EVENTBOX_CORS_ORIGINS, comma-separated */
	size_t		 max_body;	/* EVENTBOX_MAX_BODY bytes */
	int		 lock_timeout_ms;	/* EVENTBOX_LOCK_TIMEOUT_MS */
	int		 statement_timeout_ms;	/* EVENTBOX_STATEMENT_TIMEOUT_MS */
	int		 drain_seconds;	/* EVENTBOX_DRAIN_SECONDS */
	int		 request_timeout_s;	/* EVENTBOX_REQUEST_TIMEOUT */
	const char	*log_file;	/* EVENTBOX_LOG_FILE, empty: stderr */
	const char	*sql_dir;	/* EVENTBOX_SQL_DIR */
	const char	*locale_dir;	/* EVENTBOX_LOCALEDIR: LL/LC_MESSAGES/ */
	const char	*smtp_url;	/* EVENTBOX_SMTP_URL */
	const char	*smtp_ca;	/* EVENTBOX_SMTP_CA, empty: the system's */
	const char	*mail_from;	/* EVENTBOX_MAIL_FROM */
	const char	*mail_dir;	/* EVENTBOX_MAIL_DIR: .eml sink when no SMTP */
	int		 mail_max_tries;	/* EVENTBOX_MAIL_MAX_TRIES */
	int		 mail_poll_ms;		/* EVENTBOX_MAIL_POLL_MS */
	int		 mail_batch;		/* EVENTBOX_MAIL_BATCH */
	/* The mailer's session: EVENTBOX_MAIL_LOCK_TIMEOUT_MS,
	 * EVENTBOX_MAIL_STATEMENT_TIMEOUT_MS. */
	int		 mail_lock_timeout_ms;
	int		 mail_statement_timeout_ms;
	int		 reminder_hours;	/* EVENTBOX_REMINDER_HOURS */
	int		 hold_minutes;	/* EVENTBOX_HOLD_MINUTES */
	int		 retention_days;	/* EVENTBOX_RETENTION_DAYS */
	/* EVENTBOX_SECRET keys the forms' CSRF HMAC (csrf.h); at least 32
	 * bytes.  Unset, `eventbox serve` makes a random one at start that
	 * its workers inherit: forms then expire on a restart and cannot be
	 * shared between hosts, so set it when running more than one. */
	unsigned char	 secret[256];
	size_t		 secret_len;
	const char	*purge_dsn;	/* EVENTBOX_PURGE_DSN, default: dsn */
	const char	*metrics_token;	/* EVENTBOX_METRICS_TOKEN, "" = none */
	/* The LibCal-compatible API (api_libcal.c) shows one calendar. */
	long long	 calendar_id;	/* EVENTBOX_CALENDAR_ID */
	const char	*calendar_name;	/* EVENTBOX_CALENDAR_NAME */
	const char	*campus;	/* EVENTBOX_CAMPUS, "" for none */
	int		 token_seconds;	/* EVENTBOX_TOKEN_SECONDS: OAuth tokens */
	/* Webhook deliveries (webhook.c, sent by the mailer). */
	const char	*webhook_ca;	/* EVENTBOX_WEBHOOK_CA: CA bundle file,
					   "" = the system's */
	int		 webhook_allow_private; /* EVENTBOX_WEBHOOK_ALLOW_PRIVATE:
					 * 1: loopback, private networks too */
	int		 webhook_timeout_ms;	/* EVENTBOX_WEBHOOK_TIMEOUT_MS */
	int		 webhook_max_tries;	/* EVENTBOX_WEBHOOK_MAX_TRIES */
	int		 webhook_retry_base_ms;	/* EVENTBOX_WEBHOOK_RETRY_BASE_MS */
	int		 webhook_max_backoff_ms; /* EVENTBOX_WEBHOOK_MAX_BACKOFF_MS */
};

extern struct config cfg;

void	 config_load(void);
/* The variable's value, or def when it is unset or empty: an empty line in
 * an environment file means "the default", as docs/CONFIG.md says.  For the
 * settings of one command only, read where they are used (import.c). */
const char	*config_env(const char *name, const char *def);
int	 config_origin_allowed(const char *origin, size_t len);
/* NULL when the setting `name` names no file (empty) or a readable file of
 * CA certificates, else why not, in a static buffer. */
const char	*config_ca_error(const char *name, const char *path);

#endif
