/*
 * history-export.c: writes a session's history to a file descriptor as raw
 * output bytes, plain text rendered through a VT (scrollback, then the
 * final screen), or an asciicast v2 recording. For the CLI; the holder
 * never exports. Reading the log is history-reader.c's job.
 */
#include "common/compat.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "history/history-export.h"
#include "vt/vt.h"

#define HISTORY_EXPORT_CHUNK (256u << 10) /* bytes gathered before each write(2) */

/* Buffered output to the caller's fd; the first error sticks. */
struct history_export_out {
	int fd;
	struct buf b;
	int rc;
	char *cause; /* why rc, for people; NULL for a closed pipe, which is quiet */
};

static int
history_export_flush(struct history_export_out *out)
{
	const char *p = out->b.data;
	size_t len = out->b.len;
	struct pollfd pfd;
	ssize_t n;

	while (out->rc == 0 && len > 0) {
		n = write(out->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pfd.fd = out->fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0) {
			out->rc = errno == EPIPE ? -ERR_IO : err_from_errno(errno);
			if (errno != EPIPE)
				out->cause =
				    xasprintf("cannot write the history: %s", strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	buf_clear(&out->b);
	return out->rc;
}

static int
history_export_add(struct history_export_out *out, const void *data, size_t len)
{
	if (out->rc != 0)
		return out->rc;
	buf_add(&out->b, data, len); /* unbounded buf: cannot fail */
	if (out->b.len >= HISTORY_EXPORT_CHUNK)
		return history_export_flush(out);
	return 0;
}

/*
 * Next record, saying on the warning callback where the cap dropped old
 * output or a write error left a gap, so that an export is never silently
 * incomplete.
 */
static int
history_export_next(const struct history_export_opts *o, bool notes, struct history_reader *r,
		    struct history_record *rec)
{
	int rc = history_reader_next(r, rec);
	char msg[320];

	if (rc <= 0 || !notes || o->warn == NULL)
		return rc;
	if (rec->type == HISTORY_DROP) {
		snprintf(msg, sizeof msg, "older output is gone (history cap): %.*s",
			 (int)(rec->len > 256 ? 256 : rec->len), rec->data);
		o->warn(msg, o->warn_arg);
	} else if (rec->type == HISTORY_MARK && rec->len >= 4 && memcmp(rec->data, "gap:", 4) == 0) {
		snprintf(msg, sizeof msg, "output missing here: %.*s",
			 (int)(rec->len > 256 ? 256 : rec->len), rec->data);
		o->warn(msg, o->warn_arg);
	}
	return rc;
}

int
history_format_parse(const char *s, enum history_format *f)
{
	if (strcmp(s, "raw") == 0)
		*f = HISTORY_FORMAT_RAW;
	else if (strcmp(s, "text") == 0)
		*f = HISTORY_FORMAT_TEXT;
	else if (strcmp(s, "asciicast") == 0)
		*f = HISTORY_FORMAT_ASCIICAST;
	else
		return -ERR_INVAL;
	return 0;
}

static int
history_export_open(const char *dir, const struct history_export_opts *o, bool warn,
		    struct history_reader **rp, char **cause)
{
	int rc;

	rc = history_reader_open(dir, warn ? o->warn : NULL, o->warn_arg, rp);
	if (rc == -ERR_NOENT)
		*cause = xasprintf("no history at '%s'", dir);
	else if (rc != 0)
		*cause = xasprintf("cannot read the history at '%s': %s", dir, err_message(rc));
	return rc;
}

/* Parse a RESIZE payload "COLSxROWS"; false if it is not one. */
static bool
history_export_size(const char *p, size_t len, int *cols, int *rows)
{
	long v[2] = {0, 0};
	size_t i;
	int k = 0, digits = 0;

	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9' && v[k] < 100000) {
			v[k] = v[k] * 10 + (p[i] - '0');
			digits++;
		} else if (p[i] == 'x' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else
			return false;
	}
	if (k != 1 || digits == 0 || v[0] < 1 || v[1] < 1 || v[0] > 1000 || v[1] > 1000)
		return false;
	*cols = (int)v[0];
	*rows = (int)v[1];
	return true;
}

/*
 * Raw output. With a tail, a first pass counts the lines and notes where
 * the output ends, and a second pass skips to the start of the Nth-last
 * line, like tail -n: a final line without a newline counts as a line.
 */
static int
history_export_raw(const char *dir, const struct history_export_opts *o,
		   struct history_export_out *out, char **cause)
{
	struct history_reader *r = NULL;
	struct history_record rec;
	uint64_t newlines = 0, lines, skip = 0, end = UINT64_MAX, total = 0;
	const char *p, *nl;
	char lastc = '\n';
	size_t len;
	int rc;

	if (o->tail >= 0) {
		if ((rc = history_export_open(dir, o, true, &r, cause)) != 0)
			return rc;
		end = 0;
		while ((rc = history_export_next(o, true, r, &rec)) > 0) {
			if (rec.type != HISTORY_OUTPUT || rec.len == 0)
				continue;
			for (p = rec.data; (nl = memchr(p, '\n', rec.data + rec.len - p)) != NULL;
			     p = nl + 1)
				newlines++;
			lastc = rec.data[rec.len - 1];
			total += rec.len;
			end = rec.offset + rec.len;
		}
		history_reader_close(r);
		r = NULL;
		if (rc < 0)
			goto fail;
		lines = newlines + (total > 0 && lastc != '\n');
		skip = (uint64_t)o->tail >= lines ? 0 : lines - (uint64_t)o->tail;
	}
	/* The second pass (or the only one) warns only when the first did not. */
	if ((rc = history_export_open(dir, o, o->tail < 0, &r, cause)) != 0)
		return rc;
	while ((rc = history_export_next(o, o->tail < 0, r, &rec)) > 0) {
		if (rec.type != HISTORY_OUTPUT)
			continue;
		if (rec.offset >= end)
			break; /* written after the first pass looked */
		p = rec.data;
		len = rec.len;
		if (end - rec.offset < len)
			len = (size_t)(end - rec.offset);
		while (skip > 0 && (nl = memchr(p, '\n', rec.data + len - p)) != NULL) {
			p = nl + 1;
			skip--;
		}
		if (skip > 0)
			continue;
		if (history_export_add(out, p, (size_t)(rec.data + len - p)) != 0)
			break;
	}
	history_reader_close(r);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	*cause = xasprintf("cannot read the history at '%s': %s", dir, err_message(rc));
	return rc;
}

/* Text lines, all of them streamed out, or the last tail kept in a ring. */
struct history_export_text {
	struct history_export_out *out;
	long tail;
	struct history_export_line {
		char *s;
		size_t len;
	} * ring;
	size_t n;     /* lines in the ring */
	size_t cap;   /* its size; grows up to tail */
	size_t first; /* the oldest line, once the ring is full */
};

static void
history_export_text_line(struct history_export_text *t, const char *s, size_t len)
{
	struct history_export_line *l;

	if (t->tail < 0) {
		history_export_add(t->out, s, len);
		history_export_add(t->out, "\n", 1);
		return;
	}
	if (t->tail == 0)
		return;
	if (t->n < (size_t)t->tail) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			if (t->cap > (size_t)t->tail)
				t->cap = (size_t)t->tail;
			t->ring = xrealloc(t->ring, t->cap * sizeof *t->ring);
		}
		l = &t->ring[t->n++];
	} else {
		l = &t->ring[t->first];
		t->first = (t->first + 1) % t->n;
		free(l->s);
	}
	l->s = xstrndup(s, len);
	l->len = len;
}

