/*
 * worker.c: one worker process.  Single-threaded: one FCGX_Request, one
 * PGconn, one request at a time; nginx queues the rest.
 *
 * SIGTERM is blocked except while waiting for a connection (ppoll), so a
 * request in flight always completes: that is the drain.  A request that
 * takes longer than EVENTBOX_REQUEST_TIMEOUT (a client that never finishes
 * its body, say) trips SIGALRM, whose default action ends the process; the
 * master starts a fresh one.
 *
 * A request's way: serve_one() reads it (http.c), router_dispatch()
 * (router.c) checks it against the route table and calls the route's
 * handler (api_*.c, page_*.c; handlers.h), which runs its statement
 * (answer.c's db_fetch(), db.c) and answers; http_send() writes the answer.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "router.h"
#include "signals.h"


static void
worker_signals(sigset_t *waitmask)
{
	static const int	 caught[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction	 sa;
	sigset_t		 alrm;

	signals_catch(signals_flag, caught, 3, waitmask);
	/* A stuck request ends the process (the master starts another).  The
	 * master blocks SIGALRM (its retry of a failed fork), and a child
	 * inherits the mask: unblocked here, or the alarm never fires. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigdelset(waitmask, SIGCHLD);
	sigdelset(waitmask, SIGALRM);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);

	/* Don't outlive the master. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static long
usec_since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000L;
}

/* Not inlined: `make bench` counts its instructions with callgrind's
 * --toggle-collect=serve_one. */
static void __attribute__((noinline))
serve_one(FCGX_Request *fcgi, struct request *req, struct response *resp)
{
	struct timespec	 t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	http_request_reset(req, fcgi);
	http_response_reset(resp);
	router_dispatch(req, resp);
	http_send(req, resp);
	/*
	 * Counted before the flush: once the client has its answer, a scrape
	 * through any worker already shows it.
	 */
	metrics_request(req->route, resp->status, usec_since(&t0));
	metrics_db_connects(db_reconnects());
	metrics_db_disk_full(db_disk_full());
	FCGX_Finish_r(fcgi);	/* flushes: the answer is with nginx */
}

void
worker_main(int listen_fd, int index)
{
	FCGX_Request	 fcgi;
	struct request	 req;
	struct response	 resp;
	struct pollfd	 pfd;
	sigset_t	 waitmask;
	struct timespec	 tick = { 1, 0 };
	pid_t		 master = getppid();
	char		 role[32];

	snprintf(role, sizeof(role), "eventbox-worker-%d", index);
	log_set_role("eventbox-worker");
	metrics_attach(index);
	worker_signals(&waitmask);
	if (getppid() != master)
		exit(0);

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	FCGX_Init();
	if (FCGX_InitRequest(&fcgi, listen_fd, 0) != 0)
		fatalx("FCGX_InitRequest failed");
	db_init(role, 0);
	/* Connect now so the first request doesn't pay for it; a failure
	 * here is fine, requests retry. */
	{
		PGresult	*res;

		if (db_query(STMT_PING, 0, NULL, &res) == DB_OK)
			PQclear(res);
	}

	while (!sig_stopping) {
		if (sig_reopen_log) {
			sig_reopen_log = 0;
			log_reopen();
		}
		pfd.fd = listen_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, &tick, &waitmask) <= 0)
			continue;	/* timeout, EINTR: recheck the flags */
		alarm((unsigned int)cfg.request_timeout_s);
		/* The socket is non-blocking: another worker may win the race. */
		if (FCGX_Accept_r(&fcgi) < 0) {
			alarm(0);
			continue;
		}
		serve_one(&fcgi, &req, &resp);
		alarm(0);
	}
	db_close();
	buf_free(&req.body);
	buf_free(&req.cookies);
	buf_free(&resp.head);
	buf_free(&resp.body);
	FCGX_Free(&fcgi, 0);
	exit(0);
}
