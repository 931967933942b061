/*
 * bench-vt.c: throughput of src/vt against libvterm's state layer alone
 * (the ceiling: same parser, trivial callbacks), on 10 MB of ANSI-coloured
 * `ls -l`-like lines and of base64, fed in 4 KiB writes to a 120x40 screen.
 * Prints `name: value unit`. Not a test: tests/unit/test-vt.c checks results.
 * Build (after building roost_vt into build-vt):
 *   cc -O2 -Isrc -o bench/out/bench-vt bench/bench-vt.c build-vt/libroost_vt.a \
 *      build-vt/libroost_common.a -lvterm
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vterm.h>

#include "common/buf.h"
#include "vt/vt.h"

#define BENCH_VT_SIZE (10u << 20)
#define BENCH_VT_WRITE 4096
#define BENCH_VT_COLS 120
#define BENCH_VT_ROWS 40
#define BENCH_VT_RUNS 5

static uint64_t bench_vt_seed = 42;

static unsigned
bench_vt_rand(unsigned n)
{
	bench_vt_seed = bench_vt_seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((bench_vt_seed >> 33) % n);
}

static double
bench_vt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lines as `ls -l --color=always` prints them through a PTY. */
static void
bench_vt_corpus_ls(struct buf *b)
{
	static const char *const colours[] = {"01;34", "01;32", "01;36", "00", "01;31", "40;33;01"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Nov", "Dec"};
	char name[32];
	unsigned i, n;

	while (b->len < BENCH_VT_SIZE) {
		n = 4 + bench_vt_rand(20);
		for (i = 0; i < n; i++)
			name[i] =
			    (char)("abcdefghijklmnopqrstuvwxyz_.-0123456789"[bench_vt_rand(39)]);
		name[n] = '\0';
		buf_addf(
		    b,
		    "%crwxr-xr-x %2u root root %8u %s %2u %02u:%02u \033[0m\033[%sm%s\033[0m\r\n",
		    bench_vt_rand(3) ? '-' : 'd', 1 + bench_vt_rand(9), bench_vt_rand(10000000),
		    months[bench_vt_rand(5)], 1 + bench_vt_rand(28), bench_vt_rand(24),
		    bench_vt_rand(60), colours[bench_vt_rand(6)], name);
	}
}

static void
bench_vt_corpus_base64(struct buf *b)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[78];
	unsigned i;

	while (b->len < BENCH_VT_SIZE) {
		for (i = 0; i < 76; i++)
			line[i] = alphabet[bench_vt_rand(64)];
		line[76] = '\r';
		line[77] = '\n';
		buf_add(b, line, sizeof line);
	}
}

static size_t bench_vt_calls;

static int
bench_vt_putglyph(VTermGlyphInfo *info, VTermPos pos, void *user)
{
	bench_vt_calls++;
	return 1;
}

static int
bench_vt_movecursor(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	return 1;
}

static int
bench_vt_scrollrect(VTermRect rect, int downward, int rightward, void *user)
{
	bench_vt_calls++;
	return 1;
}

static int
bench_vt_erase(VTermRect rect, int selective, void *user)
{
	bench_vt_calls++;
	return 1;
}

static int
bench_vt_setpenattr(VTermAttr attr, VTermValue *val, void *user)
{
	bench_vt_calls++;
	return 1;
}

static int
bench_vt_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	return 1;
}

static int
bench_vt_initpen(void *user)
{
	return 1;
}

/* The trivial callbacks of the research figure (~77 MB/s on its corpus). */
static const VTermStateCallbacks bench_vt_state_cbs = {
    .putglyph = bench_vt_putglyph,
    .movecursor = bench_vt_movecursor,
    .scrollrect = bench_vt_scrollrect,
    .erase = bench_vt_erase,
};

/* Every callback src/vt registers, with trivial bodies: what libvterm alone costs us. */
static const VTermStateCallbacks bench_vt_state_all_cbs = {
    .putglyph = bench_vt_putglyph,
    .movecursor = bench_vt_movecursor,
    .scrollrect = bench_vt_scrollrect,
    .erase = bench_vt_erase,
    .initpen = bench_vt_initpen,
    .setpenattr = bench_vt_setpenattr,
    .settermprop = bench_vt_settermprop,
};

static void
bench_vt_line_cb(const char *text, size_t len, void *arg)
{
	*(size_t *)arg += len + 1;
}

