/*
 * test-history.c: unit tests of the history log: round trips across sealed
 * segments, concurrent reading, torn tails, corruption, the cap, a full
 * disk (RLIMIT_FSIZE), and the raw, text and asciicast exporters.
 */
#include "common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "history/history-export.h"
#include "history/history-int.h"
#include "history/history.h"

/* A record as the tests keep it. */
struct trec {
	enum history_type type;
	uint64_t offset;
	uint64_t time_ns;
	char *data;
	size_t len;
};

struct tlog {
	struct trec *v;
	size_t n;
	size_t cap;
	int warnings;
	char last_warning[HISTORY_WARN_LEN];
};

static void
tlog_add(struct tlog *l, enum history_type type, uint64_t offset, const void *data, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n].type = type;
	l->v[l->n].offset = offset;
	l->v[l->n].time_ns = 0;
	l->v[l->n].data = xmalloc(len + 1);
	memcpy(l->v[l->n].data, data, len);
	l->v[l->n].data[len] = '\0';
	l->v[l->n].len = len;
	l->n++;
}

static void
tlog_free(struct tlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].data);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void
test_warn_cb(const char *msg, void *arg)
{
	struct tlog *l = arg;

	l->warnings++;
	snprintf(l->last_warning, sizeof l->last_warning, "%s", msg);
}

/* Read every record of dir into l. */
static void
read_all(const char *dir, struct tlog *l)
{
	struct history_reader *r;
	struct history_record rec;
	int rc;

	assert_int_equal(history_reader_open(dir, test_warn_cb, l, &r), 0);
	while ((rc = history_reader_next(r, &rec)) > 0) {
		tlog_add(l, rec.type, rec.offset, rec.data, rec.len);
		l->v[l->n - 1].time_ns = rec.time_ns;
	}
	assert_int_equal(rc, 0);
	history_reader_close(r);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static char *
make_dir(void)
{
	char tmpl[] = "/tmp/roost-test-history-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xasprintf("%s/log", tmpl);
}

static void
remove_dir(char *dir)
{
	char *parent = xstrdup(dir);

	*strrchr(parent, '/') = '\0';
	nftw(parent, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(parent);
	free(dir);
}

/* Count the files of dir with this suffix. */
static int
count_files(const char *dir, const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Bytes in the regular files of dir. */
static uint64_t
dir_bytes(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path = xasprintf("%s/%s", dir, de->d_name);

		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
		free(path);
	}
	closedir(d);
	return total;
}

static char *
seg_path(const char *dir, uint64_t num, const char *ext)
{
	return xasprintf("%s/%010" PRIu64 ".%s", dir, num, ext);
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* Deterministic payload number i: recognisable text, varied lengths. */
static size_t
payload(int i, char *out, size_t size)
{
	size_t len = (size_t)((i * 7919) % 1500) + 16, k;
	int n = snprintf(out, size, "rec %06d|", i);

	for (k = (size_t)n; k < len && k < size; k++)
		out[k] = (char)('a' + (i + k) % 26);
	return len < size ? len : size;
}

/* Write records 0..n-1 with payload(), types cycling; remember them in expect. */
static void
write_records(struct history_writer *w, int from, int n, struct tlog *expect)
{
	static const enum history_type types[] = {HISTORY_OUTPUT, HISTORY_OUTPUT, HISTORY_INPUT,
						  HISTORY_OUTPUT, HISTORY_MARK,	  HISTORY_OUTPUT};
	char buf[2048];
	size_t len;

	for (int i = from; i < from + n; i++) {
		enum history_type t = types[i % nitems(types)];

		len = payload(i, buf, sizeof buf);
		if (expect != NULL)
			tlog_add(expect, t, history_writer_offset(w), buf, len);
		assert_int_equal(history_writer_append(w, t, buf, len), 0);
	}
}

static void
assert_same(const struct tlog *got, const struct tlog *want)
{
	assert_int_equal(got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		assert_int_equal(got->v[i].type, want->v[i].type);
		assert_int_equal(got->v[i].offset, want->v[i].offset);
		assert_int_equal(got->v[i].len, want->v[i].len);
		assert_memory_equal(got->v[i].data, want->v[i].data, want->v[i].len);
	}
}

static struct history_opts
small_opts(void)
{
	struct history_opts o;

	history_opts_init(&o);
	o.segment_size = 4096;
	o.cap = 0;
	return o;
}

static void
test_round_trip(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0}, got = {0};
	char *dir = make_dir(), *big, *p;
	size_t biglen = HISTORY_MAX_RECORD * 2 + 100, i;
	struct stat sb;

	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(history_writer_append(w, HISTORY_RESIZE, "80x24", 5), 0);
	tlog_add(&want, HISTORY_RESIZE, 0, "80x24", 5);
	write_records(w, 0, 300, &want);
	assert_int_equal(history_writer_append(w, HISTORY_MARK, "", 0), 0);
	tlog_add(&want, HISTORY_MARK, history_writer_offset(w), "", 0);

	/* A payload above HISTORY_MAX_RECORD comes back as several records. */
	big = xmalloc(biglen);
	for (i = 0; i < biglen; i++)
		big[i] = (char)(i * 31 + 7);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, big, biglen), 0);
	for (p = big; p < big + biglen; p += HISTORY_MAX_RECORD) {
		size_t n = (size_t)(big + biglen - p);

		if (n > HISTORY_MAX_RECORD)
			n = HISTORY_MAX_RECORD;
		tlog_add(&want, HISTORY_OUTPUT,
			 want.v[want.n - 1].offset + (want.v[want.n - 1].type == HISTORY_OUTPUT
							  ? want.v[want.n - 1].len
							  : 0),
			 p, n);
	}
	write_records(w, 300, 300, &want);
	assert_int_equal(history_writer_append(w, HISTORY_EXIT, "0", 1), 0);
	tlog_add(&want, HISTORY_EXIT, history_writer_offset(w), "0", 1);
	history_writer_close(w, true);

	/* Everything sealed: no .log, no temp files, many .zst, all 0600. */
	assert_int_equal(count_files(dir, ".log"), 0);
	assert_int_equal(count_files(dir, ".tmp"), 0);
	assert_true(count_files(dir, ".zst") > 20);
	{
		char *f = seg_path(dir, 1, "zst");

		assert_int_equal(stat(f, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		free(f);
	}
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	for (i = 1; i < got.n; i++)
		assert_true(got.v[i].time_ns >= got.v[i - 1].time_ns);

	/* Reopening carries on the offset and the numbering. */
	int zst = count_files(dir, ".zst");
	uint64_t offset = want.v[want.n - 1].offset;

	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_offset(w), offset);
	assert_int_equal(history_writer_disk_bytes(w), dir_bytes(dir));
	write_records(w, 600, 50, &want);
	assert_true(history_writer_disk_bytes(w) > 0);
	history_writer_close(w, true);
	assert_true(count_files(dir, ".zst") > zst);
	tlog_free(&got);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);

	free(big);
	tlog_free(&want);
	tlog_free(&got);
	remove_dir(dir);
}

