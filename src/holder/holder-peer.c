/*
 * holder-peer.c: the holder's clients. Output is never copied per client:
 * each attached peer has an offset into the holder's ring of recent output
 * and is sent DATA frames straight from it, as fast as its socket takes
 * them. A peer that falls behind catches up from the ring; one that falls
 * further behind than the ring holds is brought forward to a fresh screen.
 * So no client ever slows the program, the log or the other clients.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "holder/holder.h"

static void holder_peer_hello(struct holder *h, struct holder_peer *c,
			      const struct proto_frame *f);
static void holder_peer_catchup_stop(struct holder_peer *c);

/* Tell a peer we cannot serve why, if its socket takes it at once; never wait. */
static void
holder_peer_refuse(int fd, const char *why)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct iovec iov[2];

	proto_header_encode(hdr, PROTO_ERROR, strlen(why));
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof hdr;
	iov[1].iov_base = (void *)why;
	iov[1].iov_len = strlen(why);
	(void)!writev(fd, iov, 2);
}

void
holder_peer_accept(struct holder *h)
{
	struct holder_peer *c;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && h->spare_fd >= 0) {
		/*
		 * Out of descriptors: poll would report the pending peer for ever.
		 * Give up the spare to take it, tell it why, close, take the spare back.
		 */
		close(h->spare_fd);
		fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			holder_peer_refuse(fd, "holder out of file descriptors");
			close(fd);
		}
		h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		log_warn("refused a peer: out of file descriptors");
		return;
	}
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != getuid()) {
		log_warn("refused a peer of uid %ld", (long)cred.uid);
		close(fd);
		return;
	}
	if (h->npeers == HOLDER_MAX_PEERS) {
		log_warn("refused a peer: %d already connected", HOLDER_MAX_PEERS);
		holder_peer_refuse(fd, "too many clients");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	proto_decoder_init(&c->dec, PROTO_MAX_INPUT);
	h->peers[h->npeers++] = c;
}

/* Queue bytes (control frames, or the rest of a frame cut by a short write). */
static void
holder_peer_queue(struct holder_peer *c, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t used = c->qend - c->qstart, need = alen + blen;

	if (used + need > HOLDER_PEER_QUEUE_MAX) {
		/* It asks (INFO, SCREEN...) and never reads the answers: drop it. */
		log_warn("dropping a peer that does not read: %zu bytes queued", used);
		c->dead = true;
		return;
	}
	if (c->qend + need > c->qcap) {
		if (c->qstart > 0) {
			memmove(c->q, c->q + c->qstart, used);
			c->qstart = 0;
			c->qend = used;
		}
		if (c->qend + need > c->qcap) {
			c->qcap = c->qcap ? c->qcap : 4096;
			while (c->qend + need > c->qcap)
				c->qcap *= 2;
			c->q = xrealloc(c->q, c->qcap);
		}
	}
	memcpy(c->q + c->qend, a, alen);
	if (blen)
		memcpy(c->q + c->qend + alen, b, blen);
	c->qend += need;
}

/*
 * Write one frame whose payload is up to two pieces: straight to the socket
 * if nothing is queued (what a short write leaves is queued), else queued.
 * Unless must, a frame of which nothing could be written is dropped and
 * false returned (DATA is re-sent from the ring later).
 */
static bool
holder_peer_write(struct holder_peer *c, enum proto_type type, const void *a, size_t alen,
		  const void *b, size_t blen, bool must)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct iovec iov[3];
	size_t total = PROTO_HDR_LEN + alen + blen, done = 0, skip;
	ssize_t n;
	int cnt = 0;

	if (c->dead)
		return true;
	proto_header_encode(hdr, type, alen + blen);
	iov[cnt].iov_base = hdr;
	iov[cnt++].iov_len = PROTO_HDR_LEN;
	if (alen) {
		iov[cnt].iov_base = (void *)a;
		iov[cnt++].iov_len = alen;
	}
	if (blen) {
		iov[cnt].iov_base = (void *)b;
		iov[cnt++].iov_len = blen;
	}
	if (c->qend == c->qstart) {
		do
			n = writev(c->fd, iov, cnt);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			c->dead = true;
			return true;
		}
		done = n > 0 ? (size_t)n : 0;
		if (done == total)
			return true;
	}
	if (done == 0 && !must)
		return false;
	/* Queue what was not written, piece by piece. */
	for (int i = 0; i < cnt; i++) {
		skip = done < iov[i].iov_len ? done : iov[i].iov_len;
		done -= skip;
		if (iov[i].iov_len > skip)
			holder_peer_queue(c, (char *)iov[i].iov_base + skip, iov[i].iov_len - skip,
					  NULL, 0);
	}
	return true;
}

