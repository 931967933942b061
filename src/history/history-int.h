/*
 * history-int.h: what the history writer, reader and exporters share and
 * nobody else needs: the record header codec, segment file names, the
 * directory listing and loading one segment into memory. Not an interface
 * for other modules; they use history.h.
 */
#ifndef ROOST_HISTORY_INT_H
#define ROOST_HISTORY_INT_H

#include "history/history.h"

/* A segment holds about segment_size bytes plus one record; bigger ones are corrupt. */
#define HISTORY_SEGMENT_LIMIT (64u << 20)
#define HISTORY_SEGMENT_MIN (1u << 10)	/* smallest segment_size the writer accepts */
#define HISTORY_SEGMENT_MAX (32u << 20) /* largest one, so that a segment stays under the limit */
#define HISTORY_NAME_LEN 32		/* "NNNNNNNNNN.zst.tmp" and its NUL, with room */
#define HISTORY_WARN_LEN 256		/* a warning message, formatted on the stack */

/* The decoded 32-byte header. */
struct history_hdr {
	uint16_t magic;
	uint8_t type;
	uint8_t flags;
	uint32_t len; /* payload bytes */
	uint64_t time_ns;
	uint64_t offset;
	uint32_t crc;
	uint32_t reserved;
};

/* What history_record_check found at a position. */
enum history_check {
	HISTORY_CHECK_OK,    /* a whole, valid record */
	HISTORY_CHECK_SHORT, /* a plausible header or its prefix, cut off by the end of the data */
	HISTORY_CHECK_BAD,   /* not a record */
};

/* Which files a segment number has on disk. */
#define HISTORY_SEG_LOG (1u << 0)
#define HISTORY_SEG_ZST (1u << 1)
#define HISTORY_SEG_TMP (1u << 2)

struct history_seginfo {
	uint64_t num;
	unsigned files; /* HISTORY_SEG_* */
};

/*
 * Fill hdr (HISTORY_HDR_LEN bytes) for a record of len payload bytes at
 * data, crc included. Never fails; the caller bounds len.
 */
void history_record_encode(unsigned char *hdr, enum history_type type, uint64_t time_ns,
			   uint64_t offset, const void *data, size_t len);

/*
 * Look at the avail bytes at p: a valid record (magic, known type, zero
 * reserved field, len <= HISTORY_MAX_RECORD, crc), a short one, or garbage.
 * *h is filled when the header could be decoded.
 */
enum history_check history_record_check(const char *p, size_t avail, struct history_hdr *h);

/* The first position >= from in buf where a valid record starts, or len if none. */
size_t history_record_resync(const char *buf, size_t len, size_t from);

/*
 * End of the valid records in buf: the position after the last valid
 * record, skipping corrupt regions in between the way the reader does.
 * *last is set to the last valid record's header if found (returns with
 * *found true).
 */
size_t history_record_valid_end(const char *buf, size_t len, struct history_hdr *last, bool *found);

/* The file name of segment num with extension ext ("log", "zst", "zst.tmp"). */
void history_record_name(char *name, size_t size, uint64_t num, const char *ext);

/*
 * List the segments in the directory open at dirfd, sorted by number.
 * Returns 0 and a new array the caller frees, or -ERR_x.
 */
int history_record_list(int dirfd, struct history_seginfo **segs, size_t *n);

/* A segment's contents in memory, reused across loads. */
struct history_seg_data {
	char *data;
	size_t len;
	size_t cap;
	bool sealed; /* read from the .zst */
	char *zdata; /* the compressed file, when sealed */
	size_t zcap;
	struct ZSTD_DCtx_s *dctx; /* created on first use, kept for the next load */
};

void history_record_data_release(struct history_seg_data *d);

/*
 * Load segment num from dirfd into d: the .zst (decompressed) when it
 * exists, else the .log read whole; a .log that vanished is retried as
 * .zst, since it was sealed meanwhile. At most limit bytes are loaded; if
 * prefix is false, more is an error (-ERR_TOOBIG), else the first limit
 * bytes are returned. Returns 0, -ERR_NOENT when neither file exists (the
 * segment was dropped), -ERR_CORRUPT when the compressed data is bad (what
 * decoded before the fault is kept in d), or another -ERR_x. On error msg
 * (msgsize bytes) says why.
 */
int history_record_load(int dirfd, uint64_t num, size_t limit, bool prefix,
			struct history_seg_data *d, char *msg, size_t msgsize);

#endif