/* Bytes at the end of data that start a UTF-8 sequence it does not finish (0 to 3). */
static size_t
history_export_utf8_cut(const unsigned char *data, size_t len)
{
	size_t i, need;
	unsigned char c;

	for (i = 1; i <= 3 && i <= len; i++) {
		c = data[len - i];
		if ((c & 0xc0) == 0x80)
			continue;
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return need > i ? i : 0;
	}
	return 0;
}

/*
 * Feed output to the vt whole characters at a time: a character cut
 * across records is held back and completed from the next record, so
 * the screen never depends on the vt keeping decoder state across feeds.
 */
static void
history_export_text_feed(struct vt *vt, unsigned char *pend, size_t *npend, const char *data,
			 size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t cut;

	while (*npend > 0 && len > 0 && (*p & 0xc0) == 0x80 &&
	       history_export_utf8_cut(pend, *npend) != 0) {
		pend[(*npend)++] = *p++;
		len--;
	}
	if (*npend > 0 && (len > 0 || history_export_utf8_cut(pend, *npend) == 0)) {
		vt_feed(vt, (const char *)pend, *npend);
		*npend = 0;
	}
	cut = history_export_utf8_cut(p, len);
	vt_feed(vt, (const char *)p, len - cut);
	memcpy(pend + *npend, p + len - cut, cut);
	*npend += cut;
}

