/*
 * vt.h: a terminal screen kept from a program's output, rendered back to
 * ANSI for a reattaching client or to plain text for capture and history.
 * Built on libvterm's state layer with our own screen (a ring of rows, so a
 * scrolled line costs O(1)); libvterm's screen layer is not used. Not for
 * input encoding or anything a client does: the client's terminal does that.
 */
#ifndef ROOST_VT_H
#define ROOST_VT_H

#include "common/buf.h"

#define VT_TITLE_MAX 256

/*
 * Terminal modes a TUI depends on, tracked by scanning raw output bytes.
 * libvterm 0.1.4 does not report all of them, and the holder must see every
 * byte even when the screen skips ahead under a flood, so this tracker is
 * separate from the screen and cheap (a small state machine, ESC-driven).
 * Sequences split across chunk boundaries are handled.
 */
struct vt_modes {
	bool app_cursor;	  /* DECCKM, CSI ? 1 h */
	bool app_keypad;	  /* DECKPAM ESC =, DECKPNM ESC > */
	bool origin;		  /* DECOM, CSI ? 6 h */
	bool autowrap;		  /* DECAWM, CSI ? 7 h (default on) */
	bool cursor_hidden;	  /* DECTCEM off, CSI ? 25 l */
	bool cursor_blink;	  /* CSI ? 12 h */
	int cursor_shape;	  /* DECSCUSR parameter, 0 = default */
	bool alt_screen;	  /* CSI ? 1049 h / 1047 h / 47 h */
	bool bracketed_paste;	  /* CSI ? 2004 h */
	bool focus_events;	  /* CSI ? 1004 h */
	int mouse;		  /* 0, 9, 1000, 1002 or 1003 */
	int mouse_encoding;	  /* 0, 1005, 1006 or 1015 */
	bool insert;		  /* IRM, CSI 4 h */
	int scroll_top;		  /* DECSTBM, 1-based; 0 = full screen */
	int scroll_bottom;	  /* 0 = full screen */
	char title[VT_TITLE_MAX]; /* OSC 0 / 2 */
	/* scanner state, private */
	int st;
	char seq[256];		 /* CSI parameter and intermediate bytes; longer CSIs are dropped */
	size_t seqlen;		 /* sizeof seq once an overlong CSI is being dropped */
	int osc;		 /* where an OSC is: its number so far, or skip, or title */
	size_t tlen;		 /* bytes in tbuf */
	char tbuf[VT_TITLE_MAX]; /* title being read; copied to title on its terminator */
};

/* Start with the modes of a terminal after RIS: all off but autowrap. */
void vt_modes_init(struct vt_modes *m);

/* Forget every mode, as RIS does; the scanner state is kept. */
void vt_modes_reset(struct vt_modes *m);

/* Copy the modes of src into dst, with dst's scanner starting afresh (between sequences). */
void vt_modes_copy(struct vt_modes *dst, const struct vt_modes *src);

/* Scan output bytes and update the modes. Never fails; bounded memory. */
void vt_modes_scan(struct vt_modes *m, const char *data, size_t len);

/* One cell as the renderer and the tests see it. */
struct vt_cell {
	uint32_t chars[6]; /* code points, 0-terminated unless all 6 used */
	int width;	   /* 1, 2 (wide), or 0 for the right half of a wide char */
	unsigned attrs;	   /* VT_ATTR_* */
	uint32_t fg, bg;   /* VT_COLOR_DEFAULT, VT_COLOR_INDEX(n) or VT_COLOR_RGB(r,g,b) */
	bool bare;	   /* chars[0] is a combining mark written apart from its base;
			      libvterm keeps it in a cell of its own (width 1) */
};

#define VT_ATTR_BOLD (1u << 0)
#define VT_ATTR_UNDERLINE (1u << 1)  /* single */
#define VT_ATTR_UNDERLINE2 (1u << 2) /* double */
#define VT_ATTR_UNDERCURL (1u << 3)
#define VT_ATTR_ITALIC (1u << 4)
#define VT_ATTR_BLINK (1u << 5)
#define VT_ATTR_REVERSE (1u << 6)
#define VT_ATTR_STRIKE (1u << 7)
#define VT_ATTR_CONCEAL (1u << 8) /* not reported by libvterm 0.1.4; rendered if set */
#define VT_ATTR_DIM (1u << 9)	  /* likewise */

