/*
 * history-fuzzer.c: libFuzzer target for the history log (src/history/):
 * the reader on arbitrary segment files (.log, .zst, both, with holes), and
 * the writer driven by arbitrary append/reopen/tear sequences and read
 * back. Records returned must pass their own checks and, where the plain
 * segment content is known, be exactly the valid records a byte-by-byte
 * scan finds (docs/internals/history.md, "Reader"). Not a benchmark.
 *
 * Input: byte 0 picks the mode (below), the rest is the mode's data.
 */
#include "common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "history/history-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define history_fuzzer_assert(cond)                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "history-fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

enum history_fuzzer_mode {
	HF_LOG,	     /* the data as the open segment 0000000001.log */
	HF_ZST,	     /* the data compressed (valid zstd) as 0000000001.zst */
	HF_RAW_ZST,  /* the data itself as 0000000001.zst: the decompressor meets garbage */
	HF_BOTH,     /* a sealed segment and an open one, cut at a point the data gives */
	HF_FLIP_ZST, /* the data compressed, then one byte flipped */
	HF_WRITER,   /* appends, reopens and torn tails through the real writer, read back */
	HF_HOLES,    /* segments 5 (.log), 6 missing (a .zst.tmp left), 7 (.log), maybe a bogus 8 */
	HF_NMODES
};

/* One record the reference scan expects. */
struct history_fuzzer_rec {
	struct history_hdr h;
	const char *payload;
};

struct history_fuzzer_expect {
	struct history_fuzzer_rec *v;
	size_t n, cap;
};

static char history_fuzzer_dir[64];
static unsigned history_fuzzer_warnings;

static void
history_fuzzer_setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	if (history_fuzzer_dir[0] != '\0')
		return;
	snprintf(history_fuzzer_dir, sizeof history_fuzzer_dir, "%s/roost-hfuzz-XXXXXX", base);
	history_fuzzer_assert(mkdtemp(history_fuzzer_dir) != NULL);
	/* The writer's warnings (torn tails, sealing) are expected here: keep them quiet. */
	log_open(-1, LOG_ERROR, "history-fuzzer");
}

/* Empty dir (one level of subdirectories). */
static void
history_fuzzer_clean(const char *dir)
{
	struct dirent *de;
	char path[256];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && (errno == EISDIR || errno == EPERM)) {
			history_fuzzer_clean(path);
			rmdir(path);
		}
	}
	closedir(d);
}

static void
history_fuzzer_write(const char *dir, const char *name, const void *data, size_t len,
		     bool append)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
	history_fuzzer_assert(fd >= 0);
	if (len > 0)
		history_fuzzer_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Compress into a new buffer; returns its length. */
static size_t
history_fuzzer_compress(const void *data, size_t len, char **out)
{
	size_t bound = ZSTD_compressBound(len), n;

	*out = xmalloc(bound);
	n = ZSTD_compress(*out, bound, data, len, 1);
	history_fuzzer_assert(!ZSTD_isError(n));
	return n;
}

/* The valid records of buf, found the naive way: try every byte position. */
static void
history_fuzzer_scan(const char *buf, size_t len, struct history_fuzzer_expect *e)
{
	struct history_hdr h;
	size_t pos = 0;

	while (pos < len) {
		if (history_record_check(buf + pos, len - pos, &h) != HISTORY_CHECK_OK) {
			pos++;
			continue;
		}
		if (e->n == e->cap) {
			e->cap = e->cap ? 2 * e->cap : 64;
			e->v = xrealloc(e->v, e->cap * sizeof *e->v);
		}
		e->v[e->n].h = h;
		e->v[e->n].payload = buf + pos + HISTORY_HDR_LEN;
		e->n++;
		pos += HISTORY_HDR_LEN + h.len;
	}
}

