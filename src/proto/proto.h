/*
 * proto.h: the framed protocol spoken on a holder's unix socket, by the
 * CLI today and the daemon later. Every frame is an 8-byte header (u8
 * version, u8 type, u16 zero, u32 little-endian payload length) and a
 * payload whose size is bounded per type. See docs/protocol.md. Not for
 * transport: callers own the sockets; this file only encodes and decodes.
 */
#ifndef ROOST_PROTO_H
#define ROOST_PROTO_H

#include "common/buf.h"

#define PROTO_VERSION 1
#define PROTO_HDR_LEN 8
#define PROTO_MAX_INPUT (64 * 1024)        /* INPUT payloads, and any client->holder frame */
#define PROTO_MAX_PAYLOAD (4 * 1024 * 1024) /* any holder->client frame (SCREEN can be big) */

enum proto_type {
	PROTO_HELLO = 1,      /* c->h: u32 version, u32 flags, u16 cols, u16 rows */
	PROTO_WELCOME = 2,    /* h->c: u64 output offset, u16 cols, u16 rows, u32 flags */
	PROTO_DATA = 3,       /* h->c: output bytes (screen snapshot first, then live) */
	PROTO_INPUT = 4,      /* c->h: bytes for the program */
	PROTO_RESIZE = 5,     /* c->h: u16 cols, u16 rows */
	PROTO_DETACH = 6,     /* c->h: empty; the holder closes */
	PROTO_EXIT = 7,       /* h->c: i32 wait status of the program */
	PROTO_SIGNAL = 8,     /* c->h: i32 signal number, sent to the program's process group */
	PROTO_INFO_REQ = 9,   /* c->h: empty */
	PROTO_INFO = 10,      /* h->c: "key=value\n" lines */
	PROTO_SCREEN_REQ = 11, /* c->h: u32 flags (PROTO_SCREEN_ANSI) */
	PROTO_SCREEN = 12,    /* h->c: rendered screen */
	PROTO_ERROR = 13,     /* h->c: message; the holder closes after it */
	PROTO_NOTICE = 14,    /* h->c: informational message (e.g. "output skipped") */
	PROTO_WAIT = 15,      /* c->h: empty; EXIT is sent when the program has exited */
	PROTO_TYPE_MAX = 15
};

/* HELLO flags */
#define PROTO_ATTACH (1u << 0)   /* interactive: screen snapshot, then live output */
#define PROTO_READONLY (1u << 1) /* input, resize and signals refused */
/* WELCOME flags */
#define PROTO_EXITED (1u << 0)
/* SCREEN_REQ flags */
#define PROTO_SCREEN_ANSI (1u << 0)

#define PROTO_MIN_SIZE 1
#define PROTO_MAX_SIZE 1000 /* cols and rows */

struct proto_frame {
	enum proto_type type;
	const unsigned char *data; /* valid until the next proto_decoder_next */
	size_t len;
};

/*
 * Incremental decoder with a fixed buffer of PROTO_HDR_LEN + max_payload.
 * Feed what was read, then take frames until none is complete.
 */
struct proto_decoder {
	unsigned char *buf;
	size_t len;
	size_t max_payload;
	size_t consumed; /* bytes of buf handed out as the last frame */
};

void proto_decoder_init(struct proto_decoder *d, size_t max_payload);
void proto_decoder_release(struct proto_decoder *d);

/* Space to read into (at least 1 byte unless a frame is pending) and its size. */
unsigned char *proto_decoder_space(struct proto_decoder *d, size_t *avail);
void proto_decoder_fill(struct proto_decoder *d, size_t n);

/*
 * Next complete frame: 1 and *f set, 0 if more bytes are needed, or
 * -ERR_PROTO for a bad version, reserved bits, unknown type or a length
 * over the bound for its type (the peer is then dropped; *cause names why).
 */
int proto_decoder_next(struct proto_decoder *d, struct proto_frame *f, const char **cause);

/* Check a frame's payload size for its type (fixed-size types must match). */
int proto_check_length(enum proto_type type, size_t len, size_t max_payload, const char **cause);

/* Write a header for a frame of type and len into hdr. */
void proto_header_encode(unsigned char hdr[PROTO_HDR_LEN], enum proto_type type, size_t len);

/* Append a whole frame to b. */
int proto_frame_add(struct buf *b, enum proto_type type, const void *data, size_t len);

/* Little-endian helpers. */
void proto_put16(unsigned char *p, uint16_t v);
void proto_put32(unsigned char *p, uint32_t v);
void proto_put64(unsigned char *p, uint64_t v);
uint16_t proto_get16(const unsigned char *p);
uint32_t proto_get32(const unsigned char *p);
uint64_t proto_get64(const unsigned char *p);

const char *proto_type_name(enum proto_type type);

#endif
