/*
 * vt-fuzzer.c: libFuzzer target for the screen (src/vt/): arbitrary program
 * output fed to vt_feed at a small size in arbitrary splits, with resizes
 * and resets in between, the mode tracker run on the same bytes in other
 * splits, then vt_render_ansi fed into a fresh vt. Output reaches the
 * holder from any program, so nothing here may crash, hang or leak. Not a
 * check of rendering fidelity beyond what is cheap (see VT_FUZZ_STRICT).
 *
 * Input: byte 0 cols, byte 1 rows, byte 2 split seed, byte 3 flags, then output.
 * Built with -DVT_FUZZ_TRACE (e.g. with replay.c) it prints each step.
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "vt/vt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define vt_fuzzer_assert(cond)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "vt-fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define VT_FUZZ_RESIZE (1u << 0) /* resize once, half way */
#define VT_FUZZ_RESET (1u << 1)	 /* vt_reset with the tracked modes, as the holder's resync */
#define VT_FUZZ_LINES (1u << 2)	 /* a line callback */
#define VT_FUZZ_BIG (1u << 3)	 /* a larger screen */

struct vt_fuzzer_lines {
	int cols;
	size_t lines;
};

static void
vt_fuzzer_line_cb(const char *text, size_t len, void *arg)
{
	struct vt_fuzzer_lines *l = arg;

	vt_fuzzer_assert(len < VT_ROW_TEXT_MAX(l->cols));
	vt_fuzzer_assert(len == 0 || text != NULL);
	vt_fuzzer_assert(memchr(text, '\n', len) == NULL);
	l->lines++;
}

static uint32_t
vt_fuzzer_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t
vt_fuzzer_chunk(uint32_t *s)
{
	uint32_t r = vt_fuzzer_rand(s);

	switch (r & 3) {
	case 0:
		return 1;
	case 1:
		return 1 + (r >> 8) % 4;
	case 2:
		return 1 + (r >> 8) % 64;
	default:
		return 1 + (r >> 8) % 8192;
	}
}

/* The modes a tracker reports (not its scanner's private state). */
static void
vt_fuzzer_modes_equal(const struct vt_modes *a, const struct vt_modes *b)
{
	vt_fuzzer_assert(a->app_cursor == b->app_cursor);
	vt_fuzzer_assert(a->app_keypad == b->app_keypad);
	vt_fuzzer_assert(a->origin == b->origin);
	vt_fuzzer_assert(a->autowrap == b->autowrap);
	vt_fuzzer_assert(a->cursor_hidden == b->cursor_hidden);
	vt_fuzzer_assert(a->cursor_blink == b->cursor_blink);
	vt_fuzzer_assert(a->cursor_shape == b->cursor_shape);
	vt_fuzzer_assert(a->alt_screen == b->alt_screen);
	vt_fuzzer_assert(a->bracketed_paste == b->bracketed_paste);
	vt_fuzzer_assert(a->focus_events == b->focus_events);
	vt_fuzzer_assert(a->mouse == b->mouse);
	vt_fuzzer_assert(a->mouse_encoding == b->mouse_encoding);
	vt_fuzzer_assert(a->insert == b->insert);
	vt_fuzzer_assert(a->scroll_top == b->scroll_top);
	vt_fuzzer_assert(a->scroll_bottom == b->scroll_bottom);
	vt_fuzzer_assert(strcmp(a->title, b->title) == 0);
	/* The scanner is a byte-at-a-time machine: the split cannot matter to it either. */
	vt_fuzzer_assert(a->st == b->st && a->seqlen == b->seqlen && a->osc == b->osc &&
			 a->tlen == b->tlen);
}

static void
vt_fuzzer_modes_sane(const struct vt_modes *m)
{
	vt_fuzzer_assert(memchr(m->title, '\0', sizeof m->title) != NULL);
	vt_fuzzer_assert(m->seqlen <= sizeof m->seq);
	vt_fuzzer_assert(m->tlen <= sizeof m->tbuf);
	vt_fuzzer_assert(m->scroll_top >= 0 && m->scroll_bottom >= 0);
}

