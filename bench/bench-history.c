/*
 * bench-history.c: how fast the history writer appends, how small sealing
 * makes the log and what it costs, and how fast a log reads back. Writes
 * ANSI-coloured `ls -lR`-like output (or a corpus file) in 4 KiB records.
 * Prints `name: value unit` lines. Build by hand, see docs/internals/history.md.
 */
#include "common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "history/history.h"

#define BENCH_RECORD 4096

static uint64_t bench_rng = 0x9e3779b97f4a7c15u;

static uint32_t
bench_rand(void)
{
	/* xorshift64*: fixed seed, so every run writes the same bytes */
	bench_rng ^= bench_rng >> 12;
	bench_rng ^= bench_rng << 25;
	bench_rng ^= bench_rng >> 27;
	return (uint32_t)((bench_rng * 0x2545f4914f6cdd1du) >> 32);
}

static const char *const bench_words[] = {
    "alsa",    "apt",	 "base",     "bash",   "bin",	  "boot",     "cairo",	"cache",
    "config",  "core",	 "crypt",    "curl",   "dbus",	  "debian",   "dev",	"doc",
    "drm",     "editor", "elf",	     "event",  "expat",	  "ffi",      "file",	"font",
    "gcc",     "gdk",	 "gio",	     "glib",   "gnu",	  "gpg",      "grep",	"gtk",
    "hash",    "icu",	 "image",    "info",   "init",	  "intl",     "jpeg",	"json",
    "kernel",  "keys",	 "lang",     "ldap",   "linux",	  "local",    "locale", "lzma",
    "magic",   "man",	 "mime",     "module", "mount",	  "ncurses",  "net",	"nss",
    "openssl", "pam",	 "pango",    "parse",  "perl",	  "pixel",    "png",	"policy",
    "proc",    "python", "readline", "rules",  "sasl",	  "security", "share",	"shell",
    "sqlite",  "ssh",	 "ssl",	     "system", "tar",	  "terminfo", "text",	"theme",
    "tiff",    "time",	 "tools",    "udev",   "unicode", "user",     "util",	"vim",
    "wayland", "x11",	 "xml",	     "xz",     "zlib",	  "zoneinfo",
};

static const char *const bench_exts[] = {
    "",	   "",	   "",	   ".so",  ".so.1", ".so.6", ".h",    ".c",
    ".py", ".pyc", ".gz",  ".txt", ".conf", ".md",   ".pl",   ".pm",
    ".mo", ".xml", ".png", ".svg", ".json", ".html", ".1.gz", ".a",
};

static const char *const bench_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static const char *
bench_pick(const char *const *v, size_t n)
{
	return v[bench_rand() % n];
}

#define PICK(v) bench_pick(v, nitems(v))

/* A file name: often the directory's stem, a second word, a version, an extension. */
static void
bench_name(struct buf *b, const char *stem)
{
	if (stem != NULL && bench_rand() % 3 != 0)
		buf_adds(b, stem);
	else
		buf_adds(b, PICK(bench_words));
	if (bench_rand() % 2 == 0) {
		buf_addc(b, bench_rand() % 2 ? '-' : '_');
		buf_adds(b, PICK(bench_words));
	}
	if (bench_rand() % 4 == 0)
		buf_addf(b, "%u", bench_rand() % 20);
}

struct bench_entry {
	char name[96];
	unsigned kind; /* 0 directory, 1 symlink, 2 executable, else a plain file */
	unsigned size;
	char date[16];
};

static int
bench_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bench_entry *)a)->name, ((const struct bench_entry *)b)->name);
}

/*
 * One directory listing of ls -l --color=always, as a pty delivers it
 * (CRLF). Like a real tree, entries are sorted by name, most of a
 * directory's entries share its date (the package install) and a name
 * stem; sizes are random.
 */
