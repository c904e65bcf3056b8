/*
 * api_admin.h: what the staff API's two files (api_admin_events.c,
 * api_admin_registrations.c) and the LibCal staff route share.  Every
 * staff route carries R_ADMIN: the router has checked the Bearer key (401
 * otherwise) and left it in req->api_key, which goes on to the staff
 * functions (sql/004_staff.sql); they check it again, write the audit log
 * with the key's name, and take the event row lock first like every other
 * change.
 */
#ifndef EVENTBOX_API_ADMIN_H
#define EVENTBOX_API_ADMIN_H

#include <libpq-fe.h>

#include "http.h"
#include "json.h"
#include "query.h"

/* The query's values (query_parse()), or -1 after answering 400
 * invalid_query: a bad value, or a parameter the list does not take
 * (?lang= aside), named with the ones it takes. */
int	 admin_query(struct request *, struct response *,
	    const struct query_param *, size_t n, struct query_value *);
/* The roster of the event in the path: NULL after answering 404 or 503,
 * else a result the caller PQclear()s.  status, limit NULL mean all. */
PGresult *admin_roster_query(struct request *, struct response *,
	    const char *status, const char *limit, const char *offset);
/* The event named in the path (args[0]), or -1 after answering 404. */
int	 admin_event_arg(struct request *, struct response *);
/* The same, and the event is stored (a query): a write checks it before
 * its body, so that a missing event is 404 whatever the body. */
int	 admin_event_found(struct request *, struct response *);
/* Answers a refusal outcome of a staff function (409, 422); an outcome
 * nobody listed is a bug and aborts. */
void	 admin_refuse(struct request *, struct response *, const char *outcome);

/*
 * The checks of the staff bodies made in C, before any query (pure: no
 * database; tests/fuzz/fuzz_admin.c drives them).  body is what
 * json_body() returned.  Each answers 422 invalid_field (a member the
 * call does not take, or a bad value) and returns -1 or NULL.
 *
 * admin_capacity_body: PUT .../capacity {capacity}: 0 and a whole number
 *   from 0 to 1000000 in *capacity.
 * admin_questions_body: PUT .../questions {questions: [...]}: the list as
 *   JSON text for set_questions() to check, cJSON_free() it.
 * admin_correction_body: PATCH /api/v1/admin/registrations/{id}: the
 *   fields the body names, each checked as a patron's are (fields.h),
 *   as JSON text for correct_registration(), the email in its stored
 *   form (email_canonical()), organization null when cleared;
 *   cJSON_free() it.
 */
int	 admin_capacity_body(struct response *, const cJSON *body,
	    long *capacity);
char	*admin_questions_body(struct response *, const cJSON *body);
char	*admin_correction_body(struct response *, const cJSON *body);

/* One row of ADMIN_EVENT_COLS (db.c) as the staff API shows an event. */
cJSON	*json_admin_event(const PGresult *, int row);

#endif
