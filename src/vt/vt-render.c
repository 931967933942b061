/*
 * vt-render.c: a screen turned back into bytes: ANSI that rebuilds it on a
 * fresh terminal (cells, alternate screen, modes, pen, cursor) for a
 * reattaching client, and plain text for capture and export. Not for
 * keeping the screen (vt.c) or for incremental updates: always the whole.
 */
#include "common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "vt/vt.h"

#define VT_RENDER_UNDERLINES (VT_ATTR_UNDERLINE | VT_ATTR_UNDERLINE2 | VT_ATTR_UNDERCURL)

/*
 * SGR parameters are built with VT_RENDER_ITEM between items (an item is one
 * change: "1", "4:3", "38;2;r;g;b") and written as CSIs of at most
 * VT_RENDER_SGR_MAX parameters: libvterm 0.1.4 keeps 16 (vt_feed drops a
 * longer CSI), and a pen with every attribute and two RGB colours has 20.
 */
#define VT_RENDER_ITEM ','
#define VT_RENDER_SGR_MAX 16

/* One rendering: where it goes, the first error, and the pen the terminal has now. */
struct vt_render {
	struct buf *out;
	int rc;
	unsigned attrs;
	uint32_t fg;
	uint32_t bg;
};

static void
vt_render_add(struct vt_render *r, const char *s, size_t len)
{
	if (r->rc == 0)
		r->rc = buf_add(r->out, s, len);
}

static void
vt_render_adds(struct vt_render *r, const char *s)
{
	vt_render_add(r, s, strlen(s));
}

/* Append decimal n (>= 0) to a small string at *len. */
static void
vt_render_num(char *s, size_t *len, unsigned n)
{
	char tmp[12];
	size_t k = 0;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	while (k > 0)
		s[(*len)++] = tmp[--k];
}

/* A CSI with up to two numbers: ESC [ prefix a ; b final (b < 0: none). */
static void
vt_render_csi(struct vt_render *r, const char *prefix, int a, int b, char final)
{
	char s[48];
	size_t len = 0;

	s[len++] = '\033';
	s[len++] = '[';
	while (*prefix != '\0')
		s[len++] = *prefix++;
	if (a >= 0)
		vt_render_num(s, &len, (unsigned)a);
	if (b >= 0) {
		s[len++] = ';';
		vt_render_num(s, &len, (unsigned)b);
	}
	s[len++] = final;
	vt_render_add(r, s, len);
}

static void
vt_render_param(char *s, size_t *len, const char *p)
{
	if (*len != 0)
		s[(*len)++] = VT_RENDER_ITEM;
	while (*p != '\0')
		s[(*len)++] = *p++;
}

static void
vt_render_color_param(char *s, size_t *len, uint32_t color, bool bg)
{
	unsigned n = color & 0xff;

	if (*len != 0)
		s[(*len)++] = VT_RENDER_ITEM;
	if (color == VT_COLOR_DEFAULT)
		vt_render_num(s, len, bg ? 49 : 39);
	else if ((color & 0xff000000u) == VT_COLOR_INDEX(0) && n < 8)
		vt_render_num(s, len, (bg ? 40 : 30) + n);
	else if ((color & 0xff000000u) == VT_COLOR_INDEX(0) && n < 16)
		vt_render_num(s, len, (bg ? 100 : 90) + n - 8);
	else if ((color & 0xff000000u) == VT_COLOR_INDEX(0)) {
		vt_render_num(s, len, bg ? 48 : 38);
		s[(*len)++] = ';';
		s[(*len)++] = '5';
		s[(*len)++] = ';';
		vt_render_num(s, len, n);
	} else {
		vt_render_num(s, len, bg ? 48 : 38);
		s[(*len)++] = ';';
		s[(*len)++] = '2';
		s[(*len)++] = ';';
		vt_render_num(s, len, (color >> 16) & 0xff);
		s[(*len)++] = ';';
		vt_render_num(s, len, (color >> 8) & 0xff);
		s[(*len)++] = ';';
		vt_render_num(s, len, color & 0xff);
	}
}

