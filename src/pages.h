/*
 * pages.h: what the page handlers (pages.c, pages_cancel.c) share: the
 * time zones a patron may view times in, and the "when" line of an event.
 */
#ifndef EVENTBOX_PAGES_H
#define EVENTBOX_PAGES_H

#include <libpq-fe.h>

#include "buf.h"

const char	*zone_label(const char *iana);
int		 zone_known(const char *iana);
void		 page_event_link(struct buf *, const char *slug,
		    const char *title);
void		 page_when(struct buf *, const PGresult *, int row,
		    const char *zone);

#endif
