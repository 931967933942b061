/*
 * vt-modes.c: the terminal modes a reattaching client must get back, tracked
 * by a small state machine over raw output bytes: it skips text with memchr,
 * survives any split of a sequence across chunks and keeps bounded state.
 * Not a terminal emulator: it ignores everything that is not a mode.
 */
#include "common/compat.h"

#include <string.h>

#include "vt/vt.h"

enum vt_modes_state {
	VT_MODES_GROUND, /* text; must stay 0 (vt_modes_init zeroes) */
	VT_MODES_ESC,
	VT_MODES_ESC_INTER, /* ESC and intermediates, e.g. ESC ( B */
	VT_MODES_CSI,
	VT_MODES_OSC,
	VT_MODES_OSC_ESC, /* ESC inside an OSC: ST if '\' follows */
	VT_MODES_STR,	  /* DCS, SOS, PM, APC: skipped */
	VT_MODES_STR_ESC,
};

#define VT_MODES_MAX_PARAMS 32	   /* as xterm; more are ignored */
#define VT_MODES_MAX_NUMBER 100000 /* bigger parameters are clamped */
#define VT_MODES_SEQ_OVER sizeof(((struct vt_modes *)0)->seq)

/* m->osc: >= 0 while the OSC number is read (0 before a digit, else the number + 1), or: */
#define VT_MODES_OSC_SKIP (-1)	/* not a title: skipped to its end */
#define VT_MODES_OSC_TITLE (-2) /* OSC 0 or 2: the title is being read */

void
vt_modes_init(struct vt_modes *m)
{
	memset(m, 0, sizeof *m);
	m->autowrap = true;
	m->osc = VT_MODES_OSC_SKIP;
}

void
vt_modes_reset(struct vt_modes *m)
{
	int st = m->st;

	vt_modes_init(m);
	m->st = st;
}

void
vt_modes_copy(struct vt_modes *dst, const struct vt_modes *src)
{
	memcpy(dst, src, sizeof *dst);
	dst->st = VT_MODES_GROUND;
	dst->seqlen = 0;
	dst->osc = VT_MODES_OSC_SKIP;
	dst->tlen = 0;
}

/* DECSTR as xterm does it: keys, origin, autowrap, cursor, insert, margins; not mouse or paste. */
static void
vt_modes_soft_reset(struct vt_modes *m)
{
	m->app_cursor = false;
	m->app_keypad = false;
	m->origin = false;
	m->autowrap = true;
	m->cursor_hidden = false;
	m->cursor_blink = false;
	m->cursor_shape = 0;
	m->insert = false;
	m->scroll_top = 0;
	m->scroll_bottom = 0;
}

static void
vt_modes_dec(struct vt_modes *m, int mode, bool set)
{
	switch (mode) {
	case 1:
		m->app_cursor = set;
		break;
	case 6:
		m->origin = set;
		break;
	case 7:
		m->autowrap = set;
		break;
	case 12:
		m->cursor_blink = set;
		break;
	case 25:
		m->cursor_hidden = !set;
		break;
	case 47:
	case 1047:
	case 1049:
		m->alt_screen = set;
		break;
	case 9:
	case 1000:
	case 1002:
	case 1003:
		/* As xterm: one mouse mode at a time, and resetting any turns it off. */
		m->mouse = set ? mode : 0;
		break;
	case 1004:
		m->focus_events = set;
		break;
	case 1005:
	case 1006:
	case 1015:
		m->mouse_encoding = set ? mode : 0;
		break;
	case 2004:
		m->bracketed_paste = set;
		break;
	}
}

/*
 * Split a CSI body (after the leader) into parameters (-1 when missing;
 * sub-parameters after ':' and parameters past VT_MODES_MAX_PARAMS are
 * dropped) and intermediates. Returns the number of parameters, or -1 for
 * a malformed sequence.
 */
