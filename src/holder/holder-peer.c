/*
 * holder-peer.c: the holder's clients. Each peer has a bounded queue of
 * whole frames; output goes straight to the socket when the queue is
 * empty. A peer that falls further behind than HOLDER_PEER_QUEUE stops
 * getting live output and is brought forward to a fresh screen once it
 * drains, so no client ever slows the program or the other clients.
 */
#include "common/compat.h"

#include <errno.h>
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

void
holder_peer_accept(struct holder *h)
{
	struct holder_peer *c;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	proto_decoder_init(&c->dec, PROTO_MAX_INPUT);
	h->peers[h->npeers++] = c;
}

/* Queue bytes of whole frames; returns false if the queue limit is passed. */
static bool
holder_peer_queue(struct holder_peer *c, const void *a, size_t alen, const void *b, size_t blen,
		  bool bounded)
{
	size_t used = c->qend - c->qstart, need = alen + blen;

	if (bounded && used + need > HOLDER_PEER_QUEUE)
		return false;
	if (c->qend + need > c->qcap) {
		if (c->qstart > 0) {
			memmove(c->q, c->q + c->qstart, used);
			c->qstart = 0;
			c->qend = used;
		}
		if (c->qend + need > c->qcap) {
			c->qcap = c->qcap ? c->qcap : 64 * 1024;
			while (c->qend + need > c->qcap)
				c->qcap *= 2;
			c->q = xrealloc(c->q, c->qcap);
		}
	}
	memcpy(c->q + c->qend, a, alen);
	if (blen)
		memcpy(c->q + c->qend + alen, b, blen);
	c->qend += need;
	return true;
}

/* Mark bytes written from the queue head, keeping track of frame boundaries. */
static void
holder_peer_advance(struct holder_peer *c, size_t n)
{
	while (n > 0) {
		size_t take;

		if (c->qframe_left == 0)
			c->qframe_left = PROTO_HDR_LEN + proto_get32((unsigned char *)c->q +
								     c->qstart + 4);
		take = n < c->qframe_left ? n : c->qframe_left;
		c->qframe_left -= take;
		c->qstart += take;
		n -= take;
	}
	if (c->qstart == c->qend)
		c->qstart = c->qend = 0;
}

/* Send one frame: straight to the socket if nothing is queued, else queued. */
static bool
holder_peer_write(struct holder_peer *c, enum proto_type type, const void *data, size_t len,
		  bool bounded)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct iovec iov[2];
	size_t total = PROTO_HDR_LEN + len, done = 0;
	ssize_t n;

	if (c->dead)
		return true;
	proto_header_encode(hdr, type, len);
	if (c->qend == c->qstart) {
		iov[0].iov_base = hdr;
		iov[0].iov_len = PROTO_HDR_LEN;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		do
			n = writev(c->fd, iov, len ? 2 : 1);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			c->dead = true;
			return true;
		}
		done = n > 0 ? (size_t)n : 0;
		if (done == total)
			return true;
	}
	if (done > 0) {
		/* The rest of a frame that is already on its way must follow. */
		if (done < PROTO_HDR_LEN) {
			holder_peer_queue(c, hdr + done, PROTO_HDR_LEN - done, data, len, false);
			c->qframe_left = total - done;
		} else {
			holder_peer_queue(c, (const char *)data + (done - PROTO_HDR_LEN),
					  total - done, NULL, 0, false);
			c->qframe_left = total - done;
		}
		return true;
	}
	return holder_peer_queue(c, hdr, PROTO_HDR_LEN, data, len, bounded);
}

void
holder_peer_send(struct holder *h, struct holder_peer *c, enum proto_type type, const void *data,
		 size_t len)
{
	(void)h;
	holder_peer_write(c, type, data, len, false);
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
	/* SCREEN frames, so that DATA is exactly the output from the WELCOME offset on. */
	for (off = 0; off < b.len; off += PROTO_MAX_INPUT) {
		size_t n = b.len - off < PROTO_MAX_INPUT ? b.len - off : PROTO_MAX_INPUT;

		holder_peer_send(h, c, PROTO_SCREEN, b.data + off, n);
	}
	buf_release(&b);
}

void
holder_peer_output(struct holder *h, const char *data, size_t len)
{
	int i;

	for (i = 0; i < h->npeers; i++) {
		struct holder_peer *c = h->peers[i];

		if (c->dead || !(c->flags & PROTO_ATTACH))
			continue;
		if (c->lagging) {
			c->skipped += len;
			continue;
		}
		if (!holder_peer_write(c, PROTO_DATA, data, len, true)) {
			c->lagging = true;
			c->skipped = len;
		}
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

		if (!c->dead && ((c->flags & PROTO_ATTACH) || c->waiting)) {
			holder_peer_send(h, c, PROTO_EXIT, st, sizeof st);
			holder_peer_flush(h, c);
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
		holder_peer_advance(c, (size_t)n);
	}
	if (c->dead)
		return;
	if (c->close_after_flush) {
		c->dead = true;
		return;
	}
	if (c->lagging && c->qend == c->qstart) {
		char msg[96];

		c->lagging = false;
		snprintf(msg, sizeof msg, "client too slow: %llu bytes skipped, screen redrawn",
			 (unsigned long long)c->skipped);
		c->skipped = 0;
		holder_peer_send(h, c, PROTO_NOTICE, msg, strlen(msg));
		holder_peer_snapshot(h, c);
	}
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
	if (h->exited) {
		unsigned char st[4];

		proto_put32(st, (uint32_t)h->wstatus);
		holder_peer_send(h, c, PROTO_EXIT, st, sizeof st);
	}
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
