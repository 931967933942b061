/*
 * history-record.c: the pieces the history writer and reader share: the
 * 32-byte record header (encode, check, resync after corruption), segment
 * file names, listing a log directory and loading one segment (.zst or
 * .log) into memory. No policy about what to do with bad data lives here.
 */
#include "common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
/* For ZSTD_d_forceIgnoreChecksum when salvaging a damaged segment; checked at run time. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "history/history-int.h"

static void
history_record_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
history_record_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
history_record_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
history_record_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
history_record_get64(const unsigned char *p)
{
	return (uint64_t)history_record_get32(p) | (uint64_t)history_record_get32(p + 4) << 32;
}

/* crc32 of the header with its crc field zero, then of the payload. */
static uint32_t
history_record_crc(const unsigned char *hdr, const void *data, size_t len)
{
	unsigned char copy[HISTORY_HDR_LEN];
	uLong crc;

	memcpy(copy, hdr, sizeof copy);
	memset(copy + 24, 0, 4);
	crc = crc32(0L, copy, sizeof copy);
	/* zlib takes uInt lengths; records are far below 4 GiB. */
	if (len != 0)
		crc = crc32(crc, data, (uInt)len);
	return (uint32_t)crc;
}

void
history_record_encode(unsigned char *hdr, enum history_type type, uint64_t time_ns, uint64_t offset,
		      const void *data, size_t len)
{
	history_record_put16(hdr, HISTORY_MAGIC);
	hdr[2] = (unsigned char)type;
	hdr[3] = 0;
	history_record_put32(hdr + 4, (uint32_t)len);
	history_record_put64(hdr + 8, time_ns);
	history_record_put64(hdr + 16, offset);
	history_record_put32(hdr + 24, 0);
	history_record_put32(hdr + 28, 0);
	history_record_put32(hdr + 24, history_record_crc(hdr, data, len));
}

static bool
history_record_type_is_valid(unsigned type)
{
	return type >= HISTORY_OUTPUT && type <= HISTORY_DROP;
}

enum history_check
history_record_check(const char *p, size_t avail, struct history_hdr *h)
{
	const unsigned char *u = (const unsigned char *)p;

	if (avail < HISTORY_HDR_LEN) {
		/* A header cut short: plausible only if what is there fits. */
		if (avail >= 1 && u[0] != (HISTORY_MAGIC & 0xff))
			return HISTORY_CHECK_BAD;
		if (avail >= 2 && u[1] != (HISTORY_MAGIC >> 8))
			return HISTORY_CHECK_BAD;
		if (avail >= 3 && !history_record_type_is_valid(u[2]))
			return HISTORY_CHECK_BAD;
		if (avail >= 8 && history_record_get32(u + 4) > HISTORY_MAX_RECORD)
			return HISTORY_CHECK_BAD;
		return HISTORY_CHECK_SHORT;
	}
	h->magic = (uint16_t)(u[0] | u[1] << 8);
	h->type = u[2];
	h->flags = u[3];
	h->len = history_record_get32(u + 4);
	h->time_ns = history_record_get64(u + 8);
	h->offset = history_record_get64(u + 16);
	h->crc = history_record_get32(u + 24);
	h->reserved = history_record_get32(u + 28);
	if (h->magic != HISTORY_MAGIC || !history_record_type_is_valid(h->type) ||
	    h->reserved != 0 || h->len > HISTORY_MAX_RECORD)
		return HISTORY_CHECK_BAD;
	if (avail - HISTORY_HDR_LEN < h->len)
		return HISTORY_CHECK_SHORT;
	if (history_record_crc(u, u + HISTORY_HDR_LEN, h->len) != h->crc)
		return HISTORY_CHECK_BAD;
	return HISTORY_CHECK_OK;
}

size_t
history_record_resync(const char *buf, size_t len, size_t from)
{
	struct history_hdr h;
	const char *p;

	while (from + HISTORY_HDR_LEN <= len) {
		p = memchr(buf + from, HISTORY_MAGIC & 0xff, len - from - HISTORY_HDR_LEN + 1);
		if (p == NULL)
			break;
		from = (size_t)(p - buf);
		if (history_record_check(p, len - from, &h) == HISTORY_CHECK_OK)
			return from;
		from++;
	}
	return len;
}

size_t
history_record_valid_end(const char *buf, size_t len, struct history_hdr *last, bool *found)
{
	struct history_hdr h;
	size_t pos = 0, end = 0;

	*found = false;
	while (pos < len) {
		if (history_record_check(buf + pos, len - pos, &h) == HISTORY_CHECK_OK) {
			pos += HISTORY_HDR_LEN + h.len;
			end = pos;
			*last = h;
			*found = true;
			continue;
		}
		pos = history_record_resync(buf, len, pos + 1);
	}
	return end;
}

