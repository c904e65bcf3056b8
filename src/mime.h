/*
 * mime.h: the encodings of an email's headers and bodies (RFC 5322,
 * RFC 2045 quoted-printable and base64, RFC 2047 encoded words).
 *
 * Each function appends to out, which the caller owns; strings are
 * borrowed.  Header values must have been checked with header_safe().
 */
#ifndef EVENTBOX_MIME_H
#define EVENTBOX_MIME_H

#include <time.h>

#include "buf.h"

/* base64 of len octets, lines of wrap characters (0: one line). */
void	 mime_base64(struct buf *out, const unsigned char *p, size_t len,
	    size_t wrap);
/* "Name: value\r\n", folded at spaces, in encoded words when not ASCII
 * or when it holds what looks like one ("=?...?="); lines within 78
 * octets but for one word longer, within 998. */
void	 mime_header_text(struct buf *out, const char *name, const char *value);
/* "Name: display <addr>\r\n": the name as atoms folded at spaces, one
 * quoted string, or encoded words when not ASCII or when it looks like one
 * (a word longer than an encoded word holds in one, longer, on a line of
 * its own); the address never split. */
void	 mime_header_address(struct buf *out, const char *name,
	    const char *display, const char *addr);
/* "Date: ...\r\n" in UTC. */
void	 mime_date(struct buf *out, time_t t);
/* UTF-8 text with "\n" line breaks as quoted-printable with CRLFs, no
 * soft line break inside a character, no line that starts "From ". */
void	 mime_quoted_printable(struct buf *out, const char *s);

#endif
