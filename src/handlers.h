/*
 * handlers.h: one function per route, grouped by resource in
 * api_events.c, api_registrations.c, api_admin.c (staff, behind an API
 * key), libcal.c (LibCal-compatible reads) and health.c (JSON), and pages.c
 * (the public HTML pages).  Each is called by the
 * router with validated path captures in req->args and, for JSON routes,
 * the body read and NUL-terminated in req->body.
 */
#ifndef EVENTBOX_HANDLERS_H
#define EVENTBOX_HANDLERS_H

#include <libpq-fe.h>

#include "http.h"

void	 h_events_list(struct request *, struct response *);
void	 h_event_get(struct request *, struct response *);
void	 h_register(struct request *, struct response *);
void	 h_registration_get(struct request *, struct response *);
void	 h_registration_cancel(struct request *, struct response *);
void	 h_healthz(struct request *, struct response *);
void	 h_page_events(struct request *, struct response *);
void	 h_page_event(struct request *, struct response *);
void	 h_page_ics(struct request *, struct response *);
void	 h_page_register(struct request *, struct response *);
void	 h_page_cancel_show(struct request *, struct response *);
void	 h_page_cancel(struct request *, struct response *);

void	 h_admin_event_create(struct request *, struct response *);
void	 h_admin_event_get(struct request *, struct response *);
void	 h_admin_event_update(struct request *, struct response *);
void	 h_admin_event_publish(struct request *, struct response *);
void	 h_admin_event_unpublish(struct request *, struct response *);
void	 h_admin_event_cancel(struct request *, struct response *);
void	 h_admin_capacity(struct request *, struct response *);
void	 h_admin_roster(struct request *, struct response *);
void	 h_admin_roster_csv(struct request *, struct response *);
void	 h_admin_register(struct request *, struct response *);
void	 h_admin_cancel(struct request *, struct response *);
void	 h_admin_promote(struct request *, struct response *);
void	 h_admin_check_in(struct request *, struct response *);

/* Shared by the staff routes of api_admin.c and libcal.c. */
PGresult *admin_roster_query(struct request *, struct response *,
	    const char *status, const char *limit, const char *offset);

void	 h_libcal_events(struct request *, struct response *);
void	 h_libcal_event(struct request *, struct response *);
void	 h_libcal_registrations(struct request *, struct response *);

#endif