/* A temporary file to export into; returns its fd. */
static int
export_fd(void)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	return fd;
}

static char *
fd_contents(int fd, size_t *lenp)
{
	struct buf b;
	char chunk[65536];
	ssize_t n;

	buf_init(&b, 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)n);
	buf_addc(&b, '\0');
	*lenp = b.len - 1;
	close(fd);
	return b.data;
}

/* Export dir in format (with tail) and return what was written. */
static char *
export_str(const char *dir, enum history_format f, long tail, size_t *lenp)
{
	struct history_export_opts eo = {.format = f, .tail = tail, .cols = 80, .rows = 24};
	char *cause = NULL;
	int fd = export_fd(), rc;

	rc = history_export(dir, &eo, fd, &cause);
	if (rc != 0)
		fail_msg("export failed: %s", cause ? cause : "?");
	assert_null(cause);
	return fd_contents(fd, lenp);
}

static void
test_export_raw(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0};
	struct buf all;
	char *dir = make_dir(), *out, *big;
	size_t len, i;

	o.segment_size = 64 << 10;
	buf_init(&all, 0);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 0, 2000, &want);
	/* Binary data, NUL bytes and all, and a payload split across records. */
	big = xmalloc(3 << 20);
	for (i = 0; i < 3u << 20; i++)
		big[i] = (char)(i ^ (i >> 9));
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, big, 3 << 20), 0);
	tlog_add(&want, HISTORY_OUTPUT, 0, big, 3 << 20);
	write_records(w, 2000, 500, &want);
	history_writer_close(w, false);
	for (i = 0; i < want.n; i++) {
		if (want.v[i].type == HISTORY_OUTPUT)
			buf_add(&all, want.v[i].data, want.v[i].len);
	}
	out = export_str(dir, HISTORY_FORMAT_RAW, -1, &len);
	assert_int_equal(len, all.len);
	assert_memory_equal(out, all.data, all.len);
	free(out);
	free(big);
	buf_release(&all);
	tlog_free(&want);
	remove_dir(dir);
}