static const struct {
	unsigned bit;
	const char *on;
	const char *off;
} vt_render_attrs[] = {
    {VT_ATTR_ITALIC, "3", "23"},  {VT_ATTR_BLINK, "5", "25"},  {VT_ATTR_REVERSE, "7", "27"},
    {VT_ATTR_CONCEAL, "8", "28"}, {VT_ATTR_STRIKE, "9", "29"},
};

static const char *
vt_render_underline(unsigned attrs)
{
	if (attrs & VT_ATTR_UNDERCURL)
		return "4:3";
	if (attrs & VT_ATTR_UNDERLINE2)
		return "4:2";
	if (attrs & VT_ATTR_UNDERLINE)
		return "4";
	return "24";
}

/* SGR parameters that turn pen (0, default, default) into attrs/fg/bg. */
static void
vt_render_sgr_full(char *s, size_t *len, unsigned attrs, uint32_t fg, uint32_t bg)
{
	size_t i;

	vt_render_param(s, len, "0");
	if (attrs & VT_ATTR_BOLD)
		vt_render_param(s, len, "1");
	if (attrs & VT_ATTR_DIM)
		vt_render_param(s, len, "2");
	if (attrs & VT_RENDER_UNDERLINES)
		vt_render_param(s, len, vt_render_underline(attrs));
	for (i = 0; i < nitems(vt_render_attrs); i++) {
		if (attrs & vt_render_attrs[i].bit)
			vt_render_param(s, len, vt_render_attrs[i].on);
	}
	if (fg != VT_COLOR_DEFAULT)
		vt_render_color_param(s, len, fg, false);
	if (bg != VT_COLOR_DEFAULT)
		vt_render_color_param(s, len, bg, true);
}

/* SGR parameters that turn the current pen into attrs/fg/bg, change by change. */
static void
vt_render_sgr_diff(struct vt_render *r, char *s, size_t *len, unsigned attrs, uint32_t fg,
		   uint32_t bg)
{
	unsigned bd = VT_ATTR_BOLD | VT_ATTR_DIM, diff = r->attrs ^ attrs;
	size_t i;

	if ((r->attrs & bd & ~attrs) != 0) {
		vt_render_param(s, len, "22"); /* clears both bold and dim */
		if (attrs & VT_ATTR_BOLD)
			vt_render_param(s, len, "1");
		if (attrs & VT_ATTR_DIM)
			vt_render_param(s, len, "2");
	} else {
		if (diff & attrs & VT_ATTR_BOLD)
			vt_render_param(s, len, "1");
		if (diff & attrs & VT_ATTR_DIM)
			vt_render_param(s, len, "2");
	}
	if (diff & VT_RENDER_UNDERLINES)
		vt_render_param(s, len, vt_render_underline(attrs));
	for (i = 0; i < nitems(vt_render_attrs); i++) {
		if (diff & vt_render_attrs[i].bit)
			vt_render_param(s, len,
					(attrs & vt_render_attrs[i].bit) ? vt_render_attrs[i].on
									 : vt_render_attrs[i].off);
	}
	if (fg != r->fg)
		vt_render_color_param(s, len, fg, false);
	if (bg != r->bg)
		vt_render_color_param(s, len, bg, true);
}

/* Write SGR items (see VT_RENDER_ITEM) as one CSI, or more where they are many. */
static void
vt_render_sgr_items(struct vt_render *r, const char *s, size_t len)
{
	size_t i = 0, end;
	int n = 0, params;

	vt_render_add(r, "\033[", 2);
	while (i < len) {
		for (end = i, params = 1; end < len && s[end] != VT_RENDER_ITEM; end++) {
			if (s[end] == ';' || s[end] == ':')
				params++;
		}
		if (n > 0 && n + params > VT_RENDER_SGR_MAX) {
			vt_render_add(r, "m\033[", 3);
			n = 0;
		}
		if (n > 0)
			vt_render_add(r, ";", 1);
		vt_render_add(r, s + i, end - i);
		n += params;
		i = end + 1;
	}
	vt_render_add(r, "m", 1);
}

