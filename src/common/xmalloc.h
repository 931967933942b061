/*
 * xmalloc.h: allocation that dies on failure, for roost's own bookkeeping.
 * Never use it for sizes a peer controls; bound those and fail normally.
 */
#ifndef ROOST_XMALLOC_H
#define ROOST_XMALLOC_H

#include <stdarg.h>

/* Allocate or die; xcalloc zeroes. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Format into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) printflike(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

#endif
