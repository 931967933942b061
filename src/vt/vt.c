/*
 * vt.c: the screen kept from a program's output, on libvterm's state layer:
 * two grids (main and alternate) of packed cells, each a ring of rows so a
 * full-screen scroll costs O(1), and the lines scrolled off the top handed to
 * a callback. Not for rendering (vt-render.c) or mode tracking (vt-modes.c).
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "vt/vt.h"

#define VT_MIN_SIZE 1
#define VT_MAX_SIZE 1000
#define VT_COMB_MAX 5		 /* code points after the first in one cell */
#define VT_CELL_PROTECTED 0x8000 /* DECSCA, in vt_pcell.attrs; not a VT_ATTR_ */
#define VT_CELL_BARE 0x4000	 /* vt_cell.bare, in vt_pcell.attrs */
#define VT_CELL_FLAGS (VT_CELL_PROTECTED | VT_CELL_BARE)

/* A stored cell, 16 bytes; its combining code points live in the row. */
struct vt_pcell {
	uint32_t ch; /* first code point; 0 for a blank or a right half */
	uint32_t fg;
	uint32_t bg;
	uint16_t attrs; /* VT_ATTR_* | VT_CELL_FLAGS */
	uint8_t width;	/* 1, 2, or 0 for the right half of a wide char */
	uint8_t ncomb;	/* code points at row->comb[col * VT_COMB_MAX] */
};

struct vt_row {
	struct vt_pcell *cells;
	uint32_t *comb; /* NULL until a combining char lands in this row */
};

/*
 * Screen row r is rows[(top + r) % nrows]. Scrolling the whole screen moves
 * top; a scroll region moves row structs (two pointers each), not cells.
 */
struct vt_grid {
	struct vt_row *rows;
	struct vt_pcell *block; /* every row's cells, one allocation */
	int top;
};

struct vt {
	VTerm *term;
	VTermState *state;
	int cols;
	int rows;
	struct vt_grid grid[2]; /* main, alternate */
	int cur;		/* index into grid of the screen on display */

	struct vt_pcell pen; /* mirrored from setpenattr: a glyph cell but for ch */

	struct vt_modes modes;

	int guard;	   /* enum vt_guard_state, see vt_feed */
	int guard_seps;	   /* separators seen in the current CSI */
	int guard_len;	   /* parameter and intermediate bytes in the current CSI */
	char guard_seq[8]; /* the first of them */
	int guard_arg0;	   /* first parameter of the current CSI; over VT_MAX_SIZE: too big */
	bool guard_plain;  /* the current CSI has only digits, ';' and ':' so far */
	bool guard_lrmm;   /* DECLRMM (?69) is on: CSI s is DECSLRM, not SCOSC */
	int guard_top;	   /* libvterm's scroll region top, 0-based, or more; see vt_resize */
	uint32_t rep_chars[VTERM_MAX_CHARS_PER_CELL]; /* the last glyph drawn, for REP */
	size_t rep_nchars;
	int rep_width;
	bool esc_hold;	   /* an ESC not yet written: it goes with the next byte, see vt_write_chunks */
	char utf8_hold[4]; /* a UTF-8 character cut at the end of the last write */
	size_t utf8_len;

	vt_line_cb line_cb;
	void *line_arg;
	char *line_text;	/* VT_ROW_TEXT_MAX(cols) bytes for a scrolled line */
	struct vt_row *scratch; /* rows entries, for scrolling a region */

	bool wrap_pending; /* see vt_is_wrap_pending */
	int wrap_row;	   /* where the glyph that filled the row starts */
	int wrap_col;

	int saved_row; /* main screen cursor and pen when the alt screen was entered */
	int saved_col;
	struct vt_pcell saved_pen;
};

static inline struct vt_row *
vt_row_at(const struct vt *vt, const struct vt_grid *g, int r)
{
	int i = g->top + r;

	if (i >= vt->rows)
		i -= vt->rows;
	return &g->rows[i];
}

/* The cell erased cells become: blank, current colours, no attributes (as xterm's BCE). */
static inline struct vt_pcell
vt_blank(const struct vt *vt)
{
	struct vt_pcell c = vt->pen;

	c.attrs = 0;
	return c;
}

/* Turn half a broken wide char into a blank of the same colours. */
static inline void
vt_cell_unpair(struct vt_pcell *c)
{
	c->ch = 0;
	c->attrs = 0;
	c->width = 1;
	c->ncomb = 0;
}

/* Through a local pointer: with -fno-strict-aliasing a store could change row->cells. */
static void
vt_row_fill(struct vt_row *row, int from, int to, struct vt_pcell fill)
{
	struct vt_pcell *c = row->cells;
	int i;

	for (i = from; i < to; i++)
		c[i] = fill;
}

/* Restore the wide-char invariant of a row: a width 2 comes before a 0, a 0 after a 2. */
static void
vt_row_fix(const struct vt *vt, struct vt_row *row)
{
	struct vt_pcell *c = row->cells;
	int i;

	for (i = 0; i < vt->cols; i++) {
		if (c[i].width == 2 && (i + 1 == vt->cols || c[i + 1].width != 0))
			vt_cell_unpair(&c[i]);
		else if (c[i].width == 0 && (i == 0 || c[i - 1].width != 2))
			vt_cell_unpair(&c[i]);
	}
}

/* Fix the two edges of a change to cells [a, b) of a row that left the rest alone. */
static inline void
vt_row_fix_edges(const struct vt *vt, struct vt_row *row, int a, int b)
{
	struct vt_pcell *c = row->cells;

	if (a > 0 && c[a - 1].width == 2 && c[a].width != 0)
		vt_cell_unpair(&c[a - 1]);
	if (b < vt->cols && c[b].width == 0 && c[b - 1].width != 2)
		vt_cell_unpair(&c[b]);
}

/* A wide char across the boundary before column b is being parted: blank both halves. */
static inline void
vt_row_part(const struct vt *vt, struct vt_row *row, int b)
{
	struct vt_pcell *c = row->cells;

	if (b > 0 && b < vt->cols && c[b - 1].width == 2) {
		vt_cell_unpair(&c[b - 1]);
		vt_cell_unpair(&c[b]);
	}
}

static uint32_t *
vt_row_comb(const struct vt *vt, struct vt_row *row)
{
	if (row->comb == NULL)
		row->comb = xcalloc((size_t)vt->cols * VT_COMB_MAX, sizeof *row->comb);
	return row->comb;
}