struct concurrent {
	const char *dir;
	int n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int reads;	/* reads the main thread finished */
	bool appending; /* the writer has records left to append */
	bool done;	/* the writer closed the log */
};

/*
 * Append in batches, each after the reader finished one more read, so
 * that reads interleave with appends, rotations and sealing.
 */
static void *
concurrent_writer(void *arg)
{
	struct concurrent *c = arg;
	struct history_opts o = small_opts();
	struct history_writer *w;

	if (history_writer_open(c->dir, &o, &w) != 0)
		abort();
	for (int i = 0; i < c->n; i += 50) {
		write_records(w, i, 50, NULL);
		pthread_mutex_lock(&c->lock);
		for (int seen = c->reads; c->reads == seen;)
			pthread_cond_wait(&c->cond, &c->lock);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_lock(&c->lock);
	c->appending = false;
	pthread_mutex_unlock(&c->lock);
	history_writer_close(w, true);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Check that got holds records 0..got->n-1 as write_records wrote them. */
static void
assert_prefix(const struct tlog *got)
{
	char buf[2048];
	uint64_t offset = 0;
	size_t len;

	for (size_t i = 0; i < got->n; i++) {
		len = payload((int)i, buf, sizeof buf);
		assert_int_equal(got->v[i].len, len);
		assert_memory_equal(got->v[i].data, buf, len);
		assert_int_equal(got->v[i].offset, offset);
		if (got->v[i].type == HISTORY_OUTPUT)
			offset += len;
	}
}

static void
test_concurrent(void **state)
{
	struct concurrent c = {.dir = make_dir(), .n = 5000, .appending = true};
	struct tlog got = {0};
	pthread_t t;
	int reads = 0, grew = 0;
	size_t prev = 0;
	bool done = false;

	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	assert_int_equal(path_mkdir_p(c.dir), 0);
	assert_int_equal(pthread_create(&t, NULL, concurrent_writer, &c), 0);
	while (!done) {
		read_all(c.dir, &got);
		assert_int_equal(got.warnings, 0);
		assert_prefix(&got);
		assert_true(got.n >= prev);
		grew += got.n > prev;
		prev = got.n;
		tlog_free(&got);
		pthread_mutex_lock(&c.lock);
		reads += c.appending;
		c.reads++;
		done = c.done;
		pthread_cond_signal(&c.cond);
		pthread_mutex_unlock(&c.lock);
	}
	pthread_join(t, NULL);
	read_all(c.dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_int_equal(got.n, (size_t)c.n);
	assert_prefix(&got);
	tlog_free(&got);
	print_message("concurrent: %d reads while appending, %d saw new records\n", reads, grew);
	assert_true(grew >= c.n / 50 / 2);
	pthread_mutex_destroy(&c.lock);
	pthread_cond_destroy(&c.cond);
	remove_dir((char *)c.dir);
}

static void
truncate_file(const char *path, off_t len)
{
	assert_int_equal(truncate(path, len), 0);
}

static void
append_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
append_file_create(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void
test_torn_tail(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0}, got = {0};
	char *dir = make_dir(), *open_log, *next_log;
	off_t size;
	uint64_t offset;

	o.segment_size = 1 << 20;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 0, 100, &want);
	history_writer_close(w, false);
	open_log = seg_path(dir, 1, "log");
	next_log = seg_path(dir, 2, "log");

	/* Cut the last record in half: the reader returns the others, quietly. */
	size = file_size(open_log);
	truncate_file(open_log, size - (off_t)want.v[99].len / 2);
	want.n--;
	free(want.v[want.n].data);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	tlog_free(&got);

	/* Garbage after it changes nothing either. */
	append_file(open_log, "garbage\x52\x54 after a torn record, not a header", 43);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	tlog_free(&got);

	/* The writer cuts the tail back to the last whole record and starts a new segment. */
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	offset = want.v[want.n - 1].offset +
		 (want.v[want.n - 1].type == HISTORY_OUTPUT ? want.v[want.n - 1].len : 0);
	assert_int_equal(history_writer_offset(w), offset);
	assert_int_equal(access(next_log, F_OK), 0);
	write_records(w, 99, 50, &want);
	history_writer_close(w, true);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	tlog_free(&got);

	/* Reopened on a clean tail, the writer appends to the open segment in place. */
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 149, 5, &want);
	history_writer_close(w, false);
	assert_int_equal(count_files(dir, ".log"), 1);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 154, 5, &want);
	history_writer_close(w, false);
	assert_int_equal(count_files(dir, ".log"), 1);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	tlog_free(&got);

	free(open_log);
	free(next_log);
	tlog_free(&want);
	remove_dir(dir);
}

