/*
 * db.c: connection, prepared statements and error mapping (see db.h).
 */
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "signals.h"

/*
 * The session's settings beyond search_path (db_connect sets that).  Every
 * statement waits for a lock or runs at most so long: the workers' and the
 * commands' EVENTBOX_LOCK_TIMEOUT_MS and EVENTBOX_STATEMENT_TIMEOUT_MS, the
 * mailer's its own (db_timeouts()).
 */
static const char session_sql[] =
    "SELECT pg_catalog.set_config('DateStyle', 'ISO', false),"
    " pg_catalog.set_config('TimeZone', 'UTC', false),"
    " pg_catalog.set_config('synchronous_commit', 'on', false),"
    " pg_catalog.set_config('lock_timeout', $1::text, false),"
    " pg_catalog.set_config('statement_timeout', $2::text, false),"
    " pg_catalog.set_config('eventbox.hold_minutes', $3::text, false)";

static PGconn		*conn;
static const char	*app_name = "eventbox";
static unsigned		 db_flags;
static int		 lock_timeout_ms, statement_timeout_ms;
static struct timespec	 last_attempt;
static unsigned long	 reconnects;
static unsigned long	 disk_full;	/* statements refused: 53100 */
static int		 slow_failure;
/* The last failure's refusal of one field (db_refused_field()). */
static char		 refused_field[64], refused_why[256];

void
db_init(const char *role, unsigned flags)
{
	app_name = role;
	db_flags = flags;
	db_timeouts(cfg.lock_timeout_ms, cfg.statement_timeout_ms);
}

void
db_timeouts(int lock_ms, int statement_ms)
{
	lock_timeout_ms = lock_ms;
	statement_timeout_ms = statement_ms;
}

static long
ms_since(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

void
db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
}

int
db_connected(void)
{
	return conn != NULL;
}

int
db_socket(void)
{
	return conn != NULL ? PQsocket(conn) : -1;
}

/*
 * A session opened with DB_STOP_CANCELS (the mailer's) does not wait for an
 * answer blindly.  Every statement is bounded by the session's lock and
 * statement timeouts, but a COMMIT, once committed locally, waits for the
 * synchronous standby (synchronous_standby_names) with no bound at all:
 * PostgreSQL ends the statement timeout before the commit, and has no
 * setting that bounds that wait.  A standby that never answers held the
 * mailer for as long, deaf to SIGTERM, and the unit's TimeoutStopSec ended
 * it with SIGKILL.  So, while it waits, the mailer's session looks for a
 * stop (SIGTERM or SIGINT pending) and, STOP_GRACE_MS after one, cancels a
 * statement that has run longer than anything but that wait can take: a
 * COMMIT (or the durability barrier, which only commits) at once, any other
 * statement past its statement timeout.  PostgreSQL answers such a cancel
 * of the standby's wait with a WARNING ("canceling wait for synchronous
 * replication due to user request": logged, db_notice()) and the commit's
 * success: the transaction is committed here, maybe not on the standby.
 * Without a stop it waits, as the registrations do, and says once, past
 * the statement timeout, what it waits for.
 */
#define STOP_GRACE_MS	1000
#define AWAIT_TICK_MS	200

static long	ms_since(const struct timespec *);

/* Step s's answer on c can be read without blocking; waited for as the
 * comment above says.  A broken session returns at once (PQgetResult()
 * then says so). */