/* Set the terminal's pen, with whichever of a diff or a reset is shorter. */
static void
vt_render_sgr(struct vt_render *r, unsigned attrs, uint32_t fg, uint32_t bg)
{
	char full[160], diff[200];
	size_t flen = 0, dlen = 0;

	if (attrs == r->attrs && fg == r->fg && bg == r->bg)
		return;
	vt_render_sgr_full(full, &flen, attrs, fg, bg);
	vt_render_sgr_diff(r, diff, &dlen, attrs, fg, bg);
	if (dlen <= flen)
		vt_render_sgr_items(r, diff, dlen);
	else
		vt_render_sgr_items(r, full, flen);
	r->attrs = attrs;
	r->fg = fg;
	r->bg = bg;
}

/* Move to (row, col) of a row being drawn; *at is the terminal's column there, or -1. */
static void
vt_render_goto(struct vt_render *r, int row, int col, int *at)
{
	if (*at == col)
		return;
	if (*at >= 0 && col > *at)
		vt_render_csi(r, "", col - *at == 1 ? -1 : col - *at, -1, 'C');
	else if (col == 0)
		vt_render_csi(r, "", row + 1, -1, 'H');
	else
		vt_render_csi(r, "", row + 1, col + 1, 'H');
	*at = col;
}

static void
vt_render_glyph(struct vt_render *r, const struct vt_cell *cell)
{
	char s[6 * 4];
	size_t len = 0;
	int k;

	for (k = 0; k < 6 && cell->chars[k] != 0; k++)
		len += vt_utf8_encode(cell->chars[k], s + len);
	vt_render_add(r, s, len);
}

/*
 * Draw one screen onto a terminal that shows it cleared with the default
 * pen, with autowrap off (so the last cell of the last row cannot scroll).
 * Blank cells in default colours are skipped; blank runs in other colours
 * are erased with ECH or EL, so that they stay blank and not spaces. Bare
 * combining marks go first in each row, each after a cursor move and never
 * right after a glyph, or libvterm would join them to that glyph.
 */
static void
vt_render_screen(struct vt_render *r, struct vt *vt, enum vt_screen which)
{
	struct vt_cell cell, next;
	int cols, rows, row, col, end, at;

	vt_get_size(vt, &cols, &rows);
	for (row = 0; row < rows; row++) {
		for (col = 0; col < cols; col++) {
			vt_get_screen_cell(vt, which, row, col, &cell);
			if (!cell.bare)
				continue;
			at = -1;
			vt_render_goto(r, row, col, &at);
			vt_render_sgr(r, cell.attrs, cell.fg, cell.bg);
			vt_render_glyph(r, &cell);
		}
		at = -1;
		for (col = 0; col < cols; col++) {
			vt_get_screen_cell(vt, which, row, col, &cell);
			if (cell.width == 0)
				continue;
			if (cell.bare) {
				at = -1; /* the mark did not move the cursor */
				continue;
			}
			if (cell.chars[0] != 0) {
				vt_render_goto(r, row, col, &at);
				vt_render_sgr(r, cell.attrs, cell.fg, cell.bg);
				vt_render_glyph(r, &cell);
				at = col + cell.width < cols ? col + cell.width : -1;
				continue;
			}
			for (end = col + 1; end < cols; end++) {
				vt_get_screen_cell(vt, which, row, end, &next);
				if (next.chars[0] != 0 || next.width == 0 || next.fg != cell.fg ||
				    next.bg != cell.bg)
					break;
			}
			if (cell.fg != VT_COLOR_DEFAULT || cell.bg != VT_COLOR_DEFAULT) {
				vt_render_goto(r, row, col, &at);
				vt_render_sgr(r, r->attrs, cell.fg, cell.bg);
				if (end == cols)
					vt_render_csi(r, "", -1, -1, 'K');
				else
					vt_render_csi(r, "", end - col == 1 ? -1 : end - col, -1,
						      'X');
			}
			col = end - 1;
		}
	}
}

