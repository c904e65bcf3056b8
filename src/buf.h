/*
 * buf.h: a growable byte buffer, always NUL-terminated.
 *
 * Ownership: a struct buf owns its storage.  buf_reset() keeps the storage
 * for reuse (a worker keeps its response buffers for its whole life);
 * buf_free() releases it.  buf_detach() hands the storage to the caller,
 * who must free() it.  On allocation failure the process aborts: a worker
 * that cannot allocate a few kilobytes is better replaced by the master.
 */
#ifndef EVENTBOX_BUF_H
#define EVENTBOX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_grow(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
char	*buf_detach(struct buf *);
const char *buf_str(const struct buf *);

#endif