static void
await_answer(PGconn *c, enum stmt s)
{
	struct timespec	 start, stop_seen = { 0, 0 };
	struct pollfd	 pfd;
	PGcancel	*cancel;
	char		 err[256];
	long		 bound, ran;
	int		 warned = 0, cancelled = 0;

	if (!(db_flags & DB_STOP_CANCELS))
		return;
	bound = s == STMT_COMMIT || s == STMT_DURABLE ? 0 :
	    statement_timeout_ms;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (PQisBusy(c) && PQstatus(c) == CONNECTION_OK) {
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, AWAIT_TICK_MS) > 0 && !PQconsumeInput(c))
			return;
		ran = ms_since(&start);
		if (!warned && ran > (long)statement_timeout_ms + STOP_GRACE_MS) {
			log_warnx("%s: no answer after %ld s, past the statement "
			    "timeout: a COMMIT waits for a synchronous standby "
			    "(synchronous_standby_names) that does not answer; "
			    "waiting for it (a stop cancels the wait)",
			    db_stmts[s].name, ran / 1000);
			warned = 1;
		}
		if (cancelled || !signals_stop_pending())
			continue;
		if (stop_seen.tv_sec == 0 && stop_seen.tv_nsec == 0)
			clock_gettime(CLOCK_MONOTONIC, &stop_seen);
		if (ms_since(&stop_seen) < STOP_GRACE_MS ||
		    ran < bound + STOP_GRACE_MS)
			continue;
		log_warnx("%s: stop asked, no answer after %ld ms: cancelled "
		    "(a commit waiting for the synchronous standby is then "
		    "committed here, maybe not there yet)", db_stmts[s].name,
		    ran);
		if ((cancel = PQgetCancel(c)) == NULL ||
		    !PQcancel(cancel, err, sizeof(err)))
			log_warnx("%s: cancel: %s", db_stmts[s].name,
			    cancel == NULL ? "no cancel handle" : err);
		PQfreeCancel(cancel);
		cancelled = 1;
	}
}

/* The answers to the statement s sent on c, as PQexec() gives them: the
 * last one, or the first failure. */
static PGresult *
collect(PGconn *c, enum stmt s)
{
	PGresult	*r, *last = NULL;

	for (;;) {
		await_answer(c, s);
		if ((r = PQgetResult(c)) == NULL)
			break;
		if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR) {
			PQclear(r);
			continue;
		}
		PQclear(last);
		last = r;
	}
	return last;
}

/* The server's notices (a WARNING, above) in the log, one line each. */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	log_warnx("database: %s", message);
}