void
history_record_name(char *name, size_t size, uint64_t num, const char *ext)
{
	snprintf(name, size, "%010" PRIu64 ".%s", num, ext);
}

/* Parse "NNNNNNNNNN.log", ".zst" or ".zst.tmp"; 0 (not ours) or a HISTORY_SEG_* bit. */
static unsigned
history_record_parse_name(const char *name, uint64_t *num)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*num = v;
	if (strcmp(name + 10, ".log") == 0)
		return HISTORY_SEG_LOG;
	if (strcmp(name + 10, ".zst") == 0)
		return HISTORY_SEG_ZST;
	if (strcmp(name + 10, ".zst.tmp") == 0)
		return HISTORY_SEG_TMP;
	return 0;
}

static int
history_record_cmp(const void *a, const void *b)
{
	const struct history_seginfo *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

int
history_record_list(int dirfd, struct history_seginfo **segs, size_t *np)
{
	struct history_seginfo *v = NULL;
	size_t n = 0, cap = 0, i, j;
	struct dirent *de;
	DIR *dp = NULL;
	uint64_t num;
	unsigned kind;
	int fd, rc = 0;

	*segs = NULL;
	*np = 0;
	if ((fd = dup(dirfd)) < 0)
		return err_from_errno(errno);
	if ((dp = fdopendir(fd)) == NULL) {
		rc = err_from_errno(errno);
		close(fd);
		return rc;
	}
	rewinddir(dp);
	for (;;) {
		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			if (errno != 0)
				rc = err_from_errno(errno);
			break;
		}
		if ((kind = history_record_parse_name(de->d_name, &num)) == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n].num = num;
		v[n].files = kind;
		n++;
	}
	closedir(dp);
	if (rc != 0) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, history_record_cmp);
	/* Merge the entries of one number. */
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && v[j - 1].num == v[i].num)
			v[j - 1].files |= v[i].files;
		else
			v[j++] = v[i];
	}
	*segs = v;
	*np = j;
	return 0;
}

void
history_record_data_release(struct history_seg_data *d)
{
	free(d->data);
	free(d->zdata);
	ZSTD_freeDCtx(d->dctx);
	memset(d, 0, sizeof *d);
}

static void
history_record_reserve(char **data, size_t *cap, size_t want)
{
	if (want <= *cap)
		return;
	*data = xrealloc(*data, want);
	*cap = want;
}

/* Read the whole file at fd into *data (at most limit bytes; *full if more remain). */
static int
history_record_read_fd(int fd, size_t limit, char **data, size_t *len, size_t *cap, bool *full)
{
	struct stat sb;
	size_t want;
	ssize_t n;
	char probe;

	*len = 0;
	*full = false;
	if (fstat(fd, &sb) != 0)
		return err_from_errno(errno);
	want = (uint64_t)sb.st_size < limit ? (size_t)sb.st_size : limit;
	/* Room for growth while we read: the open segment may be appended to. */
	history_record_reserve(data, cap, want + 65536 < limit ? want + 65536 : limit);
	for (;;) {
		/* The buffer may be larger than limit from an earlier load. */
		size_t room = *cap < limit ? *cap : limit;

		if (*len == room) {
			if (room >= limit)
				break;
			history_record_reserve(data, cap, *cap * 2 < limit ? *cap * 2 : limit);
			continue;
		}
		n = read(fd, *data + *len, room - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_from_errno(errno);
		if (n == 0)
			return 0;
		*len += (size_t)n;
	}
	do
		n = read(fd, &probe, 1);
	while (n < 0 && errno == EINTR);
	*full = n > 0;
	return 0;
}

/*
 * After a decompression error, decode again in small steps with the frame
 * checksum ignored, so that d keeps everything before the damaged block:
 * the records carry their own crc, so what is wrong in it is found anyway.
 */
static void
history_record_salvage(struct history_seg_data *d, size_t zlen, size_t limit)
{
	ZSTD_inBuffer in = {d->zdata, zlen, 0};
	ZSTD_outBuffer out;
	size_t r, step = 65536;

	ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
	/* An older libzstd without the parameter only salvages less. */
	(void)ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_forceIgnoreChecksum, 1);
	d->len = 0;
	while (d->len < limit) {
		history_record_reserve(&d->data, &d->cap,
				       d->len + step < limit ? d->len + step : limit);
		out.dst = d->data;
		out.size = d->len + step < limit ? d->len + step : limit;
		out.pos = d->len;
		r = ZSTD_decompressStream(d->dctx, &out, &in);
		d->len = out.pos;
		if (ZSTD_isError(r) || (in.pos == in.size && (r == 0 || out.pos < out.size)))
			break;
	}
	ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_and_parameters);
}