/* Leftovers of a crash while sealing: a temp file, a .log next to its .zst. */
static void
test_leftovers(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0}, got = {0};
	char *dir = make_dir(), *log1 = seg_path(dir, 1, "log"),
	     *tmp1 = seg_path(dir, 1, "zst.tmp");
	char *zst1 = seg_path(dir, 1, "zst"), *log2 = seg_path(dir, 2, "log");

	o.segment_size = 1 << 20;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 0, 50, &want);
	history_writer_close(w, true);
	assert_int_equal(access(zst1, F_OK), 0);
	assert_int_equal(access(log1, F_OK), -1);

	/* A damaged .log beside its .zst, and a temp file: readers ignore both. */
	append_file_create(log1, "not a record at all, and long enough to be looked at", 52);
	append_file_create(tmp1, "half a compressed segment", 25);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	assert_same(&got, &want);
	tlog_free(&got);

	/* The writer removes them on open and carries on after segment 1. */
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(access(log1, F_OK), -1);
	assert_int_equal(access(tmp1, F_OK), -1);
	assert_int_equal(access(log2, F_OK), 0);
	assert_int_equal(history_writer_offset(w),
			 want.v[want.n - 1].offset + (want.v[want.n - 1].type == HISTORY_OUTPUT
							  ? want.v[want.n - 1].len
							  : 0));
	history_writer_close(w, false);
	free(log1);
	free(tmp1);
	free(zst1);
	free(log2);
	tlog_free(&want);
	remove_dir(dir);
}

/* The records of a directory holding only segment num of dir. */
static void
read_segment_alone(const char *dir, uint64_t num, struct tlog *l)
{
	char *alone = make_dir(), *src = seg_path(dir, num, "zst"), *dst;
	char *cmd;

	assert_int_equal(path_mkdir_p(alone), 0);
	dst = seg_path(alone, num, "zst");
	cmd = xasprintf("cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	read_all(alone, l);
	free(cmd);
	free(src);
	free(dst);
	remove_dir(alone);
}

static void
test_flip_sealed(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0}, got = {0}, seg3 = {0};
	char *dir = make_dir(), *z;
	size_t i, j;

	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 0, 200, &want);
	history_writer_close(w, true);
	read_segment_alone(dir, 3, &seg3);
	assert_true(seg3.n > 1);

	z = seg_path(dir, 3, "zst");
	flip_byte(z, file_size(z) / 2);
	read_all(dir, &got);
	assert_true(got.warnings >= 1);
	print_message("sealed flip: %s\n", got.last_warning);
	/* Every record returned is genuine and in order; all outside segment 3 are there. */
	assert_true(got.n < want.n);
	for (i = 0, j = 0; i < want.n; i++) {
		bool in3 = false;

		for (size_t k = 0; k < seg3.n; k++)
			in3 |= seg3.v[k].offset == want.v[i].offset &&
			       seg3.v[k].len == want.v[i].len &&
			       memcmp(seg3.v[k].data, want.v[i].data, want.v[i].len) == 0;
		if (j < got.n && got.v[j].len == want.v[i].len &&
		    memcmp(got.v[j].data, want.v[i].data, want.v[i].len) == 0) {
			j++;
			continue;
		}
		assert_true(in3);
	}
	assert_int_equal(j, got.n);
	free(z);
	tlog_free(&want);
	tlog_free(&got);
	tlog_free(&seg3);
	remove_dir(dir);
}

/* Byte position of record idx in a segment that holds want[0..] from its start. */
static off_t
record_pos(const struct tlog *want, size_t idx)
{
	off_t pos = 0;

	for (size_t i = 0; i < idx; i++)
		pos += HISTORY_HDR_LEN + (off_t)want->v[i].len;
	return pos;
}

static void
test_flip_open(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog want = {0}, got = {0};
	char *dir = make_dir(), *log1;

	o.segment_size = 1 << 20;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 0, 100, &want);
	history_writer_close(w, false);
	log1 = seg_path(dir, 1, "log");

	/* A flipped payload byte of record 40: one warning, the 99 others come back. */
	flip_byte(log1, record_pos(&want, 40) + HISTORY_HDR_LEN + 5);
	/* A flipped length byte of record 70: the reader must find record 71 again. */
	flip_byte(log1, record_pos(&want, 70) + 6);
	read_all(dir, &got);
	print_message("open flip: %s\n", got.last_warning);
	assert_int_equal(got.warnings, 2);
	assert_int_equal(got.n, 98);
	for (size_t i = 0, j = 0; i < want.n; i++) {
		if (i == 40 || i == 70)
			continue;
		assert_int_equal(got.v[j].len, want.v[i].len);
		assert_memory_equal(got.v[j].data, want.v[i].data, want.v[i].len);
		j++;
	}
	tlog_free(&got);

	/* Reopening keeps the records after the damage (nothing is cut) and carries on. */
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	write_records(w, 100, 10, &want);
	history_writer_close(w, true);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 2);
	assert_int_equal(got.n, 108);
	assert_int_equal(got.v[107].len, want.v[109].len);
	assert_memory_equal(got.v[107].data, want.v[109].data, want.v[109].len);
	free(log1);
	tlog_free(&want);
	tlog_free(&got);
	remove_dir(dir);
}