static void
history_fuzzer_warn_cb(const char *msg, void *arg)
{
	size_t i, n = strlen(msg);

	(void)arg;
	/* Warnings reach a person's terminal: short, printable, one line. */
	history_fuzzer_assert(n > 0 && n < HISTORY_WARN_LEN);
	for (i = 0; i < n; i++)
		history_fuzzer_assert((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
	history_fuzzer_warnings++;
}

/* What every record the reader returns must satisfy, whatever the input. */
static void
history_fuzzer_check_record(const struct history_record *rec)
{
	struct history_hdr h;

	history_fuzzer_assert(rec->type >= HISTORY_OUTPUT && rec->type <= HISTORY_DROP);
	history_fuzzer_assert(rec->len <= HISTORY_MAX_RECORD);
	history_fuzzer_assert(rec->data != NULL);
	/* The header sits right before the payload in the reader's buffer: the crc must hold. */
	history_fuzzer_assert(history_record_check(rec->data - HISTORY_HDR_LEN,
						   HISTORY_HDR_LEN + rec->len,
						   &h) == HISTORY_CHECK_OK);
	history_fuzzer_assert(h.type == rec->type && h.len == rec->len &&
			      h.time_ns == rec->time_ns && h.offset == rec->offset);
}

/*
 * Read dir to the end. With e, the records must be exactly e's; returns
 * the number of records read.
 */
static size_t
history_fuzzer_read(const char *dir, const struct history_fuzzer_expect *e)
{
	struct history_reader *r;
	struct history_record rec;
	size_t n = 0;
	int rc;

	history_fuzzer_assert(history_reader_open(dir, history_fuzzer_warn_cb, NULL, &r) == 0);
	while ((rc = history_reader_next(r, &rec)) == 1) {
		history_fuzzer_check_record(&rec);
		if (e != NULL) {
			const struct history_fuzzer_rec *x;

			history_fuzzer_assert(n < e->n);
			x = &e->v[n];
			history_fuzzer_assert(rec.type == x->h.type && rec.len == x->h.len &&
					      rec.time_ns == x->h.time_ns &&
					      rec.offset == x->h.offset);
			history_fuzzer_assert(memcmp(rec.data, x->payload, rec.len) == 0);
		}
		n++;
		/* Bounded: a record is at least a header. */
		history_fuzzer_assert(n <= (1u << 24));
	}
	history_fuzzer_assert(rc == 0);
	if (e != NULL)
		history_fuzzer_assert(n == e->n);
	/* A second end is still the end. */
	history_fuzzer_assert(history_reader_next(r, &rec) == 0);
	history_reader_close(r);
	return n;
}

/* The writer round trip: what was appended is what is read, in order, offsets and all. */

struct history_fuzzer_app {
	uint8_t type;
	uint32_t len;
	uint32_t seed;	 /* payload byte j is (seed + 131 * j) & 0xff, shifted by the chunk */
	uint32_t skip;	 /* payload bytes before this chunk in its append */
	uint64_t offset; /* output offset expected in its header */
};

static char *history_fuzzer_payload; /* HISTORY_MAX_RECORD + 65536 bytes, reused */

static const char *
history_fuzzer_fill(uint32_t seed, uint32_t skip, uint32_t len)
{
	uint32_t j;

	if (history_fuzzer_payload == NULL)
		history_fuzzer_payload = xmalloc(HISTORY_MAX_RECORD + 65536);
	for (j = 0; j < len; j++)
		history_fuzzer_payload[j] = (char)((seed + 131u * (skip + j)) & 0xff);
	return history_fuzzer_payload;
}

struct history_fuzzer_in {
	const uint8_t *p;
	size_t n;
};

static unsigned
history_fuzzer_byte(struct history_fuzzer_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static void
history_fuzzer_writer(const uint8_t *data, size_t size)
{
	struct history_fuzzer_in in = {data, size};
	struct history_fuzzer_app *apps = NULL;
	struct history_writer *w = NULL;
	struct history_reader *r;
	struct history_record rec;
	struct history_opts o;
	char dir[128], name[HISTORY_NAME_LEN];
	size_t napps = 0, cap = 0, i, first, ops = 0;
	uint64_t offset = 0;
	unsigned b;
	int rc;

	snprintf(dir, sizeof dir, "%s/w", history_fuzzer_dir);
	history_opts_init(&o);
	b = history_fuzzer_byte(&in);
	o.segment_size = 1024 + 256 * (b & 15);
	o.cap = (b & 16) ? 0 : 2048 + 512 * (uint64_t)(b >> 5);
	o.level = 1;
	history_fuzzer_assert(history_writer_open(dir, &o, &w) == 0);
	while (in.n > 0 && ops++ < 64) {
		unsigned op = history_fuzzer_byte(&in), kind = op & 7;

		if (kind <= 4) {
			uint8_t type = (uint8_t)(1 + (op >> 3) % 5); /* DROP is the cap's */
			uint32_t len = history_fuzzer_byte(&in) | history_fuzzer_byte(&in) << 8;
			uint32_t seed = op * 7919u + (uint32_t)napps * 104729u, done = 0;

			len %= 3000;
			if (kind == 4 && (op >> 6) == 3)
				len += HISTORY_MAX_RECORD; /* split into two records */
			history_fuzzer_assert(history_writer_append(
						  w, type, history_fuzzer_fill(seed, 0, len), len) == 0);
			do {
				uint32_t n = len - done < HISTORY_MAX_RECORD ? len - done
									     : HISTORY_MAX_RECORD;

				if (napps == cap) {
					cap = cap ? 2 * cap : 64;
					apps = xrealloc(apps, cap * sizeof *apps);
				}
				apps[napps].type = type;
				apps[napps].len = n;
				apps[napps].seed = seed;
				apps[napps].skip = done;
				apps[napps].offset = offset;
				napps++;
				if (type == HISTORY_OUTPUT)
					offset += n;
				done += n;
			} while (done < len);
			history_fuzzer_assert(history_writer_offset(w) == offset);
		} else if (kind == 5) {
			/* A clean restart, with or without sealing the open segment. */
			history_writer_close(w, (op & 8) != 0);
			history_fuzzer_assert(history_writer_open(dir, &o, &w) == 0);
			history_fuzzer_assert(history_writer_offset(w) == offset);
		} else if (kind == 6) {
			/* A crash mid-record: a torn tail that holds no valid record. */
			unsigned char tail[HISTORY_HDR_LEN + 64];
			size_t tlen = 1 + history_fuzzer_byte(&in) % sizeof tail, k;
			struct history_seginfo *segs = NULL;
			size_t nsegs = 0;
			int dfd;

			if (op & 8) {
				history_record_encode(tail, HISTORY_OUTPUT, 1, offset,
						      "0123456789012345678901234567890123456789"
						      "012345678901234567890123",
						      64);
				memcpy(tail + HISTORY_HDR_LEN, "0123456789012345678901234567890123456789"
							       "012345678901234567890123",
				       64);
				if (tlen == sizeof tail)
					tlen--;
			} else {
				for (k = 0; k < tlen; k++)
					tail[k] = (unsigned char)history_fuzzer_byte(&in);
				if (history_record_resync((char *)tail, tlen, 0) != tlen)
					tlen = 0;
			}
			history_writer_close(w, false);
			dfd = open(dir, O_RDONLY | O_DIRECTORY);
			history_fuzzer_assert(dfd >= 0);
			history_fuzzer_assert(history_record_list(dfd, &segs, &nsegs) == 0);
			close(dfd);
			if (tlen > 0 && nsegs > 0 && segs[nsegs - 1].files == HISTORY_SEG_LOG) {
				history_record_name(name, sizeof name, segs[nsegs - 1].num, "log");
				history_fuzzer_write(dir, name, tail, tlen, true);
			}
			free(segs);
			history_fuzzer_assert(history_writer_open(dir, &o, &w) == 0);
			history_fuzzer_assert(history_writer_offset(w) == offset);
		} else {
			history_fuzzer_assert(history_writer_sync(w) == 0);
		}
	}
	history_writer_close(w, (size & 1) != 0);

	/*
	 * Read back: DROP records (the cap's notes) aside, the last K of what
	 * was appended, in order, offsets and payloads exact; all of it
	 * without a cap. K is counted in a first pass.
	 */
	for (int pass = 0; pass < 2; pass++) {
		history_fuzzer_assert(history_reader_open(dir, history_fuzzer_warn_cb, NULL, &r) == 0);
		i = 0;
		while ((rc = history_reader_next(r, &rec)) == 1) {
			const struct history_fuzzer_app *a;

			history_fuzzer_check_record(&rec);
			if (rec.type == HISTORY_DROP) {
				history_fuzzer_assert(o.cap != 0);
				history_fuzzer_assert(rec.len >= 8 && memcmp(rec.data, "dropped ", 8) == 0);
				continue;
			}
			if (pass == 0) {
				i++;
				continue;
			}
			history_fuzzer_assert(first + i < napps);
			a = &apps[first + i];
			history_fuzzer_assert(rec.type == a->type && rec.len == a->len &&
					      rec.offset == a->offset);
			history_fuzzer_assert(
			    memcmp(rec.data, history_fuzzer_fill(a->seed, a->skip, a->len), rec.len) == 0);
			i++;
		}
		history_fuzzer_assert(rc == 0);
		history_reader_close(r);
		if (pass == 0) {
			history_fuzzer_assert(i <= napps);
			first = napps - i;
			history_fuzzer_assert(o.cap != 0 || first == 0);
		}
	}
	/* Nothing was damaged: the reader has nothing to warn about. */
	history_fuzzer_assert(history_fuzzer_warnings == 0);
	free(apps);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history_fuzzer_expect e = {0};
	const char *d;
	char *z = NULL, *z2 = NULL, *plain = NULL;
	size_t n, zlen, cut;
	enum history_fuzzer_mode mode;

	if (size < 1)
		return 0;
	history_fuzzer_setup();
	history_fuzzer_clean(history_fuzzer_dir);
	history_fuzzer_warnings = 0;
	mode = (enum history_fuzzer_mode)(data[0] % HF_NMODES);
	d = (const char *)data + 1;
	n = size - 1;

	switch (mode) {
	case HF_LOG:
		history_fuzzer_write(history_fuzzer_dir, "0000000001.log", d, n, false);
		history_fuzzer_scan(d, n, &e);
		history_fuzzer_read(history_fuzzer_dir, &e);
		break;
	case HF_ZST:
		zlen = history_fuzzer_compress(d, n, &z);
		history_fuzzer_write(history_fuzzer_dir, "0000000001.zst", z, zlen, false);
		history_fuzzer_scan(d, n, &e);
		history_fuzzer_read(history_fuzzer_dir, &e);
		break;
	case HF_RAW_ZST: {
		unsigned long long want = ZSTD_getFrameContentSize(d, n);
		size_t got;

		history_fuzzer_write(history_fuzzer_dir, "0000000001.zst", d, n, false);
		/* One small, whole, valid frame: then the records are known exactly. */
		if (want <= (1u << 20) && ZSTD_findFrameCompressedSize(d, n) == n) {
			plain = xmalloc((size_t)want + 1);
			got = ZSTD_decompress(plain, (size_t)want + 1, d, n);
			if (!ZSTD_isError(got) && got == want)
				history_fuzzer_scan(plain, got, &e);
			else {
				free(plain);
				plain = NULL;
			}
		}
		history_fuzzer_read(history_fuzzer_dir, plain != NULL ? &e : NULL);
		break;
	}
	case HF_BOTH:
		cut = n >= 2 ? ((size_t)(uint8_t)d[0] | (size_t)(uint8_t)d[1] << 8) % (n + 1) : 0;
		zlen = history_fuzzer_compress(d, cut, &z);
		history_fuzzer_write(history_fuzzer_dir, "0000000001.zst", z, zlen, false);
		history_fuzzer_write(history_fuzzer_dir, "0000000002.log", d + cut, n - cut, false);
		history_fuzzer_scan(d, cut, &e);
		history_fuzzer_scan(d + cut, n - cut, &e);
		history_fuzzer_read(history_fuzzer_dir, &e);
		break;
	case HF_FLIP_ZST:
		if (n < 3)
			break;
		zlen = history_fuzzer_compress(d + 3, n - 3, &z);
		z2 = xmalloc(zlen);
		memcpy(z2, z, zlen);
		z2[((size_t)(uint8_t)d[0] | (size_t)(uint8_t)d[1] << 8) % zlen] ^=
		    (char)(d[2] ? d[2] : 1);
		history_fuzzer_write(history_fuzzer_dir, "0000000001.zst", z2, zlen, false);
		history_fuzzer_read(history_fuzzer_dir, NULL);
		break;
	case HF_WRITER:
		history_fuzzer_writer(data + 1, n);
		break;
	case HF_HOLES:
		cut = n / 3;
		history_fuzzer_write(history_fuzzer_dir, "0000000005.log", d, cut, false);
		history_fuzzer_write(history_fuzzer_dir, "0000000006.zst.tmp", d + cut, cut, false);
		history_fuzzer_write(history_fuzzer_dir, "0000000007.log", d + 2 * cut, n - 2 * cut,
				     false);
		history_fuzzer_scan(d, cut, &e);
		history_fuzzer_scan(d + 2 * cut, n - 2 * cut, &e);
		if (n > 0 && (d[0] & 1)) {
			/* A directory where a segment should be: skipped with a warning. */
			char path[128];

			snprintf(path, sizeof path, "%s/0000000008.zst", history_fuzzer_dir);
			mkdir(path, 0700);
		}
		history_fuzzer_read(history_fuzzer_dir, &e);
		/* Segment 6 is missing after 5 was read: that is said. */
		history_fuzzer_assert(history_fuzzer_warnings >= 1);
		break;
	default:
		break;
	}
	free(e.v);
	free(z);
	free(z2);
	free(plain);
	return 0;
}