static int
vt_modes_params(const char *s, size_t n, int *params, char *inter, size_t intersize)
{
	int np = 0, cur = -1;
	size_t i, ni = 0;
	bool sub = false;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 0x20 && c <= 0x2f) {
			if (ni + 1 >= intersize)
				return -1;
			inter[ni++] = c;
			continue;
		}
		if (ni != 0)
			return -1; /* a parameter byte after an intermediate */
		if (c >= '0' && c <= '9') {
			if (!sub) {
				cur = (cur < 0 ? 0 : cur) * 10 + (c - '0');
				if (cur > VT_MODES_MAX_NUMBER)
					cur = VT_MODES_MAX_NUMBER;
			}
		} else if (c == ';') {
			if (np < VT_MODES_MAX_PARAMS)
				params[np++] = cur;
			cur = -1;
			sub = false;
		} else if (c == ':')
			sub = true;
		else
			return -1; /* a leader byte in the middle */
	}
	if (np < VT_MODES_MAX_PARAMS)
		params[np++] = cur;
	inter[ni] = '\0';
	return np;
}

static void
vt_modes_csi(struct vt_modes *m, char final)
{
	int params[VT_MODES_MAX_PARAMS], np, i, top, bottom;
	char inter[4], leader = 0;
	const char *s = m->seq;
	size_t n = m->seqlen;

	if (n >= VT_MODES_SEQ_OVER || strchr("hlqrp", final) == NULL)
		return; /* SGR and the rest: not a mode */
	if (n > 0 && s[0] >= 0x3c && s[0] <= 0x3f) {
		leader = s[0];
		s++;
		n--;
	}
	if ((np = vt_modes_params(s, n, params, inter, sizeof inter)) < 0)
		return;

	if ((final == 'h' || final == 'l') && inter[0] == '\0') {
		for (i = 0; i < np; i++) {
			if (leader == '?')
				vt_modes_dec(m, params[i], final == 'h');
			else if (leader == 0 && params[i] == 4)
				m->insert = final == 'h';
		}
		return;
	}
	if (leader != 0)
		return;
	if (final == 'q' && strcmp(inter, " ") == 0) {
		/* DECSCUSR: 1, 3, 5 blink; 2, 4, 6 do not; 0 is the terminal's default. */
		if (params[0] < 0)
			params[0] = 0;
		if (params[0] > 6)
			return;
		m->cursor_shape = params[0];
		m->cursor_blink = params[0] != 0 && params[0] % 2 == 1;
		return;
	}
	if (final == 'r' && inter[0] == '\0') {
		/* DECSTBM; xterm ignores a region that is not at least two lines. */
		top = params[0] <= 0 ? 1 : params[0];
		bottom = np < 2 || params[1] <= 0 ? 0 : params[1];
		if (bottom != 0 && top >= bottom)
			return;
		if (top == 1 && bottom == 0)
			top = 0;
		m->scroll_top = top;
		m->scroll_bottom = bottom;
		return;
	}
	if (final == 'p' && strcmp(inter, "!") == 0 && np == 1 && params[0] < 0)
		vt_modes_soft_reset(m);
}

/* Keep a title byte: no controls, and no room for more than VT_TITLE_MAX - 1. */
static inline void
vt_modes_title_add(struct vt_modes *m, unsigned char c)
{
	if (c < 0x20 || c == 0x7f || m->tlen >= VT_TITLE_MAX - 1)
		return;
	m->tbuf[m->tlen++] = (char)c;
}

/* The title is complete: drop C1 controls (as UTF-8) and a character the truncation cut. */
static void
vt_modes_title_end(struct vt_modes *m)
{
	size_t i, n = 0, k, need;
	unsigned char c, lead;

	for (i = 0; i < m->tlen; i++) {
		c = (unsigned char)m->tbuf[i];
		if (c == 0xc2 && i + 1 < m->tlen && (unsigned char)m->tbuf[i + 1] >= 0x80 &&
		    (unsigned char)m->tbuf[i + 1] <= 0x9f) {
			i++;
			continue;
		}
		m->title[n++] = (char)c;
	}
	for (k = 0; k < 3 && k < n && ((unsigned char)m->title[n - 1 - k] & 0xc0) == 0x80; k++)
		;
	if (k < n) {
		lead = (unsigned char)m->title[n - 1 - k];
		need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
		if (need > 1 && k + 1 < need)
			n -= k + 1;
	}
	m->title[n] = '\0';
}