bool
holder_peer_wants_write(const struct holder *h, const struct holder_peer *c)
{
	if (c->qend > c->qstart)
		return true;
	return (c->flags & PROTO_ATTACH) && c->hello && c->pos < h->out_head;
}

void
holder_peer_send(struct holder *h, struct holder_peer *c, enum proto_type type, const void *data,
		 size_t len)
{
	(void)h;
	holder_peer_write(c, type, data, len, NULL, 0, true);
}

static void
holder_peer_fail(struct holder *h, struct holder_peer *c, const char *msg)
{
	holder_peer_send(h, c, PROTO_ERROR, msg, strlen(msg));
	c->close_after_flush = true;
	holder_peer_flush(h, c);
}

/* Screen snapshot for an attaching or lagging client, then live output follows. */
static void
holder_peer_snapshot(struct holder *h, struct holder_peer *c)
{
	unsigned char w[16];
	struct buf b;
	size_t off;

	buf_init(&b, 0);
	holder_state_render(h, true, &b);
	proto_put64(w, history_writer_offset(h->hw));
	proto_put16(w + 8, (uint16_t)h->cols);
	proto_put16(w + 10, (uint16_t)h->rows);
	proto_put32(w + 12, h->exited ? PROTO_EXITED : 0);
	holder_peer_send(h, c, PROTO_WELCOME, w, sizeof w);
	c->pos = h->out_head;
	holder_peer_catchup_stop(c);
	/* SCREEN frames, so that DATA is exactly the output from the WELCOME offset on. */
	for (off = 0; off < b.len; off += PROTO_MAX_INPUT) {
		size_t n = b.len - off < PROTO_MAX_INPUT ? b.len - off : PROTO_MAX_INPUT;

		holder_peer_send(h, c, PROTO_SCREEN, b.data + off, n);
	}
	buf_release(&b);
}

static void
holder_peer_catchup_stop(struct holder_peer *c)
{
	history_reader_close(c->cu);
	c->cu = NULL;
	c->cu_have = false;
}

/*
 * One DATA frame from the history log for a peer that fell off the ring:
 * 1 sent, 0 its socket is full, -1 the log cannot bring it forward (a write
 * error left a gap, the cap dropped what it needs, or damage).
 */
static int
holder_peer_catchup(struct holder *h, struct holder_peer *c)
{
	struct history_record rec;
	size_t n;
	int rc;

	if (!h->log_exact)
		return -1;
	if (c->cu == NULL) {
		if (history_reader_open(h->logdir, NULL, NULL, &c->cu) != 0)
			return -1;
		if (history_reader_seek(c->cu, h->log_base + c->pos) != 0) {
			holder_peer_catchup_stop(c);
			return -1;
		}
	}
	while (!c->cu_have) {
		uint64_t start;

		rc = history_reader_next(c->cu, &rec);
		if (rc <= 0) {
			/* Its end, as seen when it was opened: look again from here. */
			holder_peer_catchup_stop(c);
			return rc == 0 ? 1 : -1;
		}
		if (rec.type != HISTORY_OUTPUT || rec.offset < h->log_base)
			continue;
		start = rec.offset - h->log_base;
		if (start + rec.len <= c->pos)
			continue;
		if (start > c->pos) {
			holder_peer_catchup_stop(c);
			return -1;
		}
		c->cu_rec = rec;
		c->cu_skip = (size_t)(c->pos - start);
		c->cu_have = true;
	}
	n = c->cu_rec.len - c->cu_skip;
	if (n > PROTO_MAX_INPUT)
		n = PROTO_MAX_INPUT;
	if (!holder_peer_write(c, PROTO_DATA, c->cu_rec.data + c->cu_skip, n, NULL, 0, false))
		return 0;
	c->pos += n;
	c->cu_skip += n;
	if (c->cu_skip == c->cu_rec.len)
		c->cu_have = false;
	/* Back within the ring (with room to spare): read from memory again. */
	if (h->out_head - c->pos <= HOLDER_RING / 2)
		holder_peer_catchup_stop(c);
	return 1;
}

/*
 * Send an attached peer the output it has not had, from the ring, while its
 * socket takes it. Control frames queued before go first; EXIT goes once
 * all output before it is sent.
 */
