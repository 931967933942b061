/*
 * proto-fuzzer.c: libFuzzer target for the holder protocol decoder
 * (src/proto/proto.c). Arbitrary bytes are fed through
 * proto_decoder_space/fill/next in arbitrary splits and compared with an
 * independent one-shot reference decoder written from docs/protocol.md.
 * Not a test of the holder's reaction to frames (tests/regress does that).
 *
 * Input: byte 0 seeds the split sizes, byte 1 picks max_payload, the rest
 * is the byte stream a peer sends.
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define proto_fuzzer_assert(cond)                                                                  \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "proto-fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The fixed payload size of a type from docs/protocol.md, or -1 for "up to the bound". */
static long
proto_fuzzer_fixed(unsigned type)
{
	switch (type) {
	case 1: /* HELLO */
		return 12;
	case 2: /* WELCOME */
		return 16;
	case 5: /* RESIZE */
	case 7: /* EXIT */
	case 8: /* SIGNAL */
	case 11: /* SCREEN_REQ */
		return 4;
	case 6: /* DETACH */
	case 9: /* INFO_REQ */
	case 15: /* WAIT */
		return 0;
	default:
		return -1;
	}
}

/*
 * Reference: the frame at p (avail bytes): 1 with *type and *plen, 0 when
 * more bytes are needed, -1 when the header alone condemns it.
 */
static int
proto_fuzzer_ref(const uint8_t *p, size_t avail, size_t max, unsigned *type, size_t *plen)
{
	uint32_t len;
	long fixed;

	if (avail < 8)
		return 0;
	if (p[0] != 1 || p[2] != 0 || p[3] != 0 || p[1] < 1 || p[1] > 15)
		return -1;
	len = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	fixed = proto_fuzzer_fixed(p[1]);
	if (fixed >= 0 ? len != (uint32_t)fixed : len > max)
		return -1;
	if (avail - 8 < len)
		return 0;
	*type = p[1];
	*plen = len;
	return 1;
}

static uint32_t
proto_fuzzer_rand(uint32_t *s)
{
	/* xorshift32: the split sizes only need to vary with the seed. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t
proto_fuzzer_chunk(uint32_t *s)
{
	uint32_t r = proto_fuzzer_rand(s);

	switch (r & 3) {
	case 0:
		return 1;
	case 1:
		return 1 + (r >> 8) % 9; /* around a header */
	case 2:
		return 1 + (r >> 8) % 100;
	default:
		return 1 + (r >> 8) % 70000; /* more than a whole input frame */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = {PROTO_MAX_INPUT, PROTO_MAX_INPUT, PROTO_MAX_INPUT,
				       PROTO_MAX_PAYLOAD, 16, 17, 100, 4096};
	struct proto_decoder d;
	struct proto_frame f;
	struct buf re;
	const uint8_t *in;
	size_t n, max, fed = 0, ref_pos = 0, avail, plen, take;
	uint32_t seed;
	unsigned type;
	bool failed = false;
	int rc, want;

	if (size < 2)
		return 0;
	seed = 0x9e3779b9u ^ ((uint32_t)data[0] * 0x01010101u);
	/*
	 * Bounds below 16 are not used by any caller: a WELCOME (16 bytes)
	 * could then never fit the buffer. The holder uses PROTO_MAX_INPUT,
	 * the CLI PROTO_MAX_PAYLOAD.
	 */
	max = maxes[data[1] % nitems(maxes)];
	in = data + 2;
	n = size - 2;

	proto_decoder_init(&d, max);
	buf_init(&re, 0);
	while (!failed) {
		/* Take every complete frame; each must be the reference's next one. */
		for (;;) {
			const char *cause = NULL;

			rc = proto_decoder_next(&d, &f, &cause);
			want = proto_fuzzer_ref(in + ref_pos, fed - ref_pos, max, &type, &plen);
			proto_fuzzer_assert(rc == want || (rc < 0 && want < 0));
			if (rc < 0) {
				proto_fuzzer_assert(rc == -ERR_PROTO);
				proto_fuzzer_assert(cause != NULL && cause[0] != '\0');
				failed = true;
				break;
			}
			if (rc == 0)
				break;
			proto_fuzzer_assert(f.type == type && f.len == plen);
			proto_fuzzer_assert(f.len <= max);
			proto_fuzzer_assert(f.data >= d.buf + PROTO_HDR_LEN &&
					    f.data + f.len <= d.buf + PROTO_HDR_LEN + max);
			proto_fuzzer_assert(memcmp(f.data, in + ref_pos + PROTO_HDR_LEN, f.len) == 0);
			proto_fuzzer_assert(proto_check_length(f.type, f.len, max, &cause) == 0);
			proto_fuzzer_assert(strcmp(proto_type_name(f.type), "?") != 0);
			/* Encoding the frame again gives back the bytes it came from. */
			proto_fuzzer_assert(proto_frame_add(&re, f.type, f.data, f.len) == 0);
			ref_pos += PROTO_HDR_LEN + f.len;
			proto_fuzzer_assert(re.len == ref_pos && memcmp(re.data, in, re.len) == 0);
		}
		if (failed || fed == n)
			break;
		/* With no complete frame pending there is always room to read. */
		unsigned char *space = proto_decoder_space(&d, &avail);

		proto_fuzzer_assert(avail >= 1);
		proto_fuzzer_assert(avail <= PROTO_HDR_LEN + max);
		proto_fuzzer_assert(avail == PROTO_HDR_LEN + max - (fed - ref_pos));
		take = proto_fuzzer_chunk(&seed);
		if (take > avail)
			take = avail;
		if (take > n - fed)
			take = n - fed;
		memcpy(space, in + fed, take);
		proto_decoder_fill(&d, take);
		fed += take;
	}
	if (!failed) {
		/* Everything was fed: what is left is an incomplete frame. */
		proto_fuzzer_assert(fed == n);
		proto_fuzzer_assert(proto_fuzzer_ref(in + ref_pos, n - ref_pos, max, &type, &plen) ==
				    0);
	}
	buf_release(&re);
	proto_decoder_release(&d);
	return 0;
}
