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
void	 esc_bytes(struct buf *, const char *, size_t,
	    const char *const [256]);
void	 html_escn(struct buf *, const char *, size_t);
void	 html_paragraphs(struct buf *, const char *);
void	 html_urlenc(struct buf *, const char *);
void	 xml_chars_only(struct buf *, size_t from);
/*
 * Marks text staff wrote in the language text_lang (an event's language, a
 * tag that is_language_tag() took: "en", "pt-BR", "pt_BR") inside a
 * document in doc_lang (the page's, the email's): appends ' lang="en"'
 * (LANG_HTML), ' xml:lang="en"' (LANG_XML), ';LANGUAGE=en' (LANG_ICAL,
 * RFC 5545's parameter) or the bare tag (LANG_TAG: JSON-LD's inLanguage),
 * the tag with a hyphen where gettext writes an underscore.  Nothing when
 * the two share their primary subtag ("es-MX" text on an "es" page is
 * Spanish to a screen reader already; a NULL doc_lang shares none), when
 * text_lang is NULL or empty, or when it is no such tag.  The one place
 * that decides whether and how staff text is marked (WCAG 3.1.2).
 */
enum lang_markup { LANG_HTML, LANG_XML, LANG_ICAL, LANG_TAG };
void	 lang_mark(struct buf *, enum lang_markup, const char *text_lang,
	    const char *doc_lang);
/* n bytes as 2n lower-case hex digits and a NUL in out (2n + 1 bytes). */
void	 hex_encode(char *out, const unsigned char *in, size_t n);

#endif
