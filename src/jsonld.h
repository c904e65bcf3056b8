/*
 * jsonld.h: the schema.org/Event of an event page as JSON-LD, so that
 * search engines show the event (date, place or online, organizer,
 * presenter, free admission, seats).  Never the online URL: an online
 * event's VirtualLocation is its public page.
 */
#ifndef EVENTBOX_JSONLD_H
#define EVENTBOX_JSONLD_H

#include <libpq-fe.h>

#include "buf.h"

/* Appends <script type="application/ld+json">...</script> for row 0 of a
 * STMT_PAGE_EVENT result; the JSON cannot end the script element. */
void	 jsonld_event(struct buf *, const PGresult *);

#endif
