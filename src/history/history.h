/*
 * history.h: a session's append-only history log on disk. The writer is
 * used by the holder on its hot path (one write(2) per chunk, nothing
 * else); sealing full segments with zstd happens on a helper thread. The
 * reader is used by the CLI and exporters. See docs/internals/history.md.
 *
 * Layout of a session's log directory:
 *   NNNNNNNNNN.log   the open segment (raw records), at most one
 *   NNNNNNNNNN.zst   sealed segments: one zstd frame of the raw records
 * Record: 32-byte little-endian header then payload:
 *   u16 magic 0x5452 ('RT'), u8 type, u8 flags, u32 payload length,
 *   u64 time (ns since the epoch), u64 output offset (output bytes recorded
 *   before this record, over the whole session), u32 crc32 of the header
 *   (with this field zero) and payload, u32 reserved (0).
 */
#ifndef ROOST_HISTORY_H
#define ROOST_HISTORY_H

#define HISTORY_HDR_LEN 32
#define HISTORY_MAGIC 0x5452
#define HISTORY_MAX_RECORD (1u << 20) /* payload bound; readers reject more */

enum history_type {
	HISTORY_OUTPUT = 1, /* bytes the program wrote */
	HISTORY_INPUT = 2,  /* bytes sent to the program (only when enabled) */
	HISTORY_RESIZE = 3, /* payload: "COLSxROWS" */
	HISTORY_EXIT = 4,   /* payload: the raw wait status in decimal, e.g. "0", "256", "9" */
	HISTORY_MARK = 5,   /* payload: free text (start of a run, a note) */
	HISTORY_DROP = 6,   /* payload: text saying which segments/bytes the cap dropped */
};

struct history_opts {
	uint64_t segment_size; /* seal the open segment past this many bytes; default 1 MiB */
	uint64_t cap;          /* keep at most this many output bytes; default 50 MiB; 0 = none */
	int level;             /* zstd level, default 3 */
};

/* Defaults. The writer clamps segment_size to 1 KiB..32 MiB. */
void history_opts_init(struct history_opts *o);

struct history_writer;

/*
 * Open (creating, 0700) the log directory dir for appending. An existing
 * log is continued: a torn tail of the open segment is cut, leftover temp
 * files removed, numbering and the output offset carried on. Returns 0 or
 * -ERR_x; -ERR_STATE when another writer has dir open (it is flocked).
 */
int history_writer_open(const char *dir, const struct history_opts *o,
			struct history_writer **wp);

/*
 * Append one record with one write(2). Returns 0 or -ERR_x (-ERR_NOSPC on
 * a full disk; the writer stays usable and a later append may succeed).
 * A failed write leaves no partial record behind. Payloads above
 * HISTORY_MAX_RECORD become several records. Rotates the open segment and
 * hands it to the sealing thread when full; enforces the cap by dropping
 * the oldest sealed segments and appending a HISTORY_DROP record. A
 * process that sets RLIMIT_FSIZE must ignore SIGXFSZ: the limit then
 * shows as -ERR_NOSPC too.
 */
int history_writer_append(struct history_writer *w, enum history_type type,
			  const void *data, size_t len);

/* fdatasync the open segment. */
int history_writer_sync(struct history_writer *w);

/* Output bytes recorded over the session's life (including dropped ones). */
uint64_t history_writer_offset(const struct history_writer *w);

/* Bytes currently on disk for this log. */
uint64_t history_writer_disk_bytes(const struct history_writer *w);

/* Seal the open segment too if seal_open, wait for the sealing thread, close, free. */
void history_writer_close(struct history_writer *w, bool seal_open);

struct history_record {
	enum history_type type;
	uint64_t time_ns;
	uint64_t offset;
	const char *data; /* valid until the next history_reader_next or close */
	size_t len;
};

struct history_reader;

/* Warnings (a corrupt segment skipped, a torn tail) go to this callback if set. */
typedef void (*history_warn_cb)(const char *msg, void *arg);

/* Open dir for reading; works while a writer appends and seals concurrently. */
int history_reader_open(const char *dir, history_warn_cb warn, void *arg,
			struct history_reader **rp);

/*
 * Next record: 1 and *rec filled, 0 at the end, or -ERR_x. Corrupt data is
 * skipped with a warning, never returned: the reader resumes at the next
 * valid record (magic and crc) in the segment; a bad end of the open
 * segment is a record being written or torn by a crash, and skipped
 * quietly. Segments created after open are not read.
 */
int history_reader_next(struct history_reader *r, struct history_record *rec);

/*
 * Skip to the segment that holds output offset off (the last one whose
 * first record starts at or before it), found by a binary search that
 * reads only the start of each probed segment. Records before off in that
 * segment are still returned: the caller trims. Returns 0 or -ERR_x.
 */
int history_reader_seek(struct history_reader *r, uint64_t off);

void history_reader_close(struct history_reader *r);


#endif
