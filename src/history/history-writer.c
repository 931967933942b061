/*
 * history-writer.c: appends records to a session's log for the holder:
 * one writev(2) per record and nothing else on the hot path. Full segments
 * are compressed by one helper thread; the cap drops the oldest sealed
 * segments. Reading the log back is history-reader.c's job.
 */
#include "common/compat.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "history/history-int.h"

enum history_writer_state {
	HISTORY_WRITER_OPEN,	/* being appended to */
	HISTORY_WRITER_QUEUED,	/* full, waiting for the sealing thread */
	HISTORY_WRITER_SEALING, /* the sealing thread has it; the cap must not touch it */
	HISTORY_WRITER_SEALED,	/* .zst on disk */
	HISTORY_WRITER_FAILED,	/* sealing failed; the .log stays and is read as is */
};

struct history_writer_seg {
	uint64_t num;
	uint64_t first_offset; /* session output offset where the segment begins */
	uint64_t bytes;	       /* its size on disk (the .log, or the .zst once sealed) */
	enum history_writer_state state;
};

struct history_writer {
	char *dir;
	int dirfd; /* the log directory, flocked so that one writer owns it */
	struct history_opts o;

	int fd;		 /* the open segment, O_APPEND */
	uint64_t num;	 /* its number */
	uint64_t size;	 /* its length */
	uint64_t offset; /* output bytes recorded over the session */
	bool torn;	 /* a failed write left bytes we could not cut yet */
	bool rotate_warned;

	/*
	 * The segments, oldest first, the open one last. The writer thread
	 * alone changes the array's shape (so it reads it without the lock);
	 * the sealing thread only changes state and bytes, under the lock.
	 * The segments in state QUEUED are the sealing thread's queue.
	 */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct history_writer_seg *segs;
	size_t nsegs;
	size_t segcap;
	bool stopping; /* close asked the thread to finish its queue and exit */
	bool started;  /* the thread exists */
	pthread_t thread;
	_Atomic uint64_t disk_closed; /* bytes on disk of all but the open segment */

	ZSTD_CCtx *cctx; /* the sealing thread's, or close's once it is joined */
};

void
history_opts_init(struct history_opts *o)
{
	o->segment_size = 1u << 20;
	o->cap = 50u << 20;
	o->level = 3;
}

static uint64_t
history_writer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A full disk or a file size limit are both "no space" to the caller. */
static int
history_writer_errno(int errnum)
{
	if (errnum == EFBIG || errnum == ENOSPC || errnum == EDQUOT)
		return -ERR_NOSPC;
	return err_from_errno(errnum);
}

static void
history_writer_unlink(struct history_writer *w, uint64_t num, const char *ext)
{
	char name[HISTORY_NAME_LEN];

	history_record_name(name, sizeof name, num, ext);
	if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT)
		log_warn("history: cannot remove '%s/%s': %s", w->dir, name, strerror(errno));
}

