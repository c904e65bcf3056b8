/*
 * purge.c: `eventbox purge`, privacy retention.  Erases registrants'
 * names and emails (registrations, outbox, audit details) and their tokens
 * and idempotency keys EVENTBOX_RETENTION_DAYS (default 30) after an event
 * ended, keeping anonymous counts in eventbox.event_stats.  The rules are
 * eventbox.purge_step() in sql/rules/85_purge.sql; this runs its steps, each
 * in a transaction of its own, until none is left (see there why in steps).
 *
 * Connects with EVENTBOX_PURGE_DSN (default EVENTBOX_DSN), which must name
 * a member of eventbox_ops or the owner: the service's role may not purge.
 * Started daily by deploy/eventbox-purge.timer; safe to run by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "proc.h"

/* Registrations per step, each step its own transaction (see purge_step). */
#define STEP	"500"

int
cmd_purge(int argc, char **argv)
{
	char		 days[16];
	const char	*vals[2] = { days, STEP };
	PGresult	*res;
	long		 events = 0, rows = 0;
	int		 rc = 1, more = 1;

	(void)argc;		/* none: main.c refuses any; settings are
				 * EVENTBOX_RETENTION_DAYS, EVENTBOX_PURGE_DSN */
	(void)argv;
	config_load();
	log_init("eventbox-purge", cfg.log_file);
	cfg.dsn = cfg.purge_dsn;
	db_init("eventbox-purge", 0);
	snprintf(days, sizeof(days), "%d", cfg.retention_days);
	while (more) {
		if (db_query(STMT_PURGE_STEP, 2, vals, &res) != DB_OK) {
			log_warnx("purge failed after %ld events; what was "
			    "erased stays erased, nothing else was", events);
			goto done;
		}
		more = !db_isnull(res, 0, "event_id");
		rows += strtol(db_value(res, 0, "rows"), NULL, 10);
		events += strcmp(db_value(res, 0, "finished"), "t") == 0;
		PQclear(res);
	}
	log_info("purged personal data of %ld events (%ld registrations) that "
	    "ended more than %d days ago", events, rows, cfg.retention_days);
	rc = 0;
done:
	db_close();
	return rc;
}
