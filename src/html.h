/*
 * html.h: HTML output for the public pages.  Everything that staff or
 * patrons typed goes through html_esc() (or html_paragraphs() for long
 * staff text): no markup from the database ever reaches a page as markup.
 *
 * Pages have one layout: lang="en", a skip link, header/main/footer
 * landmarks, one stylesheet from /static/ and no inline script or style,
 * so the Content-Security-Policy default-src 'self' holds.
 *
 * All strings are borrowed; the functions append to the buffer given.
 */
#ifndef EVENTBOX_HTML_H
#define EVENTBOX_HTML_H

#include "buf.h"
#include "http.h"

void	 html_esc(struct buf *, const char *);
void	 html_escn(struct buf *, const char *, size_t);
void	 html_paragraphs(struct buf *, const char *);
void	 html_urlenc(struct buf *, const char *);
void	 html_begin(struct response *, const char *title);
void	 html_page(struct response *, const char *title);	/* + <h1> */
void	 html_end(struct response *);
void	 html_error_page(struct response *, int status,
	    const char *message);	/* NULL: the usual text */

#endif
