/*
 * db.h: a process's one PostgreSQL session and its prepared statements
 * (the workers', the mailer's, purge's and apikey's), and db_connect(),
 * the one way any of them (and migrate) opens a session.
 *
 * Every statement the programs run is in the stmts[] table in db.c, with
 * its number of parameters, prepared once per session and run with
 * parameters; no SQL is ever built from strings.  A worker's db_query()
 * reconnects (and re-prepares) when the server went away, so a restarted
 * PostgreSQL needs no restart here.  A session that LISTENs (DB_LISTENER,
 * the mailer) is reopened only by db_open(): it must LISTEN again.
 *
 * Ownership: on DB_OK the caller owns *res and must PQclear() it; on any
 * other status *res is NULL.  db_connect()'s caller owns the PGconn and
 * PQfinish()es it.
 */
#ifndef EVENTBOX_DB_H
#define EVENTBOX_DB_H

#include <stddef.h>

#include <libpq-fe.h>

enum stmt {
	STMT_PING,
	STMT_EVENT_BY_SLUG,
	STMT_EVENT_BY_ID,
	STMT_EVENT_LIST,
	STMT_REGISTER_ANSWERED,
	STMT_CHECK_ANSWERS,
	STMT_ADMIN_SET_QUESTIONS,
	STMT_ADMIN_QUESTIONS,
	STMT_CANCEL,
	STMT_REGISTRATION_BY_TOKEN,
	STMT_OUTBOX_STATS,
	STMT_PAGE_EVENT,
	STMT_PAGE_UPCOMING,
	STMT_PAGE_LIST,
	STMT_PAGE_CATEGORIES,
	STMT_PAGE_ICS,
	STMT_PAGE_REGISTRATION,
	STMT_CONFIRM,
	STMT_PAGE_HOLD,
	STMT_FEED,
	STMT_PAGE_MY_REGISTRATION,
	STMT_API_KEY_NAME,
	STMT_ADMIN_SAVE_EVENT,
	STMT_ADMIN_EVENT,
	STMT_ADMIN_EVENT_LIST,
	STMT_ADMIN_AUDIT,
	STMT_ADMIN_SET_STATUS,
	STMT_ADMIN_SET_CAPACITY,
	STMT_ADMIN_ROSTER,
	STMT_ADMIN_REGISTER,
	STMT_ADMIN_CANCEL,
	STMT_ADMIN_PROMOTE,
	STMT_ADMIN_CHECK_IN,
	STMT_ADMIN_REGISTRATION,
	STMT_ADMIN_CORRECT,
	STMT_ADMIN_RESEND,
	STMT_LIBCAL_LIST,
	STMT_LIBCAL_BY_IDS,
	STMT_LIBCAL_CATEGORIES,
	STMT_BEARER_ACCESS,
	STMT_LIBCAL_ROSTER,
	STMT_OAUTH_TOKEN,
	STMT_API_CLIENT_CREATE,
	STMT_API_CLIENT_REVOKE,
	STMT_API_CLIENT_LIST,
	STMT_WEBHOOK_CREATE,
	STMT_WEBHOOK_LIST,
	STMT_WEBHOOK_DISABLE,
	STMT_APIKEY_CREATE,
	STMT_APIKEY_REVOKE,
	STMT_APIKEY_LIST,
	STMT_PURGE_STEP,
	STMT_IMPORT_EVENT,
	STMT_IMPORT_REGISTRATION,
	STMT_IMPORT_UNLISTED,
	STMT_IMPORT_ZONE,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_ASYNC_COMMIT,
	STMT_DURABLE,
	STMT_MAIL_LISTEN,
	STMT_MAIL_CLAIM,
	STMT_MAIL_RELOCK,
	STMT_MAIL_SAVEPOINT,
	STMT_MAIL_UNDO,
	STMT_MAIL_SENT,
	STMT_MAIL_FAILED,
	STMT_MAIL_RELAY_FAILED,
	STMT_MAIL_REMINDERS,
	STMT_MAIL_NEXT_DUE,
	STMT_WEBHOOK_CLAIM,
	STMT_WEBHOOK_DELIVERED,
	STMT_WEBHOOK_FAILED,
	STMT__MAX
};

/* The statements themselves (db_stmts.c); only db.c reads them. */
struct db_stmt {
	const char	*name;
	int		 nparams;	/* db_query() checks it */
	const char	*sql;
};
extern const struct db_stmt db_stmts[STMT__MAX];

