/*
 * handlers.h: one function per route (router.c's table), grouped by
 * resource: the JSON API in api_events.c, api_registrations.c,
 * api_admin_events.c and api_admin_registrations.c (staff, behind an API
 * key), api_libcal.c (LibCal-compatible reads), api_oauth.c (its OAuth
 * tokens and the staff's API clients) and api_health.c; the public
 * HTML pages in page_events.c, page_register.c and page_cancel.c.  Each is
 * called by the router with validated path captures in req->args and, for
 * routes with a body, the body read and NUL-terminated in req->body; each
 * answers through answer.h.
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
void	 h_metrics(struct request *, struct response *);
void	 h_page_events(struct request *, struct response *);
void	 h_page_event(struct request *, struct response *);
void	 h_page_ics(struct request *, struct response *);
void	 h_page_register(struct request *, struct response *);
void	 h_page_register_redirect(struct request *, struct response *);
void	 h_page_cancel_show(struct request *, struct response *);
void	 h_page_cancel(struct request *, struct response *);
void	 h_page_confirm_show(struct request *, struct response *);
void	 h_page_confirm(struct request *, struct response *);
void	 h_registration_confirm(struct request *, struct response *);
void	 h_feed_ics(struct request *, struct response *);
void	 h_feed_atom(struct request *, struct response *);
void	 h_embed_events(struct request *, struct response *);
void	 h_page_registration(struct request *, struct response *);

void	 h_admin_event_create(struct request *, struct response *);
void	 h_admin_event_get(struct request *, struct response *);
void	 h_admin_events_list(struct request *, struct response *);
void	 h_admin_audit(struct request *, struct response *);
void	 h_admin_waitlist(struct request *, struct response *);
void	 h_admin_questions_get(struct request *, struct response *);
void	 h_admin_questions_put(struct request *, struct response *);
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
void	 h_admin_registration_update(struct request *, struct response *);
void	 h_admin_resend(struct request *, struct response *);

/*
 * Shared by the patrons' and the staff's registration routes
 * (api_registrations.c): the fields of a JSON body, checked, 0; or -1
 * after answering 400 or 422 in the API's words for the first bad field.
 */
struct registration_fields;
struct field_problem;
int	 api_registration_fields(struct request *, struct response *,
	    struct registration_fields *);
void	 api_field_error(struct response *, const struct field_problem *);

void	 h_libcal_events(struct request *, struct response *);
void	 h_libcal_event(struct request *, struct response *);
void	 h_libcal_registrations(struct request *, struct response *);
void	 h_libcal_calendars(struct request *, struct response *);
void	 h_libcal_categories(struct request *, struct response *);

void	 h_oauth_token(struct request *, struct response *);
void	 h_admin_clients(struct request *, struct response *);
void	 h_admin_client_create(struct request *, struct response *);
void	 h_admin_client_revoke(struct request *, struct response *);
void	 h_admin_webhooks(struct request *, struct response *);
void	 h_admin_webhook_create(struct request *, struct response *);
void	 h_admin_webhook_disable(struct request *, struct response *);

#endif