static void
test_cap(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog got = {0};
	char *dir = make_dir(), buf[1000];
	uint64_t total = 0, first = UINT64_MAX, expect_off = 0, kept = 0;
	int drops = 0;
	size_t i;

	o.cap = 16 << 10;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	for (i = 0; i < 200; i++) {
		memset(buf, 'a' + (int)(i % 26), sizeof buf);
		assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, buf, sizeof buf), 0);
		total += sizeof buf;
	}
	/* Sealing is asynchronous; after close and reopen every full segment can be dropped. */
	history_writer_close(w, true);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_offset(w), total);
	history_writer_close(w, true);
	{
		char *z1 = seg_path(dir, 1, "zst");

		assert_int_equal(access(z1, F_OK), -1);
		free(z1);
	}

	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	for (i = 0; i < got.n; i++) {
		if (got.v[i].type == HISTORY_DROP) {
			drops++;
			assert_true(strncmp(got.v[i].data, "dropped segment", 15) == 0);
			print_message("drop record: %s\n", got.v[i].data);
			continue;
		}
		assert_int_equal(got.v[i].type, HISTORY_OUTPUT);
		if (first == UINT64_MAX) {
			first = got.v[i].offset;
			expect_off = first;
		}
		/* Offsets are continuous over what is kept. */
		assert_int_equal(got.v[i].offset, expect_off);
		/* Record k holds 1000 bytes of 'a' + k % 26: the right bytes at the right offset.
		 */
		assert_int_equal(got.v[i].data[0], 'a' + (int)(got.v[i].offset / 1000 % 26));
		expect_off += got.v[i].len;
		kept += got.v[i].len;
	}
	assert_true(drops >= 1);
	assert_true(first > 0);
	assert_int_equal(expect_off, total);
	assert_true(kept <= o.cap + o.segment_size);
	assert_true(kept >= o.cap - o.segment_size);
	tlog_free(&got);
	remove_dir(dir);
}

/* A lower cap on reopen drops old segments at once, even large ones that compress badly. */
static void
test_cap_reopen(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog got = {0};
	char *dir = make_dir(), *buf = xmalloc(64 << 10);
	uint64_t total = 0, kept = 0, first = UINT64_MAX;
	int drops = 0;
	size_t i, k;

	/* Incompressible: each 256 KiB segment stays over 64 KiB once sealed. */
	o.segment_size = 256 << 10;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	for (i = 0; i < 40; i++) {
		for (k = 0; k < 64u << 10; k++)
			buf[k] = (char)(random() >> 7);
		assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, buf, 64 << 10), 0);
		total += 64 << 10;
	}
	history_writer_close(w, true);
	o.cap = 1 << 20;
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_offset(w), total);
	history_writer_close(w, false);
	read_all(dir, &got);
	assert_int_equal(got.warnings, 0);
	for (i = 0; i < got.n; i++) {
		if (got.v[i].type == HISTORY_DROP) {
			drops++;
			continue;
		}
		if (first == UINT64_MAX)
			first = got.v[i].offset;
		kept += got.v[i].len;
	}
	assert_int_equal(drops, 1);
	assert_int_equal(first + kept, total);
	assert_true(kept <= o.cap);
	assert_true(kept > o.cap - o.segment_size);
	free(buf);
	tlog_free(&got);
	remove_dir(dir);
}