static void
history_export_text_cb(const char *text, size_t len, void *arg)
{
	history_export_text_line(arg, text, len);
}

static int
history_export_text(const char *dir, const struct history_export_opts *o,
		    struct history_export_out *out, char **cause)
{
	struct history_export_text t = {.out = out, .tail = o->tail};
	struct history_reader *r = NULL;
	struct history_record rec;
	struct vt *vt = NULL;
	struct buf screen;
	unsigned char pend[8];
	size_t npend = 0;
	int rc, cols, rows;
	const char *p, *nl, *e;
	size_t i;

	buf_init(&screen, 0);
	if ((rc = history_export_open(dir, o, true, &r, cause)) != 0)
		return rc;
	while ((rc = history_export_next(o, true, r, &rec)) > 0 && out->rc == 0) {
		if (rec.type == HISTORY_RESIZE) {
			if (!history_export_size(rec.data, rec.len, &cols, &rows))
				continue;
			if (vt == NULL) {
				vt = vt_create(cols, rows);
				vt_set_line_cb(vt, history_export_text_cb, &t);
			} else
				vt_resize(vt, cols, rows);
		} else if (rec.type == HISTORY_OUTPUT) {
			if (vt == NULL) {
				vt = vt_create(o->cols > 0 ? o->cols : 80,
					       o->rows > 0 ? o->rows : 24);
				vt_set_line_cb(vt, history_export_text_cb, &t);
			}
			history_export_text_feed(vt, pend, &npend, rec.data, rec.len);
		}
	}
	history_reader_close(r);
	if (vt != NULL && npend > 0)
		vt_feed(vt, (const char *)pend, npend);
	if (rc < 0) {
		*cause = xasprintf("cannot read the history at '%s': %s", dir, err_message(rc));
		goto out;
	}
	if (vt != NULL && out->rc == 0) {
		if ((rc = vt_render_text(vt, &screen)) != 0) {
			*cause = xasprintf("cannot render the screen: %s", err_message(rc));
			goto out;
		}
		/* One line per row; a final newline ends the last row rather than adding one. */
		e = screen.data + screen.len;
		for (p = screen.data; p != NULL && p < e; p = nl != NULL ? nl + 1 : NULL) {
			nl = memchr(p, '\n', (size_t)(e - p));
			history_export_text_line(&t, p, (size_t)((nl != NULL ? nl : e) - p));
		}
	}
	for (i = 0; i < t.n; i++) {
		struct history_export_line *l = &t.ring[(t.first + i) % t.n];

		history_export_add(out, l->s, l->len);
		history_export_add(out, "\n", 1);
	}
	rc = 0;
out:
	for (i = 0; i < t.n; i++)
		free(t.ring[i].s);
	free(t.ring);
	buf_release(&screen);
	if (vt != NULL)
		vt_destroy(vt);
	return rc;
}

/*
 * A streaming UTF-8 validator: complete sequences pass through, each
 * maximal invalid subpart becomes U+FFFD (as the Unicode standard
 * recommends), and a sequence cut at the end of a record waits for the next.
 */
