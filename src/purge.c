/*
 * purge.c: `eventbox purge`, privacy retention.  Erases registrants'
 * names and emails (registrations, outbox, audit details) and their tokens
 * and idempotency keys EVENTBOX_RETENTION_DAYS (default 30) after an event
 * ended, keeping anonymous counts in eventbox.event_stats.  The rules are
 * eventbox.purge() in sql/004_staff.sql; this only calls it.
 *
 * Connects with EVENTBOX_PURGE_DSN (default EVENTBOX_DSN), which must name
 * a member of eventbox_ops or the owner: the service's role may not purge.
 * Started daily by deploy/eventbox-purge.timer; safe to run by hand.
 */
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "proc.h"

int
cmd_purge(int argc, char **argv)
{
	char		 days[16];
	const char	*vals[1] = { days };
	PGresult	*res;
	int		 rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: eventbox purge   (settings: "
		    "EVENTBOX_RETENTION_DAYS, EVENTBOX_PURGE_DSN)\n");
		return 2;
	}
	config_load();
	log_init("eventbox-purge", cfg.log_file);
	cfg.dsn = cfg.purge_dsn;
	db_init("eventbox-purge");
	snprintf(days, sizeof(days), "%d", cfg.retention_days);
	if (db_query(STMT_PURGE, 1, vals, &res) == DB_OK) {
		log_info("purged personal data of %s events that ended more "
		    "than %d days ago", db_value(res, 0, "events"),
		    cfg.retention_days);
		PQclear(res);
		rc = 0;
	} else
		log_warnx("purge failed; nothing was erased");
	db_close();
	return rc;
}