/* In a child: fill a file up to RLIMIT_FSIZE; returns a failure code or 0. */
static int
enospc_child(const char *dir)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct rlimit rl = {.rlim_cur = 10000, .rlim_max = RLIM_INFINITY};
	struct tlog got = {0};
	char buf[1000], *log1 = seg_path(dir, 1, "log");
	int i, rc, ok = 0;

	memset(buf, 'x', sizeof buf);
	o.segment_size = 1 << 20;
	signal(SIGXFSZ, SIG_IGN);
	if (history_writer_open(dir, &o, &w) != 0)
		return 10;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 11;
	for (i = 0; i < 20; i++) {
		rc = history_writer_append(w, HISTORY_OUTPUT, buf, sizeof buf);
		if (rc == -ERR_NOSPC)
			break;
		if (rc != 0)
			return 12;
		ok++;
	}
	if (i == 20)
		return 13;
	/* No torn record left behind. */
	if (file_size(log1) != (off_t)ok * (off_t)(HISTORY_HDR_LEN + sizeof buf))
		return 14;
	/* Still usable: a record that fits is stored. */
	if (history_writer_append(w, HISTORY_OUTPUT, buf, 100) != 0)
		return 15;
	if (history_writer_offset(w) != (uint64_t)ok * sizeof buf + 100)
		return 16;
	history_writer_close(w, false);
	read_all(dir, &got);
	if (got.warnings != 0 || got.n != (size_t)ok + 1)
		return 17;
	tlog_free(&got);
	free(log1);
	return 0;
}

static void
test_enospc(void **state)
{
	char *dir = make_dir();
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(enospc_child(dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	remove_dir(dir);
}

/* Parse an asciicast: header into *hdr, the "o" texts concatenated, resizes as "WxH;" */
static void
parse_cast(const char *cast, json_t **hdr, struct buf *text, struct buf *resizes, int *events)
{
	const char *p = cast, *nl;
	json_error_t err;
	double last = 0;

	*events = 0;
	nl = strchr(p, '\n');
	assert_non_null(nl);
	*hdr = json_loadb(p, (size_t)(nl - p), 0, &err);
	assert_non_null(*hdr);
	for (p = nl + 1; *p != '\0'; p = nl + 1) {
		json_t *ev;
		double t;
		const char *kind, *s;
		size_t slen;

		nl = strchr(p, '\n');
		assert_non_null(nl);
		ev = json_loadb(p, (size_t)(nl - p), 0, &err);
		if (ev == NULL)
			fail_msg("bad event line: %s", err.text);
		assert_int_equal(json_unpack(ev, "[F s s%]", &t, &kind, &s, &slen), 0);
		assert_true(t >= last);
		last = t;
		if (strcmp(kind, "o") == 0)
			buf_add(text, s, slen);
		else if (strcmp(kind, "r") == 0) {
			buf_add(resizes, s, slen);
			buf_addc(resizes, ';');
		} else
			fail_msg("unexpected event kind %s", kind);
		(*events)++;
		json_decref(ev);
	}
}

static void
test_asciicast(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct tlog got = {0};
	struct buf text, resizes;
	json_t *hdr;
	char *dir = make_dir(), *cast;
	const char *utf = "héllo wörld → ✓ 𝄞 done\r\n\x1b[1mbold\x1b[0m";
	size_t len, i, n = strlen(utf);
	int events;

	buf_init(&text, 0);
	buf_init(&resizes, 0);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_append(w, HISTORY_RESIZE, "100x30", 6), 0);
	/* One byte per record: every multi-byte character is cut across records. */
	for (i = 0; i < n; i++)
		assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, utf + i, 1), 0);
	assert_int_equal(history_writer_append(w, HISTORY_INPUT, "q", 1), 0);
	assert_int_equal(history_writer_append(w, HISTORY_RESIZE, "120x40", 6), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "end", 3), 0);
	history_writer_close(w, true);
	read_all(dir, &got);

	cast = export_str(dir, HISTORY_FORMAT_ASCIICAST, -1, &len);
	parse_cast(cast, &hdr, &text, &resizes, &events);
	assert_int_equal(json_integer_value(json_object_get(hdr, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(hdr, "width")), 100);
	assert_int_equal(json_integer_value(json_object_get(hdr, "height")), 30);
	assert_int_equal(json_integer_value(json_object_get(hdr, "timestamp")),
			 got.v[0].time_ns / 1000000000u);
	{
		static const char start[] =
		    "{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": ";

		assert_memory_equal(cast, start, sizeof start - 1);
	}
	assert_int_equal(text.len, n + 3);
	assert_memory_equal(text.data, utf, n);
	assert_memory_equal(text.data + n, "end", 3);
	assert_string_equal(resizes.data, "120x40;");
	json_decref(hdr);
	free(cast);
	tlog_free(&got);
	remove_dir(dir);

	/* Invalid UTF-8: each maximal bad subpart becomes U+FFFD; a cut at the end too. */
	dir = make_dir();
	buf_clear(&text);
	buf_clear(&resizes);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT,
					       "a\xff"
					       "b\xc3",
					       4),
			 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "(\xe2\x82", 3), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "\xac\xed\xa0\x80z\xf0\x9f", 7),
			 0);
	history_writer_close(w, false);
	cast = export_str(dir, HISTORY_FORMAT_ASCIICAST, -1, &len);
	parse_cast(cast, &hdr, &text, &resizes, &events);
	assert_int_equal(json_integer_value(json_object_get(hdr, "width")), 80);
	assert_string_equal(text.data, "a\xef\xbf\xbd"
				       "b\xef\xbf\xbd"
				       "(\xe2\x82\xac"
				       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				       "z\xef\xbf\xbd");
	json_decref(hdr);
	free(cast);
	remove_dir(dir);
	buf_release(&text);
	buf_release(&resizes);
}