static int
history_writer_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return history_writer_errno(errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Compress segment num's .log into one zstd frame: .zst.tmp, fdatasync,
 * rename to .zst, sync the directory, then unlink the .log. The directory
 * sync comes before the unlink so that no crash can lose both names.
 * Runs on the sealing thread, or on close's thread once that is joined.
 */
static int
history_writer_seal(struct history_writer *w, uint64_t num, uint64_t *zbytes)
{
	char lname[HISTORY_NAME_LEN], tname[HISTORY_NAME_LEN], zname[HISTORY_NAME_LEN];
	size_t insize = ZSTD_CStreamInSize(), outsize = ZSTD_CStreamOutSize(), r;
	char *inbuf = xmalloc(insize), *outbuf = xmalloc(outsize);
	int in = -1, out = -1, rc = 0;
	ZSTD_inBuffer zin;
	ZSTD_outBuffer zout;
	ZSTD_EndDirective mode;
	struct stat sb;
	ssize_t n;
	bool eof = false;

	history_record_name(lname, sizeof lname, num, "log");
	history_record_name(tname, sizeof tname, num, "zst.tmp");
	history_record_name(zname, sizeof zname, num, "zst");
	*zbytes = 0;
	if ((in = openat(w->dirfd, lname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(in, &sb) != 0) {
		rc = err_from_errno(errno);
		goto out;
	}
	out = openat(w->dirfd, tname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		rc = history_writer_errno(errno);
		goto out;
	}
	if (w->cctx == NULL)
		w->cctx = ZSTD_createCCtx();
	ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->o.level);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(w->cctx, (unsigned long long)sb.st_size);

	while (!eof) {
		n = read(in, inbuf, insize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_from_errno(errno);
			goto out;
		}
		eof = n == 0;
		mode = eof ? ZSTD_e_end : ZSTD_e_continue;
		zin.src = inbuf;
		zin.size = (size_t)n;
		zin.pos = 0;
		do {
			zout.dst = outbuf;
			zout.size = outsize;
			zout.pos = 0;
			r = ZSTD_compressStream2(w->cctx, &zout, &zin, mode);
			if (ZSTD_isError(r)) {
				log_warn("history: sealing segment %" PRIu64 ": zstd: %s", num,
					 ZSTD_getErrorName(r));
				rc = -ERR_FAIL;
				goto out;
			}
			if ((rc = history_writer_write_all(out, outbuf, zout.pos)) != 0)
				goto out;
			*zbytes += zout.pos;
		} while (eof ? r != 0 : zin.pos < zin.size);
	}
	if (fdatasync(out) != 0) {
		rc = history_writer_errno(errno);
		goto out;
	}
	if (close(out) != 0) {
		out = -1;
		rc = history_writer_errno(errno);
		goto out;
	}
	out = -1;
	if (renameat(w->dirfd, tname, w->dirfd, zname) != 0) {
		rc = err_from_errno(errno);
		goto out;
	}
	if (fsync(w->dirfd) != 0)
		log_warn("history: cannot sync '%s': %s", w->dir, strerror(errno));
	history_writer_unlink(w, num, "log");
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc != 0) {
		unlinkat(w->dirfd, tname, 0);
		log_warn("history: cannot seal segment %" PRIu64 " of '%s': %s", num, w->dir,
			 err_message(rc));
	}
	free(inbuf);
	free(outbuf);
	return rc;
}

static struct history_writer_seg *
history_writer_find(struct history_writer *w, uint64_t num)
{
	for (size_t i = 0; i < w->nsegs; i++) {
		if (w->segs[i].num == num)
			return &w->segs[i];
	}
	return NULL;
}

/* Record the result of sealing seg; called with the lock held. */
static void
history_writer_sealed(struct history_writer *w, struct history_writer_seg *seg, int rc,
		      uint64_t zbytes)
{
	if (rc != 0) {
		seg->state = HISTORY_WRITER_FAILED;
		return;
	}
	seg->state = HISTORY_WRITER_SEALED;
	atomic_fetch_sub(&w->disk_closed, seg->bytes);
	atomic_fetch_add(&w->disk_closed, zbytes);
	seg->bytes = zbytes;
}

static void *
history_writer_thread(void *arg)
{
	struct history_writer *w = arg;
	struct history_writer_seg *seg;
	uint64_t num, zbytes;
	size_t i;
	int rc;

	/*
	 * Sealing can wait; the PTY path cannot. A lower priority for this
	 * thread alone (Linux nice is per thread) lets the holder's loop have
	 * the CPU first during a flood.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		for (i = 0; i < w->nsegs; i++) {
			if (w->segs[i].state == HISTORY_WRITER_QUEUED)
				break;
		}
		if (i == w->nsegs) {
			if (w->stopping)
				break;
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		w->segs[i].state = HISTORY_WRITER_SEALING;
		num = w->segs[i].num;
		pthread_mutex_unlock(&w->lock);
		rc = history_writer_seal(w, num, &zbytes);
		pthread_mutex_lock(&w->lock);
		/* The cap never removes a segment in state SEALING. */
		seg = history_writer_find(w, num);
		assert(seg != NULL);
		history_writer_sealed(w, seg, rc, zbytes);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Wake the sealing thread, creating it the first time; called with the lock held. */
static void
history_writer_kick(struct history_writer *w)
{
	int rc;

	if (!w->started) {
		if ((rc = pthread_create(&w->thread, NULL, history_writer_thread, w)) != 0) {
			/* Close seals what is left; until then readers read the .log files. */
			log_warn("history: cannot start the sealing thread: %s", strerror(rc));
			return;
		}
		w->started = true;
	}
	pthread_cond_signal(&w->cond);
}

/* Add a segment at the end of the list; called with the lock held. */
static void
history_writer_push(struct history_writer *w, uint64_t num, uint64_t first_offset, uint64_t bytes,
		    enum history_writer_state state)
{
	if (w->nsegs == w->segcap) {
		w->segcap = w->segcap ? w->segcap * 2 : 16;
		w->segs = xrealloc(w->segs, w->segcap * sizeof *w->segs);
	}
	w->segs[w->nsegs].num = num;
	w->segs[w->nsegs].first_offset = first_offset;
	w->segs[w->nsegs].bytes = bytes;
	w->segs[w->nsegs].state = state;
	w->nsegs++;
	if (state != HISTORY_WRITER_OPEN)
		atomic_fetch_add(&w->disk_closed, bytes);
}

static int
history_writer_create_segment(struct history_writer *w, uint64_t num, int *fdp)
{
	char name[HISTORY_NAME_LEN];
	int fd;

	history_record_name(name, sizeof name, num, "log");
	fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return history_writer_errno(errno);
	*fdp = fd;
	return 0;
}

/* Close the open segment, queue it for sealing and start the next one. */
static int
history_writer_rotate(struct history_writer *w)
{
	int fd, rc;

	if ((rc = history_writer_create_segment(w, w->num + 1, &fd)) != 0)
		return rc;
	close(w->fd);
	pthread_mutex_lock(&w->lock);
	w->segs[w->nsegs - 1].state = HISTORY_WRITER_QUEUED;
	w->segs[w->nsegs - 1].bytes = w->size;
	atomic_fetch_add(&w->disk_closed, w->size);
	history_writer_push(w, w->num + 1, w->offset, 0, HISTORY_WRITER_OPEN);
	history_writer_kick(w);
	pthread_mutex_unlock(&w->lock);
	w->fd = fd;
	w->num++;
	w->size = 0;
	return 0;
}

/* Write one record (len <= HISTORY_MAX_RECORD) with one writev; undo a partial one. */
static int
history_writer_append_one(struct history_writer *w, enum history_type type, const void *data,
			  size_t len)
{
	unsigned char hdr[HISTORY_HDR_LEN];
	struct iovec iov[2];
	size_t total = HISTORY_HDR_LEN + len, done = 0, skip;
	ssize_t n;
	int i, rc;

	if (w->torn) {
		/* A failed write left a partial record we could not cut: try again first. */
		if (ftruncate(w->fd, (off_t)w->size) != 0)
			return history_writer_errno(errno);
		w->torn = false;
	}
	history_record_encode(hdr, type, history_writer_now(), w->offset, data, len);
	while (done < total) {
		iov[0].iov_base = hdr;
		iov[0].iov_len = HISTORY_HDR_LEN;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		/* After a short write (a signal, or the disk filling), resume where it stopped. */
		for (i = 0, skip = done; i < 2; i++) {
			size_t k = skip < iov[i].iov_len ? skip : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			skip -= k;
		}
		n = writev(w->fd, iov, 2);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = history_writer_errno(errno);
			if (done > 0 && ftruncate(w->fd, (off_t)w->size) != 0)
				w->torn = true;
			return rc;
		}
		done += (size_t)n;
	}
	w->size += total;
	if (type == HISTORY_OUTPUT)
		w->offset += len;
	return 0;
}

static int history_writer_append_chunks(struct history_writer *w, enum history_type type,
					const void *data, size_t len);

/*
 * Drop the oldest sealed segments while the output kept is above the cap,
 * then say so with a HISTORY_DROP record. Segments not sealed yet stay
 * until a later append finds them sealed.
 */
static void
history_writer_cap(struct history_writer *w)
{
	uint64_t *nums, bytes;
	char note[128];
	size_t k = 0, i;

	if (w->o.cap == 0 || w->offset - w->segs[0].first_offset <= w->o.cap)
		return;
	pthread_mutex_lock(&w->lock);
	while (k + 1 < w->nsegs && w->offset - w->segs[k].first_offset > w->o.cap &&
	       (w->segs[k].state == HISTORY_WRITER_SEALED ||
		w->segs[k].state == HISTORY_WRITER_FAILED)) {
		atomic_fetch_sub(&w->disk_closed, w->segs[k].bytes);
		k++;
	}
	if (k == 0) {
		pthread_mutex_unlock(&w->lock);
		return;
	}
	nums = xmalloc(k * sizeof *nums);
	for (i = 0; i < k; i++)
		nums[i] = w->segs[i].num;
	bytes = w->segs[k].first_offset - w->segs[0].first_offset;
	memmove(w->segs, w->segs + k, (w->nsegs - k) * sizeof *w->segs);
	w->nsegs -= k;
	pthread_mutex_unlock(&w->lock);

	/* A reader that has a file open keeps reading it; one that comes later skips it. */
	for (i = 0; i < k; i++) {
		history_writer_unlink(w, nums[i], "zst");
		history_writer_unlink(w, nums[i], "log");
	}
	if (k == 1)
		snprintf(note, sizeof note, "dropped segment %" PRIu64 ", %" PRIu64 " output bytes",
			 nums[0], bytes);
	else
		snprintf(note, sizeof note,
			 "dropped segments %" PRIu64 "-%" PRIu64 ", %" PRIu64 " output bytes",
			 nums[0], nums[k - 1], bytes);
	free(nums);
	if (history_writer_append_chunks(w, HISTORY_DROP, note, strlen(note)) != 0)
		log_warn("history: cannot record that the cap %s", note);
}

static int
history_writer_append_chunks(struct history_writer *w, enum history_type type, const void *data,
			     size_t len)
{
	const char *p = data;
	size_t n;
	int rc;

	do {
		n = len < HISTORY_MAX_RECORD ? len : HISTORY_MAX_RECORD;
		if ((rc = history_writer_append_one(w, type, p, n)) != 0)
			return rc;
		p += n;
		len -= n;
		if (w->size >= w->o.segment_size) {
			if ((rc = history_writer_rotate(w)) != 0) {
				/* The record is stored; keep appending here and retry next time. */
				if (!w->rotate_warned)
					log_warn("history: cannot start a new segment in '%s': %s",
						 w->dir, err_message(rc));
				w->rotate_warned = true;
			} else
				w->rotate_warned = false;
		}
	} while (len > 0);
	return 0;
}

int
history_writer_append(struct history_writer *w, enum history_type type, const void *data,
		      size_t len)
{
	int rc;

	if (type < HISTORY_OUTPUT || type > HISTORY_DROP)
		return -ERR_INVAL;
	if ((rc = history_writer_append_chunks(w, type, data, len)) != 0)
		return rc;
	history_writer_cap(w);
	return 0;
}

int
history_writer_sync(struct history_writer *w)
{
	if (fdatasync(w->fd) != 0)
		return history_writer_errno(errno);
	return 0;
}

uint64_t
history_writer_offset(const struct history_writer *w)
{
	return w->offset;
}

uint64_t
history_writer_disk_bytes(const struct history_writer *w)
{
	return atomic_load(&w->disk_closed) + w->size;
}

static uint64_t
history_writer_file_size(struct history_writer *w, uint64_t num, const char *ext)
{
	char name[HISTORY_NAME_LEN];
	struct stat sb;

	history_record_name(name, sizeof name, num, ext);
	if (fstatat(w->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	return (uint64_t)sb.st_size;
}

/*
 * The output offset where segment num begins, from its first record; the
 * prefix loaded is enough for the header even when the record is long.
 * Returns false when the segment has no readable first record.
 */
static bool
history_writer_first_offset(struct history_writer *w, struct history_seg_data *d, uint64_t num,
			    uint64_t *offset)
{
	struct history_hdr h;
	char msg[HISTORY_WARN_LEN];
	size_t pos;

	history_record_load(w->dirfd, num, 65536, true, d, msg, sizeof msg);
	if (d->len >= HISTORY_HDR_LEN &&
	    history_record_check(d->data, d->len, &h) != HISTORY_CHECK_BAD) {
		*offset = h.offset;
		return true;
	}
	pos = history_record_resync(d->data, d->len, 0);
	if (pos == d->len)
		return false;
	history_record_check(d->data + pos, d->len - pos, &h);
	*offset = h.offset;
	return true;
}

/*
 * Continue an existing log: drop temp files and .log files already sealed,
 * cut a torn tail off the open segment (starting a new segment after it),
 * queue unsealed full segments, and recover the output offset and each
 * segment's first offset for the cap.
 */
static int
history_writer_recover(struct history_writer *w)
{
	struct history_seginfo *info = NULL;
	struct history_seg_data d = {0};
	struct history_hdr last;
	char msg[HISTORY_WARN_LEN];
	size_t n = 0, i, j, end;
	uint64_t *firsts = NULL, off;
	bool *known = NULL, found = false, have_offset = false, reuse = false;
	int fd, rc;

	if ((rc = history_record_list(w->dirfd, &info, &n)) != 0)
		return rc;
	for (i = 0, j = 0; i < n; i++) {
		if (info[i].files & HISTORY_SEG_TMP)
			history_writer_unlink(w, info[i].num, "zst.tmp");
		/* The .zst is renamed in only once complete: the .log is redundant. */
		if ((info[i].files & HISTORY_SEG_ZST) && (info[i].files & HISTORY_SEG_LOG)) {
			history_writer_unlink(w, info[i].num, "log");
			info[i].files &= ~HISTORY_SEG_LOG;
		}
		info[i].files &= HISTORY_SEG_ZST | HISTORY_SEG_LOG;
		if (info[i].files != 0)
			info[j++] = info[i];
	}
	n = j;

	/* The newest segment, if a .log, is the open one: find where its valid records end. */
	if (n > 0 && info[n - 1].files == HISTORY_SEG_LOG) {
		rc = history_record_load(w->dirfd, info[n - 1].num, HISTORY_SEGMENT_LIMIT, false,
					 &d, msg, sizeof msg);
		if (rc == 0) {
			end = history_record_valid_end(d.data, d.len, &last, &found);
			if (found) {
				have_offset = true;
				w->offset =
				    last.offset + (last.type == HISTORY_OUTPUT ? last.len : 0);
			}
			if (end < d.len) {
				char name[HISTORY_NAME_LEN];

				history_record_name(name, sizeof name, info[n - 1].num, "log");
				fd = openat(w->dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
				if (fd < 0 || ftruncate(fd, (off_t)end) != 0) {
					rc = err_from_errno(errno);
					log_error(
					    "history: cannot cut the torn tail of '%s/%s': %s",
					    w->dir, name, strerror(errno));
					if (fd >= 0)
						close(fd);
					goto out;
				}
				close(fd);
				log_warn("history: cut %zu bytes of torn tail from '%s/%s'",
					 d.len - end, w->dir, name);
			}
			/* Append to it only if it was clean; after a cut, start afresh. */
			reuse = end == d.len || end == 0;
		} else
			log_warn("history: cannot read the open segment of '%s': %s", w->dir, msg);
	}
	/* Otherwise the offset comes from the newest segment that has a record. */
	for (i = n; i > 0 && !have_offset; i--) {
		if (history_record_load(w->dirfd, info[i - 1].num, HISTORY_SEGMENT_LIMIT, false, &d,
					msg, sizeof msg) != 0 &&
		    d.len == 0)
			continue;
		history_record_valid_end(d.data, d.len, &last, &found);
		if (found) {
			have_offset = true;
			w->offset = last.offset + (last.type == HISTORY_OUTPUT ? last.len : 0);
		}
	}

	/* Where each segment starts, for the cap; unknown ones take the next one's start. */
	firsts = xcalloc(n + 1, sizeof *firsts);
	known = xcalloc(n + 1, sizeof *known);
	for (i = 0; i < n; i++)
		known[i] = history_writer_first_offset(w, &d, info[i].num, &firsts[i]);
	off = w->offset;
	for (i = n; i > 0; i--) {
		if (!known[i - 1] || firsts[i - 1] > off)
			firsts[i - 1] = off;
		off = firsts[i - 1];
	}

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < n; i++) {
		bool open = reuse && i == n - 1;
		const char *ext = info[i].files == HISTORY_SEG_ZST ? "zst" : "log";
		uint64_t bytes = history_writer_file_size(w, info[i].num, ext);

		if (open) {
			w->size = bytes;
			history_writer_push(w, info[i].num, firsts[i], 0, HISTORY_WRITER_OPEN);
		} else
			history_writer_push(w, info[i].num, firsts[i], bytes,
					    info[i].files == HISTORY_SEG_ZST
						? HISTORY_WRITER_SEALED
						: HISTORY_WRITER_QUEUED);
	}
	pthread_mutex_unlock(&w->lock);

	w->num = n > 0 ? info[n - 1].num : 0;
	if (reuse) {
		char name[HISTORY_NAME_LEN];

		history_record_name(name, sizeof name, w->num, "log");
		w->fd = openat(w->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (w->fd < 0) {
			rc = err_from_errno(errno);
			goto out;
		}
	} else {
		w->num++;
		if ((rc = history_writer_create_segment(w, w->num, &w->fd)) != 0)
			goto out;
		pthread_mutex_lock(&w->lock);
		history_writer_push(w, w->num, w->offset, 0, HISTORY_WRITER_OPEN);
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->nsegs; i++) {
		if (w->segs[i].state == HISTORY_WRITER_QUEUED) {
			history_writer_kick(w);
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	rc = 0;
out:
	history_record_data_release(&d);
	free(info);
	free(firsts);
	free(known);
	return rc;
}

int
history_writer_open(const char *dir, const struct history_opts *o, struct history_writer **wp)
{
	struct history_writer *w;
	int rc;

	*wp = NULL;
	w = xcalloc(1, sizeof *w);
	w->dir = xstrdup(dir);
	w->dirfd = -1;
	w->fd = -1;
	if (o != NULL)
		w->o = *o;
	else
		history_opts_init(&w->o);
	if (w->o.segment_size < HISTORY_SEGMENT_MIN)
		w->o.segment_size = HISTORY_SEGMENT_MIN;
	if (w->o.segment_size > HISTORY_SEGMENT_MAX)
		w->o.segment_size = HISTORY_SEGMENT_MAX;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	atomic_init(&w->disk_closed, 0);

	if ((rc = path_mkdir_p(dir)) != 0)
		goto fail;
	if ((w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = err_from_errno(errno);
		goto fail;
	}
	if (flock(w->dirfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -ERR_STATE : err_from_errno(errno);
		goto fail;
	}
	if ((rc = history_writer_recover(w)) != 0)
		goto fail;
	history_writer_cap(w);
	*wp = w;
	return 0;
fail:
	history_writer_close(w, false);
	return rc;
}

void
history_writer_close(struct history_writer *w, bool seal_open)
{
	uint64_t zbytes;
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);

	/* Only this thread is left: seal what the thread could not (it failed to start). */
	for (i = 0; i < w->nsegs; i++) {
		if (w->segs[i].state == HISTORY_WRITER_QUEUED)
			history_writer_sealed(w, &w->segs[i],
					      history_writer_seal(w, w->segs[i].num, &zbytes),
					      zbytes);
	}
	if (w->fd >= 0) {
		if (w->torn && ftruncate(w->fd, (off_t)w->size) == 0)
			w->torn = false;
		if (seal_open && w->size == 0) {
			close(w->fd);
			history_writer_unlink(w, w->num, "log");
		} else if (seal_open) {
			close(w->fd);
			history_writer_seal(w, w->num, &zbytes);
		} else {
			if (fdatasync(w->fd) != 0)
				log_warn("history: cannot sync '%s': %s", w->dir, strerror(errno));
			close(w->fd);
		}
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	ZSTD_freeCCtx(w->cctx);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->segs);
	free(w->dir);
	free(w);
}
