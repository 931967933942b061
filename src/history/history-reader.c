/*
 * history-reader.c: reads a session's log back, record by record, for the
 * CLI and the exporters, while a writer may be appending and sealing. Each
 * segment is loaded whole (one read, or one decompression), so there is no
 * syscall per record. Corrupt data is skipped with a warning; never returned.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "history/history-int.h"

struct history_reader {
	int dirfd;
	history_warn_cb warn;
	void *arg;
	uint64_t next;		   /* the next segment number to load */
	uint64_t last;		   /* the newest segment seen at open */
	bool empty;		   /* no segments at all */
	bool any;		   /* some segment was loaded */
	struct history_seg_data d; /* the current segment's records */
	uint64_t num;		   /* its number */
	size_t pos;		   /* the next record in d */
	bool loaded;		   /* d holds segment num */
	bool open_tail;		   /* num is the open segment: a bad end is a torn tail */
	bool warned;		   /* loading num warned already; no second warning */
	uint64_t out_end;	   /* output offset after the last record returned */
	bool damaged;		   /* num's compressed data is damaged: stop at its first bad record */
};

static void history_reader_warn(struct history_reader *r, const char *fmt, ...) printflike(2, 3);

static void
history_reader_warn(struct history_reader *r, const char *fmt, ...)
{
	char msg[HISTORY_WARN_LEN];
	va_list ap;

	if (r->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->warn(msg, r->arg);
}

static bool
history_reader_exists(struct history_reader *r, uint64_t num)
{
	char name[HISTORY_NAME_LEN];

	history_record_name(name, sizeof name, num, "zst");
	if (faccessat(r->dirfd, name, F_OK, 0) == 0)
		return true;
	history_record_name(name, sizeof name, num, "log");
	return faccessat(r->dirfd, name, F_OK, 0) == 0;
}

int
history_reader_open(const char *dir, history_warn_cb warn, void *arg, struct history_reader **rp)
{
	struct history_reader *r;
	struct history_seginfo *segs = NULL;
	size_t n = 0, i;
	int rc;

	*rp = NULL;
	r = xcalloc(1, sizeof *r);
	r->warn = warn;
	r->arg = arg;
	if ((r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = err_from_errno(errno);
		free(r);
		return rc;
	}
	if ((rc = history_record_list(r->dirfd, &segs, &n)) != 0) {
		history_reader_close(r);
		return rc;
	}
	r->empty = true;
	for (i = 0; i < n; i++) {
		if ((segs[i].files & (HISTORY_SEG_LOG | HISTORY_SEG_ZST)) == 0)
			continue;
		if (r->empty)
			r->next = segs[i].num;
		r->last = segs[i].num;
		r->empty = false;
	}
	free(segs);
	/*
	 * readdir may miss a name renamed while it runs (a segment being
	 * sealed), so trust only the range: numbers are consecutive from the
	 * oldest segment the cap left. Probe the ends for missed neighbours.
	 */
	if (!r->empty) {
		while (r->next > 0 && history_reader_exists(r, r->next - 1))
			r->next--;
		while (r->last < UINT64_MAX && history_reader_exists(r, r->last + 1))
			r->last++;
	}
	*rp = r;
	return 0;
}

/* Load the next segment that exists; false at the end. */
static bool
history_reader_load(struct history_reader *r)
{
	char msg[HISTORY_WARN_LEN];
	int rc;

	while (!r->empty && r->next <= r->last) {
		r->num = r->next++;
		if (r->num == r->last)
			r->empty = true; /* nothing after this one */
		r->pos = 0;
		r->warned = false;
		rc = history_record_load(r->dirfd, r->num, HISTORY_SEGMENT_LIMIT, false, &r->d, msg,
					 sizeof msg);
		if (rc == -ERR_NOENT) {
			/* Before any segment was read: the cap, and a DROP record says so. */
			if (r->any)
				history_reader_warn(r,
						    "history segment %010" PRIu64
						    " is gone (dropped by the cap while reading?)",
						    r->num);
			continue;
		}
		r->damaged = rc == -ERR_CORRUPT;
		if (rc == -ERR_CORRUPT) {
			history_reader_warn(
			    r, "history segment %010" PRIu64 ": %s, %zu bytes recovered", r->num,
			    msg, r->d.len);
			r->warned = true;
		} else if (rc != 0) {
			history_reader_warn(r, "history segment %010" PRIu64 " skipped: %s", r->num,
					    msg);
			continue;
		}
		r->any = true;
		r->open_tail = r->num == r->last && !r->d.sealed;
		r->loaded = true;
		return true;
	}
	return false;
}

int
history_reader_next(struct history_reader *r, struct history_record *rec)
{
	struct history_hdr h;
	size_t at;

	for (;;) {
		if (!r->loaded && !history_reader_load(r))
			return 0;
		if (r->pos >= r->d.len) {
			r->loaded = false;
			continue;
		}
		if (history_record_check(r->d.data + r->pos, r->d.len - r->pos, &h) ==
		    HISTORY_CHECK_OK) {
			if (h.offset < r->out_end) {
				/*
				 * Offsets never go back. A damaged zstd block can decode to
				 * a copy of earlier bytes, whole records with good checksums
				 * among them: those are not history.
				 */
				history_reader_warn(r,
						    "history segment %010" PRIu64
						    ": a record out of order at byte %zu skipped",
						    r->num, r->pos);
				r->pos += HISTORY_HDR_LEN + h.len;
				continue;
			}
			r->out_end = h.type == HISTORY_OUTPUT ? h.offset + h.len : h.offset;
			rec->type = (enum history_type)h.type;
			rec->time_ns = h.time_ns;
			rec->offset = h.offset;
			rec->data = r->d.data + r->pos + HISTORY_HDR_LEN;
			rec->len = h.len;
			r->pos += HISTORY_HDR_LEN + h.len;
			return 1;
		}
		at = r->pos;
		/*
		 * In a sealed segment whose compressed data is damaged, what decodes
		 * after the first bad record cannot be trusted (a damaged block can
		 * decode to plausible records): the rest of it is lost, said once.
		 */
		r->pos = r->damaged ? r->d.len : history_record_resync(r->d.data, r->d.len, at + 1);
		if (r->pos < r->d.len) {
			history_reader_warn(r,
					    "history segment %010" PRIu64
					    ": corrupt data at byte %zu, %zu bytes skipped",
					    r->num, at, r->pos - at);
			continue;
		}
		/*
		 * Nothing valid follows. At the end of the open segment that is
		 * a record being written or torn by a crash; anywhere else the
		 * data is damaged.
		 */
		if (!r->open_tail && !r->warned)
			history_reader_warn(
			    r,
			    "history segment %010" PRIu64
			    ": corrupt or truncated data at byte %zu, %zu bytes skipped",
			    r->num, at, r->d.len - at);
		r->loaded = false;
	}
}

/* Output offset at the start of segment num: 1 and *off, 0 if it has none, or -ERR_x. */
static int
history_reader_first(struct history_reader *r, uint64_t num, uint64_t *off)
{
	struct history_seg_data d;
	struct history_hdr h;
	char msg[HISTORY_WARN_LEN];
	int rc;

	memset(&d, 0, sizeof d);
	/* The header is enough for a hint; the reader checks every record it returns. */
	rc = history_record_load(r->dirfd, num, 4096, true, &d, msg, sizeof msg);
	if (rc == 0 && d.len >= HISTORY_HDR_LEN &&
	    history_record_check(d.data, d.len, &h) != HISTORY_CHECK_BAD) {
		*off = h.offset;
		rc = 1;
	} else if (rc == 0 || rc == -ERR_NOENT || rc == -ERR_CORRUPT) {
		rc = 0;
	}
	history_record_data_release(&d);
	return rc;
}

int
history_reader_seek(struct history_reader *r, uint64_t off)
{
	uint64_t lo, hi, mid, first;
	int rc;

	if (r->empty || r->loaded)
		return r->loaded ? -ERR_STATE : 0;
	/* Invariant: the answer is in [lo, hi]; lo is the oldest segment. */
	lo = r->next;
	hi = r->last;
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if ((rc = history_reader_first(r, mid, &first)) < 0)
			return rc;
		if (rc == 1 && first <= off)
			lo = mid;
		else if (rc == 1)
			hi = mid - 1;
		else
			lo = mid; /* unreadable start: keep it, the reader skips it with a warning */
	}
	r->next = lo;
	return 0;
}

void
history_reader_close(struct history_reader *r)
{
	if (r == NULL)
		return;
	if (r->dirfd >= 0)
		close(r->dirfd);
	history_record_data_release(&r->d);
	free(r);
}
