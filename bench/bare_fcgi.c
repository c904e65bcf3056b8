/*
 * bare_fcgi.c: the baselines of `make bench` behind nginx.  The least a
 * libfcgi service can do per request: N pre-forked processes, each with one
 * PGconn, accept a request, run one prepared statement, answer a constant.
 * eventbox's GET /api/v1/events/{slug} is measured against it running
 * SELECT 1, and against it answering the event's row as JSON text from the
 * smallest SELECT that makes one; the flash crowd against it running the
 * minimal locked register function (bench/minimal.sql), behind the same
 * nginx with the same number of processes.
 *
 *   bare_fcgi SOCKET NPROC      (libpq takes the connection from PG* / DSN)
 *   BARE_DSN   conninfo string (default: the PG* environment)
 *   BARE_SQL   the statement (default SELECT 1); $1, if it has one, is a
 *              text unique to the request ("pid-n"), for distinct emails;
 *              "none": no statement and no connection, only the answer
 *              (what nginx and libfcgi cost a request, the floor of any
 *              design that answers each request from a FastCGI process)
 *   BARE_BARRIER=1  commit as eventbox commits a registration
 *              (db_query_durable in src/db.c): BEGIN, synchronous_commit
 *              off for the transaction, the statement, COMMIT (the locks
 *              go), then one WAL record committed synchronously (the
 *              answer waits for the flush), all in one round trip
 *   BARE_BATCH=T  T threads per process take requests, and the process's
 *              connection runs them in batches: everything waiting, in
 *              arrival order, as one execution of the statement, $1 a
 *              text[] of the requests' unique texts, committed as
 *              BARE_BARRIER=1 commits (implied); each request is answered
 *              when its batch is.  One failure fails its whole batch (a
 *              real design would need a savepoint each): a bound of what
 *              batching concurrent registrations could give, not a design
 *   BARE_ARG   $1 is this text instead (a slug)
 *   BARE_BODY  "row": the answer is the first value of the first row (404
 *              without one) instead of a constant {"ok":true}
 *
 * Stops on SIGTERM (its process group).  Not part of the product.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

static const char body[] = "{\"ok\":true}\n";
/* Written out: libfcgi's FCGX_FPrintF knows no %zu (it printed nothing). */
static const char head[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 12\r\n\r\n";

/* Reads the results of n pipelined queries and their sync; 1 if any
 * failed. */
static int
drain(PGconn *c, size_t n)
{
	PGresult	*r;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < n; i++)
		while ((r = PQgetResult(c)) != NULL) {
			bad |= PQresultStatus(r) == PGRES_FATAL_ERROR ||
			    PQresultStatus(r) == PGRES_PIPELINE_ABORTED;
			PQclear(r);
		}
	r = PQgetResult(c);		/* the sync */
	bad |= PQresultStatus(r) != PGRES_PIPELINE_SYNC;
	PQclear(r);
	return bad;
}

/* The statement inside the barrier's steps (BARE_BARRIER=1); 0 when all
 * went. */
static int
run_barrier(PGconn *c, int nparams, const char *const *param)
{
	static const char *const steps[] = { "BEGIN",
	    "SELECT set_config('synchronous_commit', 'off', true)", NULL,
	    "COMMIT", "SELECT pg_logical_emit_message(true, 'bench', '')" };
	const size_t	 n = sizeof(steps) / sizeof(steps[0]);
	size_t		 i;
	int		 bad;

	for (i = 0; i < n; i++)
		if ((steps[i] == NULL ? PQsendQueryPrepared(c, "one", nparams,
		    param, NULL, NULL, 0) : PQsendQueryParams(c, steps[i], 0,
		    NULL, NULL, NULL, NULL, 0)) != 1)
			return 1;
	if (PQpipelineSync(c) != 1)
		return 1;
	bad = drain(c, n);
	if (bad && PQsendQueryParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL,
	    0) == 1 && PQpipelineSync(c) == 1)	/* leave no failed block */
		drain(c, 1);
	return bad;
}

/* BARE_SQL=none: the constant answer, no database. */
static void
answer_only(int fd)
{
	FCGX_Request	 req;

	FCGX_Init();
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetChar(req.in) != EOF)	/* a POST's body */
			;
		FCGX_PutStr(head, (int)strlen(head), req.out);
		FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	exit(0);
}

/* BARE_BATCH: one request waiting for its batch, on its thread's stack. */
struct waiter {
	char		 uniq[48];
	int		 done, bad;
	struct waiter	*next;
};

static pthread_mutex_t	 queue_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	 accept_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 queued = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 answered = PTHREAD_COND_INITIALIZER;
static struct waiter	*queue_head, **queue_tail = &queue_head;
static int		 listen_fd;

