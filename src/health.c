/*
 * health.c: liveness for load balancers and monitoring.
 *
 *   GET /healthz   200 {"status":"ok"} when this worker reaches the
 *                  database, 503 otherwise.
 */
#include "db.h"
#include "handlers.h"
#include "json.h"

void
h_healthz(struct request *req, struct response *resp)
{
	PGresult	*res;
	enum db_status	 st;
	cJSON		*o;

	if ((st = db_query(STMT_PING, 0, NULL, &res)) != DB_OK) {
		resp_unavailable(req, resp, st == DB_BUSY);
		return;
	}
	PQclear(res);
	o = json_new_object();
	json_add_string(o, "status", "ok");
	json_add_string(o, "database", "ok");
	json_write(&resp->body, o);
	cJSON_Delete(o);
}