struct history_export_utf8 {
	unsigned char seq[4];
	int have;	  /* bytes in seq */
	int need;	  /* continuation bytes still expected */
	unsigned char lo; /* range of the next continuation byte */
	unsigned char hi;
};

static const char history_export_fffd[] = "\xef\xbf\xbd";

static void
history_export_utf8(struct history_export_utf8 *u, const char *data, size_t len, struct buf *b)
{
	const unsigned char *p = (const unsigned char *)data, *run = p;
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = p[i];
		if (u->need == 0 && c < 0x80)
			continue; /* ASCII runs are copied in one go */
		buf_add(b, run, (size_t)(p + i - run));
		run = p + i + 1;
	again:
		if (u->need == 0) {
			u->lo = 0x80;
			u->hi = 0xbf;
			if (c >= 0xc2 && c <= 0xdf)
				u->need = 1;
			else if (c >= 0xe0 && c <= 0xef) {
				u->need = 2;
				if (c == 0xe0)
					u->lo = 0xa0; /* no overlong forms */
				else if (c == 0xed)
					u->hi = 0x9f; /* no surrogates */
			} else if (c >= 0xf0 && c <= 0xf4) {
				u->need = 3;
				if (c == 0xf0)
					u->lo = 0x90;
				else if (c == 0xf4)
					u->hi = 0x8f; /* nothing above U+10FFFF */
			} else if (c < 0x80) {
				buf_addc(b, (char)c);
				continue;
			} else {
				buf_add(b, history_export_fffd, 3);
				continue;
			}
			u->seq[0] = c;
			u->have = 1;
			continue;
		}
		if (c < u->lo || c > u->hi) {
			buf_add(b, history_export_fffd, 3);
			u->need = 0;
			u->have = 0;
			goto again;
		}
		u->seq[u->have++] = c;
		u->lo = 0x80;
		u->hi = 0xbf;
		if (--u->need == 0) {
			buf_add(b, u->seq, (size_t)u->have);
			u->have = 0;
		}
	}
	buf_add(b, run, (size_t)(p + len - run));
}

struct history_export_cast {
	struct history_export_out *out;
	bool started; /* the header is out */
	uint64_t t0;  /* time of the first record */
	double last;  /* time of the last event, to keep times monotonic */
	struct history_export_utf8 u;
	struct buf text; /* the current event's text */
};

static void
history_export_json(struct history_export_cast *c, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, 0) : NULL;

	json_decref(j);
	if (s == NULL) {
		if (c->out->rc == 0) {
			c->out->rc = -ERR_FAIL;
			c->out->cause = xstrdup("cannot encode the asciicast header");
		}
		return;
	}
	history_export_add(c->out, s, strlen(s));
	history_export_add(c->out, "\n", 1);
	free(s);
}

/*
 * One event line, [time, "o" or "r", "text"]: jansson escapes the text;
 * the time is printed here as fixed microseconds rather than jansson's
 * shortest form, which turns small times into 1.3e-05.
 */
static void
history_export_event(struct history_export_cast *c, double t, const char *kind, const char *text,
		     size_t len)
{
	json_t *j = json_stringn(text, len);
	char head[64], *s = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	int n;

	json_decref(j);
	if (s == NULL) {
		if (c->out->rc == 0) {
			c->out->rc = -ERR_FAIL;
			c->out->cause = xstrdup("cannot encode an asciicast event");
		}
		return;
	}
	n = snprintf(head, sizeof head, "[%.6f, \"%s\", ", t, kind);
	history_export_add(c->out, head, (size_t)n);
	history_export_add(c->out, s, strlen(s));
	history_export_add(c->out, "]\n", 2);
	free(s);
}

static void
history_export_cast_header(struct history_export_cast *c, int cols, int rows, uint64_t time_ns)
{
	c->started = true;
	history_export_json(c,
			    json_pack("{s:i, s:i, s:i, s:I}", "version", 2, "width", cols, "height",
				      rows, "timestamp", (json_int_t)(time_ns / 1000000000u)));
}