static void *
batch_serve(void *arg)
{
	FCGX_Request	 req;
	struct waiter	 w;
	unsigned long	 n = 0;
	int		 rc;
	static const char fail[] = "Status: 500 Internal Server Error\r\n"
	    "Content-Type: application/json\r\nContent-Length: 12\r\n\r\n";

	FCGX_InitRequest(&req, listen_fd, 0);
	for (;;) {
		pthread_mutex_lock(&accept_mu);
		rc = FCGX_Accept_r(&req);
		pthread_mutex_unlock(&accept_mu);
		if (rc < 0)
			break;
		while (FCGX_GetChar(req.in) != EOF)	/* a POST's body */
			;
		snprintf(w.uniq, sizeof(w.uniq), "%ld-%lu-%lu", (long)getpid(),
		    (unsigned long)(size_t)arg, n++);
		w.done = w.bad = 0;
		w.next = NULL;
		pthread_mutex_lock(&queue_mu);
		*queue_tail = &w;
		queue_tail = &w.next;
		pthread_cond_signal(&queued);
		while (!w.done)
			pthread_cond_wait(&answered, &queue_mu);
		pthread_mutex_unlock(&queue_mu);
		FCGX_PutStr(w.bad ? fail : head, (int)strlen(w.bad ? fail : head),
		    req.out);
		FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

/* BARE_BATCH: libfcgi's own SIGTERM handler only makes an accept that
 * it interrupts return, and a thread waiting for its batch, or the
 * connection's, would never see it: the process ends at once instead. */
static void
batch_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* BARE_BATCH: the process's connection, running what waits in batches. */
static void
batch_run(PGconn *c, size_t nthreads)
{
	struct waiter	*batch, *w, *next;
	char		*arr;
	const char	*param[1];
	size_t		 len, cap = nthreads * sizeof(w->uniq) + 3;
	pthread_t	 t;
	size_t		 i;
	int		 bad;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = batch_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1 || (arr = malloc(cap)) == NULL)
		exit(1);
	param[0] = arr;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, batch_serve, (void *)i) != 0) {
			fprintf(stderr, "bare_fcgi: no thread\n");
			exit(1);
		}
	for (;;) {
		pthread_mutex_lock(&queue_mu);
		while (queue_head == NULL)
			pthread_cond_wait(&queued, &queue_mu);
		batch = queue_head;
		queue_head = NULL;
		queue_tail = &queue_head;
		pthread_mutex_unlock(&queue_mu);
		/* The unique texts are digits and dashes: an array literal as
		 * they are. */
		len = 0;
		arr[len++] = '{';
		for (w = batch; w != NULL; w = w->next) {
			if (w != batch)
				arr[len++] = ',';
			memcpy(arr + len, w->uniq, strlen(w->uniq));
			len += strlen(w->uniq);
		}
		arr[len++] = '}';
		arr[len] = '\0';
		bad = run_barrier(c, 1, param);
		if (bad)
			fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		pthread_mutex_lock(&queue_mu);
		for (w = batch; w != NULL; w = next) {
			next = w->next;		/* w is gone once done */
			w->bad = bad;
			w->done = 1;
		}
		pthread_cond_broadcast(&answered);
		pthread_mutex_unlock(&queue_mu);
	}
}

static void
child(int fd)
{
	FCGX_Request	 req;
	PGconn		*c;
	PGresult	*r;
	const char	*dsn = getenv("BARE_DSN");
	const char	*sql = getenv("BARE_SQL");
	const char	*env_barrier = getenv("BARE_BARRIER");
	const char	*env_batch = getenv("BARE_BATCH");
	const char	*arg = getenv("BARE_ARG");
	const char	*param[1];
	char		 uniq[64], rowhead[160];
	unsigned long	 n = 0;
	int		 nparams, barrier, echo = getenv("BARE_BODY") != NULL &&
			    strcmp(getenv("BARE_BODY"), "row") == 0;

	if (sql != NULL && strcmp(sql, "none") == 0)
		answer_only(fd);
	c = PQconnectdb(dsn != NULL ? dsn : "");
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		exit(1);
	}
	if (sql == NULL)
		sql = "SELECT 1";
	nparams = strstr(sql, "$1") != NULL;
	r = PQprepare(c, "one", sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
	barrier = (env_barrier != NULL && strcmp(env_barrier, "1") == 0) ||
	    env_batch != NULL;
	if (barrier && PQenterPipelineMode(c) != 1) {
		fprintf(stderr, "bare_fcgi: no pipeline mode\n");
		exit(1);
	}
	param[0] = arg != NULL ? arg : uniq;
	FCGX_Init();
	if (env_batch != NULL) {
		if (atoi(env_batch) < 1 || atoi(env_batch) > 1024) {
			fprintf(stderr, "bare_fcgi: BARE_BATCH: 1 to 1024\n");
			exit(2);
		}
		listen_fd = fd;
		batch_run(c, (size_t)atoi(env_batch));	/* never returns */
	}
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetChar(req.in) != EOF)	/* a POST's body */
			;
		snprintf(uniq, sizeof(uniq), "%ld-%lu", (long)getpid(), n++);
		r = NULL;
		if (barrier) {
			if (run_barrier(c, nparams, param) != 0)
				fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		} else {
			r = PQexecPrepared(c, "one", nparams, param, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK)
				fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		}
		if (echo && r != NULL) {
			int	 found = PQntuples(r) > 0, len =
			    found ? PQgetlength(r, 0, 0) : 0;

			snprintf(rowhead, sizeof(rowhead), "Status: %s\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %d\r\n\r\n",
			    found ? "200 OK" : "404 Not Found", len);
			FCGX_PutStr(rowhead, (int)strlen(rowhead), req.out);
			if (found)
				FCGX_PutStr(PQgetvalue(r, 0, 0), len, req.out);
		} else {
			FCGX_PutStr(head, (int)strlen(head), req.out);
			FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		}
		PQclear(r);
		FCGX_Finish_r(&req);
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	int			 fd, i, n;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > 64) {
		fprintf(stderr, "usage: bare_fcgi SOCKET NPROC\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(argv[1], 0666) == -1 || listen(fd, 1024) == -1) {
		perror("bare_fcgi: socket");
		return 1;
	}
	for (i = 0; i < n; i++)
		if (fork() == 0)
			child(fd);
	while (wait(NULL) > 0)
		;
	return 0;
}