/* Every cell of the screen on display is well formed; the row texts fit. */
static void
vt_fuzzer_cells(struct vt *vt)
{
	struct vt_cell cell;
	char *row;
	int cols, rows, r, c, crow, ccol;

	vt_get_size(vt, &cols, &rows);
	row = malloc(VT_ROW_TEXT_MAX(cols));
	vt_fuzzer_assert(row != NULL);
	for (r = 0; r < rows; r++) {
		for (c = 0; c < cols; c++) {
			vt_fuzzer_assert(vt_get_cell(vt, r, c, &cell) == 0);
			vt_fuzzer_assert(cell.width >= 0 && cell.width <= 2);
			/*
			 * No bound on the code points: libvterm 0.1.4 decodes the
			 * obsolete 5- and 6-byte UTF-8 forms (31 bits), and
			 * vt_utf8_encode renders anything above U+10FFFF as U+FFFD.
			 */
		}
		vt_fuzzer_assert(vt_get_row_text(vt, r, row) < VT_ROW_TEXT_MAX(cols));
	}
	vt_fuzzer_assert(vt_get_cell(vt, rows, 0, &cell) != 0);
	vt_fuzzer_assert(vt_get_cell(vt, 0, cols, &cell) != 0);
	vt_get_cursor(vt, &crow, &ccol);
#ifdef VT_FUZZ_TRACE
	fprintf(stderr, "cursor %d,%d on %dx%d\n", crow, ccol, cols, rows);
#endif
	vt_fuzzer_assert(crow >= 0 && crow < rows && ccol >= 0 && ccol <= cols);
	free(row);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_fuzzer_lines lines = {0, 0};
	struct vt_modes whole, split;
	struct vt *vt = NULL, *vt2 = NULL;
	struct buf ansi, text, text2;
	const char *out;
	size_t n, pos, take;
	uint32_t seed;
	unsigned flags;
	int cols, rows, c2, r2;
	bool resized = false, reset = false;

	if (size < 4)
		return 0;
	flags = data[3];
	cols = 1 + data[0] % ((flags & VT_FUZZ_BIG) ? 200 : 40);
	rows = 1 + data[1] % ((flags & VT_FUZZ_BIG) ? 60 : 12);
	seed = 0x2545f491u ^ ((uint32_t)data[2] * 0x01010101u);
	out = (const char *)data + 4;
	n = size - 4;

	/* The mode tracker: one piece against random pieces. */
	vt_modes_init(&whole);
	vt_modes_scan(&whole, out, n);
	vt_modes_init(&split);
	for (pos = 0; pos < n; pos += take) {
		take = vt_fuzzer_chunk(&seed);
		if (take > n - pos)
			take = n - pos;
		vt_modes_scan(&split, out + pos, take);
	}
	vt_fuzzer_modes_sane(&whole);
	vt_fuzzer_modes_equal(&whole, &split);

	vt = vt_create(cols, rows);
	lines.cols = cols;
	if (flags & VT_FUZZ_LINES)
		vt_set_line_cb(vt, vt_fuzzer_line_cb, &lines);
	vt_modes_init(&split);
	for (pos = 0; pos < n; pos += take) {
		take = vt_fuzzer_chunk(&seed);
		if (take > n - pos)
			take = n - pos;
		vt_feed(vt, out + pos, take);
#ifdef VT_FUZZ_TRACE
		fprintf(stderr, "feed %zu bytes at %zu\n", take, pos);
#endif
		vt_modes_scan(&split, out + pos, take);
		if (!resized && (flags & VT_FUZZ_RESIZE) && pos + take >= n / 2) {
			resized = true;
			c2 = 1 + (int)(vt_fuzzer_rand(&seed) % 50);
			r2 = 1 + (int)(vt_fuzzer_rand(&seed) % 15);
			vt_resize(vt, c2, r2);
#ifdef VT_FUZZ_TRACE
			fprintf(stderr, "resize %dx%d\n", c2, r2);
#endif
			lines.cols = cols > c2 ? cols : c2;
			vt_get_size(vt, &c2, &r2);
			vt_fuzzer_assert(c2 >= 1 && r2 >= 1);
			vt_fuzzer_cells(vt);
		}
		if (!reset && (flags & VT_FUZZ_RESET) && pos + take >= n / 3) {
			/* As the holder resyncs: a hard reset primed with the tracked modes. */
			reset = true;
			vt_reset(vt, &split);
#ifdef VT_FUZZ_TRACE
			fprintf(stderr, "reset\n");
#endif
		}
	}
	/*
	 * Without a reset the vt's own tracker saw exactly these bytes. A
	 * resize may reset its scroll region (one that no longer fits).
	 */
	if (!reset && !resized)
		vt_fuzzer_modes_equal(vt_get_modes(vt), &whole);
	vt_fuzzer_cells(vt);

	buf_init(&ansi, 0);
	buf_init(&text, 0);
	buf_init(&text2, 0);
	vt_fuzzer_assert(vt_render_ansi(vt, NULL, &ansi) == 0);
	vt_fuzzer_assert(vt_render_text(vt, &text) == 0);
	/* The rendering the holder sends: the separately tracked modes. */
	buf_clear(&ansi);
	vt_fuzzer_assert(vt_render_ansi(vt, &whole, &ansi) == 0);

	/* A reattaching client's terminal: a fresh screen of the same size fed the rendering. */
	vt_get_size(vt, &c2, &r2);
	vt2 = vt_create(c2, r2);
	vt_feed(vt2, ansi.data != NULL ? ansi.data : "", ansi.len);
	vt_fuzzer_cells(vt2);
	vt_fuzzer_assert(vt_render_text(vt2, &text2) == 0);
#ifdef VT_FUZZ_STRICT
	/* The documented contract: the same text on the same screen (see vt.h for exceptions). */
	vt_fuzzer_assert(text.len == text2.len &&
			 (text.len == 0 || memcmp(text.data, text2.data, text.len) == 0));
#endif
	buf_release(&ansi);
	buf_release(&text);
	buf_release(&text2);
	vt_destroy(vt);
	vt_destroy(vt2);
	return 0;
}
