/*
 * test-proto.c: the holder protocol decoder on valid streams split at every
 * byte and on malformed frames of every kind.
 */
#include "common/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "proto/proto.h"

static void
feed(struct proto_decoder *d, const void *data, size_t len)
{
	size_t avail;
	unsigned char *space = proto_decoder_space(d, &avail);

	assert_true(len <= avail);
	memcpy(space, data, len);
	proto_decoder_fill(d, len);
}

static void
build_stream(struct buf *b)
{
	unsigned char hello[12], rs[4];

	proto_put32(hello, PROTO_VERSION);
	proto_put32(hello + 4, PROTO_ATTACH);
	proto_put16(hello + 8, 120);
	proto_put16(hello + 10, 40);
	proto_put16(rs, 100);
	proto_put16(rs + 2, 30);
	assert_int_equal(proto_frame_add(b, PROTO_HELLO, hello, sizeof hello), 0);
	assert_int_equal(proto_frame_add(b, PROTO_INPUT, "ls -l\r", 6), 0);
	assert_int_equal(proto_frame_add(b, PROTO_RESIZE, rs, sizeof rs), 0);
	assert_int_equal(proto_frame_add(b, PROTO_INFO_REQ, NULL, 0), 0);
	assert_int_equal(proto_frame_add(b, PROTO_DETACH, NULL, 0), 0);
}

/* Every split of a valid stream into two reads gives the same five frames. */
static void
test_every_split(void **state)
{
	static const enum proto_type want[] = {PROTO_HELLO, PROTO_INPUT, PROTO_RESIZE,
					       PROTO_INFO_REQ, PROTO_DETACH};
	struct buf b;
	size_t cut;

	(void)state;
	buf_init(&b, 0);
	build_stream(&b);
	for (cut = 0; cut <= b.len; cut++) {
		struct proto_decoder d;
		struct proto_frame f;
		const char *cause = NULL;
		size_t got = 0;
		int rc;

		proto_decoder_init(&d, PROTO_MAX_INPUT);
		feed(&d, b.data, cut);
		while ((rc = proto_decoder_next(&d, &f, &cause)) == 1) {
			assert_int_equal(f.type, want[got]);
			got++;
		}
		assert_int_equal(rc, 0);
		feed(&d, b.data + cut, b.len - cut);
		while ((rc = proto_decoder_next(&d, &f, &cause)) == 1) {
			assert_int_equal(f.type, want[got]);
			if (f.type == PROTO_INPUT) {
				assert_int_equal(f.len, 6);
				assert_memory_equal(f.data, "ls -l\r", 6);
			}
			if (f.type == PROTO_RESIZE) {
				assert_int_equal(proto_get16(f.data), 100);
				assert_int_equal(proto_get16(f.data + 2), 30);
			}
			got++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got, nitems(want));
		proto_decoder_release(&d);
	}
	buf_release(&b);
}

static int
decode_one(const unsigned char *raw, size_t len, const char **cause)
{
	struct proto_decoder d;
	struct proto_frame f;
	int rc;

	proto_decoder_init(&d, PROTO_MAX_INPUT);
	feed(&d, raw, len);
	rc = proto_decoder_next(&d, &f, cause);
	proto_decoder_release(&d);
	return rc;
}

static void
test_malformed(void **state)
{
	static const struct {
		unsigned char raw[8];
		const char *cause;
	} cases[] = {
		{{2, PROTO_INPUT, 0, 0, 1, 0, 0, 0}, "unsupported protocol version"},
		{{0, PROTO_INPUT, 0, 0, 1, 0, 0, 0}, "unsupported protocol version"},
		{{1, 0, 0, 0, 0, 0, 0, 0}, "unknown frame type"},
		{{1, 99, 0, 0, 0, 0, 0, 0}, "unknown frame type"},
		{{1, PROTO_INPUT, 1, 0, 1, 0, 0, 0}, "reserved header bits set"},
		{{1, PROTO_INPUT, 0, 0x80, 1, 0, 0, 0}, "reserved header bits set"},
		{{1, PROTO_INPUT, 0, 0, 0x01, 0x00, 0x01, 0x00}, "frame too large"},
		{{1, PROTO_INPUT, 0, 0, 0xff, 0xff, 0xff, 0xff}, "frame too large"},
		{{1, PROTO_HELLO, 0, 0, 11, 0, 0, 0}, "wrong payload length for frame type"},
		{{1, PROTO_RESIZE, 0, 0, 5, 0, 0, 0}, "wrong payload length for frame type"},
		{{1, PROTO_DETACH, 0, 0, 1, 0, 0, 0}, "wrong payload length for frame type"},
		{{1, PROTO_SIGNAL, 0, 0, 0, 0, 0, 0}, "wrong payload length for frame type"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		const char *cause = NULL;

		/* Rejected from the header alone: the peer cannot make us wait for a body. */
		assert_int_equal(decode_one(cases[i].raw, 8, &cause), -ERR_PROTO);
		assert_string_equal(cause, cases[i].cause);
	}
}

static void
test_largest_input(void **state)
{
	struct proto_decoder d;
	struct proto_frame f;
	const char *cause = NULL;
	unsigned char hdr[PROTO_HDR_LEN];
	unsigned char *payload = malloc(PROTO_MAX_INPUT);
	size_t avail;

	(void)state;
	memset(payload, 'z', PROTO_MAX_INPUT);
	proto_decoder_init(&d, PROTO_MAX_INPUT);
	proto_header_encode(hdr, PROTO_INPUT, PROTO_MAX_INPUT);
	feed(&d, hdr, sizeof hdr);
	feed(&d, payload, PROTO_MAX_INPUT);
	proto_decoder_space(&d, &avail);
	assert_int_equal(avail, 0);
	assert_int_equal(proto_decoder_next(&d, &f, &cause), 1);
	assert_int_equal(f.len, PROTO_MAX_INPUT);
	proto_decoder_space(&d, &avail);
	assert_int_equal(avail, PROTO_HDR_LEN + PROTO_MAX_INPUT);
	proto_decoder_release(&d);
	free(payload);
}

static void
test_endianness(void **state)
{
	unsigned char p[8];

	(void)state;
	proto_put64(p, 0x0102030405060708ull);
	assert_int_equal(p[0], 8);
	assert_int_equal(p[7], 1);
	assert_true(proto_get64(p) == 0x0102030405060708ull);
	proto_put32(p, 0xdeadbeef);
	assert_int_equal(proto_get32(p), 0xdeadbeef);
	assert_string_equal(proto_type_name(PROTO_SCREEN_REQ), "screen-req");
	assert_string_equal(proto_type_name(99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_largest_input),
		cmocka_unit_test(test_endianness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
