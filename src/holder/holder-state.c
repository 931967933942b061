/*
 * holder-state.c: the holder's view of the session: the screen (fed from a
 * ring so the PTY -> log -> clients path never waits for it), the log, the
 * terminal size, the info answer and the final screen saved at exit.
 */
#include "common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "holder/holder.h"

uint64_t
holder_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* New output is in the ring (the PTY is read straight into it): track modes, watch the lag. */
void
holder_state_vt_add(struct holder *h, const char *data, size_t len)
{
	vt_modes_scan(&h->modes, data, len);
}

/*
 * The screen fell too far behind: start again from a recent tail. The
 * tail starts after a newline where there is one, so that it does not
 * begin in the middle of a sequence; the modes tracker has seen every byte.
 */
static void
holder_state_vt_resync(struct holder *h)
{
	uint64_t start = h->out_head - HOLDER_VT_TAIL;
	uint64_t limit = start + 4096 < h->out_head ? start + 4096 : h->out_head;
	uint64_t i;

	for (i = start; i < limit; i++) {
		if (h->ring[i % HOLDER_RING] == '\n') {
			start = i + 1;
			break;
		}
	}
	vt_reset(h->vt, &h->modes);
	h->vt_done = start;
	h->vt_resyncs++;
}

void
holder_state_vt_step(struct holder *h, size_t budget)
{
	if (h->out_head - h->vt_done > HOLDER_VT_BEHIND)
		holder_state_vt_resync(h);
	while (budget > 0 && h->vt_done < h->out_head) {
		size_t pos = (size_t)(h->vt_done % HOLDER_RING);
		size_t n = (size_t)(h->out_head - h->vt_done);

		if (n > HOLDER_RING - pos)
			n = HOLDER_RING - pos;
		if (n > budget)
			n = budget;
		vt_feed(h->vt, h->ring + pos, n);
		h->vt_done += n;
		budget -= n;
	}
}

/* Has everything in the ring been consumed by the screen and every attached client? */
bool
holder_state_consumed(const struct holder *h)
{
	int i;

	if (h->vt_done < h->out_head)
		return false;
	for (i = 0; i < h->npeers; i++) {
		const struct holder_peer *c = h->peers[i];

		if (!c->dead && (c->flags & PROTO_ATTACH) && c->pos < h->out_head)
			return false;
	}
	return true;
}

/*
 * Give the ring's pages back after a busy spell: nobody will read what is in
 * it (every reader starts at out_head), and an idle holder should cost what
 * an idle dtach costs, however much it printed once.
 */
bool
holder_state_ring_release(struct holder *h)
{
	if (!holder_state_consumed(h))
		return false;
	madvise(h->ring, HOLDER_RING, MADV_DONTNEED);
	h->ring_touched = false;
	return true;
}

void
holder_state_vt_sync(struct holder *h)
{
	holder_state_vt_step(h, SIZE_MAX);
}

int
holder_state_render(struct holder *h, bool ansi, struct buf *out)
{
	holder_state_vt_sync(h);
	if (ansi)
		return vt_render_ansi(h->vt, &h->modes, out);
	return vt_render_text(h->vt, out);
}

void
holder_state_log(struct holder *h, enum history_type type, const void *data, size_t len)
{
	int rc;

	if (h->hw == NULL)
		return;
	if (h->log_failed) {
		char note[96];

		if (type == HISTORY_OUTPUT)
			h->log_exact = false;

		/* Say what was lost before recording resumes, so the gap is visible. */
		snprintf(note, sizeof note, "gap: %llu output bytes not recorded (write errors)",
			 (unsigned long long)h->log_dropped);
		if (history_writer_append(h->hw, HISTORY_MARK, note, strlen(note)) != 0) {
			if (type == HISTORY_OUTPUT)
				h->log_dropped += len;
			return;
		}
		log_warn("history recording resumed after %llu bytes lost",
			 (unsigned long long)h->log_dropped);
		h->log_failed = false;
		h->log_dropped = 0;
	}
	rc = history_writer_append(h->hw, type, data, len);
	if (rc != 0) {
		if (!h->log_failed)
			log_error("history write failed: %s", err_message(rc));
		h->log_failed = true;
		if (type == HISTORY_OUTPUT)
			h->log_exact = false;
		if (type == HISTORY_OUTPUT)
			h->log_dropped += len;
		return;
	}
	h->hw_dirty = true;
}