/* OSC 2 with the title; control bytes are dropped even if the modes did not come from a tracker. */
static void
vt_render_title(struct vt_render *r, const char *title)
{
	size_t i, n = strnlen(title, VT_TITLE_MAX - 1);

	vt_render_adds(r, "\033]2;");
	for (i = 0; i < n; i++) {
		if ((unsigned char)title[i] >= 0x20 && title[i] != 0x7f)
			vt_render_add(r, title + i, 1);
	}
	vt_render_adds(r, "\033\\");
}

/* The region the terminal should have, or false for the whole screen. */
static bool
vt_render_region(const struct vt_modes *m, int rows, int *top, int *bottom)
{
	*top = m->scroll_top > 0 ? m->scroll_top : 1;
	*bottom = m->scroll_bottom > 0 && m->scroll_bottom < rows ? m->scroll_bottom : rows;
	if (*top >= *bottom || (*top == 1 && *bottom == rows)) {
		*top = 1;
		*bottom = rows;
		return false;
	}
	return true;
}

static void
vt_render_dec(struct vt_render *r, int mode, bool set)
{
	vt_render_csi(r, "?", mode, -1, set ? 'h' : 'l');
}

/* Modes that do not move the cursor or change how text is written. */
static void
vt_render_keys(struct vt_render *r, const struct vt_modes *m)
{
	bool blink;

	vt_render_dec(r, 1, m->app_cursor);
	vt_render_adds(r, m->app_keypad ? "\033=" : "\033>");
	vt_render_dec(r, 2004, m->bracketed_paste);
	vt_render_dec(r, 1004, m->focus_events);
	vt_render_adds(r, "\033[?9;1000;1002;1003l");
	if (m->mouse == 9 || m->mouse == 1000 || m->mouse == 1002 || m->mouse == 1003)
		vt_render_dec(r, m->mouse, true);
	vt_render_adds(r, "\033[?1005;1006;1015l");
	if (m->mouse_encoding == 1005 || m->mouse_encoding == 1006 || m->mouse_encoding == 1015)
		vt_render_dec(r, m->mouse_encoding, true);
	/* DECSCUSR sets blinking too; ?12 only where the program then changed it. */
	vt_render_csi(r, "", m->cursor_shape > 0 && m->cursor_shape <= 6 ? m->cursor_shape : 0, -1,
		      ' ');
	vt_render_add(r, "q", 1);
	blink = m->cursor_shape > 0 && m->cursor_shape <= 6 && m->cursor_shape % 2 == 1;
	if (m->cursor_blink != blink)
		vt_render_dec(r, 12, m->cursor_blink);
	vt_render_dec(r, 7, m->autowrap);
}

int
vt_render_modes(const struct vt_modes *m, int rows, struct buf *out)
{
	struct vt_render r = {out, 0, 0, VT_COLOR_DEFAULT, VT_COLOR_DEFAULT};
	int top, bottom;

	vt_render_keys(&r, m);
	if (vt_render_region(m, rows, &top, &bottom))
		vt_render_csi(&r, "", top, bottom, 'r');
	else
		vt_render_csi(&r, "", -1, -1, 'r');
	vt_render_dec(&r, 6, m->origin);
	vt_render_csi(&r, "", 4, -1, m->insert ? 'h' : 'l');
	vt_render_dec(&r, 25, !m->cursor_hidden);
	return r.rc;
}