#define VT_COLOR_DEFAULT 0u
#define VT_COLOR_INDEX(n) (0x01000000u | (uint32_t)(n))
#define VT_COLOR_RGB(r, g, b)                                                                      \
	(0x02000000u | ((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (uint32_t)(b))

struct vt;

/*
 * Called for each line that scrolls off the top of the main screen, as plain
 * UTF-8 text with trailing blanks trimmed and no newline. It runs inside
 * vt_feed or vt_resize: it must not call back into the same vt. text is only
 * valid during the call.
 */
typedef void (*vt_line_cb)(const char *text, size_t len, void *arg);

/* Create a screen of cols x rows (both clamped to 1..1000). */
struct vt *vt_create(int cols, int rows);

/* Free the vt; NULL is fine. */
void vt_destroy(struct vt *vt);

/*
 * Feed program output, any amount, split anywhere; updates the screen and
 * the vt's own modes tracker. It also shields libvterm 0.1.4 from output
 * that crashes it (see vt.c): a CSI with more than 16 parameters is dropped.
 */
void vt_feed(struct vt *vt, const char *data, size_t len);

/*
 * Resize; the program is expected to redraw (no reflow, as in libvterm
 * 0.1.4). Shrinking the main screen scrolls lines off the top (to the line
 * callback) so that the cursor's line stays, as libvterm's screen layer does.
 * A scroll region whose top no longer fits becomes the whole screen (xterm
 * resets the region on any resize), and the vt's modes say so.
 */
void vt_resize(struct vt *vt, int cols, int rows);
void vt_get_size(const struct vt *vt, int *cols, int *rows);

/*
 * Forget everything (hard reset) but keep the size; used to resynchronise
 * from a recent tail of output. If modes is not NULL the screen is put into
 * the alternate screen when modes->alt_screen is set, so that the tail
 * lands where the program drew it.
 */
void vt_reset(struct vt *vt, const struct vt_modes *modes);

/* Set (or with NULL, clear) the callback for lines scrolled off the top. */
void vt_set_line_cb(struct vt *vt, vt_line_cb cb, void *arg);

/* The vt's own modes (updated by vt_feed). */
const struct vt_modes *vt_get_modes(const struct vt *vt);

/* Cell at (row, col) of the screen on display; returns 0 or -ERR_INVAL. */
int vt_get_cell(const struct vt *vt, int row, int col, struct vt_cell *cell);

/* Cursor position, 0-based, on the visible screen. */
void vt_get_cursor(const struct vt *vt, int *row, int *col);

/*
 * Append to out an ANSI rendering that, fed to a fresh terminal of the same
 * size, reproduces this screen exactly: the main screen (and, when active,
 * the alternate screen drawn after switching to it), every cell with its
 * colours and attributes, wide characters, then the scroll region, the
 * modes (from modes, or the vt's own when NULL), title, current pen and
 * cursor position and visibility. Returns 0 or -ERR_TOOBIG from the buf.
 * Whether the alternate screen is entered follows the screen, not
 * modes->alt_screen. Not reproduced: left/right margins, character sets,
 * DECSC's saved cursor (except the one ?1049l restores), DECSCA, and a
 * cursor outside the scroll region while origin mode is on (nor its pending
 * wrap, or one a scroll has left over a glyph that does not reach the edge).
 */
int vt_render_ansi(struct vt *vt, const struct vt_modes *modes, struct buf *out);

/*
 * Append the visible screen as plain UTF-8 text: one line per row, trailing
 * blanks trimmed, trailing empty rows dropped. Returns 0 or -ERR_TOOBIG.
 */
int vt_render_text(struct vt *vt, struct buf *out);

/*
 * Append the sequences that put a terminal of the given height into the
 * modes m: keys, mouse, paste, focus, cursor shape, autowrap, scroll region,
 * origin, insert, cursor visibility (not the title, not the alt screen). The
 * cursor ends at the home position. vt_reset uses it to prime libvterm.
 */
int vt_render_modes(const struct vt_modes *m, int rows, struct buf *out);

/*
 * Lower-level access, for the renderer and tests. A screen is picked with
 * enum vt_screen; VT_SCREEN_ACTIVE is the one on display.
 */
enum vt_screen { VT_SCREEN_ACTIVE, VT_SCREEN_MAIN, VT_SCREEN_ALT };

/* Cell of the given screen; returns 0 or -ERR_INVAL. */
int vt_get_screen_cell(const struct vt *vt, enum vt_screen which, int row, int col,
		       struct vt_cell *cell);

/* True while the alternate screen is on display. */
bool vt_is_alt_screen(const struct vt *vt);

/* The pen new output is drawn with (attrs, fg, bg; no chars), from libvterm's state. */
void vt_get_pen(const struct vt *vt, struct vt_cell *pen);

/* The cursor position and pen of the main screen when the alternate screen was entered. */
void vt_get_alt_saved(const struct vt *vt, int *row, int *col, struct vt_cell *pen);

/*
 * True when the last glyph filled the last column and the cursor still sits
 * on it (xterm's pending wrap; libvterm leaves the cursor on the glyph's
 * first column): the next glyph goes to the next line. This follows
 * libvterm's callbacks, so a cursor move to the very same cell is not seen
 * and still reads as pending.
 */
bool vt_is_wrap_pending(const struct vt *vt);

/*
 * Row of the visible screen as UTF-8, trailing blanks trimmed, no newline,
 * into dst of VT_ROW_TEXT_MAX(cols) bytes (NUL-terminated). Returns the length.
 */
size_t vt_get_row_text(const struct vt *vt, int row, char *dst);
#define VT_ROW_TEXT_MAX(cols) ((size_t)(cols)*24 + 1)

/* Write code point cp as UTF-8 to dst (4 bytes of room); returns the length. */
size_t vt_utf8_encode(uint32_t cp, char *dst);

#endif
