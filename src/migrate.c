/*
 * migrate.c: `eventbox migrate`.  Applies sql/NNN_*.sql in order, each in
 * its own transaction, under an advisory lock (two deploys at once wait for
 * each other), recording each in eventbox.migrations.  Safe to run again:
 * applied versions are skipped.
 *
 * The files are the one place SQL text is sent without parameters: they
 * are the project's own schema, never anything a client sent.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "proc.h"
#include "validate.h"

#define MIGRATE_LOCK	"7423001"	/* pg_advisory_lock key: "eventbox" */
#define MAX_MIGRATIONS	1000

static int
exec_ok(PGconn *c, const char *sql)
{
	PGresult	*r = PQexec(c, sql);
	int		 ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
			    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		log_warnx("%s", PQerrorMessage(c));
	PQclear(r);
	return ok;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NNN_word.sql */
static int
migration_name(const char *n)
{
	size_t	 len = strlen(n);

	return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' &&
	    n[1] <= '9' && n[2] >= '0' && n[2] <= '9' && n[3] == '_' &&
	    strcmp(n + len - 4, ".sql") == 0;
}

static int
read_file(const char *path, struct buf *out)
{
	FILE	*f;
	char	 chunk[8192];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

static int
applied(PGconn *c, const char *version)
{
	const char	*vals[1] = { version };
	PGresult	*r;
	int		 yes;

	r = PQexecParams(c,
	    "SELECT 1 FROM eventbox.migrations WHERE version = $1::integer",
	    1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warnx("%s", PQerrorMessage(c));
		PQclear(r);
		return -1;
	}
	yes = PQntuples(r) > 0;
	PQclear(r);
	return yes;
}

static int
apply(PGconn *c, const char *dir, const char *name)
{
	struct buf	 path = BUF_INIT, sql = BUF_INIT;
	char		 version[4];
	const char	*vals[2];
	PGresult	*r;
	int		 rc = -1;

	memcpy(version, name, 3);
	version[3] = '\0';
	switch (applied(c, version)) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	buf_printf(&path, "%s/%s", dir, name);
	if (read_file(path.data, &sql) == -1)
		goto done;
	if (!exec_ok(c, "BEGIN"))
		goto done;
	if (!exec_ok(c, sql.data)) {
		log_warnx("migration %s failed; nothing of it was applied", name);
		exec_ok(c, "ROLLBACK");
		goto done;
	}
	vals[0] = version;
	vals[1] = name;
	r = PQexecParams(c, "INSERT INTO eventbox.migrations (version, name)"
	    " VALUES ($1::integer, $2::text)", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_warnx("%s", PQerrorMessage(c));
		PQclear(r);
		exec_ok(c, "ROLLBACK");
		goto done;
	}
	PQclear(r);
	if (!exec_ok(c, "COMMIT"))
		goto done;
	log_info("applied %s", name);
	rc = 0;
done:
	buf_free(&path);
	buf_free(&sql);
	return rc;
}

int
cmd_migrate(int argc, char **argv)
{
	PGconn		*c;
	DIR		*d;
	struct dirent	*de;
	char		*names[MAX_MIGRATIONS];
	size_t		 n = 0, i;
	int		 rc = 1;

	(void)argc;
	(void)argv;
	config_load();
	log_init("eventbox-migrate", cfg.log_file);
	if ((d = opendir(cfg.sql_dir)) == NULL)
		fatal("EVENTBOX_SQL_DIR %s", cfg.sql_dir);
	while ((de = readdir(d)) != NULL && n < MAX_MIGRATIONS)
		if (migration_name(de->d_name))
			if ((names[n++] = strdup(de->d_name)) == NULL)
				fatal("strdup");
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);

	c = PQconnectdb(cfg.dsn);
	if (PQstatus(c) != CONNECTION_OK) {
		log_warnx("database connection failed: %s", PQerrorMessage(c));
		goto done;
	}
	if (!exec_ok(c, "SET client_min_messages = warning") ||
	    !exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") ||
	    !exec_ok(c, "CREATE SCHEMA IF NOT EXISTS eventbox") ||
	    !exec_ok(c, "CREATE TABLE IF NOT EXISTS eventbox.migrations ("
	    " version integer PRIMARY KEY, name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())"))
		goto done;
	for (i = 0; i < n; i++)
		if (apply(c, cfg.sql_dir, names[i]) == -1)
			goto done;
	exec_ok(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
	log_info("database is up to date (%zu migrations)", n);
	rc = 0;
done:
	PQfinish(c);
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
