/*
 * migrate.c: `eventbox migrate`.  Two kinds of SQL file, as Flyway has
 * versioned and repeatable migrations:
 *
 *   sql/NNN_*.sql       what holds data (tables, columns, constraints,
 *                       indexes, roles).  Applied once each, in order, each in
 *                       its own transaction, recorded in eventbox.migrations;
 *                       applied versions are skipped.  A file is known by its
 *                       name after the number too: one renumbered after a
 *                       release applied it is not applied again
 *                       (renumbered() below).
 *   sql/rules/NN_*.sql  the one current definition of every function,
 *                       trigger, view and grant.  After the numbered files,
 *                       all of them are re-applied, in name order, in one
 *                       transaction, when the SHA-256 over their names and
 *                       contents differs from the last one recorded in
 *                       eventbox.rules_applied; an unchanged set is a no-op.
 *
 * Everything runs under one advisory lock, so two deploys at once wait for
 * each other.  Safe to run again.
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
#include <openssl/evp.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "proc.h"
#include "validate.h"

#define MIGRATE_LOCK	"7423001"	/* pg_advisory_lock key: "eventbox" */
#define MAX_MIGRATIONS	1000	/* numbered files, and rule files */
#define RULES_SUBDIR	"rules"

static int
exec_ok(PGconn *c, const char *sql)
{
	PGresult	*r = PQexec(c, sql);
	int		 ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
			    PQresultStatus(r) == PGRES_TUPLES_OK ||
			    PQresultStatus(r) == PGRES_EMPTY_QUERY; /* comments */

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

/* word.sql, not hidden */
static int
rule_name(const char *n)
{
	size_t	 len = strlen(n);

	return len > 4 && n[0] != '.' && strcmp(n + len - 4, ".sql") == 0;
}

/*
 * Fills names[] with the sorted names in dir that pass want(); returns
 * their number, or -1 if dir cannot be read.  The caller frees each name.
 */
static int
list_dir(const char *dir, int (*want)(const char *), char **names)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warn("%s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < MAX_MIGRATIONS)
		if (want(de->d_name))
			if ((names[n++] = strdup(de->d_name)) == NULL)
				fatal("strdup");
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	return (int)n;
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
	if (!exec_ok(c, buf_str(&sql))) {
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

/* sql with one parameter, or none when param is NULL; *out gets the result. */
static int
exec_params_ok(PGconn *c, const char *sql, const char *param, PGresult **out)
{
	const char	*vals[1] = { param };
	PGresult	*r;
	int		 ok;

	r = PQexecParams(c, sql, param != NULL, NULL, vals, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		log_warnx("%s", PQerrorMessage(c));
	if (ok && out != NULL)
		*out = r;
	else
		PQclear(r);
	return ok;
}

/*
 * Three numbered files were renumbered after releases had applied them:
 * 025_question_positions.sql is 024, 027_holds_end_by_start.sql is 025 and
 * 027_moved_events.sql is 026.  Applied by number alone, a database that
 * recorded one under its old number ran it again under the new one (026
 * failed there: its table exists, and no later release could start), and
 * its old number stayed taken, so the next file given that number would
 * have been skipped without a word.
 *
 * So before the numbered files run, in one transaction: a record whose name
 * is no file in names (newline-separated) gives way; it takes the number
 * and name of the one file that has the same name after the number, when
 * that file has no record of its own; else it keeps its number if no file
 * has it (a file since removed), and is dropped if one does (a file applied
 * again under its new number, or a number given to another file).
 */
static int
renumbered(PGconn *c, const char *names)
{
	PGresult	*r = NULL;
	int		 i, ok;

	if (!exec_ok(c, "BEGIN"))
		return -1;
	/* The records of no file, out of the numbers' way. */
	ok = exec_params_ok(c, "UPDATE eventbox.migrations SET version = -version"
	    " WHERE version > 0"
	    " AND name <> ALL (string_to_array($1::text, E'\\n'))", names, &r);
	if (!ok || strcmp(PQcmdTuples(r), "0") == 0) {
		PQclear(r);
		exec_ok(c, ok ? "COMMIT" : "ROLLBACK");
		return ok ? 0 : -1;
	}
	PQclear(r);
	r = NULL;
	ok = exec_params_ok(c, "WITH f AS ("
	    "  SELECT n AS name, substr(n, 5) AS word"
	    "    FROM unnest(string_to_array($1::text, E'\\n')) AS n),"
	    " moved AS ("
	    "  SELECT DISTINCT ON (f.name) m.version AS parked, m.name AS was,"
	    "         f.name"
	    "    FROM eventbox.migrations m JOIN f ON substr(m.name, 5) = f.word"
	    "   WHERE m.version < 0"
	    "     AND NOT EXISTS (SELECT 1 FROM eventbox.migrations x"
	    "                      WHERE x.name = f.name)"
	    "     AND (SELECT count(*) FROM f g WHERE g.word = f.word) = 1"
	    "   ORDER BY f.name, m.version)"
	    " UPDATE eventbox.migrations m"
	    "    SET version = substr(moved.name, 1, 3)::integer, name = moved.name"
	    "   FROM moved WHERE m.version = moved.parked"
	    " RETURNING moved.was, m.name", names, &r);
	for (i = 0; ok && i < PQntuples(r); i++)
		log_info("%s was applied as %s: recorded under its new number",
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 0));
	PQclear(r);
	r = NULL;
	ok = ok && exec_params_ok(c, "UPDATE eventbox.migrations m"
	    " SET version = -m.version WHERE m.version < 0"
	    " AND -m.version <> ALL (SELECT substr(n, 1, 3)::integer"
	    "   FROM unnest(string_to_array($1::text, E'\\n')) AS n)"
	    " AND NOT EXISTS (SELECT 1 FROM eventbox.migrations x"
	    "                  WHERE x.version = -m.version)", names, NULL);
	ok = ok && exec_params_ok(c, "DELETE FROM eventbox.migrations"
	    " WHERE version < 0 RETURNING name", NULL, &r);
	for (i = 0; ok && i < PQntuples(r); i++)
		log_warnx("the record of %s is dropped: no file has that name"
		    " and another has its number (it was applied again under"
		    " a new one, or removed)", PQgetvalue(r, i, 0));
	PQclear(r);		/* NULL when a statement failed */
	if (!ok || !exec_ok(c, "COMMIT")) {
		exec_ok(c, "ROLLBACK");
		return -1;
	}
	return 0;
}

static int
last_rules_checksum(PGconn *c, char *out, size_t outsz)
{
	PGresult	*r;

	r = PQexecParams(c, "SELECT checksum FROM eventbox.rules_applied"
	    " ORDER BY id DESC LIMIT 1", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warnx("%s", PQerrorMessage(c));
		PQclear(r);
		return -1;
	}
	out[0] = '\0';
	if (PQntuples(r) > 0)
		snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/*
 * Re-applies every rule file in dir, in name order, in one transaction,
 * unless the set is the one applied last.  The checksum covers each file's
 * name and length as well as its text, so a renamed, added or removed file
 * counts as a change.  Each file is read once: what is hashed is what is
 * sent.
 */
static int
apply_rules(PGconn *c, const char *dir)
{
	char		*names[MAX_MIGRATIONS];
	struct buf	 texts[MAX_MIGRATIONS];
	struct buf	 path = BUF_INIT;
	EVP_MD_CTX	*md;
	unsigned char	 digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen = 0, j;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1], last[2 * EVP_MAX_MD_SIZE + 1];
	char		 count[16];
	const char	*vals[2];
	PGresult	*r;
	int		 n, i, rc = -1, in_tx = 0;

	if ((n = list_dir(dir, rule_name, names)) == -1)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatal("EVP_DigestInit_ex");
	for (i = 0; i < n; i++)
		texts[i] = (struct buf)BUF_INIT;
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, names[i]);
		if (read_file(path.data, &texts[i]) == -1)
			goto done;
		buf_reset(&path);
		buf_printf(&path, "%s\n%zu\n", names[i], texts[i].len);
		if (EVP_DigestUpdate(md, path.data, path.len) != 1 ||
		    EVP_DigestUpdate(md, buf_str(&texts[i]), texts[i].len) != 1)
			fatal("EVP_DigestUpdate");
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1)
		fatal("EVP_DigestFinal_ex");
	for (j = 0; j < dlen; j++)
		snprintf(hex + 2 * j, 3, "%02x", digest[j]);

	if (last_rules_checksum(c, last, sizeof(last)) == -1)
		goto done;
	if (strcmp(last, hex) == 0) {
		log_info("rules unchanged (%d files, sha256 %.12s)", n, hex);
		rc = 0;
		goto done;
	}

	/* A rule set that fails anywhere leaves the previous one, whole. */
	if (!exec_ok(c, "BEGIN"))
		goto done;
	in_tx = 1;
	for (i = 0; i < n; i++) {
		if (!exec_ok(c, buf_str(&texts[i]))) {
			log_warnx("rule file %s failed; no rule file was applied",
			    names[i]);
			goto done;
		}
	}
	snprintf(count, sizeof(count), "%d", n);
	vals[0] = hex;
	vals[1] = count;
	r = PQexecParams(c, "INSERT INTO eventbox.rules_applied (checksum, files)"
	    " VALUES ($1::text, $2::integer)", 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_warnx("%s", PQerrorMessage(c));
		PQclear(r);
		goto done;
	}
	PQclear(r);
	in_tx = 0;
	if (!exec_ok(c, "COMMIT"))
		goto done;
	log_info("applied %d rule files (sha256 %.12s, was %.12s)", n, hex,
	    last[0] != '\0' ? last : "none");
	rc = 0;
done:
	if (in_tx)
		exec_ok(c, "ROLLBACK");
	EVP_MD_CTX_free(md);
	buf_free(&path);
	for (i = 0; i < n; i++) {
		buf_free(&texts[i]);
		free(names[i]);
	}
	return rc;
}

int
cmd_migrate(int argc, char **argv)
{
	char		*names[MAX_MIGRATIONS];
	struct buf	 rules = BUF_INIT, all = BUF_INIT;
	PGconn		*c = NULL;
	int		 n, i;
	int		 rc = 1;

	(void)argc;
	(void)argv;
	config_load();
	log_init("eventbox-migrate", cfg.log_file);
	if ((n = list_dir(cfg.sql_dir, migration_name, names)) == -1)
		fatal("EVENTBOX_SQL_DIR %s", cfg.sql_dir);
	for (i = 0; i < n; i++) {
		if (i > 0 && strncmp(names[i - 1], names[i], 3) == 0) {
			log_warnx("%s and %s have one number; renumber the new"
			    " one", names[i - 1], names[i]);
			goto done;
		}
		buf_printf(&all, "%s%s", i > 0 ? "\n" : "", names[i]);
	}
	buf_printf(&rules, "%s/" RULES_SUBDIR, cfg.sql_dir);

	if ((c = db_connect(cfg.dsn, "eventbox migrate")) == NULL)
		goto done;
	if (!exec_ok(c, "SET client_min_messages = warning") ||
	    !exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") ||
	    !exec_ok(c, "CREATE SCHEMA IF NOT EXISTS eventbox") ||
	    !exec_ok(c, "CREATE TABLE IF NOT EXISTS eventbox.migrations ("
	    " version integer PRIMARY KEY, name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())"))
		goto done;
	if (renumbered(c, buf_str(&all)) == -1)
		goto done;
	for (i = 0; i < n; i++)
		if (apply(c, cfg.sql_dir, names[i]) == -1)
			goto done;
	if (apply_rules(c, rules.data) == -1)
		goto done;
	exec_ok(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
	log_info("database is up to date (%d migrations)", n);
	rc = 0;
done:
	if (c != NULL)
		PQfinish(c);
	for (i = 0; i < n; i++)
		free(names[i]);
	buf_free(&rules);
	buf_free(&all);
	return rc;
}