/* One statement with parameters outside the table; 0 or -1 (logged). */
static int
exec_params(const char *what, const char *sql, int n,
    const char *const *vals)
{
	PGresult	*res;
	int		 ok;

	res = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_warnx("%s: %s", what, PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -1;
}

int
db_open(void)
{
	char		 lock_ms[16], stmt_ms[16], hold_min[16];
	const char	*vals[3] = { lock_ms, stmt_ms, hold_min };
	PGresult	*res;
	int		 i;

	clock_gettime(CLOCK_MONOTONIC, &last_attempt);
	db_close();
	conn = db_connect(cfg.dsn, app_name);
	slow_failure = ms_since(&last_attempt) > 100;
	if (conn == NULL)
		return -1;
	snprintf(lock_ms, sizeof(lock_ms), "%d", lock_timeout_ms);
	snprintf(stmt_ms, sizeof(stmt_ms), "%d", statement_timeout_ms);
	snprintf(hold_min, sizeof(hold_min), "%d", cfg.hold_minutes);
	if (exec_params("session settings", session_sql, 3, vals) == -1)
		goto fail;
	for (i = 0; i < STMT__MAX; i++) {
		res = PQprepare(conn, db_stmts[i].name, db_stmts[i].sql, 0,
		    NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_warnx("prepare %s: %s", db_stmts[i].name,
			    PQerrorMessage(conn));
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	reconnects++;
	return 0;
fail:
	db_close();
	return -1;
}

/*
 * A server that shut down or killed our backend has already told us so on
 * the socket.  Noticing it before sending means a request never goes to a
 * dead connection, so a restart of PostgreSQL fails no request that came
 * after it.  A listener's socket carries notifications too: there only the
 * state counts (db_notified() reads the socket).
 */
static int
db_alive(void)
{
	struct pollfd	 pfd;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return 0;
	if (db_flags & DB_LISTENER)
		return 1;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* An idle session gets nothing from the server (workers don't
	 * LISTEN) but a termination notice: readable means it is going. */
	return poll(&pfd, 1, 0) == 0;
}

/*
 * Consumes the notifications that arrived; 1 if there were any.  libpq
 * may have read them while it read a result, and then the socket is no
 * longer readable: a wait must look here first.  A broken session is
 * closed.
 */
int
db_notified(void)
{
	PGnotify	*n;
	int		 any = 0;

	if (conn == NULL || !PQconsumeInput(conn)) {
		db_close();
		return 0;
	}
	while ((n = PQnotifies(conn)) != NULL) {
		PQfreemem(n);
		any = 1;
	}
	return any;
}

/* The server had no room for the statement: disk full (53100), out of
 * memory (53200), a configured limit (53400).  Not too_many_connections
 * (53300), which only a new session meets. */
static int
no_room(const char *state)
{
	return state != NULL && strncmp(state, "53", 2) == 0 &&
	    strcmp(state, "53300") != 0;
}

static enum db_status
classify(const PGresult *res)
{
	const char	*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (PQstatus(conn) != CONNECTION_OK)
		return DB_UNAVAILABLE;
	if (state == NULL)
		return DB_ERROR;
	/* lock_not_available, query_canceled, deadlock, serialization */
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)
		return DB_BUSY;
	/* admin shutdown, crash shutdown, cannot connect now, too many */
	if (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0 ||
	    strcmp(state, "53300") == 0)
		return DB_UNAVAILABLE;
	if (strncmp(state, "23", 2) == 0)
		return DB_CONFLICT;
	if (strncmp(state, "22", 2) == 0)
		return DB_INVALID;
	return DB_ERROR;
}

/* "SQLSTATE: primary message [constraint]": never the DETAIL or CONTEXT,
 * which quote the failing row (an online URL, a patron's address). */
static void
log_failure(enum stmt s, const PGresult *res)
{
	const char	*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char	*cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

	log_warnx("%s: %s: %s%s%s%s", db_stmts[s].name, state ? state : "?",
	    msg ? msg : PQresStatus(PQresultStatus(res)),
	    cons ? " [" : "", cons ? cons : "", cons ? "]" : "");
}

static enum db_status	failed(enum stmt, PGresult **);

/*
 * Keeps what a check_violation that names a column (COLUMN) says of it
 * (DETAIL): a rule function's refusal of one field, worded for the API
 * (set_status(), rules/71_event_status.sql).  PostgreSQL's own CHECKs name no
 * column, and their DETAIL, which quotes the row, is never kept.
 */
static void
note_refused_field(const PGresult *res)
{
	const char	*state, *col, *why;

	refused_field[0] = refused_why[0] = '\0';
	if (res == NULL ||
	    (state = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL ||
	    strcmp(state, "23514") != 0 ||
	    (col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME)) == NULL ||
	    (why = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)) == NULL)
		return;
	snprintf(refused_field, sizeof(refused_field), "%s", col);
	snprintf(refused_why, sizeof(refused_why), "%s", why);
}

const char *
db_refused_field(const char **why)
{
	*why = refused_why;
	return refused_field[0] != '\0' ? refused_field : NULL;
}

/* Aborts when a caller and the statement table disagree: a bug. */
static void
check_call(enum stmt s, int nparams)
{
	if ((unsigned)s >= STMT__MAX || nparams != db_stmts[s].nparams) {
		log_warnx("statement %d called with %d parameters", (int)s,
		    nparams);
		abort();
	}
}

/* An open, live session, reopened if need be; 0 when there is none. */
static int
db_ready(void)
{
	if (db_alive())
		return 1;
	/* A listener must LISTEN again: its owner reopens it. */
	if (db_flags & DB_LISTENER)
		return 0;
	/* A refused connection costs microseconds: try again on every
	 * request, so the first one after a restart succeeds.  One that
	 * timed out cost seconds: then try at most once a second. */
	if (conn == NULL && slow_failure && ms_since(&last_attempt) < 1000)
		return 0;
	return db_open() == 0;
}

/*
 * A deadlock (40P01) or a serialization failure (40001) rolled back the
 * whole of a statement that was its own transaction: nothing of it is
 * left, and the same statement may succeed at once, as PostgreSQL's manual
 * advises (a staff DELETE of a question at psql and a registration that
 * answers it can deadlock whatever order either takes its locks in).  Run
 * again, at most DB_ATTEMPTS times in all; only a statement that was its
 * own transaction (the session idle before it and after it: never a step,
 * COMMIT included, of a transaction the caller opened, whose failure ended
 * more than the statement), and never a lock or statement timeout, which
 * would only wait as long again.
 */
#define DB_ATTEMPTS	3

static int
worth_again(enum stmt s, const PGresult *res, int attempt, int was_idle)
{
	const char	*state;

	if (!was_idle || res == NULL || attempt >= DB_ATTEMPTS ||
	    conn == NULL || PQstatus(conn) != CONNECTION_OK ||
	    PQtransactionStatus(conn) != PQTRANS_IDLE)
		return 0;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL || (strcmp(state, "40P01") != 0 &&
	    strcmp(state, "40001") != 0))
		return 0;
	log_info("%s: %s, rolled back: run again (attempt %d)",
	    db_stmts[s].name, state, attempt + 1);
	return 1;
}