int
vt_render_ansi(struct vt *vt, const struct vt_modes *modes, struct buf *out)
{
	struct vt_render r = {out, 0, 0, VT_COLOR_DEFAULT, VT_COLOR_DEFAULT};
	const struct vt_modes *m = modes != NULL ? modes : vt_get_modes(vt);
	struct vt_cell pen, cell;
	int cols, rows, row, col, top, bottom, off, at = -1;
	bool region, wrap;

	vt_get_size(vt, &cols, &rows);

	/*
	 * Whatever the terminal was doing: soft reset, main screen, default pen,
	 * no insert, no origin, no margins, no autowrap while drawing.
	 */
	vt_render_adds(&r, "\033[!p\033[?1049l\033[0m\033[4l\033[?6;69l\033[r\033[?7l"
			   "\033[H\033[2J");
	vt_render_screen(&r, vt, VT_SCREEN_MAIN);

	if (vt_is_alt_screen(vt)) {
		/* ?1049h saves cursor and pen; ?1049l will give the program back these. */
		vt_get_alt_saved(vt, &row, &col, &pen);
		vt_render_sgr(&r, pen.attrs, pen.fg, pen.bg);
		vt_render_csi(&r, "", row + 1, col + 1, 'H');
		vt_render_adds(&r, "\033[?1049h\033[0m\033[H\033[2J");
		/*
		 * libvterm joins a combining mark to the glyph it drew last when the
		 * cursor is just after it, on either screen: a bare mark drawn first
		 * here could join the main screen's last glyph. Draw a space in the
		 * corner, where nothing comes after, and erase it.
		 */
		vt_render_csi(&r, "", rows, cols, 'H');
		vt_render_adds(&r, " \033[X");
		r.attrs = 0;
		r.fg = r.bg = VT_COLOR_DEFAULT;
		vt_render_screen(&r, vt, VT_SCREEN_ALT);
	}

	vt_render_keys(&r, m);
	if (m->title[0] != '\0')
		vt_render_title(&r, m->title);
	region = vt_render_region(m, rows, &top, &bottom);
	if (region)
		vt_render_csi(&r, "", top, bottom, 'r');
	vt_render_dec(&r, 6, m->origin);
	off = m->origin ? top - 1 : 0;

	/* Leave the terminal waiting to wrap, as libvterm is: write the last glyph again. */
	vt_get_cursor(vt, &row, &col);
	wrap = m->autowrap && vt_is_wrap_pending(vt);
	if (wrap) {
		/*
		 * A bare mark would join the glyph drawn last; a scroll since may have put
		 * another glyph under the cursor, one that does not reach the edge; and
		 * under origin mode a cursor outside the region cannot be reached. Such a
		 * cursor is left not pending, rather than a glyph drawn where none is.
		 */
		if (vt_get_screen_cell(vt, VT_SCREEN_ACTIVE, row, col, &cell) != 0 ||
		    cell.chars[0] == 0 || cell.bare || cell.width == 0 ||
		    col + cell.width != cols || (m->origin && (row < top - 1 || row >= bottom)))
			wrap = false;
		else {
			vt_render_goto(&r, row - off, col, &at);
			vt_render_sgr(&r, cell.attrs, cell.fg, cell.bg);
			vt_render_glyph(&r, &cell);
		}
	}
	vt_render_csi(&r, "", 4, -1, m->insert ? 'h' : 'l');
	vt_get_pen(vt, &pen);
	vt_render_sgr(&r, pen.attrs, pen.fg, pen.bg);
	if (!wrap) {
		vt_get_cursor(vt, &row, &col);
		vt_render_csi(&r, "", row - off + 1, col + 1, 'H');
	}
	vt_render_dec(&r, 25, !m->cursor_hidden);
	return r.rc;
}

int
vt_render_text(struct vt *vt, struct buf *out)
{
	char *line;
	size_t len;
	int cols, rows, row, empty = 0, rc = 0;

	vt_get_size(vt, &cols, &rows);
	line = xmalloc(VT_ROW_TEXT_MAX(cols));
	for (row = 0; row < rows && rc == 0; row++) {
		len = vt_get_row_text(vt, row, line);
		if (len == 0) {
			empty++;
			continue;
		}
		for (; empty > 0 && rc == 0; empty--)
			rc = buf_addc(out, '\n');
		if (rc == 0)
			rc = buf_add(out, line, len);
		if (rc == 0)
			rc = buf_addc(out, '\n');
	}
	free(line);
	return rc;
}