/* Copy n cells, with their combining code points; the ranges may overlap within one row. */
static void
vt_row_copy(const struct vt *vt, struct vt_row *dst, int dcol, const struct vt_row *src, int scol,
	    int n)
{
	memmove(dst->cells + dcol, src->cells + scol, (size_t)n * sizeof *dst->cells);
	if (src->comb != NULL)
		memmove(vt_row_comb(vt, dst) + (size_t)dcol * VT_COMB_MAX,
			src->comb + (size_t)scol * VT_COMB_MAX,
			(size_t)n * VT_COMB_MAX * sizeof *src->comb);
}

static void
vt_grid_init(struct vt_grid *g, int cols, int rows)
{
	struct vt_pcell blank = {0, VT_COLOR_DEFAULT, VT_COLOR_DEFAULT, 0, 1, 0};
	size_t i, n = (size_t)cols * (size_t)rows;

	g->block = xmalloc(n * sizeof *g->block);
	for (i = 0; i < n; i++)
		g->block[i] = blank;
	g->rows = xcalloc((size_t)rows, sizeof *g->rows);
	for (i = 0; i < (size_t)rows; i++)
		g->rows[i].cells = g->block + i * (size_t)cols;
	g->top = 0;
}

static void
vt_grid_release(struct vt_grid *g, int rows)
{
	int i;

	if (g->rows != NULL) {
		for (i = 0; i < rows; i++)
			free(g->rows[i].comb);
	}
	free(g->rows);
	free(g->block);
	g->rows = NULL;
	g->block = NULL;
}

static void
vt_grid_clear(struct vt *vt, struct vt_grid *g, struct vt_pcell fill)
{
	int r;

	for (r = 0; r < vt->rows; r++)
		vt_row_fill(&g->rows[r], 0, vt->cols, fill);
	g->top = 0;
}