enum db_status
db_query(enum stmt s, int nparams, const char *const *values, PGresult **res)
{
	int	 attempt, was_idle;

	*res = NULL;
	check_call(s, nparams);
	for (attempt = 1; ; attempt++) {
		if (!db_ready())
			return DB_UNAVAILABLE;
		was_idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
		if (!(db_flags & DB_STOP_CANCELS))
			*res = PQexecPrepared(conn, db_stmts[s].name, nparams,
			    values, NULL, NULL, 0);
		else if (PQsendQueryPrepared(conn, db_stmts[s].name, nparams,
		    values, NULL, NULL, 0))
			*res = collect(conn, s);
		if (*res != NULL && (PQresultStatus(*res) == PGRES_TUPLES_OK ||
		    PQresultStatus(*res) == PGRES_COMMAND_OK))
			return DB_OK;
		if (!worth_again(s, *res, attempt, was_idle))
			return failed(s, res);
		PQclear(*res);
		*res = NULL;
	}
}

enum db_status
db_query_within(enum stmt s, PGresult **res, int ms)
{
	struct timespec	 start;
	struct pollfd	 pfd;
	long		 left;

	*res = NULL;
	check_call(s, 0);
	if (!db_ready())
		return DB_UNAVAILABLE;
	if (!PQsendQueryPrepared(conn, db_stmts[s].name, 0, NULL, NULL, NULL,
	    0))
		return failed(s, res);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (PQisBusy(conn)) {
		if ((left = ms - ms_since(&start)) <= 0) {
			log_warnx("%s: no answer from the database in %d ms: "
			    "session closed (a frozen server or a lost "
			    "network?); the next request opens another",
			    db_stmts[s].name, ms);
			db_close();
			return DB_UNAVAILABLE;
		}
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* A broken session: PQgetResult() below says so. */
		if (poll(&pfd, 1, (int)left) > 0 && !PQconsumeInput(conn))
			break;
	}
	*res = collect(conn, s);
	if (*res != NULL && PQresultStatus(*res) == PGRES_TUPLES_OK)
		return DB_OK;
	return failed(s, res);
}

/*
 * The statement's failure, told: logged (without row data), mapped to a
 * status, the result freed, a lost connection closed.
 */
