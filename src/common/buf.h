/*
 * buf.h: a growable byte buffer with an optional hard limit. Used for
 * rendered screens, frames and exported text; not a ring (see the holder).
 */
#ifndef ROOST_BUF_H
#define ROOST_BUF_H

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit; /* 0: unbounded; else appends past it fail with -ERR_TOOBIG */
};

void buf_init(struct buf *b, size_t limit);
void buf_release(struct buf *b);
void buf_clear(struct buf *b);

/* Append; return 0 or -ERR_TOOBIG when the limit would be passed. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) printflike(2, 3);

/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);

#endif