enum bench_vt_kind {
	BENCH_VT_STATE_ONLY,
	BENCH_VT_STATE_ALL,
	BENCH_VT_FEED,
	BENCH_VT_FEED_LINES,
	BENCH_VT_MODES,
};

/* Best of BENCH_VT_RUNS, in MB/s (10^6 bytes). */
static double
bench_vt_run(enum bench_vt_kind kind, const struct buf *in)
{
	double best = 0, t, mbs;
	size_t off, n, lines = 0;
	int run;

	for (run = 0; run < BENCH_VT_RUNS; run++) {
		VTerm *term = NULL;
		struct vt *vt = NULL;
		struct vt_modes m;

		if (kind == BENCH_VT_STATE_ONLY || kind == BENCH_VT_STATE_ALL) {
			term = vterm_new(BENCH_VT_ROWS, BENCH_VT_COLS);
			vterm_set_utf8(term, 1);
			vterm_state_set_callbacks(vterm_obtain_state(term),
						  kind == BENCH_VT_STATE_ALL
						      ? &bench_vt_state_all_cbs
						      : &bench_vt_state_cbs,
						  NULL);
			vterm_state_reset(vterm_obtain_state(term), 1);
		} else if (kind == BENCH_VT_MODES)
			vt_modes_init(&m);
		else {
			vt = vt_create(BENCH_VT_COLS, BENCH_VT_ROWS);
			if (kind == BENCH_VT_FEED_LINES)
				vt_set_line_cb(vt, bench_vt_line_cb, &lines);
		}
		t = bench_vt_now();
		for (off = 0; off < in->len; off += n) {
			n = in->len - off < BENCH_VT_WRITE ? in->len - off : BENCH_VT_WRITE;
			if (term != NULL)
				vterm_input_write(term, in->data + off, n);
			else if (vt != NULL)
				vt_feed(vt, in->data + off, n);
			else
				vt_modes_scan(&m, in->data + off, n);
		}
		t = bench_vt_now() - t;
		mbs = (double)in->len / t / 1e6;
		if (mbs > best)
			best = mbs;
		if (term != NULL)
			vterm_free(term);
		vt_destroy(vt);
	}
	return best;
}

/* Time to render the screen left by the input, in microseconds. */
static double
bench_vt_render(const struct buf *in, size_t *bytes)
{
	struct vt *vt = vt_create(BENCH_VT_COLS, BENCH_VT_ROWS);
	struct buf out;
	double t, best = 1e9;
	int i;

	vt_feed(vt, in->data, in->len);
	buf_init(&out, 0);
	for (i = 0; i < 200; i++) {
		buf_clear(&out);
		t = bench_vt_now();
		vt_render_ansi(vt, NULL, &out);
		t = bench_vt_now() - t;
		if (t < best)
			best = t;
	}
	*bytes = out.len;
	buf_release(&out);
	vt_destroy(vt);
	return best * 1e6;
}

int
main(void)
{
	struct buf ls, b64;
	size_t bytes;
	double us;

	buf_init(&ls, 0);
	buf_init(&b64, 0);
	bench_vt_corpus_ls(&ls);
	bench_vt_corpus_base64(&b64);

	printf("vterm_state_only_ansi: %.1f MB/s\n", bench_vt_run(BENCH_VT_STATE_ONLY, &ls));
	printf("vterm_state_all_cbs_ansi: %.1f MB/s\n", bench_vt_run(BENCH_VT_STATE_ALL, &ls));
	printf("vt_feed_ansi: %.1f MB/s\n", bench_vt_run(BENCH_VT_FEED, &ls));
	printf("vt_feed_ansi_line_cb: %.1f MB/s\n", bench_vt_run(BENCH_VT_FEED_LINES, &ls));
	printf("vt_modes_scan_ansi: %.1f MB/s\n", bench_vt_run(BENCH_VT_MODES, &ls));
	printf("vterm_state_only_base64: %.1f MB/s\n", bench_vt_run(BENCH_VT_STATE_ONLY, &b64));
	printf("vt_feed_base64: %.1f MB/s\n", bench_vt_run(BENCH_VT_FEED, &b64));
	printf("vt_feed_base64_line_cb: %.1f MB/s\n", bench_vt_run(BENCH_VT_FEED_LINES, &b64));
	us = bench_vt_render(&ls, &bytes);
	printf("vt_render_ansi_120x40: %.1f us\n", us);
	printf("vt_render_ansi_120x40_size: %zu bytes\n", bytes);
	buf_release(&ls);
	buf_release(&b64);
	return 0;
}