static enum db_status
failed(enum stmt s, PGresult **res)
{
	enum db_status	 st;
	const char	*state;

	st = *res != NULL ? classify(*res) : DB_UNAVAILABLE;
	if (st == DB_ERROR && (state = PQresultErrorField(*res,
	    PG_DIAG_SQLSTATE)) != NULL && strcmp(state, "53100") == 0)
		disk_full++;
	note_refused_field(st == DB_CONFLICT ? *res : NULL);
	if (st == DB_ERROR || st == DB_CONFLICT || st == DB_INVALID)
		log_failure(s, *res);
	else if (st == DB_BUSY)		/* which: "... due to lock timeout" */
		log_info("%s: busy: %s", db_stmts[s].name,
		    PQresultErrorField(*res, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
		    PQresultErrorField(*res, PG_DIAG_MESSAGE_PRIMARY) :
		    "lock or statement timeout");
	else
		log_info("%s: database unavailable", db_stmts[s].name);
	PQclear(*res);
	*res = NULL;
	if (st == DB_UNAVAILABLE)
		db_close();
	return st;
}

int
db_run(enum stmt s, int nparams, const char *const *values, PGresult **res)
{
	if (db_query(s, nparams, values, res) == DB_OK)
		return 0;
	db_close();
	return -1;
}

int
db_run_simple(enum stmt s, int nparams, const char *const *values)
{
	PGresult	*res;

	if (db_run(s, nparams, values, &res) == -1)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * db_run_steps: the steps in one round trip (libpq's pipeline mode), each
 * as db_run() runs it, in order; the server runs them one after the other
 * as if they had come one by one.  out[i] gets step i's result, the
 * caller's to PQclear().  Any failure closes the session, once the first
 * failing step is logged: a transaction open ends with it.  0, or -1 with
 * every out[i] NULL and *done the steps answered before the failure.
 */
int
db_run_steps(const struct db_step *steps, size_t n, PGresult **out,
    size_t *done, int keep_busy)
{
	PGresult	*r;
	const char	*state;
	size_t		 i, nulls;
	int		 ok = 1, logged = 0, busy = 0, full = 0;

	*done = 0;
	for (i = 0; i < n; i++) {
		check_call(steps[i].stmt, steps[i].nparams);
		out[i] = NULL;
	}
	if (!db_ready() || PQenterPipelineMode(conn) != 1) {
		db_close();
		return -1;
	}
	/* The server sends its answers at the sync; a flush request after
	 * each step has it send each step's at once, so that the step waited
	 * for is the one running (await_answer()). */
	for (i = 0; i < n && ok; i++)
		ok = PQsendQueryPrepared(conn, db_stmts[steps[i].stmt].name,
		    steps[i].nparams, steps[i].values, NULL, NULL, 0) &&
		    (!(db_flags & DB_STOP_CANCELS) ||
		    PQsendFlushRequest(conn));
	if (!ok || !PQpipelineSync(conn)) {
		db_close();
		return -1;
	}
	/* One result and a NULL per step, then the sync's.  After a failure
	 * the later steps only say the pipeline was aborted. */
	for (i = 0; i < n && ok; i++) {
		while (await_answer(conn, steps[i].stmt),
		    (r = PQgetResult(conn)) != NULL) {
			if (out[i] == NULL &&
			    (PQresultStatus(r) == PGRES_TUPLES_OK ||
			    PQresultStatus(r) == PGRES_COMMAND_OK)) {
				out[i] = r;
				continue;
			}
			if (!logged) {
				log_failure(steps[i].stmt, r);
				logged = 1;
				state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
				full = no_room(state);
				busy = keep_busy && (full || (state != NULL &&
				    (strcmp(state, "55P03") == 0 ||
				    strcmp(state, "57014") == 0)));
			}
			ok = 0;
			PQclear(r);
		}
		if (out[i] == NULL)
			ok = 0;
	}
	/* A timeout: the later steps' "aborted" and the sync read, the
	 * session is sound, its transaction failed (PQTRANS_INERROR). */
	for (nulls = 0; !ok && busy && PQstatus(conn) == CONNECTION_OK &&
	    nulls <= n; ) {
		await_answer(conn, steps[n - 1].stmt);
		if ((r = PQgetResult(conn)) == NULL) {
			nulls++;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			busy = PQexitPipelineMode(conn) == 1 &&
			    PQtransactionStatus(conn) == PQTRANS_INERROR;
			break;
		}
		busy = PQresultStatus(r) == PGRES_PIPELINE_ABORTED;
		PQclear(r);
	}
	if (ok && (await_answer(conn, steps[n - 1].stmt),
	    (r = PQgetResult(conn)) == NULL ||
	    PQresultStatus(r) != PGRES_PIPELINE_SYNC)) {
		PQclear(r);
		ok = 0;
	} else if (ok) {
		PQclear(r);
		ok = PQexitPipelineMode(conn) == 1;
	}
	if (ok) {
		*done = n;
		return 0;
	}
	while (*done < n && out[*done] != NULL)
		(*done)++;
	for (i = 0; i < n; i++) {
		PQclear(out[i]);
		out[i] = NULL;
	}
	if (busy && PQstatus(conn) == CONNECTION_OK &&
	    PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
		return full ? -3 : -2;
	db_close();		/* never left half-read */
	return -1;
}

/*
 * Registrations commit before their WAL flush and are answered after it
 * (db_query_durable, below), so for a moment a claimed outbox row can tell
 * of a commit that is not on disk yet.  Nothing leaves before it is: a
 * second session commits one WAL record synchronously (STMT_DURABLE), which
 * returns once the WAL up to it, everything the claim saw included, is
 * flushed.  0, or -1 when that session cannot be had.
 */
static PGconn	*barrier_conn;

static int
durable_barrier(void)
{
	PGresult	*res;
	int		 ok;

	if (barrier_conn == NULL || PQstatus(barrier_conn) != CONNECTION_OK) {
		PQfinish(barrier_conn);
		barrier_conn = db_connect(cfg.dsn, app_name);
		if (barrier_conn == NULL)
			return -1;
	}
	res = !(db_flags & DB_STOP_CANCELS) ?
	    PQexecParams(barrier_conn, db_stmts[STMT_DURABLE].sql, 0, NULL,
	    NULL, NULL, NULL, 0) :
	    PQsendQueryParams(barrier_conn, db_stmts[STMT_DURABLE].sql, 0,
	    NULL, NULL, NULL, NULL, 0) ?
	    collect(barrier_conn, STMT_DURABLE) : NULL;
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok) {
		log_warnx("durability barrier: %s", PQerrorMessage(barrier_conn));
		PQfinish(barrier_conn);
		barrier_conn = NULL;
	}
	PQclear(res);
	return ok ? 0 : -1;
}

int
db_claim(enum stmt claim, int n, const char *also, PGresult **res)
{
	char		 how_many[16];
	const char	*params[2] = { how_many, also };

	*res = NULL;
	snprintf(how_many, sizeof(how_many), "%d", n);
	if (db_run_simple(STMT_BEGIN, 0, NULL) == -1 ||
	    db_run(claim, also == NULL ? 1 : 2, params, res) == -1)
		return -1;
	if (PQntuples(*res) > 0) {
		if (durable_barrier() == 0)
			return PQntuples(*res);
		PQclear(*res);		/* the row stays pending */
		*res = NULL;
		db_close();
		return -1;
	}
	PQclear(*res);
	*res = NULL;
	return db_run_simple(STMT_COMMIT, 0, NULL) == -1 ? -1 : 0;
}

/*
 * db_query_durable: db_query() for a statement that writes under a hot row
 * lock (a registration takes the event's).  Its transaction commits
 * without waiting for the WAL flush (synchronous_commit off, for that
 * transaction only), so the lock is released at once and the next
 * registration for the event does not wait for this one's flush; then a
 * transaction writing one WAL record of its own (db_stmts.c) commits
 * synchronously, which returns only when the WAL up to it, the first
 * commit included, is on disk (and on a synchronous standby, where there
 * is one).  The caller answers after
 * that: a 201 still means the registration is durable, and concurrent
 * registrations share their flushes.  All five statements go in one
 * round trip (libpq's pipeline mode).  A deadlock or a serialization
 * failure of the statement rolled its transaction back: it is run again
 * as db_query() runs one (worth_again), never once its commit has been
 * made (a failure of the durable step after it).
 */
static int	durable_once(enum stmt, int, const char *const *, PGresult **,
		    enum stmt *, enum db_status *);

enum db_status
db_query_durable(enum stmt s, int nparams, const char *const *values,
    PGresult **res)
{
	enum db_status	 st;
	enum stmt	 which = s;
	int		 attempt;

	check_call(s, nparams);
	for (attempt = 1; ; attempt++) {
		/* Its own BEGIN ... COMMIT, in a session no caller has a
		 * transaction open in (registration_submit() is the one). */
		if (durable_once(s, nparams, values, res, &which, &st))
			return st;
		if (which == STMT_DURABLE || !worth_again(s, *res, attempt, 1))
			return failed(which, res);
		PQclear(*res);
		*res = NULL;
	}
}

/*
 * One try: 1 with *st the outcome told, or 0 with *res the failure of the
 * step *which (NULL when there is none to read) for the caller to judge.
 */
static int
durable_once(enum stmt s, int nparams, const char *const *values,
    PGresult **res, enum stmt *which_out, enum db_status *st)
{
	static const enum stmt	 steps[] = { STMT_BEGIN, STMT_ASYNC_COMMIT,
	    STMT__MAX, STMT_COMMIT, STMT_DURABLE };
	PGresult		*r, *err = NULL;
	enum stmt		 which = s, step;
	size_t			 i;
	int			 sent = 1;

	*res = NULL;
	*st = DB_UNAVAILABLE;
	if (!db_ready())
		return 1;
	if (PQenterPipelineMode(conn) != 1) {
		*st = db_query(s, nparams, values, res);
		return 1;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && sent; i++) {
		step = steps[i] == STMT__MAX ? s : steps[i];
		sent = PQsendQueryPrepared(conn, db_stmts[step].name,
		    step == s ? nparams : 0, step == s ? values : NULL, NULL,
		    NULL, 0);
	}
	if (!sent || !PQpipelineSync(conn)) {
		db_close();
		return 1;
	}
	/* One result and a NULL per statement, then the sync's result.  The
	 * first failure is the one to tell; those after it only say the
	 * pipeline was aborted. */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i] == STMT__MAX ? s : steps[i];
		while ((r = PQgetResult(conn)) != NULL) {
			switch (PQresultStatus(r)) {
			case PGRES_TUPLES_OK:
			case PGRES_COMMAND_OK:
			case PGRES_PIPELINE_ABORTED:
				break;
			default:
				if (err == NULL) {
					err = r;
					which = step;
					r = NULL;
				}
			}
			if (step == s && *res == NULL && r != NULL &&
			    PQresultStatus(r) == PGRES_TUPLES_OK) {
				*res = r;
				r = NULL;
			}
			PQclear(r);
		}
		if (PQstatus(conn) != CONNECTION_OK)
			break;
	}
	/* The sync's answer comes once the last commit is durable; an error
	 * before it is that commit failing. */
	while (PQstatus(conn) == CONNECTION_OK &&
	    (r = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			PQexitPipelineMode(conn);
			break;
		}
		if (err == NULL && PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK) {
			err = r;
			which = STMT_DURABLE;
		} else
			PQclear(r);
	}
	if (err == NULL && *res != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQpipelineStatus(conn) == PQ_PIPELINE_OFF) {
		*st = DB_OK;
		return 1;
	}
	PQclear(*res);
	*res = err;
	/* A failure inside BEGIN skipped the COMMIT, and a sync does not end
	 * an explicit transaction block: end it here. */
	if (conn != NULL && PQpipelineStatus(conn) == PQ_PIPELINE_OFF &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE) {
		r = PQexecPrepared(conn, db_stmts[STMT_ROLLBACK].name, 0, NULL,
		    NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			db_close();
		PQclear(r);
	}
	if (conn != NULL && PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
		PQclear(*res);		/* never left half-read */
		*res = NULL;
		db_close();
	}
	*which_out = which;
	return 0;
}

/*
 * The column's number.  PQfnumber() copies and case-folds the name on every
 * call (a sixth of a GET's instructions went there); the statements' column
 * names are plain lower case, so a comparison finds them, and PQfnumber()
 * remains for anything else.
 */
static int
column_number(const PGresult *res, const char *column)
{
	/*
	 * Where a name was last found, by the address of the name (the
	 * readers' names are literals) and of the result: a page reads the
	 * event's columns in its own order, some of them several times.  A
	 * hit is checked by one comparison, so a new result at a freed one's
	 * address, with other columns, is only a miss.  Readers that take the
	 * columns in the statement's order find each in the one after the
	 * last found, asked first: one comparison.  (A worker is one thread.)
	 */
	static struct {
		const PGresult	*res;
		const char	*name;
		int		 col;
	}		 seen[64];
	static int	 next;
	size_t		 h = ((size_t)column >> 3) % 64;
	int		 i, c, n = PQnfields(res);

	if (n > 0 && strcmp(PQfname(res, c = next % n), column) == 0) {
		next = c + 1;
		return c;
	}
	if (seen[h].res == res && seen[h].name == column &&
	    seen[h].col < n && strcmp(PQfname(res, seen[h].col), column) == 0)
		return seen[h].col;
	for (i = 1; i < n; i++) {
		c = (next + i) % n;
		if (strcmp(PQfname(res, c), column) == 0) {
			next = c + 1;
			seen[h].res = res;
			seen[h].name = column;
			seen[h].col = c;
			return c;
		}
	}
	return PQfnumber(res, column);
}

const char *
db_value(const PGresult *res, int row, const char *column)
{
	int	 col = column_number(res, column);

	if (col < 0) {
		/* A statement and its reader disagree: a bug, not an input. */
		log_warnx("no column %s", column);
		abort();
	}
	if (PQgetisnull(res, row, col))
		return "";
	return PQgetvalue(res, row, col);
}

int
db_isnull(const PGresult *res, int row, const char *column)
{
	int	 col = column_number(res, column);

	return col < 0 || PQgetisnull(res, row, col);
}

/* The column as a number (0 when NULL), as a boolean ('t' is true). */
double
db_number(const PGresult *res, int row, const char *column)
{
	return strtod(db_value(res, row, column), NULL);
}

int
db_bool(const PGresult *res, int row, const char *column)
{
	return strcmp(db_value(res, row, column), "t") == 0;
}

unsigned long
db_reconnects(void)
{
	return reconnects;
}

unsigned long
db_disk_full(void)
{
	return disk_full;
}

/*
 * A new session on dsn, named application_name in pg_stat_activity, with
 * the search_path every statement here is written for, set by a parameter
 * rather than spliced into text (PostgreSQL's testlibpq.c does the same).
 * pg_temp comes last, so a temporary table can never stand in for ours.
 * A connect_timeout in the DSN wins over the 3 s default.  Returns NULL
 * after logging why; the caller owns the session and PQfinish()es it.
 */
PGconn *
db_connect(const char *dsn, const char *application_name)
{
	const char	*keys[] = { "connect_timeout", "dbname",
			    "application_name", NULL };
	const char	*vals[] = { "3", dsn, application_name, NULL };
	const char	*path[] = { "eventbox, pg_catalog, pg_temp" };
	PGconn		*c;
	PGresult	*res;

	if ((c = PQconnectdbParams(keys, vals, 1)) == NULL) {
		log_warnx("database connection failed: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		log_warnx("database connection failed: %s", PQerrorMessage(c));
		goto fail;
	}
	res = PQexecParams(c, "SELECT pg_catalog.set_config('search_path',"
	    " $1::text, false)", 1, NULL, path, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("setting search_path: %s", PQerrorMessage(c));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (db_flags & DB_STOP_CANCELS)
		PQsetNoticeProcessor(c, db_notice, NULL);
	return c;
fail:
	PQfinish(c);
	return NULL;
}