static void
write_outputs(const char *dir, const char *const *chunks, size_t n)
{
	struct history_opts o = small_opts();
	struct history_writer *w;

	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		    history_writer_append(w, HISTORY_OUTPUT, chunks[i], strlen(chunks[i])), 0);
	history_writer_close(w, false);
}

static void
test_tail_raw(void **state)
{
	static const char *const a[] = {"l1\nl2\nl", "3\n", "l4\nl5\n", "$ "};
	static const char *const b[] = {"x\ny\n", "z\n"};
	char *dir = make_dir(), *out;
	size_t len;

	write_outputs(dir, a, nitems(a));
	out = export_str(dir, HISTORY_FORMAT_RAW, 3, &len);
	assert_string_equal(out, "l4\nl5\n$ ");
	free(out);
	out = export_str(dir, HISTORY_FORMAT_RAW, 1, &len);
	assert_string_equal(out, "$ ");
	free(out);
	out = export_str(dir, HISTORY_FORMAT_RAW, 0, &len);
	assert_string_equal(out, "");
	free(out);
	out = export_str(dir, HISTORY_FORMAT_RAW, 100, &len);
	assert_string_equal(out, "l1\nl2\nl3\nl4\nl5\n$ ");
	free(out);
	remove_dir(dir);

	/* A final newline ends the last line, as with tail -n. */
	dir = make_dir();
	write_outputs(dir, b, nitems(b));
	out = export_str(dir, HISTORY_FORMAT_RAW, 2, &len);
	assert_string_equal(out, "y\nz\n");
	free(out);
	remove_dir(dir);
}

static void
test_text(void **state)
{
	struct history_opts o = small_opts();
	struct history_writer *w;
	struct buf want, lines;
	char *dir = make_dir(), *out;
	size_t len;
	int i;

	buf_init(&want, 0);
	buf_init(&lines, 0);
	for (i = 1; i <= 100; i++) {
		if (i % 2) /* colours must not show in the text */
			buf_addf(&lines, "\033[1;3%dm%d\033[0m\r\n", i % 8, i);
		else
			buf_addf(&lines, "%d\r\n", i);
		buf_addf(&want, "%d\n", i);
	}
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_append(w, HISTORY_RESIZE, "80x24", 5), 0);
	/* Cut at odd places, so that lines span records. */
	for (size_t k = 0; k < lines.len; k += 7)
		assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, lines.data + k,
						       lines.len - k < 7 ? lines.len - k : 7),
				 0);
	history_writer_close(w, true);
	out = export_str(dir, HISTORY_FORMAT_TEXT, -1, &len);
	assert_string_equal(out, want.data);
	free(out);
	out = export_str(dir, HISTORY_FORMAT_TEXT, 3, &len);
	assert_string_equal(out, "98\n99\n100\n");
	free(out);
	out = export_str(dir, HISTORY_FORMAT_TEXT, 30, &len);
	assert_string_equal(out, strstr(want.data, "\n71\n") + 1);
	free(out);

	/* Shrinking the screen moves lines to the scrollback; none is lost or doubled. */
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_append(w, HISTORY_RESIZE, "80x10", 5), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "101\r\n", 5), 0);
	history_writer_close(w, false);
	buf_adds(&want, "101\n");
	out = export_str(dir, HISTORY_FORMAT_TEXT, -1, &len);
	assert_string_equal(out, want.data);
	free(out);
	remove_dir(dir);

	/* Characters cut across records, one byte per record, still come out whole. */
	{
		const char *utf =
		    "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e \xe6\x97\xa5\xe6\x9c\xac\r\n";

		dir = make_dir();
		assert_int_equal(history_writer_open(dir, &o, &w), 0);
		for (size_t k = 0; utf[k] != '\0'; k++)
			assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, utf + k, 1), 0);
		history_writer_close(w, false);
		out = export_str(dir, HISTORY_FORMAT_TEXT, -1, &len);
		assert_string_equal(
		    out, "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e \xe6\x97\xa5\xe6\x9c\xac\n");
		free(out);
	}
	buf_release(&want);
	buf_release(&lines);
	remove_dir(dir);
}