/* The size follows the most recently active read-write attached client. */
void
holder_state_size_update(struct holder *h)
{
	struct holder_peer *best = NULL;
	char rec[32];
	int i;

	for (i = 0; i < h->npeers; i++) {
		struct holder_peer *c = h->peers[i];

		if (c->dead || !(c->flags & PROTO_ATTACH) || (c->flags & PROTO_READONLY))
			continue;
		if (best == NULL || c->active_ns > best->active_ns)
			best = c;
	}
	if (best == NULL || (best->cols == h->cols && best->rows == h->rows))
		return;
	/* Output already read was drawn at the old size: let the screen see it first. */
	holder_state_vt_sync(h);
	holder_pty_resize(h, best->cols, best->rows);
	vt_resize(h->vt, h->cols, h->rows);
	snprintf(rec, sizeof rec, "%dx%d", h->cols, h->rows);
	holder_state_log(h, HISTORY_RESIZE, rec, strlen(rec));
}

static void
holder_state_add_quoted(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == ' ')
			buf_addf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			buf_addf(b, "\\x%02x", ch);
		else
			buf_addc(b, (char)ch);
	}
}

void
holder_state_info(struct holder *h, struct buf *out)
{
	int i;

	buf_addf(out, "id=%s\n", h->id);
	buf_addf(out, "pid=%ld\n", (long)h->child);
	buf_addf(out, "holder_pid=%ld\n", (long)getpid());
	buf_addf(out, "state=%s\n", h->exited ? "exited" : "running");
	if (h->exited)
		buf_addf(out, "status=%d\n", h->wstatus);
	buf_addf(out, "clients=%d\n", holder_peer_attached(h));
	buf_addf(out, "cols=%d\nrows=%d\n", h->cols, h->rows);
	buf_addf(out, "bytes=%llu\n", (unsigned long long)history_writer_offset(h->hw));
	buf_addf(out, "disk_bytes=%llu\n", (unsigned long long)history_writer_disk_bytes(h->hw));
	buf_addf(out, "vt_resyncs=%llu\n", (unsigned long long)h->vt_resyncs);
	buf_adds(out, "title=");
	holder_state_add_quoted(out, h->modes.title);
	buf_adds(out, "\ncommand=");
	for (i = 0; h->argv[i] != NULL; i++) {
		if (i > 0)
			buf_addc(out, ' ');
		holder_state_add_quoted(out, h->argv[i]);
	}
	buf_addc(out, '\n');
}

/* Save the final screen and the exit status so capture and wait work after the holder is gone. */
void
holder_state_save_final(struct holder *h)
{
	struct buf b;
	char *path;
	char st[64];
	int rc;

	buf_init(&b, 0);
	holder_state_render(h, true, &b);
	path = xasprintf("%s/screen.ansi", h->dir);
	if ((rc = path_write_atomic(path, b.data, b.len, true)) != 0)
		log_error("cannot save %s: %s", path, err_message(rc));
	free(path);
	buf_clear(&b);
	vt_render_text(h->vt, &b);
	path = xasprintf("%s/screen.txt", h->dir);
	if ((rc = path_write_atomic(path, b.data ? b.data : "", b.len, true)) != 0)
		log_error("cannot save %s: %s", path, err_message(rc));
	free(path);
	buf_release(&b);
	if (h->exited) {
		snprintf(st, sizeof st, "%d\n%llu\n", h->wstatus,
			 (unsigned long long)history_writer_offset(h->hw));
		path = xasprintf("%s/exit", h->dir);
		if ((rc = path_write_atomic(path, st, strlen(st), true)) != 0)
			log_error("cannot save %s: %s", path, err_message(rc));
		free(path);
	}
}