size_t
vt_utf8_encode(uint32_t cp, char *dst)
{
	unsigned char *d = (unsigned char *)dst;

	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return vt_utf8_encode(0xfffd, dst);
	d[0] = (unsigned char)(0xf0 | (cp >> 18));
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A row as text: blanks become spaces, right halves vanish, trailing spaces go. */
static size_t
vt_row_text(const struct vt *vt, const struct vt_row *row, char *dst)
{
	const struct vt_pcell *c = row->cells;
	size_t len = 0, keep = 0;
	int i, k;

	for (i = 0; i < vt->cols; i++) {
		if (c[i].width == 0)
			continue;
		if (c[i].ch == 0 || c[i].ch == ' ') {
			dst[len++] = ' ';
			continue;
		}
		len += vt_utf8_encode(c[i].ch, dst + len);
		for (k = 0; k < c[i].ncomb; k++)
			len += vt_utf8_encode(row->comb[(size_t)i * VT_COMB_MAX + k], dst + len);
		keep = len;
	}
	dst[keep] = '\0';
	return keep;
}

static void
vt_push_line(struct vt *vt, const struct vt_row *row)
{
	size_t len = vt_row_text(vt, row, vt->line_text);

	vt->line_cb(vt->line_text, len, vt->line_arg);
}

static void
vt_erase(struct vt *vt, VTermRect rect, bool selective)
{
	struct vt_grid *g = &vt->grid[vt->cur];
	struct vt_pcell blank = vt_blank(vt);
	struct vt_row *row;
	int r, i;

	for (r = rect.start_row; r < rect.end_row; r++) {
		row = vt_row_at(vt, g, r);
		if (!selective)
			vt_row_fill(row, rect.start_col, rect.end_col, blank);
		else {
			for (i = rect.start_col; i < rect.end_col; i++) {
				if (~row->cells[i].attrs & VT_CELL_PROTECTED)
					row->cells[i] = blank;
			}
		}
		vt_row_fix_edges(vt, row, rect.start_col, rect.end_col);
	}
}

/* Whole rows [start, end) move by down (> 0: up the screen); the vacated rows are erased. */
static void
vt_scroll_rows(struct vt *vt, int start, int end, int down)
{
	struct vt_grid *g = &vt->grid[vt->cur];
	struct vt_pcell blank = vt_blank(vt);
	int n = down > 0 ? down : -down;
	int i, r;

	if (down > 0 && start == 0 && vt->cur == 0 && vt->line_cb != NULL) {
		for (i = 0; i < n; i++)
			vt_push_line(vt, vt_row_at(vt, g, i));
	}
	if (start == 0 && end == vt->rows) {
		g->top = (g->top + down + vt->rows) % vt->rows;
		if (down > 0)
			start = end - n;
		else
			end = n;
	} else if (down > 0) {
		for (i = 0; i < n; i++)
			vt->scratch[i] = *vt_row_at(vt, g, start + i);
		for (r = start; r < end - n; r++)
			*vt_row_at(vt, g, r) = *vt_row_at(vt, g, r + n);
		for (i = 0; i < n; i++)
			*vt_row_at(vt, g, end - n + i) = vt->scratch[i];
		start = end - n;
	} else {
		for (i = 0; i < n; i++)
			vt->scratch[i] = *vt_row_at(vt, g, end - n + i);
		for (r = end - 1; r >= start + n; r--)
			*vt_row_at(vt, g, r) = *vt_row_at(vt, g, r - n);
		for (i = 0; i < n; i++)
			*vt_row_at(vt, g, start + i) = vt->scratch[i];
		end = start + n;
	}
	for (r = start; r < end; r++)
		vt_row_fill(vt_row_at(vt, g, r), 0, vt->cols, blank);
}

/*
 * The rectangle's contents move up by down rows and left by right columns
 * (negative: down, right), as libvterm's scrollrect asks; what is uncovered
 * is erased. Moving as far as the rectangle is big just erases it, and, as
 * in libvterm's screen layer, pushes no line to the callback.
 */
static void
vt_scroll(struct vt *vt, VTermRect rect, int down, int right)
{
	struct vt_grid *g = &vt->grid[vt->cur];
	int h = rect.end_row - rect.start_row, w = rect.end_col - rect.start_col;
	int r, first, last, step, dcol, scol, n;

	if (h <= 0 || w <= 0 || (down == 0 && right == 0))
		return;
	if (abs(down) >= h || abs(right) >= w) {
		vt_erase(vt, rect, false);
		return;
	}
	if (right == 0 && rect.start_col == 0 && rect.end_col == vt->cols) {
		vt_scroll_rows(vt, rect.start_row, rect.end_row, down);
		return;
	}

	/*
	 * Part of the width (DECSLRM, ICH, DCH): copy cells row by row. First
	 * blank the wide chars the move parts, across the edges of the rectangle
	 * and of the cells that move: fixing up afterwards would take a stray
	 * right half that lands beside a stray left half for a whole char.
	 */
	dcol = right >= 0 ? rect.start_col : rect.start_col - right;
	scol = right >= 0 ? rect.start_col + right : rect.start_col;
	n = w - abs(right);
	for (r = rect.start_row; r < rect.end_row; r++) {
		struct vt_row *row = vt_row_at(vt, g, r);

		vt_row_part(vt, row, rect.start_col);
		vt_row_part(vt, row, rect.end_col);
		vt_row_part(vt, row, scol);
		vt_row_part(vt, row, scol + n);
	}
	if (down >= 0) {
		first = rect.start_row;
		last = rect.end_row - down;
		step = 1;
	} else {
		first = rect.end_row - 1;
		last = rect.start_row - down - 1;
		step = -1;
	}
	for (r = first; r != last; r += step)
		vt_row_copy(vt, vt_row_at(vt, g, r), dcol, vt_row_at(vt, g, r + down), scol, n);
	if (down > 0)
		vt_erase(
		    vt,
		    (VTermRect){rect.end_row - down, rect.end_row, rect.start_col, rect.end_col},
		    false);
	else if (down < 0)
		vt_erase(vt,
			 (VTermRect){rect.start_row, rect.start_row - down, rect.start_col,
				     rect.end_col},
			 false);
	if (right > 0)
		vt_erase(
		    vt,
		    (VTermRect){rect.start_row, rect.end_row, rect.end_col - right, rect.end_col},
		    false);
	else if (right < 0)
		vt_erase(vt,
			 (VTermRect){rect.start_row, rect.end_row, rect.start_col,
				     rect.start_col - right},
			 false);
	for (r = rect.start_row; r < rect.end_row; r++)
		vt_row_fix(vt, vt_row_at(vt, g, r));
}

static uint32_t
vt_color(const VTermColor *c)
{
	if (c->type & VTERM_COLOR_DEFAULT_MASK)
		return VT_COLOR_DEFAULT;
	if (VTERM_COLOR_IS_INDEXED(c))
		return VT_COLOR_INDEX(c->indexed.idx);
	return VT_COLOR_RGB(c->rgb.red, c->rgb.green, c->rgb.blue);
}

static unsigned
vt_underline_attr(int n)
{
	switch (n) {
	case 0:
		return 0;
	case 2:
		return VT_ATTR_UNDERLINE2;
	case 3:
		return VT_ATTR_UNDERCURL;
	default:
		return VT_ATTR_UNDERLINE;
	}
}

/* libvterm callbacks. Each returns 1: "handled", so libvterm does no fallback work. */

static int
vt_putglyph_cb(VTermGlyphInfo *info, VTermPos pos, void *user)
{
	struct vt *vt = user;
	struct vt_row *row;
	struct vt_pcell *c;
	int w = info->width, col = pos.col, k;

	/* What REP repeats (see vt_feed_rep). */
	vt->rep_width = info->width;
	for (k = 0; k < VTERM_MAX_CHARS_PER_CELL && info->chars[k] != 0; k++)
		vt->rep_chars[k] = info->chars[k];
	vt->rep_nchars = (size_t)k;
	if (pos.row < 0 || pos.row >= vt->rows || col < 0 || col >= vt->cols)
		return 1;
	if (w != 1 && (w != 2 || col + 2 > vt->cols))
		w = 1;
	row = vt_row_at(vt, &vt->grid[vt->cur], pos.row);
	c = row->cells + col;
	*c = vt->pen;
	c->ch = info->chars[0];
	if (info->protected_cell)
		c->attrs |= VT_CELL_PROTECTED;
	if (info->width == 0)
		c->attrs |= VT_CELL_BARE;
	c->width = (uint8_t)w;
	if (info->chars[0] != 0 && info->chars[1] != 0) {
		uint32_t *comb = vt_row_comb(vt, row) + (size_t)col * VT_COMB_MAX;

		for (k = 0; k < VT_COMB_MAX && info->chars[k + 1] != 0; k++)
			comb[k] = info->chars[k + 1];
		c->ncomb = (uint8_t)k;
	}
	if (w == 2) {
		c[1] = *c;
		c[1].ch = 0;
		c[1].width = 0;
		c[1].ncomb = 0;
	}
	vt_row_fix_edges(vt, row, col, col + w);
	/* As libvterm: the cursor stays on a glyph that reaches the edge; a bare mark never moves
	 * it. */
	vt->wrap_pending = info->width > 0 && col + w >= vt->cols;
	vt->wrap_row = pos.row;
	vt->wrap_col = col;
	return 1;
}

static int
vt_movecursor_cb(VTermPos pos, VTermPos oldpos, int visible, void *user)
{
	struct vt *vt = user;

	/* libvterm reports the end of a text run too; that leaves a pending wrap in place. */
	if (pos.row != vt->wrap_row || pos.col != vt->wrap_col)
		vt->wrap_pending = false;
	return 1;
}

/* libvterm's cursor can be outside the screen (see vt_feed): keep rects to what exists. */
static bool
vt_rect_clip(const struct vt *vt, VTermRect *rect)
{
	if (rect->start_row < 0)
		rect->start_row = 0;
	if (rect->end_row > vt->rows)
		rect->end_row = vt->rows;
	if (rect->start_col < 0)
		rect->start_col = 0;
	if (rect->end_col > vt->cols)
		rect->end_col = vt->cols;
	return rect->start_row < rect->end_row && rect->start_col < rect->end_col;
}

static int
vt_scrollrect_cb(VTermRect rect, int downward, int rightward, void *user)
{
	if (vt_rect_clip(user, &rect))
		vt_scroll(user, rect, downward, rightward);
	return 1;
}

static int
vt_erase_cb(VTermRect rect, int selective, void *user)
{
	struct vt *vt = user;

	if (vt_rect_clip(vt, &rect))
		vt_erase(vt, rect, selective != 0);
	return 1;
}

/*
 * libvterm calls initpen only from vterm_state_reset (RIS, or vt_reset),
 * which also leaves the alternate screen without telling settermprop.
 */
static int
vt_initpen_cb(void *user)
{
	struct vt *vt = user;

	vt->pen = (struct vt_pcell){0, VT_COLOR_DEFAULT, VT_COLOR_DEFAULT, 0, 1, 0};
	vt->cur = 0;
	vt->wrap_pending = false;
	return 1;
}

static int
vt_setpenattr_cb(VTermAttr attr, VTermValue *val, void *user)
{
	struct vt *vt = user;
	unsigned bit = 0;

	switch (attr) {
	case VTERM_ATTR_BOLD:
		bit = VT_ATTR_BOLD;
		break;
	case VTERM_ATTR_ITALIC:
		bit = VT_ATTR_ITALIC;
		break;
	case VTERM_ATTR_BLINK:
		bit = VT_ATTR_BLINK;
		break;
	case VTERM_ATTR_REVERSE:
		bit = VT_ATTR_REVERSE;
		break;
	case VTERM_ATTR_STRIKE:
		bit = VT_ATTR_STRIKE;
		break;
	case VTERM_ATTR_UNDERLINE:
		vt->pen.attrs &= ~(VT_ATTR_UNDERLINE | VT_ATTR_UNDERLINE2 | VT_ATTR_UNDERCURL);
		vt->pen.attrs |= vt_underline_attr(val->number);
		return 1;
	case VTERM_ATTR_FOREGROUND:
		vt->pen.fg = vt_color(&val->color);
		return 1;
	case VTERM_ATTR_BACKGROUND:
		vt->pen.bg = vt_color(&val->color);
		return 1;
	default:
		return 1;
	}
	if (val->boolean)
		vt->pen.attrs |= bit;
	else
		vt->pen.attrs &= ~bit;
	return 1;
}

static int
vt_settermprop_cb(VTermProp prop, VTermValue *val, void *user)
{
	struct vt *vt = user;
	VTermPos pos;

	if (prop != VTERM_PROP_ALTSCREEN)
		return 1;
	if (val->boolean && vt->cur == 0) {
		/* For ?1049h libvterm saves the cursor after this, where it still is. */
		vterm_state_get_cursorpos(vt->state, &pos);
		vt->saved_row = pos.row;
		vt->saved_col = pos.col;
		vt->saved_pen = vt->pen;
	}
	/* Entering, libvterm then erases the alternate screen through erase. */
	if (val->boolean && vt->grid[1].rows == NULL)
		vt_grid_init(&vt->grid[1], vt->cols, vt->rows);
	vt->cur = val->boolean ? 1 : 0;
	vt->wrap_pending = false;
	return 1;
}

static bool
vt_row_is_blank(const struct vt *vt, const struct vt_row *row)
{
	int i;

	for (i = 0; i < vt->cols; i++) {
		if (row->cells[i].ch != 0)
			return false;
	}
	return true;
}

/* Rebuild a grid at the new size, keeping the top-left of the old one. */
static void
vt_grid_resize(struct vt *vt, struct vt_grid *g, int cols, int rows, struct vt_pcell fill)
{
	struct vt_grid ng;
	struct vt_row *src, *dst;
	int r, keep_cols = cols < vt->cols ? cols : vt->cols;
	size_t i;

	vt_grid_init(&ng, cols, rows);
	for (r = 0; r < rows; r++) {
		dst = &ng.rows[r];
		if (r >= vt->rows) {
			vt_row_fill(dst, 0, cols, fill);
			continue;
		}
		src = vt_row_at(vt, g, r);
		memcpy(dst->cells, src->cells, (size_t)keep_cols * sizeof *dst->cells);
		if (cols > keep_cols)
			vt_row_fill(dst, keep_cols, cols, fill);
		if (src->comb != NULL) {
			dst->comb = xcalloc((size_t)cols * VT_COMB_MAX, sizeof *dst->comb);
			for (i = 0; i < (size_t)keep_cols * VT_COMB_MAX; i++)
				dst->comb[i] = src->comb[i];
		}
		if (cols < vt->cols && cols > 0 && dst->cells[cols - 1].width == 2)
			vt_cell_unpair(&dst->cells[cols - 1]);
	}
	vt_grid_release(g, vt->rows);
	*g = ng;
}

/*
 * Called by libvterm (inside vterm_set_size) before it moves the cursor by
 * delta. As libvterm's screen layer does, shrinking the main screen first
 * scrolls lines off the top, to the callback, so that the cursor row and
 * what is above blank rows at the bottom survive; unlike it, never more
 * lines than are above the cursor (it would leave the cursor above row 0).
 */
static int
vt_resize_cb(int rows, int cols, VTermPos *delta, void *user)
{
	struct vt *vt = user;
	struct vt_pcell fill = vt_blank(vt);
	VTermPos cursor;
	int r, first_blank, push;

	if (vt->cur == 0 && rows < vt->rows) {
		vterm_state_get_cursorpos(vt->state, &cursor);
		for (r = vt->rows - 1; r >= rows; r--) {
			if (!vt_row_is_blank(vt, vt_row_at(vt, &vt->grid[0], r)) || cursor.row == r)
				break;
		}
		first_blank = r + 1;
		push = first_blank - rows;
		if (push > cursor.row)
			push = cursor.row;
		if (push > 0) {
			vt_scroll(vt, (VTermRect){0, vt->rows, 0, vt->cols}, push, 0);
			delta->row -= push;
		}
	}
	vt_grid_resize(vt, &vt->grid[0], cols, rows, fill);
	if (vt->grid[1].rows != NULL)
		vt_grid_resize(vt, &vt->grid[1], cols, rows, fill);
	vt->cols = cols;
	vt->rows = rows;
	free(vt->line_text);
	vt->line_text = xmalloc(VT_ROW_TEXT_MAX(cols));
	free(vt->scratch);
	vt->scratch = xcalloc((size_t)rows, sizeof *vt->scratch);
	vt->wrap_pending = false;
	if (vt->saved_row >= rows)
		vt->saved_row = rows - 1;
	if (vt->saved_col >= cols)
		vt->saved_col = cols - 1;
	return 1;
}

static const VTermStateCallbacks vt_callbacks = {
    .putglyph = vt_putglyph_cb,
    .movecursor = vt_movecursor_cb,
    .scrollrect = vt_scrollrect_cb,
    .erase = vt_erase_cb,
    .initpen = vt_initpen_cb,
    .setpenattr = vt_setpenattr_cb,
    .settermprop = vt_settermprop_cb,
    .resize = vt_resize_cb,
};

/* Answers to queries (DA, DSR) are the client terminal's business: drop libvterm's. */
static void
vt_output_cb(const char *s, size_t len, void *user)
{
}

static int
vt_clamp(int n)
{
	if (n < VT_MIN_SIZE)
		return VT_MIN_SIZE;
	if (n > VT_MAX_SIZE)
		return VT_MAX_SIZE;
	return n;
}

struct vt *
vt_create(int cols, int rows)
{
	struct vt *vt = xcalloc(1, sizeof *vt);

	vt->cols = vt_clamp(cols);
	vt->rows = vt_clamp(rows);
	vt->term = vterm_new(vt->rows, vt->cols);
	if (vt->term == NULL)
		abort(); /* libvterm only fails to allocate; so would xmalloc */
	vterm_set_utf8(vt->term, 1);
	vterm_output_set_callback(vt->term, vt_output_cb, vt);
	vt->state = vterm_obtain_state(vt->term);
	/* The alternate grid is made when a program first enters it (idle holders stay small). */
	vt_grid_init(&vt->grid[0], vt->cols, vt->rows);
	vt->line_text = xmalloc(VT_ROW_TEXT_MAX(vt->cols));
	vt->scratch = xcalloc((size_t)vt->rows, sizeof *vt->scratch);
	vt_modes_init(&vt->modes);
	vterm_state_set_callbacks(vt->state, &vt_callbacks, vt);
	vterm_state_reset(vt->state, 1);
	return vt;
}

void
vt_destroy(struct vt *vt)
{
	if (vt == NULL)
		return;
	vterm_free(vt->term);
	vt_grid_release(&vt->grid[0], vt->rows);
	vt_grid_release(&vt->grid[1], vt->rows);
	free(vt->line_text);
	free(vt->scratch);
	free(vt);
}

/*
 * libvterm 0.1.4 lacks SCOSC and SCORC (CSI s, CSI u: save and restore the
 * cursor, as DECSC and DECRC in xterm), which programs use for status
 * lines: vt_feed turns them into ESC 7 and ESC 8 (CAN drops the CSI that
 * libvterm has begun). It also holds three guards for bugs of libvterm
 * 0.1.4 that output can reach:
 *  - Its parser needs stack in proportion to the length of one write (about
 *    4 bytes a byte: a 2 MB write overflows an 8 MB stack). vt_write hands
 *    it at most VT_WRITE_MAX bytes at a time.
 *  - It keeps 16 CSI arguments and writes past them when a CSI has more
 *    (every ';' or ':' starts one; an SGR with colon sub-parameters has that
 *    many): the process crashes. vt_feed stops such a CSI with CAN before its
 *    16th separator and drops the rest of it, across chunks. It follows
 *    libvterm's parser loosely and errs towards seeing a CSI.
 *  - DECRC (ESC 8) restores a cursor saved before the screen shrank without
 *    clamping it, and libvterm then indexes its per-row arrays with that
 *    row. After an ESC 8 that leaves the cursor outside, vt_feed sends a
 *    DECSET of the unused mode 0: every CSI ends by clamping the cursor.
 *    (CSI ? 1048/1049 l restore too, but as CSIs they clamp by themselves.)
 *  - A resize clamps the bottom of the scroll region but not its top (see
 *    vt_resize), so vt_feed follows the top that each DECSTBM gives libvterm.
 */
/* VT_GUARD_ESCI: after an ESC and intermediates, where libvterm still takes '[' as a CSI. */
enum vt_guard_state { VT_GUARD_GROUND, VT_GUARD_ESC, VT_GUARD_ESCI, VT_GUARD_CSI, VT_GUARD_DROP };

#define VT_GUARD_MAX_SEPS 15
#define VT_WRITE_MAX 4096
#define VT_REP_MAX_BYTES (VTERM_MAX_CHARS_PER_CELL * 4)

static void vt_write(struct vt *vt, const char *data, size_t len);

/* REP (CSI n b): the last glyph again, n times (at least once, at most to the end of the row). */
static void
vt_feed_rep(struct vt *vt, int n)
{
	char one[VT_REP_MAX_BYTES], *buf;
	size_t len = 0, i, k;

	if (vt->rep_width <= 0 || vt->rep_nchars == 0)
		return;
	for (k = 0; k < vt->rep_nchars; k++)
		len += vt_utf8_encode(vt->rep_chars[k], one + len);
	if (n < 1)
		n = 1;
	/* As libvterm bounds its own REP: to the end of the row, no wrap. */
	{
		VTermPos pos;

		vterm_state_get_cursorpos(vt->state, &pos);
		if (n > (vt->cols - pos.col) / vt->rep_width)
			n = (vt->cols - pos.col) / vt->rep_width;
	}
	if (n < 1)
		return;
	buf = xmalloc(len * (size_t)n);
	for (i = 0; i < (size_t)n; i++)
		memcpy(buf + i * len, one, len);
	vt_write(vt, buf, len * (size_t)n);
	free(buf);
}

/* At the final byte of a CSI: track ?69, and say whether it is SCOSC ('7') or SCORC ('8'). */
static char
vt_feed_csi_end(struct vt *vt, unsigned char final)
{
	const char *s = vt->guard_seq;
	int n = vt->guard_len, i, num = -1;

	if (n == 0 && final == 's' && !vt->guard_lrmm)
		return '7';
	if (n == 0 && final == 'u')
		return '8';
	if (final == 'r' && vt->guard_plain) {
		/*
		 * DECSTBM: libvterm clamps the top to the screen and drops a region
		 * left empty. It reads a parameter modulo 2^31: one too big to follow
		 * is taken as deep, which costs at most a needless reset on a resize.
		 */
		if (vt->guard_arg0 > VT_MAX_SIZE)
			vt->guard_top = VT_MAX_SIZE;
		else
			vt->guard_top = vt->guard_arg0 > 1 ? vt->guard_arg0 - 1 : 0;
		if (vt->guard_top >= vt->rows && vt->guard_arg0 <= VT_MAX_SIZE)
			vt->guard_top = 0;
		return 0;
	}
	if ((final == 'h' || final == 'l') && n > 1 && n <= (int)sizeof vt->guard_seq &&
	    s[0] == '?') {
		for (i = 1; i <= n; i++) {
			if (i < n && s[i] >= '0' && s[i] <= '9')
				num = (num < 0 ? 0 : num * 10) + (s[i] - '0');
			else {
				if (num == 69)
					vt->guard_lrmm = final == 'h';
				num = -1;
			}
		}
	}
	return 0;
}

/* Length of the UTF-8 sequence a lead byte starts (1 for anything else). */
static size_t
vt_utf8_need(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Length of the valid UTF-8 character at p (avail bytes), 0 if invalid, -1 if cut short. */
static int
vt_utf8_valid(const unsigned char *p, size_t avail)
{
	size_t need = vt_utf8_need(p[0]), i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (need == 1 || p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	for (i = 1; i < need; i++) {
		if (i >= avail)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	cp = need == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
	   : need == 3 ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f)
		       : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
			     (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	/* Below U+00A0: overlong, or a C1 control, whose width libvterm takes as -1. */
	if ((need == 2 && cp < 0xa0) || (need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (int)need;
}

/*
 * libvterm 0.1.4's UTF-8 decoder keeps a character it has begun across a
 * control byte and across writes, then emits one code point more than the
 * bytes it is given into a stack array sized by them (a stack overflow:
 * "\xd6\n\xd6=" is enough); and it moves the cursor back for a C1 control
 * sent as UTF-8 (width -1: "\xc2\x8e" at column 0 leaves it at column -1).
 * So it only ever gets valid UTF-8 without C1: each bad byte becomes U+FFFD
 * here; vt_write holds back a character cut at the end.
 */
static void vt_write_chunks_1(struct vt *vt, const char *data, size_t len);

/*
 * libvterm 0.1.4 also reads past the end of a write (into the title, up to
 * 64 bytes) when anything comes between the ESC and the '\\' of an ST inside
 * an OSC or DCS string: a C0 control, DEL or NUL ("\033]2;t\033\n\\"), or
 * the end of a write. Each restarts the string's last fragment after the ESC,
 * and the ST then computes it as -1 bytes (parser.c, ESC_IN_STRING). So an ESC
 * only ever goes to libvterm in the same write as the byte that follows it
 * and is not a C0 or DEL: vt->esc_hold keeps it back across writes, and what
 * comes between is written before it. As in xterm, a C0 inside an escape
 * sequence is executed and the sequence carries on after it: "ESC C0 x" is
 * "C0 ESC x". CAN and SUB cancel the ESC, which libvterm does too; an ESC
 * after the ESC also cancels it, and libvterm treats "ESC ESC" as "CAN ESC",
 * so that is what it gets.
 */
static bool
vt_esc_skips(unsigned char c)
{
	return (c < 0x20 && c != 0x1b && c != 0x18 && c != 0x1a) || c == 0x7f;
}

static void
vt_write_chunks(struct vt *vt, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	char *tmp;
	size_t i, n = 0;

	if (len == 0)
		return;
	if (!vt->esc_hold) {
		for (i = 0; i < len; i++) {
			if (p[i] == 0x1b && (i + 1 == len || vt_esc_skips(p[i + 1]) || p[i + 1] == 0x1b))
				break;
		}
		if (i == len) {
			vt_write_chunks_1(vt, data, len);
			return;
		}
	}
	tmp = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (vt->esc_hold) {
			if (vt_esc_skips(c)) {
				tmp[n++] = (char)c;
				continue;
			}
			vt->esc_hold = false;
			tmp[n++] = c == 0x1b ? 0x18 : 0x1b;
		}
		if (c == 0x1b)
			vt->esc_hold = true;
		else
			tmp[n++] = (char)c;
	}
	vt_write_chunks_1(vt, tmp, n);
	free(tmp);
}

static void
vt_write_chunks_1(struct vt *vt, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t start = 0, i = 0, n;
	int k;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = vt_utf8_valid(p + i, len - i);
		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		/* The replacement goes in the same write as what precedes it (an ESC, say). */
		for (; i - start > VT_WRITE_MAX; start += n) {
			n = VT_WRITE_MAX;
			while (n > 1 && (p[start + n] & 0xc0) == 0x80)
				n--;
			if (n > 1 && p[start + n - 1] == 0x1b)
				n--;
			vterm_input_write(vt->term, data + start, n);
		}
		{
			char tmp[VT_WRITE_MAX + 3];

			memcpy(tmp, data + start, i - start);
			memcpy(tmp + (i - start), "\xef\xbf\xbd", 3);
			vterm_input_write(vt->term, tmp, i - start + 3);
		}
		start = ++i;
	}
	for (; start < len; start += n) {
		n = len - start < VT_WRITE_MAX ? len - start : VT_WRITE_MAX;
		/* Do not cut a character, or an ESC from what follows it, at a chunk boundary. */
		while (n < len - start && n > 1 &&
		       ((p[start + n] & 0xc0) == 0x80 || p[start + n - 1] == 0x1b))
			n--;
		vterm_input_write(vt->term, data + start, n);
	}
}

/*
 * Write to libvterm, holding back a UTF-8 character cut at the end: libvterm
 * 0.1.4 turns a character split across two writes into U+FFFD, and PTY reads
 * (and the holder's slices) split characters anywhere.
 */
static void
vt_write(struct vt *vt, const char *data, size_t len)
{
	size_t i, k;

	if (vt->utf8_len > 0) {
		size_t need = vt_utf8_need((unsigned char)vt->utf8_hold[0]);

		while (vt->utf8_len < need && len > 0 && ((unsigned char)*data & 0xc0) == 0x80) {
			vt->utf8_hold[vt->utf8_len++] = *data++;
			len--;
		}
		if (vt->utf8_len < need && len == 0)
			return; /* still cut: wait for more */
		if (vt->utf8_len < need)
			vt_write_chunks(vt, "\xef\xbf\xbd", 3); /* broken: U+FFFD (after a held ESC) */
		else
			vt_write_chunks(vt, vt->utf8_hold, vt->utf8_len);
		vt->utf8_len = 0;
	}
	/* A lead byte within the last three bytes whose sequence does not fit is held. */
	for (k = 1; k <= 3 && k <= len; k++) {
		unsigned char c = (unsigned char)data[len - k];

		if ((c & 0xc0) == 0x80)
			continue;
		if (c >= 0xc0 && vt_utf8_need(c) > k) {
			i = len - k;
			memcpy(vt->utf8_hold, data + i, k);
			vt->utf8_len = k;
			len = i;
		}
		break;
	}
	vt_write_chunks(vt, data, len);
}

static void
vt_feed_clamp(struct vt *vt)
{
	VTermPos pos;

	vterm_state_get_cursorpos(vt->state, &pos);
	if (pos.row < 0 || pos.row >= vt->rows || pos.col < 0 || pos.col >= vt->cols)
		vterm_input_write(vt->term, "\033[?0h", 6);
}

void
vt_feed(struct vt *vt, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *start = data, *e;
	unsigned char c;

	vt_modes_scan(&vt->modes, data, len);
	while (p < end) {
		if (vt->guard == VT_GUARD_GROUND) {
			if ((e = memchr(p, 0x1b, (size_t)(end - p))) == NULL)
				break;
			p = e + 1;
			vt->guard = VT_GUARD_ESC;
			continue;
		}
		c = (unsigned char)*p++;
		if (c == 0x1b) {
			if (vt->guard == VT_GUARD_DROP)
				start = p - 1;
			vt->guard = VT_GUARD_ESC;
			continue;
		}
		switch (vt->guard) {
		case VT_GUARD_ESC:
		case VT_GUARD_ESCI:
			if (c == '[') {
				vt->guard = VT_GUARD_CSI;
				vt->guard_seps = 0;
				vt->guard_len = 0;
				vt->guard_arg0 = 0;
				vt->guard_plain = true;
			} else if (c >= 0x20 && c <= 0x2f) {
				/* An intermediate: "ESC ( [ b" is a CSI to libvterm. */
				vt->guard = VT_GUARD_ESCI;
			} else if (c == 0x18 || c == 0x1a) {
				vt->guard = VT_GUARD_GROUND;
			} else if (c < 0x30 || c >= 0x7f) {
				/* libvterm carries on with an escape over C0, DEL and bytes >= 0x80 */
			} else if (vt->guard == VT_GUARD_ESCI) {
				vt->guard = VT_GUARD_GROUND; /* not RIS or DECRC */
			} else if (c == 'c') {
				vt->guard_lrmm = false; /* RIS */
				vt->guard_top = 0;
				vt->guard = VT_GUARD_GROUND;
			} else if (c == '8') {
				vt_write(vt, start, (size_t)(p - start));
				start = p;
				vt_feed_clamp(vt);
				vt->guard = VT_GUARD_GROUND;
			} else {
				vt->guard = VT_GUARD_GROUND;
			}
			break;
		case VT_GUARD_CSI:
			if ((c == ';' || c == ':') && ++vt->guard_seps > VT_GUARD_MAX_SEPS) {
				vt_write(vt, start, (size_t)(p - 1 - start));
				vt_write(vt, "\030", 1);
				vt->guard = VT_GUARD_DROP;
				start = p;
			} else if (c >= 0x20 && c <= 0x3f) {
				if (vt->guard_len < (int)sizeof vt->guard_seq)
					vt->guard_seq[vt->guard_len] = (char)c;
				if (vt->guard_len <= (int)sizeof vt->guard_seq)
					vt->guard_len++;
				if (c >= '0' && c <= '9') {
					if (vt->guard_seps == 0 && vt->guard_arg0 <= VT_MAX_SIZE)
						vt->guard_arg0 = vt->guard_arg0 * 10 + (c - '0');
				} else if (c != ';' && c != ':')
					vt->guard_plain = false; /* a leader or intermediate */
			} else if (c >= 0x40 && c <= 0x7e) {
				char esc = vt_feed_csi_end(vt, c);

				vt->guard = VT_GUARD_GROUND;
				if (c == 'b' && vt->guard_plain) {
					/*
					 * REP: libvterm 0.1.4 loops for ever when the last
					 * glyph had width 0 (none yet, or a zero-width one),
					 * whatever follows its first parameter ("CSI ; b").
					 * Cancel it (CAN) and repeat the glyph ourselves.
					 */
					vt_write(vt, start, (size_t)(p - 1 - start));
					vt_write(vt, "\030", 1);
					start = p;
					vt_feed_rep(vt, vt->guard_arg0);
				} else if (esc != 0) {
					char seq[3] = {0x18, 0x1b, esc};

					vt_write(vt, start, (size_t)(p - 1 - start));
					vt_write(vt, seq, sizeof seq);
					start = p;
					if (esc == '8')
						vt_feed_clamp(vt);
				}
			} else if (c >= 0x80 || c == 0x18 || c == 0x1a)
				vt->guard = VT_GUARD_GROUND; /* C0 and DEL do not end a CSI */
			break;
		case VT_GUARD_DROP:
			start = p;
			if ((c >= 0x40 && c <= 0x7e) || c == 0x18 || c == 0x1a || c >= 0x80)
				vt->guard = VT_GUARD_GROUND;
			break;
		}
	}
	if (vt->guard != VT_GUARD_DROP && start < end)
		vt_write(vt, start, (size_t)(end - start));
}

/*
 * libvterm 0.1.4's resize clamps the bottom of the scroll region to the new
 * height but leaves the top: once the top is at or below the new bottom, a
 * line feed on the last row (or SU, SD) scrolls a region of no or negative
 * height, and a negative one memmoves libvterm's line info with a negative
 * size, corrupting the heap. Reset the region to the whole screen, as
 * xterm does on any resize and as vt_render_ansi already draws such a
 * region. DECSTBM homes the cursor: put it back (a pending wrap is lost).
 */
static void
vt_region_reset(struct vt *vt)
{
	VTermPos pos, home;
	char s[32];
	int n;

	/*
	 * Our ESC cuts a CSI libvterm has begun: drop the rest of it, not print
	 * it. (An ESC the guard has just seen is still held back, see esc_hold.)
	 */
	if (vt->guard == VT_GUARD_CSI)
		vt->guard = VT_GUARD_DROP;
	vterm_state_get_cursorpos(vt->state, &pos);
	vterm_input_write(vt->term, "\033[r", 3);
	vterm_state_get_cursorpos(vt->state, &home); /* (0, left margin) under origin mode */
	n = snprintf(s, sizeof s, "\033[%d;%dH", pos.row - home.row + 1,
		     pos.col > home.col ? pos.col - home.col + 1 : 1);
	vterm_input_write(vt->term, s, (size_t)n);
	vt->guard_top = 0;
	vt->modes.scroll_top = 0;
	vt->modes.scroll_bottom = 0;
}

void
vt_resize(struct vt *vt, int cols, int rows)
{
	cols = vt_clamp(cols);
	rows = vt_clamp(rows);
	if (cols == vt->cols && rows == vt->rows)
		return;
	vterm_set_size(vt->term, rows, cols);
	if (vt->guard_top >= vt->rows)
		vt_region_reset(vt);
	vt_feed_clamp(vt);
}

void
vt_get_size(const struct vt *vt, int *cols, int *rows)
{
	*cols = vt->cols;
	*rows = vt->rows;
}

void
vt_reset(struct vt *vt, const struct vt_modes *modes)
{
	struct vt_pcell blank = {0, VT_COLOR_DEFAULT, VT_COLOR_DEFAULT, 0, 1, 0};
	struct buf b;

	/* The state reset leaves libvterm's parser alone: CAN ends any sequence cut short. */
	vt->utf8_len = 0;
	vt->rep_width = 0;
	vt->rep_nchars = 0;
	vt_write(vt, "\030", 1);
	vt->esc_hold = false;
	vterm_state_reset(vt->state, 1);
	vt_grid_clear(vt, &vt->grid[0], blank);
	if (vt->grid[1].rows != NULL)
		vt_grid_clear(vt, &vt->grid[1], blank);
	vt->cur = 0;
	vt->wrap_pending = false;
	vt->saved_row = vt->saved_col = 0;
	vt->saved_pen = blank;
	vt->guard = VT_GUARD_GROUND;
	vt->guard_lrmm = false;
	vt->guard_top = 0;
	vt_modes_init(&vt->modes);
	if (modes == NULL)
		return;

	/* Take the modes as they are and put libvterm into them, so the tail is drawn as it was. */
	vt_modes_copy(&vt->modes, modes);
	buf_init(&b, 0);
	if (modes->alt_screen)
		buf_adds(&b, "\033[?1049h");
	vt_render_modes(modes, vt->rows, &b);
	vt_write(vt, b.data, b.len);
	buf_release(&b);
	/* The top of the region that set; more when it left out a region that fits no longer. */
	if (modes->scroll_top > 1 && modes->scroll_top <= vt->rows)
		vt->guard_top = modes->scroll_top - 1;
}

void
vt_set_line_cb(struct vt *vt, vt_line_cb cb, void *arg)
{
	vt->line_cb = cb;
	vt->line_arg = arg;
}

const struct vt_modes *
vt_get_modes(const struct vt *vt)
{
	return &vt->modes;
}

int
vt_get_screen_cell(const struct vt *vt, enum vt_screen which, int row, int col,
		   struct vt_cell *cell)
{
	const struct vt_grid *g;
	const struct vt_row *r;
	const struct vt_pcell *c;
	int k;

	if (row < 0 || row >= vt->rows || col < 0 || col >= vt->cols)
		return -ERR_INVAL;
	if (which == VT_SCREEN_ACTIVE)
		g = &vt->grid[vt->cur];
	else
		g = &vt->grid[which == VT_SCREEN_ALT ? 1 : 0];
	if (g->rows == NULL) {
		/* The alternate screen was never used: blank. */
		memset(cell, 0, sizeof *cell);
		cell->width = 1;
		return 0;
	}
	r = vt_row_at(vt, g, row);
	c = &r->cells[col];
	memset(cell->chars, 0, sizeof cell->chars);
	cell->chars[0] = c->ch;
	for (k = 0; k < c->ncomb; k++)
		cell->chars[k + 1] = r->comb[(size_t)col * VT_COMB_MAX + k];
	cell->width = c->width;
	cell->attrs = c->attrs & ~VT_CELL_FLAGS;
	cell->fg = c->fg;
	cell->bg = c->bg;
	cell->bare = (c->attrs & VT_CELL_BARE) != 0;
	return 0;
}

int
vt_get_cell(const struct vt *vt, int row, int col, struct vt_cell *cell)
{
	return vt_get_screen_cell(vt, VT_SCREEN_ACTIVE, row, col, cell);
}

void
vt_get_cursor(const struct vt *vt, int *row, int *col)
{
	VTermPos pos;

	vterm_state_get_cursorpos(vt->state, &pos);
	*row = pos.row;
	*col = pos.col;
}

bool
vt_is_alt_screen(const struct vt *vt)
{
	return vt->cur == 1;
}

void
vt_get_pen(const struct vt *vt, struct vt_cell *pen)
{
	static const struct {
		VTermAttr attr;
		unsigned bit;
	} bools[] = {
	    {VTERM_ATTR_BOLD, VT_ATTR_BOLD},	 {VTERM_ATTR_ITALIC, VT_ATTR_ITALIC},
	    {VTERM_ATTR_BLINK, VT_ATTR_BLINK},	 {VTERM_ATTR_REVERSE, VT_ATTR_REVERSE},
	    {VTERM_ATTR_STRIKE, VT_ATTR_STRIKE},
	};
	VTermValue v;
	size_t i;

	memset(pen, 0, sizeof *pen);
	pen->width = 1;
	for (i = 0; i < nitems(bools); i++) {
		if (vterm_state_get_penattr(vt->state, bools[i].attr, &v) && v.boolean)
			pen->attrs |= bools[i].bit;
	}
	if (vterm_state_get_penattr(vt->state, VTERM_ATTR_UNDERLINE, &v))
		pen->attrs |= vt_underline_attr(v.number);
	if (vterm_state_get_penattr(vt->state, VTERM_ATTR_FOREGROUND, &v))
		pen->fg = vt_color(&v.color);
	if (vterm_state_get_penattr(vt->state, VTERM_ATTR_BACKGROUND, &v))
		pen->bg = vt_color(&v.color);
}

void
vt_get_alt_saved(const struct vt *vt, int *row, int *col, struct vt_cell *pen)
{
	*row = vt->saved_row;
	*col = vt->saved_col;
	memset(pen, 0, sizeof *pen);
	pen->width = 1;
	pen->attrs = vt->saved_pen.attrs;
	pen->fg = vt->saved_pen.fg;
	pen->bg = vt->saved_pen.bg;
}

bool
vt_is_wrap_pending(const struct vt *vt)
{
	VTermPos pos;

	if (!vt->wrap_pending)
		return false;
	vterm_state_get_cursorpos(vt->state, &pos);
	return pos.row == vt->wrap_row && pos.col == vt->wrap_col;
}

size_t
vt_get_row_text(const struct vt *vt, int row, char *dst)
{
	if (row < 0 || row >= vt->rows) {
		dst[0] = '\0';
		return 0;
	}
	return vt_row_text(vt, vt_row_at(vt, &vt->grid[vt->cur], row), dst);
}