static void
bench_listing(struct buf *b)
{
	static struct bench_entry e[200];
	unsigned n = 5 + bench_rand() % 150, total = 0, i;
	const char *stem = PICK(bench_words), *month = PICK(bench_months);
	unsigned day = 1 + bench_rand() % 28, year = 2015 + bench_rand() % 10;
	unsigned hour = bench_rand() % 24, minute = bench_rand() % 60;
	bool recent = bench_rand() % 4 == 0;
	struct buf name;

	buf_init(&name, 0);
	for (i = 0; i < n; i++) {
		e[i].kind = bench_rand() % 10;
		if (e[i].kind == 0)
			e[i].size = 4096;
		else if (e[i].kind == 1)
			e[i].size = 5 + bench_rand() % 40;
		else
			e[i].size = bench_rand() % (1u << (6 + bench_rand() % 14));
		buf_clear(&name);
		if (e[i].kind != 0 && bench_rand() % 3 == 0)
			buf_adds(&name, "lib");
		bench_name(&name, stem);
		if (e[i].kind != 0)
			buf_adds(&name, PICK(bench_exts));
		snprintf(e[i].name, sizeof e[i].name, "%s", name.data);
		if (bench_rand() % 8 == 0) /* touched since */
			snprintf(e[i].date, sizeof e[i].date, "%s %2u  %4u", PICK(bench_months),
				 1 + bench_rand() % 28, 2015 + bench_rand() % 10);
		else if (recent)
			snprintf(e[i].date, sizeof e[i].date, "%s %2u %02u:%02u", month, day, hour,
				 minute);
		else
			snprintf(e[i].date, sizeof e[i].date, "%s %2u  %4u", month, day, year);
		total += (e[i].size + 1023) / 1024;
	}
	qsort(e, n, sizeof e[0], bench_entry_cmp);

	buf_adds(b, "/usr/");
	bench_name(b, NULL);
	buf_addc(b, '/');
	buf_adds(b, stem);
	buf_adds(b, ":\r\n");
	buf_addf(b, "total %u\r\n", total);
	for (i = 0; i < n; i++) {
		static const char *const perms[] = {"drwxr-xr-x", "lrwxrwxrwx", "-rwxr-xr-x"};
		static const char *const colours[] = {"01;34", "01;36", "01;32"};

		buf_addf(b, "%s %2u root %s %7u %s ",
			 e[i].kind < 3 ? perms[e[i].kind] : "-rw-r--r--",
			 e[i].kind == 0 ? 2 + bench_rand() % 9 : 1,
			 bench_rand() % 20 ? "root" : "staff", e[i].size, e[i].date);
		if (e[i].kind < 3)
			buf_addf(b, "\033[0m\033[%sm%s\033[0m", colours[e[i].kind], e[i].name);
		else
			buf_adds(b, e[i].name);
		if (e[i].kind == 1) {
			buf_adds(b, " -> ");
			bench_name(b, stem);
			buf_adds(b, PICK(bench_exts));
		}
		buf_adds(b, "\r\n");
	}
	buf_adds(b, "\r\n");
	buf_release(&name);
}

static double
bench_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
bench_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
bench_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static uint64_t
bench_dir_bytes(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	uint64_t total = 0;
	DIR *d = opendir(dir);
	char path[4096];

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &sb) == 0)
			total += (uint64_t)sb.st_size;
	}
	closedir(d);
	return total;
}