static void
test_export_errors(void **state)
{
	struct history_export_opts eo = {.format = HISTORY_FORMAT_RAW, .tail = -1};
	enum history_format f;
	char *cause = NULL, *dir = make_dir();
	int fds[2];

	assert_int_equal(history_export("/nonexistent/roost/log", &eo, 1, &cause), -ERR_NOENT);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent/roost/log"));
	free(cause);

	eo.format = HISTORY_FORMAT_ASCIICAST;
	eo.tail = 5;
	assert_int_equal(history_export(dir, &eo, 1, &cause), -ERR_INVAL);
	assert_string_equal(cause, "--tail is not supported with asciicast");
	free(cause);

	assert_int_equal(history_format_parse("raw", &f), 0);
	assert_int_equal(f, HISTORY_FORMAT_RAW);
	assert_int_equal(history_format_parse("text", &f), 0);
	assert_int_equal(f, HISTORY_FORMAT_TEXT);
	assert_int_equal(history_format_parse("asciicast", &f), 0);
	assert_int_equal(f, HISTORY_FORMAT_ASCIICAST);
	assert_int_equal(history_format_parse("json", &f), -ERR_INVAL);

	/* A reader that went away: -ERR_IO and no cause to print. */
	{
		static const char *const chunk[] = {"some output\n"};

		write_outputs(dir, chunk, 1);
	}
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	eo.format = HISTORY_FORMAT_RAW;
	eo.tail = -1;
	assert_int_equal(history_export(dir, &eo, fds[1], &cause), -ERR_IO);
	assert_null(cause);
	close(fds[1]);
	signal(SIGPIPE, SIG_DFL);
	remove_dir(dir);
}

/* A valid record whose offset goes back (a damaged zstd block can decode to a copy of earlier records) is skipped. */
static void
test_duplicate_record_skipped(void **state)
{
	struct history_opts o;
	struct history_writer *w;
	struct tlog l = {0};
	char *dir = make_dir(), *seg, *data = NULL;
	size_t len;
	FILE *f;

	(void)state;
	history_opts_init(&o);
	assert_int_equal(history_writer_open(dir, &o, &w), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "first ", 6), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "second ", 7), 0);
	assert_int_equal(history_writer_append(w, HISTORY_OUTPUT, "third", 5), 0);
	history_writer_close(w, false);
	seg = xasprintf("%s/0000000001.log", dir);
	assert_int_equal(path_read_file(seg, 1 << 20, &data, &len), 0);
	assert_int_equal(len, 3 * HISTORY_HDR_LEN + 18);
	/* first, second, the first again (as a decoder gone wrong might give it), third */
	f = fopen(seg, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, 2 * HISTORY_HDR_LEN + 13, f), 2 * HISTORY_HDR_LEN + 13);
	assert_int_equal(fwrite(data, 1, HISTORY_HDR_LEN + 6, f), HISTORY_HDR_LEN + 6);
	assert_int_equal(fwrite(data + 2 * HISTORY_HDR_LEN + 13, 1, HISTORY_HDR_LEN + 5, f),
			 HISTORY_HDR_LEN + 5);
	fclose(f);
	read_all(dir, &l);
	{
		struct buf out;
		size_t i;

		buf_init(&out, 0);
		for (i = 0; i < l.n; i++)
			if (l.v[i].type == HISTORY_OUTPUT)
				buf_add(&out, l.v[i].data, l.v[i].len);
		assert_string_equal(out.data, "first second third");
		buf_release(&out);
	}
	assert_true(l.warnings >= 1);
	assert_non_null(strstr(l.last_warning, "out of order"));
	tlog_free(&l);
	free(data);
	free(seg);
	remove_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	cmocka_unit_test(test_export_raw),
	    cmocka_unit_test(test_duplicate_record_skipped),
	    cmocka_unit_test(test_concurrent),	cmocka_unit_test(test_torn_tail),
	    cmocka_unit_test(test_flip_sealed), cmocka_unit_test(test_flip_open),
	    cmocka_unit_test(test_cap),		cmocka_unit_test(test_enospc),
	    cmocka_unit_test(test_asciicast),	cmocka_unit_test(test_tail_raw),
	    cmocka_unit_test(test_text),	cmocka_unit_test(test_export_errors),
	    cmocka_unit_test(test_leftovers),	cmocka_unit_test(test_cap_reopen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