void
holder_peer_pump(struct holder *h, struct holder_peer *c)
{
	while (!c->dead && c->qend == c->qstart && c->pos < h->out_head) {
		size_t off, n, first;
		char msg[112];

		if (h->out_head - c->pos > HOLDER_RING || c->cu != NULL) {
			/* Overwritten before this peer read it: from the log, else a fresh screen. */
			int rc = holder_peer_catchup(h, c);

			if (rc > 0)
				continue;
			if (rc == 0)
				break;
			snprintf(msg, sizeof msg, "client too slow: %llu bytes skipped, screen redrawn",
				 (unsigned long long)(h->out_head - c->pos));
			holder_peer_send(h, c, PROTO_NOTICE, msg, strlen(msg));
			holder_peer_snapshot(h, c);
			continue;
		}
		off = (size_t)(c->pos % HOLDER_RING);
		n = (size_t)(h->out_head - c->pos);
		if (n > PROTO_MAX_INPUT)
			n = PROTO_MAX_INPUT;
		first = HOLDER_RING - off < n ? HOLDER_RING - off : n;
		if (!holder_peer_write(c, PROTO_DATA, h->ring + off, first, h->ring, n - first, false))
			break; /* the socket is full: POLLOUT brings us back */
		c->pos += n;
	}
	if (c->exit_pending && !c->dead && c->qend == c->qstart && c->pos >= h->out_head) {
		unsigned char st[4];

		c->exit_pending = false;
		proto_put32(st, (uint32_t)h->wstatus);
		holder_peer_send(h, c, PROTO_EXIT, st, sizeof st);
	}
}

void
holder_peer_output(struct holder *h)
{
	int i;

	for (i = 0; i < h->npeers; i++) {
		struct holder_peer *c = h->peers[i];

		if (c->hello && (c->flags & PROTO_ATTACH))
			holder_peer_pump(h, c);
	}
}

void
holder_peer_broadcast_exit(struct holder *h)
{
	unsigned char st[4];
	int i;

	proto_put32(st, (uint32_t)h->wstatus);
	for (i = 0; i < h->npeers; i++) {
		struct holder_peer *c = h->peers[i];

		if (c->dead || !c->hello)
			continue;
		if (c->flags & PROTO_ATTACH) {
			c->exit_pending = true;
			holder_peer_pump(h, c);
		} else if (c->waiting) {
			holder_peer_send(h, c, PROTO_EXIT, st, sizeof st);
		}
	}
}

int
holder_peer_attached(const struct holder *h)
{
	int i, n = 0;

	for (i = 0; i < h->npeers; i++)
		if (!h->peers[i]->dead && (h->peers[i]->flags & PROTO_ATTACH))
			n++;
	return n;
}

void
holder_peer_flush(struct holder *h, struct holder_peer *c)
{
	ssize_t n;

	while (!c->dead && c->qend > c->qstart) {
		n = write(c->fd, c->q + c->qstart, c->qend - c->qstart);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			c->dead = true;
			return;
		}
		c->qstart += (size_t)n;
	}
	if (c->dead)
		return;
	c->qstart = c->qend = 0;
	if (c->close_after_flush) {
		c->dead = true;
		return;
	}
	if (c->hello && (c->flags & PROTO_ATTACH))
		holder_peer_pump(h, c);
}

static void
holder_peer_input(struct holder *h, const unsigned char *data, size_t len)
{
	if (h->exited || h->pty_fd < 0)
		return;
	if (h->inq_len + len > HOLDER_INPUT_QUEUE) {
		log_warn("input queue full: %zu bytes dropped", len);
		return;
	}
	memcpy(h->inq + h->inq_len, data, len);
	h->inq_len += len;
	if (h->record_input)
		holder_state_log(h, HISTORY_INPUT, data, len);
}

static bool
holder_peer_size_ok(int cols, int rows)
{
	return cols >= PROTO_MIN_SIZE && cols <= PROTO_MAX_SIZE && rows >= PROTO_MIN_SIZE &&
	       rows <= PROTO_MAX_SIZE;
}

static void
holder_peer_hello(struct holder *h, struct holder_peer *c, const struct proto_frame *f)
{
	uint32_t version = proto_get32(f->data), flags = proto_get32(f->data + 4);
	int cols = proto_get16(f->data + 8), rows = proto_get16(f->data + 10);

	if (version != PROTO_VERSION) {
		holder_peer_fail(h, c, "unsupported protocol version");
		return;
	}
	if ((flags & PROTO_ATTACH) && !holder_peer_size_ok(cols, rows)) {
		holder_peer_fail(h, c, "terminal size out of range");
		return;
	}
	c->hello = true;
	c->flags = flags & (PROTO_ATTACH | PROTO_READONLY);
	c->cols = cols;
	c->rows = rows;
	if (!(c->flags & PROTO_ATTACH))
		return;
	c->active_ns = holder_now_ns();
	if (!(c->flags & PROTO_READONLY))
		holder_state_size_update(h);
	holder_peer_snapshot(h, c);
	c->exit_pending = h->exited;
	holder_peer_pump(h, c);
}