static int
history_record_load_zst(int fd, size_t limit, bool prefix, struct history_seg_data *d, char *msg,
			size_t msgsize)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	unsigned long long want;
	size_t zlen, r = 1;
	bool full;
	int rc;

	/*
	 * A compressed segment is smaller than its content, so limit bounds it
	 * too. For a prefix, limit bytes of content need at most limit bytes
	 * of input plus the block that holds their end.
	 */
	rc = history_record_read_fd(fd, prefix ? limit + (132u << 10) : limit, &d->zdata, &zlen,
				    &d->zcap, &full);
	if (rc != 0) {
		snprintf(msg, msgsize, "read: %s", strerror(errno));
		return rc;
	}
	if (full && !prefix) {
		snprintf(msg, msgsize, "compressed segment larger than %zu bytes", limit);
		return -ERR_TOOBIG;
	}
	if (d->dctx == NULL)
		d->dctx = ZSTD_createDCtx();
	ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
	want = ZSTD_getFrameContentSize(d->zdata, zlen);
	if (want == ZSTD_CONTENTSIZE_UNKNOWN || want == ZSTD_CONTENTSIZE_ERROR)
		want = 1u << 20;
	history_record_reserve(&d->data, &d->cap, want < limit ? (size_t)want + 1 : limit);

	in.src = d->zdata;
	in.size = zlen;
	in.pos = 0;
	for (;;) {
		size_t room = d->cap < limit ? d->cap : limit;

		if (d->len == room) {
			if (room >= limit) {
				if (prefix)
					return 0;
				snprintf(msg, msgsize,
					 "segment decompresses to more than %zu bytes", limit);
				return -ERR_TOOBIG;
			}
			history_record_reserve(&d->data, &d->cap,
					       d->cap * 2 < limit ? d->cap * 2 : limit);
			continue;
		}
		out.dst = d->data;
		out.size = room;
		out.pos = d->len;
		r = ZSTD_decompressStream(d->dctx, &out, &in);
		d->len = out.pos;
		if (ZSTD_isError(r)) {
			snprintf(msg, msgsize, "zstd: %s", ZSTD_getErrorName(r));
			history_record_salvage(d, zlen, limit);
			return -ERR_CORRUPT;
		}
		if (in.pos == in.size && (r == 0 || out.pos < out.size))
			break;
	}
	if (r != 0 && !(prefix && full)) {
		snprintf(msg, msgsize, "compressed data cut short");
		history_record_salvage(d, zlen, limit);
		return -ERR_CORRUPT;
	}
	return 0;
}

int
history_record_load(int dirfd, uint64_t num, size_t limit, bool prefix, struct history_seg_data *d,
		    char *msg, size_t msgsize)
{
	char name[HISTORY_NAME_LEN];
	bool full;
	int fd, rc;

	d->len = 0;
	d->sealed = false;
	msg[0] = '\0';
	/*
	 * The sealer renames the .zst in before it unlinks the .log, so
	 * .zst, then .log, then .zst again finds the segment in every race.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		history_record_name(name, sizeof name, num, "zst");
		if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			d->sealed = true;
			rc = history_record_load_zst(fd, limit, prefix, d, msg, msgsize);
			close(fd);
			return rc;
		}
		if (errno != ENOENT)
			goto fail;
		if (attempt == 1)
			break;
		history_record_name(name, sizeof name, num, "log");
		if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			rc = history_record_read_fd(fd, limit, &d->data, &d->len, &d->cap, &full);
			if (rc != 0)
				snprintf(msg, msgsize, "read '%s': %s", name, strerror(errno));
			else if (full && !prefix) {
				snprintf(msg, msgsize, "segment larger than %zu bytes", limit);
				rc = -ERR_TOOBIG;
			}
			close(fd);
			return rc;
		}
		if (errno != ENOENT)
			goto fail;
	}
	snprintf(msg, msgsize, "segment %" PRIu64 " is gone", num);
	return -ERR_NOENT;
fail:
	rc = err_from_errno(errno);
	snprintf(msg, msgsize, "open '%s': %s", name, strerror(errno));
	return rc;
}
