/*
 * proto.c: encoding and bounded, incremental decoding of holder frames
 * (see proto.h and docs/protocol.md).
 */
#include "common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "proto/proto.h"

static const char *proto_names[] = {
	"?",	  "hello",	"welcome", "data",	 "input",  "resize", "detach",
	"exit",	  "signal",	"info-req", "info",	 "screen-req", "screen", "error",
	"notice", "wait",
};

const char *
proto_type_name(enum proto_type type)
{
	if ((int)type < 1 || type > PROTO_TYPE_MAX)
		return "?";
	return proto_names[type];
}

void
proto_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

void
proto_put32(unsigned char *p, uint32_t v)
{
	proto_put16(p, (uint16_t)v);
	proto_put16(p + 2, (uint16_t)(v >> 16));
}

void
proto_put64(unsigned char *p, uint64_t v)
{
	proto_put32(p, (uint32_t)v);
	proto_put32(p + 4, (uint32_t)(v >> 32));
}

uint16_t
proto_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
proto_get32(const unsigned char *p)
{
	return (uint32_t)proto_get16(p) | ((uint32_t)proto_get16(p + 2) << 16);
}

uint64_t
proto_get64(const unsigned char *p)
{
	return (uint64_t)proto_get32(p) | ((uint64_t)proto_get32(p + 4) << 32);
}

void
proto_header_encode(unsigned char hdr[PROTO_HDR_LEN], enum proto_type type, size_t len)
{
	hdr[0] = PROTO_VERSION;
	hdr[1] = (unsigned char)type;
	hdr[2] = 0;
	hdr[3] = 0;
	proto_put32(hdr + 4, (uint32_t)len);
}

int
proto_frame_add(struct buf *b, enum proto_type type, const void *data, size_t len)
{
	unsigned char hdr[PROTO_HDR_LEN];
	size_t old = b->len;
	int rc;

	proto_header_encode(hdr, type, len);
	if ((rc = buf_add(b, hdr, sizeof hdr)) != 0)
		return rc;
	if ((rc = buf_add(b, data, len)) != 0)
		b->len = old;
	return rc;
}

int
proto_check_length(enum proto_type type, size_t len, size_t max_payload, const char **cause)
{
	size_t want;

	switch (type) {
	case PROTO_HELLO:
		want = 12;
		break;
	case PROTO_WELCOME:
		want = 16;
		break;
	case PROTO_RESIZE:
		want = 4;
		break;
	case PROTO_EXIT:
	case PROTO_SIGNAL:
	case PROTO_SCREEN_REQ:
		want = 4;
		break;
	case PROTO_DETACH:
	case PROTO_INFO_REQ:
	case PROTO_WAIT:
		want = 0;
		break;
	default:
		if (len > max_payload) {
			*cause = "frame too large";
			return -ERR_PROTO;
		}
		return 0;
	}
	if (len != want) {
		*cause = "wrong payload length for frame type";
		return -ERR_PROTO;
	}
	return 0;
}

void
proto_decoder_init(struct proto_decoder *d, size_t max_payload)
{
	d->max_payload = max_payload;
	d->buf = xmalloc(PROTO_HDR_LEN + max_payload);
	d->len = 0;
	d->consumed = 0;
}

void
proto_decoder_release(struct proto_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = 0;
}

static void
proto_decoder_compact(struct proto_decoder *d)
{
	if (d->consumed == 0)
		return;
	memmove(d->buf, d->buf + d->consumed, d->len - d->consumed);
	d->len -= d->consumed;
	d->consumed = 0;
}

unsigned char *
proto_decoder_space(struct proto_decoder *d, size_t *avail)
{
	proto_decoder_compact(d);
	*avail = PROTO_HDR_LEN + d->max_payload - d->len;
	return d->buf + d->len;
}

void
proto_decoder_fill(struct proto_decoder *d, size_t n)
{
	d->len += n;
}

int
proto_decoder_next(struct proto_decoder *d, struct proto_frame *f, const char **cause)
{
	const unsigned char *p;
	size_t avail, plen;
	int rc;

	proto_decoder_compact(d);
	avail = d->len;
	if (avail < PROTO_HDR_LEN)
		return 0;
	p = d->buf;
	if (p[0] != PROTO_VERSION) {
		*cause = "unsupported protocol version";
		return -ERR_PROTO;
	}
	if (p[2] != 0 || p[3] != 0) {
		*cause = "reserved header bits set";
		return -ERR_PROTO;
	}
	if (p[1] < 1 || p[1] > PROTO_TYPE_MAX) {
		*cause = "unknown frame type";
		return -ERR_PROTO;
	}
	plen = proto_get32(p + 4);
	if ((rc = proto_check_length(p[1], plen, d->max_payload, cause)) != 0)
		return rc;
	if (avail - PROTO_HDR_LEN < plen)
		return 0;
	f->type = p[1];
	f->data = p + PROTO_HDR_LEN;
	f->len = plen;
	d->consumed = PROTO_HDR_LEN + plen;
	return 1;
}