static void
holder_peer_frame(struct holder *h, struct holder_peer *c, const struct proto_frame *f)
{
	bool ro = (c->flags & PROTO_READONLY) != 0;
	struct buf b;

	if (!c->hello && f->type != PROTO_HELLO) {
		holder_peer_fail(h, c, "expected hello");
		return;
	}
	switch (f->type) {
	case PROTO_HELLO:
		if (c->hello) {
			holder_peer_fail(h, c, "duplicate hello");
			return;
		}
		holder_peer_hello(h, c, f);
		break;
	case PROTO_INPUT:
		if (ro) {
			holder_peer_send(h, c, PROTO_NOTICE, "read-only client: input ignored", 31);
			break;
		}
		c->active_ns = holder_now_ns();
		holder_peer_input(h, f->data, f->len);
		if (c->flags & PROTO_ATTACH)
			holder_state_size_update(h);
		break;
	case PROTO_RESIZE: {
		int cols = proto_get16(f->data), rows = proto_get16(f->data + 2);

		if (!holder_peer_size_ok(cols, rows)) {
			holder_peer_fail(h, c, "terminal size out of range");
			return;
		}
		if (ro || !(c->flags & PROTO_ATTACH))
			break;
		c->cols = cols;
		c->rows = rows;
		c->active_ns = holder_now_ns();
		holder_state_size_update(h);
		break;
	}
	case PROTO_DETACH:
		c->close_after_flush = true;
		holder_peer_flush(h, c);
		break;
	case PROTO_SIGNAL: {
		int sig = (int)proto_get32(f->data);

		if (ro) {
			holder_peer_fail(h, c, "read-only client: signals refused");
			return;
		}
		if (sig < 1 || sig >= NSIG) {
			holder_peer_fail(h, c, "bad signal number");
			return;
		}
		if (h->exited) {
			holder_peer_fail(h, c, "session has exited");
			return;
		}
		if (kill(-h->child, sig) != 0 && kill(h->child, sig) != 0) {
			holder_peer_fail(h, c, "cannot signal the program");
			return;
		}
		holder_peer_send(h, c, PROTO_NOTICE, "ok", 2);
		break;
	}
	case PROTO_INFO_REQ:
		buf_init(&b, 0);
		holder_state_info(h, &b);
		holder_peer_send(h, c, PROTO_INFO, b.data, b.len);
		buf_release(&b);
		break;
	case PROTO_SCREEN_REQ:
		buf_init(&b, PROTO_MAX_PAYLOAD);
		if (holder_state_render(h, (proto_get32(f->data) & PROTO_SCREEN_ANSI) != 0, &b) !=
		    0) {
			buf_release(&b);
			holder_peer_fail(h, c, "screen too large");
			return;
		}
		holder_peer_send(h, c, PROTO_SCREEN, b.data, b.len);
		buf_release(&b);
		break;
	case PROTO_WAIT:
		c->waiting = true;
		if (h->exited) {
			unsigned char st[4];

			proto_put32(st, (uint32_t)h->wstatus);
			holder_peer_send(h, c, PROTO_EXIT, st, sizeof st);
		}
		break;
	default:
		holder_peer_fail(h, c, "frame type not accepted by the holder");
		return;
	}
}

void
holder_peer_read(struct holder *h, struct holder_peer *c)
{
	struct proto_frame f;
	const char *cause = NULL;
	unsigned char *space;
	size_t avail;
	ssize_t n;
	int rc;

	space = proto_decoder_space(&c->dec, &avail);
	do
		n = read(c->fd, space, avail);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		c->dead = true;
		return;
	}
	proto_decoder_fill(&c->dec, (size_t)n);
	while (!c->dead && !c->close_after_flush) {
		rc = proto_decoder_next(&c->dec, &f, &cause);
		if (rc == 0)
			break;
		if (rc < 0) {
			log_warn("dropping peer: %s", cause);
			holder_peer_fail(h, c, cause);
			break;
		}
		holder_peer_frame(h, c, &f);
	}
}

void
holder_peer_reap(struct holder *h)
{
	int i, j;
	bool attached_gone = false;

	for (i = 0, j = 0; i < h->npeers; i++) {
		struct holder_peer *c = h->peers[i];

		if (!c->dead) {
			h->peers[j++] = c;
			continue;
		}
		if (c->flags & PROTO_ATTACH)
			attached_gone = true;
		close(c->fd);
		holder_peer_catchup_stop(c);
		proto_decoder_release(&c->dec);
		free(c->q);
		free(c);
	}
	h->npeers = j;
	if (attached_gone) {
		h->last_detach_ns = holder_now_ns();
		holder_state_size_update(h);
	}
}
