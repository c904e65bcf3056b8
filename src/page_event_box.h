/*
 * page_event_box.h: the event box, the page of one event with its
 * registration form, as GET /events/{slug} (page_events.c) shows it and
 * POST /events/{slug}/register (page_register.c) shows it again with what
 * went wrong.
 */
#ifndef EVENTBOX_PAGE_EVENT_BOX_H
#define EVENTBOX_PAGE_EVENT_BOX_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "fields.h"
#include "http.h"

/* What a patron typed, and what was wrong with it, by field (fields.h). */
struct form_state {
	const char	*value[FIELD__MAX];
	const char	*error[FIELD__MAX];	/* NULL: fine */
	const char	*notice;	/* the event said no: full, closed */
	/* The answers to the event's questions and what is wrong with them,
	 * objects by question id (page_questions.h); NULL: none. */
	const cJSON	*answers;
	const cJSON	*answer_errors;
};

/*
 * The event in the path (args[0], a slug) for a page, its times in the
 * zone tz (NULL: its own): a result the caller PQclear()s, or NULL when
 * the answer (404, 503) is already written.
 */
PGresult *load_event(struct request *, struct response *, const char *tz);
/* The whole page from load_event()'s row, times in the zone shown; fs
 * NULL for an empty form. */
void	 event_box(struct request *, struct response *, const PGresult *,
	    const char *shown, const struct form_state *fs);

#endif