/* The byte after an ESC. */
static void
vt_modes_esc(struct vt_modes *m, unsigned char c)
{
	m->st = VT_MODES_GROUND;
	switch (c) {
	case '[':
		m->st = VT_MODES_CSI;
		m->seqlen = 0;
		break;
	case ']':
		m->st = VT_MODES_OSC;
		m->osc = 0;
		m->tlen = 0;
		break;
	case 'P':
	case 'X':
	case '^':
	case '_':
		m->st = VT_MODES_STR;
		break;
	case '=':
		m->app_keypad = true;
		break;
	case '>':
		m->app_keypad = false;
		break;
	case 'c':
		vt_modes_reset(m);
		break;
	case 0x1b:
		m->st = VT_MODES_ESC;
		break;
	default:
		if (c >= 0x20 && c <= 0x2f)
			m->st = VT_MODES_ESC_INTER;
		else if (c < 0x20 && c != 0x18 && c != 0x1a)
			m->st =
			    VT_MODES_ESC; /* C0 inside an escape is obeyed and the escape goes on */
		break;
	}
}

void
vt_modes_scan(struct vt_modes *m, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data, *end = p + len, *e;
	unsigned char c;

	while (p < end) {
		if (m->st == VT_MODES_GROUND) {
			if ((e = memchr(p, 0x1b, (size_t)(end - p))) == NULL)
				return;
			p = e + 1;
			m->st = VT_MODES_ESC;
			continue;
		}
		c = *p++;
		switch (m->st) {
		case VT_MODES_ESC:
			vt_modes_esc(m, c);
			break;
		case VT_MODES_ESC_INTER:
			if (c == 0x1b)
				m->st = VT_MODES_ESC;
			else if (c == 0x18 || c == 0x1a || c >= 0x30)
				m->st = VT_MODES_GROUND;
			break;
		case VT_MODES_CSI:
			if (c >= 0x20 && c <= 0x3f) {
				/* Parameters come in runs: take the run at once. */
				for (p--; p < end && *p >= 0x20 && *p <= 0x3f; p++) {
					if (m->seqlen < VT_MODES_SEQ_OVER - 1)
						m->seq[m->seqlen++] = (char)*p;
					else
						m->seqlen = VT_MODES_SEQ_OVER; /* too long: dropped
										  at its end */
				}
			} else if (c >= 0x40 && c <= 0x7e) {
				vt_modes_csi(m, (char)c);
				m->st = VT_MODES_GROUND;
			} else if (c == 0x1b)
				m->st = VT_MODES_ESC;
			else if (c == 0x18 || c == 0x1a || c >= 0x80)
				m->st = VT_MODES_GROUND;
			break;
		case VT_MODES_OSC:
			if (c == 0x07) {
				if (m->osc == VT_MODES_OSC_TITLE)
					vt_modes_title_end(m);
				m->st = VT_MODES_GROUND;
			} else if (c == 0x1b)
				m->st = VT_MODES_OSC_ESC;
			else if (c == 0x18 || c == 0x1a)
				m->st = VT_MODES_GROUND;
			else if (m->osc == VT_MODES_OSC_TITLE)
				vt_modes_title_add(m, c);
			else if (m->osc >= 0) {
				if (c >= '0' && c <= '9' && m->osc < 1000)
					m->osc =
					    (m->osc == 0 ? 0 : m->osc - 1) * 10 + (c - '0') + 1;
				else if (c == ';' && (m->osc == 1 || m->osc == 3))
					m->osc = VT_MODES_OSC_TITLE;
				else
					m->osc = VT_MODES_OSC_SKIP;
			}
			break;
		case VT_MODES_OSC_ESC:
			if (c == '\\') {
				if (m->osc == VT_MODES_OSC_TITLE)
					vt_modes_title_end(m);
				m->st = VT_MODES_GROUND;
			} else
				vt_modes_esc(m,
					     c); /* not ST: the OSC is dropped, an escape begins */
			break;
		case VT_MODES_STR:
			if (c == 0x1b)
				m->st = VT_MODES_STR_ESC;
			else if (c == 0x07 || c == 0x18 || c == 0x1a)
				m->st = VT_MODES_GROUND;
			break;
		case VT_MODES_STR_ESC:
			if (c == '\\')
				m->st = VT_MODES_GROUND;
			else
				vt_modes_esc(m, c);
			break;
		default:
			m->st = VT_MODES_GROUND;
			break;
		}
	}
}
