/*
 * page_layout.h: the one layout of the public pages, their error page, and
 * the pieces every page prints the same way: the time zones a patron may
 * view times in, an event's "when" line, link and format.
 *
 * Pages have one layout: lang= the request's language (i18n.h), a
 * switcher to the other languages, a skip link, header/main/footer
 * landmarks, one stylesheet from /static/ and no inline script or style,
 * so the Content-Security-Policy default-src 'self' holds.  The text in
 * them is escaped with escape.h.
 *
 * All strings are borrowed; the functions write the response's body.
 */
#ifndef EVENTBOX_PAGE_LAYOUT_H
#define EVENTBOX_PAGE_LAYOUT_H

#include <stddef.h>

#include <libpq-fe.h>

#include "buf.h"
#include "http.h"
#include "i18n.h"
#include "query.h"

struct page_zone {
	const char	*iana;
	const char	*label;
};

extern const struct page_zone	page_zones[];
extern const size_t		page_nzones;

void	 html_begin(struct response *, const char *title);
void	 html_page(struct response *, const char *title);	/* + <h1> */
void	 html_page_with_feeds(struct response *, const char *title,
	    const char *heading, const char *query);
	    /* + <link rel="alternate"> to the feeds, <h1> heading */
void	 html_end(struct response *);

/* The language chosen by ?lang= stays in the pages' links: router.c
 * hands over the request; page_href() writes an (escaped) path with
 * "?lang=es" when ?lang= chose the language; page_lang_query() only that
 * part ("&amp;lang=es" after a query); page_lang_field() a GET form's
 * hidden field. */
void	 page_lang_link(const struct request *);
void	 page_href(struct buf *, const char *path);
void	 page_lang_query(struct buf *, int after_query);
void	 page_lang_field(struct buf *);
/* A token's page (the links of a registration's emails) in the
 * registrant's language, when ?lang= names none and it is not English:
 * call before html_page(). */
void	 page_token_lang(struct request *, const char *registrant_lang);
void	 html_error_page(struct response *, int status,
	    const char *message);	/* NULL: the usual text */
/* The error of a path under /embed/: a fragment in the embed's shape and
 * its ?lang= (query, the raw query), why for a 4xx (page_feeds.c).
 * html_error_page() and page_query_error() answer so on those paths. */
void	 embed_error(struct response *, const char *query, int status,
	    const char *why);
/* "Back to the event": a paragraph with the link to the event slug. */
void	 page_back_link(struct buf *, const char *slug);
/* The 400 page of a query query_parse() refused at p (v, its value): why
 * (a msgid) for a bad value, or that the address gives p's key twice, or
 * what is wrong with a name in it. */
void	 page_query_error(struct response *, const struct query_param *p,
	    const struct query_value *v, const char *why);

/* The one 404 page of an emailed link that leads nowhere; why: plain
 * text, marked with N_() (translated here). */
void	 html_link_inactive(struct response *, const char *why);
/* Why, when nothing more precise is known. */
#define LINK_INACTIVE_WHY N_("The registration it belonged to was already " \
	"cancelled, or the link was copied incompletely, or a newer email " \
	"replaced it. Nothing was changed.")
/* The POST of an emailed link's page (/cancel/TOKEN, /confirm/TOKEN): its
 * form (csrf) and token checked; 0, or -1 after answering 400, 403 (its
 * link back to the page, for a fresh form) or the inactive page. */
int	 html_link_form(struct request *, struct response *);

int	 zone_known(const char *iana);
/* ?tz=, the zone the patron picked to see a page's times in: in tz->text
 * (tz->present 0: none, the event's own); -1 after answering 400 for a
 * zone that is not one of page_zones[] (or a tz given twice).  On the
 * pages of an emailed link ("/registration/TOKEN", "/confirm/TOKEN",
 * req->args[0] the token), whose 400 leads back to the page without the
 * zone, "Back to your registration" (a malformed token: to all events). */
int	 page_link_tz_query(const struct request *, struct response *,
	    struct query_value *tz);
/* The same on an event's own pages (/events/{slug}..., req->args[0] the
 * slug): the 400 leads back to the event, without the zone. */
int	 page_event_tz_query(const struct request *, struct response *,
	    struct query_value *tz);
const char *zone_label(const char *iana);	/* the IANA name if unknown */
void	 page_tz_form(struct buf *, const char *action, const char *shown,
	    const char *own);
/* The link to an event, its title staff's text in lang (events.language;
 * NULL: unknown), marked where that is not the page's (lang_mark()). */
void	 page_event_link(struct buf *, const char *slug, const char *title,
	    const char *lang);
/*
 * The same from a row of a list of events (columns slug, title, language,
 * location, twin), with the line that dates it, which the caller writes between
 * page_dated_open() and page_dated_close() (an element tag, e.g. "p"),
 * list a prefix of ids unique in the page ("event": ids event-ROW and
 * event-ROW-when).  The link's name is its title and that line
 * (aria-labelledby), so that a screen reader, which reads links out of
 * their list, tells two events of one title apart (WCAG 2.4.4, 2.4.9);
 * the line is aria-hidden, so that one reading the page on does not say
 * the date twice, and holds nothing the name lacks; the date is in the
 * page once, for a text browser too.  A twin (another row has the same
 * title and start: two rooms) has its location added to the line.
 */
void	 page_event_link_dated(struct buf *, const PGresult *, int row,
	    const char *list);
void	 page_dated_open(struct buf *, const char *tag, const char *list,
	    int row);
void	 page_dated_close(struct buf *, const char *tag, const PGresult *,
	    int row);
/* "Wednesday, December 10, 2026, 2:00pm": an event's start, in the zone
 * of the row's starts_local (PAGE_TIMES, db.c), escaped. */
void	 page_start(struct buf *, const PGresult *, int row);
/* "Story time, Monday, March 10, 2098, 10:00am", not escaped (for a
 * <title>): the event's title (column col of row 0) and its start, in the
 * zone and language of the row's starts_local, as the page shows it. */
void	 page_dated_title(struct buf *, const PGresult *, const char *col);
/* Opens a token holder's <dl class="facts"> with the registration's Name,
 * the stored name, when name_shown() shows it (not a link or an address
 * an older release took). */
void	 page_facts_begin(struct buf *, const char *name);
/* "Wednesday, December 10, 2026, 2:00pm to 3:00pm (Eastern Time ...)",
 * from a row with PAGE_TIMES' columns (db.c). */
void	 page_when(struct buf *, const PGresult *, int row, const char *zone);
/* The column col ("starts_local") of a row as a local time. */
void	 page_local(const PGresult *, int row, const char *col,
	    struct local_time *);
/* Appends tpl, translated already, with {date} and {time} filled from the
 * local time in column col, and {zone} with zone's label (zone may be NULL
 * when tpl has none): "Registration opens {date} at {time}." */
void	 page_fill_date_time(struct buf *, const char *tpl, const PGresult *,
	    const char *col, const char *zone);
/* The end of page_when(): "3:00pm", or "Thursday, ..., 3:00pm". */
void	 page_until(struct buf *, const PGresult *, int row);

/* Public and cacheable for PAGE_CACHE_MAX_AGE seconds, with an ETag of the
 * finished body; 304 without it for a matching If-None-Match. */
#define PAGE_CACHE_MAX_AGE	300
void	 page_cache(struct request *, struct response *);

#endif