/* Append len bytes of data in BENCH_RECORD records; returns seconds spent appending. */
static double
bench_write(const char *dir, const struct history_opts *o, const char *data, size_t len,
	    double *close_s)
{
	struct history_writer *w;
	double t0, t1;
	size_t off, n;

	if (history_writer_open(dir, o, &w) != 0) {
		fprintf(stderr, "cannot open '%s'\n", dir);
		exit(1);
	}
	t0 = bench_now(CLOCK_MONOTONIC);
	for (off = 0; off < len; off += n) {
		n = len - off < BENCH_RECORD ? len - off : BENCH_RECORD;
		if (history_writer_append(w, HISTORY_OUTPUT, data + off, n) != 0) {
			fprintf(stderr, "append failed\n");
			exit(1);
		}
	}
	t1 = bench_now(CLOCK_MONOTONIC);
	history_writer_close(w, true);
	*close_s = bench_now(CLOCK_MONOTONIC) - t1;
	return t1 - t0;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct history_opts o;
	struct buf data;
	const char *corpus = NULL;
	char base[] = "/tmp/bench-history-XXXXXX", big[64], small[64];
	double append_s, close_s, cpu0, cpu1, main0, main1, reads[15];
	uint64_t disk, got;
	size_t mb = 100, i;
	int opt;

	history_opts_init(&o);
	o.cap = 0;
	while ((opt = getopt(argc, argv, "c:l:m:s:")) != -1) {
		switch (opt) {
		case 'c':
			corpus = optarg;
			break;
		case 'l':
			o.level = (int)strtol(optarg, NULL, 10);
			break;
		case 'm':
			mb = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.segment_size = strtoull(optarg, NULL, 10) << 10;
			break;
		default:
			fprintf(stderr, "usage: bench-history [-l level] [-m MB] [-s segment KiB] "
					"[-c corpus file]\n");
			return 2;
		}
	}
	buf_init(&data, 0);
	if (corpus != NULL) {
		FILE *f = fopen(corpus, "rb");
		char chunk[65536];
		size_t n;

		if (f == NULL) {
			perror(corpus);
			return 1;
		}
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_add(&data, chunk, n);
		fclose(f);
		if (data.len > mb << 20)
			data.len = mb << 20;
	} else {
		while (data.len < mb << 20)
			bench_listing(&data);
		data.len = mb << 20;
	}
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(big, sizeof big, "%s/big", base);
	snprintf(small, sizeof small, "%s/small", base);

	/* Sealing runs on the writer's thread: process CPU minus this thread's is its cost. */
	cpu0 = bench_cpu();
	main0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
	append_s = bench_write(big, &o, data.data, data.len, &close_s);
	main1 = bench_now(CLOCK_THREAD_CPUTIME_ID);
	cpu1 = bench_cpu();
	disk = bench_dir_bytes(big);
	printf("output: %.1f MB\n", (double)data.len / 1e6);
	printf("zstd_level: %d level\n", o.level);
	printf("segment_size: %llu KiB\n", (unsigned long long)(o.segment_size >> 10));
	printf("write_throughput: %.0f MB/s\n", (double)data.len / 1e6 / append_s);
	printf("append_cpu: %.3f s\n", main1 - main0);
	printf("seal_cpu: %.3f s\n", (cpu1 - cpu0) - (main1 - main0));
	printf("seal_wait_at_close: %.3f s\n", close_s);
	printf("disk_ratio: %.4f bytes/byte\n", (double)disk / (double)data.len);
	printf("compression: %.2f x\n", (double)data.len / (double)disk);

	/* Continuing a long log: the writer reads each segment's first record and the last one. */
	{
		struct history_writer *w;
		double t0 = bench_now(CLOCK_MONOTONIC);

		if (history_writer_open(big, &o, &w) != 0)
			return 1;
		printf("writer_open_100_segments: %.2f ms\n",
		       (bench_now(CLOCK_MONOTONIC) - t0) * 1e3);
		history_writer_close(w, false);
	}

	/* Read back 10 MB: about 10 sealed segments, each decompressed whole. */
	size_t rlen = data.len < (10u << 20) ? data.len : 10u << 20;

	bench_write(small, &o, data.data, rlen, &close_s);
	for (i = 0; i < nitems(reads); i++) {
		struct history_reader *r;
		struct history_record rec;
		double t0 = bench_now(CLOCK_MONOTONIC);

		got = 0;
		if (history_reader_open(small, NULL, NULL, &r) != 0)
			return 1;
		while (history_reader_next(r, &rec) > 0)
			got += rec.len;
		history_reader_close(r);
		reads[i] = bench_now(CLOCK_MONOTONIC) - t0;
		if (got != rlen) {
			fprintf(stderr, "read %llu bytes, wrote %zu\n", (unsigned long long)got,
				rlen);
			return 1;
		}
	}
	qsort(reads, nitems(reads), sizeof reads[0], bench_cmp_double);
	printf("read_bytes: %.1f MB\n", (double)rlen / 1e6);
	printf("read_all_median: %.2f ms\n", reads[nitems(reads) / 2] * 1e3);
	printf("read_all_max: %.2f ms\n", reads[nitems(reads) - 1] * 1e3);

	nftw(base, bench_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	buf_release(&data);
	return 0;
}
