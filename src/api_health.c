/*
 * api_health.c: liveness for load balancers and monitoring.  Offers the
 * handlers of
 *
 *   GET /healthz   this worker and its database (JSON)
 *   GET /metrics   Prometheus text (see metrics.h), for loopback or a token
 */
#include <string.h>

#include <openssl/crypto.h>

#include "answer.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "json.h"
#include "metrics.h"
#include "router.h"

/*
 * How long a probe waits for the database's answer: a sound server gives
 * up on a lock by EVENTBOX_LOCK_TIMEOUT_MS; one that has not answered a
 * second later is not answering (db_query_within()).
 */
static int
probe_ms(void)
{
	return cfg.lock_timeout_ms + 1000;
}

/*
 * GET /healthz: 200 {"status": "ok", "database": "ok"} when this worker
 * reaches the database; 503 otherwise, also when the database has not
 * answered within probe_ms().
 */
void
h_healthz(struct request *req, struct response *resp)
{
	PGresult	*res;
	cJSON		*o;
	enum db_status	 st;

	if ((st = db_query_within(STMT_PING, &res, probe_ms())) != DB_OK) {
		answer_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	PQclear(res);
	o = json_new_object();
	json_add_string(o, "status", "ok");
	json_add_string(o, "database", "ok");
	json_answer(resp, 200, o);
}

/*
 * Whether this request may read /metrics: from loopback (REMOTE_ADDR, as
 * nginx or any FastCGI client passes it), or with the bearer token
 * EVENTBOX_METRICS_TOKEN when one is set.  The decision is made here, not
 * in nginx, so that a scraper on another host can come through nginx with
 * the token, and a client that reaches the socket itself still gets
 * nothing without it.
 */
static int
metrics_allowed(struct request *req)
{
	const char	*addr = http_param(req, "REMOTE_ADDR"), *key;
	size_t		 n = strlen(cfg.metrics_token);

	if (addr != NULL && (strcmp(addr, "127.0.0.1") == 0 ||
	    strcmp(addr, "::1") == 0))
		return 1;
	return n > 0 && bearer_key(req->authorization, &key) == 0 &&
	    strlen(key) == n && CRYPTO_memcmp(key, cfg.metrics_token, n) == 0;
}

/*
 * GET /metrics: Prometheus text format.  The counters come from shared
 * memory (every worker's, summed); the outbox figures from one query, run
 * once per scrape.  200 always for loopback or the token (without a
 * database, or without its answer within probe_ms(), the outbox lines are
 * missing and eventbox_database_up is 0);
 * 404 for anybody else, as if there were nothing.
 */
void
h_metrics(struct request *req, struct response *resp)
{
	PGresult		*res;
	const char *const	*labels;
	int			 nroutes;

	if (!metrics_allowed(req)) {
		answer_missing(req, resp, MISSING_PAGE);
		return;
	}
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	labels = router_labels(&nroutes);
	metrics_render(&resp->body, labels, nroutes);
	buf_adds(&resp->body, "# HELP eventbox_database_up Whether this"
	    " scrape's outbox query ran (1) or not (0).\n"
	    "# TYPE eventbox_database_up gauge\n");
	if (db_query_within(STMT_OUTBOX_STATS, &res, probe_ms()) != DB_OK) {
		buf_adds(&resp->body, "eventbox_database_up 0\n");
		return;
	}
	buf_printf(&resp->body,
	    "eventbox_database_up 1\n"
	    "# HELP eventbox_outbox_backlog Messages waiting to be sent.\n"
	    "# TYPE eventbox_outbox_backlog gauge\n"
	    "eventbox_outbox_backlog %s\n"
	    "# HELP eventbox_outbox_failed Messages given up on, left for"
	    " staff.\n"
	    "# TYPE eventbox_outbox_failed gauge\n"
	    "eventbox_outbox_failed %s\n"
	    "# HELP eventbox_outbox_oldest_age_seconds Age of the oldest"
	    " message waiting to be sent (0 when none).\n"
	    "# TYPE eventbox_outbox_oldest_age_seconds gauge\n"
	    "eventbox_outbox_oldest_age_seconds %s\n"
	    "# HELP eventbox_mail_relay_down_seconds How long the SMTP relay"
	    " has taken no mail (0 while it does).\n"
	    "# TYPE eventbox_mail_relay_down_seconds gauge\n"
	    "eventbox_mail_relay_down_seconds %s\n",
	    db_value(res, 0, "pending"), db_value(res, 0, "failed"),
	    db_value(res, 0, "oldest_pending_age_s"),
	    db_value(res, 0, "relay_down_s"));
	PQclear(res);
}
