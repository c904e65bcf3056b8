/*
 * buf.c: growable byte buffers (see buf.h for ownership).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

void
buf_grow(struct buf *b, size_t extra)
{
	size_t	 want, ncap;
	char	*p;

	if (extra > SIZE_MAX - b->len - 1)
		fatalx("buffer size overflow");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		fatal("realloc");
	b->data = p;
	b->cap = ncap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* The escapers and encoders append byte by byte: room for one more and
 * its NUL is the common case, and takes no call. */
void
buf_addc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Formats into the room left first, and only when that was too small
 * grows and formats again: one pass, not a measuring one and a writing
 * one, for almost every call. */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 cp;
	size_t	 room;
	int	 n;

	if (b->data == NULL)
		buf_grow(b, 0);
	room = b->cap - b->len;
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0)
		fatal("vsnprintf");
	if ((size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
	char	*p;

	if (b->data == NULL)
		buf_grow(b, 0), b->data[0] = '\0';
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}