enum db_status {
	DB_OK,
	DB_UNAVAILABLE,	/* no connection: 503 */
	DB_BUSY,	/* lock or statement timeout, deadlock: 503 */
	DB_CONFLICT,	/* a constraint refused the change (class 23): 409 */
	DB_INVALID,	/* a value the database refused (class 22): 422 */
	DB_ERROR	/* anything else: 503, logged */
};

/* db_init() flags */
#define DB_LISTENER	(1 << 0)	/* LISTENs: no reconnect behind the
					   caller's back */
#define DB_STOP_CANCELS	(1 << 1)	/* the mailer's: a stop cancels a wait
					   no timeout bounds (db.c) */

/* role: application_name, as pg_stat_activity shows it.  The sessions'
 * lock_timeout and statement_timeout are EVENTBOX_LOCK_TIMEOUT_MS and
 * EVENTBOX_STATEMENT_TIMEOUT_MS, or db_timeouts()'s for sessions opened
 * after it (the mailer's own). */
void		 db_init(const char *role, unsigned flags);
void		 db_timeouts(int lock_ms, int statement_ms);
int		 db_open(void);		/* 0, or -1 after logging why */
/* Aborts when nparams is not the statement's count: a bug, not an input. */
enum db_status	 db_query(enum stmt, int nparams, const char *const *values,
		    PGresult **res);
/* The same, for a read-only statement without parameters asked by a
 * monitoring probe: no answer within ms (a server that took the session
 * but is frozen, a network that drops packets) closes the session, logged,
 * and is DB_UNAVAILABLE, so the probe is answered.  Never for a write: its
 * outcome would be unknown. */
enum db_status	 db_query_within(enum stmt, PGresult **res, int ms);
/* The same, for a write under a hot lock: the lock is not held across the
 * WAL flush, and the call returns once the commit is durable (db.c). */
enum db_status	 db_query_durable(enum stmt, int nparams,
		    const char *const *values, PGresult **res);
/* For the mailer's transactions: db_query(), but any failure closes the
 * session (a transaction half done is never continued).  0, the caller
 * owning *res; or -1, closed. */
int		 db_run(enum stmt, int nparams, const char *const *values,
		    PGresult **res);
int		 db_run_simple(enum stmt, int nparams, const char *const *values);
/* One step of db_run_steps(): a statement and its parameters. */
struct db_step {
	enum stmt		 stmt;
	int			 nparams;
	const char *const	*values;
};
/* Steps in one round trip, as db_run() runs each one: any failure closes
 * the session.  0, the caller owning out[0..n-1] (step i's result); or -1,
 * closed, out[] all NULL, *done the number of leading steps that the
 * server answered as done (a COMMIT among them committed) before one failed
 * or the answers stopped.  With keep_busy, a step that gave up at the lock
 * or statement timeout (55P03, 57014) on a sound session returns -2
 * instead, and one the server had no room for (class 53 but 53300: a full
 * disk, 53100, above all) -3, the session left open in its failed
 * transaction for the caller to roll back (to a savepoint) or close. */
int		 db_run_steps(const struct db_step *steps, size_t n,
		    PGresult **out, size_t *done, int keep_busy);
/* BEGIN, then claim (a statement whose first parameter is how many, at
 * most n, and whose second, when also is not NULL, is also).
 * > 0: that many rows were claimed, in *res (the caller's), the
 * transaction left open for the caller to COMMIT, and what the claim saw
 * is durable (db.c); 0: none, committed; -1: the session is closed. */
int		 db_claim(enum stmt claim, int n, const char *also,
		    PGresult **res);
void		 db_close(void);
int		 db_connected(void);
int		 db_socket(void);	/* -1 when closed */
int		 db_notified(void);	/* 1 when NOTIFYs arrived; drains them */
const char	*db_value(const PGresult *, int row, const char *column);
int		 db_isnull(const PGresult *, int row, const char *column);
double		 db_number(const PGresult *, int row, const char *column);
int		 db_bool(const PGresult *, int row, const char *column);
unsigned long	 db_reconnects(void);
/* Statements the server refused for a full disk (53100): a worker's
 * 503s, counted for /metrics. */
unsigned long	 db_disk_full(void);
/* After a DB_CONFLICT: the field a rule function refused (a check_violation
 * naming a column), *why what it must be; NULL when it named none. */
const char	*db_refused_field(const char **why);

PGconn		*db_connect(const char *dsn, const char *application_name);

#endif
