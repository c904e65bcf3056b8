/*
 * handlers.h: one function per route, grouped by resource in
 * api_events.c, api_registrations.c and health.c (JSON), and pages.c
 * (the public HTML pages).  Each is called by the
 * router with validated path captures in req->args and, for JSON routes,
 * the body read and NUL-terminated in req->body.
 */
#ifndef EVENTBOX_HANDLERS_H
#define EVENTBOX_HANDLERS_H

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

#endif
