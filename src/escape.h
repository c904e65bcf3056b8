/*
 * escape.h: text made safe for HTML and URLs.  Everything that staff or
 * patrons typed goes through html_esc() (or html_paragraphs() for long
 * staff text) on its way into a page or an email: no markup from the
 * database ever reaches either as markup.
 *
 * Pure: no I/O, no globals, nothing of HTTP (the mailer links this without
 * the FastCGI side).  All strings are borrowed; the functions append to the
 * buffer given.
 */
#ifndef EVENTBOX_ESCAPE_H
#define EVENTBOX_ESCAPE_H

#include <stddef.h>

#include "buf.h"

void	 html_esc(struct buf *, const char *);
void	 html_escn(struct buf *, const char *, size_t);
void	 html_paragraphs(struct buf *, const char *);
void	 html_urlenc(struct buf *, const char *);
/* n bytes as 2n lower-case hex digits and a NUL in out (2n + 1 bytes). */
void	 hex_encode(char *out, const unsigned char *in, size_t n);

#endif