static double
history_export_cast_time(struct history_export_cast *c, uint64_t time_ns)
{
	double t = 0;

	if (time_ns > c->t0)
		t = (double)((time_ns - c->t0) / 1000u) / 1e6;
	if (t < c->last)
		t = c->last;
	c->last = t;
	return t;
}

static int
history_export_asciicast(const char *dir, const struct history_export_opts *o,
			 struct history_export_out *out, char **cause)
{
	struct history_export_cast c = {.out = out};
	struct history_reader *r = NULL;
	struct history_record rec;
	bool first = true;
	int rc, cols, rows;
	char size[32];
	struct timespec now;

	buf_init(&c.text, 0);
	if ((rc = history_export_open(dir, o, true, &r, cause)) != 0)
		return rc;
	while ((rc = history_export_next(o, true, r, &rec)) > 0 && out->rc == 0) {
		if (first) {
			c.t0 = rec.time_ns;
			first = false;
		}
		if (rec.type == HISTORY_RESIZE) {
			if (!history_export_size(rec.data, rec.len, &cols, &rows))
				continue;
			/* A size before any output is the recording's size, not an event. */
			if (!c.started) {
				history_export_cast_header(&c, cols, rows, c.t0);
				continue;
			}
			snprintf(size, sizeof size, "%dx%d", cols, rows);
			history_export_event(&c, history_export_cast_time(&c, rec.time_ns), "r",
					     size, strlen(size));
		} else if (rec.type == HISTORY_OUTPUT) {
			if (!c.started)
				history_export_cast_header(&c, o->cols > 0 ? o->cols : 80,
							   o->rows > 0 ? o->rows : 24, c.t0);
			buf_clear(&c.text);
			history_export_utf8(&c.u, rec.data, rec.len, &c.text);
			if (c.text.len == 0)
				continue; /* only part of a character so far */
			history_export_event(&c, history_export_cast_time(&c, rec.time_ns), "o",
					     c.text.data, c.text.len);
		}
	}
	history_reader_close(r);
	if (rc < 0) {
		*cause = xasprintf("cannot read the history at '%s': %s", dir, err_message(rc));
		goto out;
	}
	if (!c.started) {
		if (first) {
			clock_gettime(CLOCK_REALTIME, &now);
			c.t0 = (uint64_t)now.tv_sec * 1000000000u;
		}
		history_export_cast_header(&c, o->cols > 0 ? o->cols : 80,
					   o->rows > 0 ? o->rows : 24, c.t0);
	}
	if (c.u.have > 0) /* output ended inside a character */
		history_export_event(&c, c.last, "o", history_export_fffd, 3);
	rc = 0;
out:
	buf_release(&c.text);
	return rc;
}

int
history_export(const char *dir, const struct history_export_opts *o, int fd, char **cause)
{
	struct history_export_out out = {.fd = fd};
	int rc;

	*cause = NULL;
	if (o->format == HISTORY_FORMAT_ASCIICAST && o->tail >= 0) {
		*cause = xstrdup("--tail is not supported with asciicast");
		return -ERR_INVAL;
	}
	buf_init(&out.b, 0);
	switch (o->format) {
	case HISTORY_FORMAT_RAW:
		rc = history_export_raw(dir, o, &out, cause);
		break;
	case HISTORY_FORMAT_TEXT:
		rc = history_export_text(dir, o, &out, cause);
		break;
	case HISTORY_FORMAT_ASCIICAST:
		rc = history_export_asciicast(dir, o, &out, cause);
		break;
	default:
		*cause = xstrdup("unknown history format");
		rc = -ERR_INVAL;
		break;
	}
	if (rc == 0)
		history_export_flush(&out);
	if (rc == 0 && out.rc != 0) {
		rc = out.rc;
		*cause = out.cause;
		out.cause = NULL;
	}
	free(out.cause);
	buf_release(&out.b);
	return rc;
}
