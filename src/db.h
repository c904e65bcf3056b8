/*
 * db.h: the worker's one PostgreSQL connection and its prepared statements.
 *
 * Every statement the service runs is in the stmts[] table in db.c,
 * prepared once per connection and run with parameters; no SQL is ever
 * built from strings.  db_query() reconnects (and re-prepares) when the
 * server went away, so a restarted PostgreSQL needs no restart here.
 *
 * Ownership: on DB_OK the caller owns *res and must PQclear() it; on any
 * other status *res is NULL.
 */
#ifndef EVENTBOX_DB_H
#define EVENTBOX_DB_H

#include <libpq-fe.h>

enum stmt {
	STMT_PING,
	STMT_EVENT_BY_SLUG,
	STMT_EVENT_BY_ID,
	STMT_EVENT_LIST,
	STMT_REGISTER,
	STMT_CANCEL,
	STMT_REGISTRATION_BY_TOKEN,
	STMT_PAGE_EVENT,
	STMT_PAGE_LIST,
	STMT_PAGE_CATEGORIES,
	STMT_PAGE_ICS,
	STMT_PAGE_REGISTRATION,
	STMT_API_KEY_NAME,
	STMT_ADMIN_SAVE_EVENT,
	STMT_ADMIN_EVENT,
	STMT_ADMIN_SET_STATUS,
	STMT_ADMIN_SET_CAPACITY,
	STMT_ADMIN_ROSTER,
	STMT_ADMIN_REGISTER,
	STMT_ADMIN_CANCEL,
	STMT_ADMIN_PROMOTE,
	STMT_ADMIN_CHECK_IN,
	STMT_LIBCAL_LIST,
	STMT_LIBCAL_BY_IDS,
	STMT_APIKEY_CREATE,
	STMT_APIKEY_REVOKE,
	STMT_APIKEY_LIST,
	STMT_PURGE_STEP,
	STMT__MAX
};

enum db_status {
	DB_OK,
	DB_UNAVAILABLE,	/* no connection: 503 */
	DB_BUSY,	/* lock or statement timeout, deadlock: 503 */
	DB_ERROR	/* anything else: 500, logged */
};

void		 db_init(const char *role);
enum db_status	 db_query(enum stmt, int nparams, const char *const *values,
		    PGresult **res);
void		 db_close(void);
const char	*db_value(const PGresult *, int row, const char *column);
int		 db_isnull(const PGresult *, int row, const char *column);
unsigned long	 db_reconnects(void);

#endif
