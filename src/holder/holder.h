/*
 * holder.h: one process per session. It owns the PTY and the program,
 * records every output byte to the history log, keeps the screen, and
 * serves clients on its own unix socket. It depends on nothing but
 * common, proto, history and vt: no daemon, no database.
 */
#ifndef ROOST_HOLDER_H
#define ROOST_HOLDER_H

#include <poll.h>

#include "common/buf.h"
#include "history/history.h"
#include "proto/proto.h"
#include "vt/vt.h"

#define HOLDER_READ_SIZE (64 * 1024)       /* at most one PTY read */
#define HOLDER_RING (8 * 1024 * 1024)      /* recent output: clients and the screen read it by offset */
#define HOLDER_VT_BEHIND (1024 * 1024)     /* the screen resynchronises when further behind */
#define HOLDER_VT_TAIL (256 * 1024)        /* replayed when it does */
#define HOLDER_VT_QUIET_MS 1               /* output pause after which the screen catches up */
#define HOLDER_VT_IDLE_SLICE (64 * 1024)   /* screen work per loop turn during a pause */
#define HOLDER_RING_IDLE_MS 5000           /* after this long idle and consumed, the ring's pages go back */
#define HOLDER_MAX_PEERS 64
#define HOLDER_PEER_QUEUE_MAX (16 * 1024 * 1024) /* answers a peer leaves unread; past it, dropped */
#define HOLDER_INPUT_QUEUE (256 * 1024)    /* input waiting for the PTY */

struct holder_peer {
	int fd;
	uint32_t flags;          /* PROTO_ATTACH, PROTO_READONLY once HELLO is seen */
	bool hello;              /* HELLO received */
	bool dead;               /* close at the next safe point */
	bool waiting;            /* sent WAIT: gets EXIT when the program exits */
	bool exit_pending;       /* attached: EXIT follows once its output is sent */
	bool close_after_flush;  /* ERROR or DETACH: close once the queue drains */
	int cols, rows;          /* its terminal size (attached clients) */
	uint64_t active_ns;      /* last input/resize/attach: size follows the latest */
	uint64_t pos;            /* attached: ring offset of the next output byte to send */
	struct history_reader *cu; /* catching up from the log: it fell off the ring */
	struct history_record cu_rec; /* the record being sent from the log */
	size_t cu_skip;          /* bytes of cu_rec already sent (or before pos) */
	bool cu_have;            /* cu_rec is valid */
	struct proto_decoder dec;
	char *q;                 /* control frames and the rest of a DATA frame cut by a short write */
	size_t qstart, qend, qcap;
};

struct holder {
	char *id;
	char *dir;          /* session directory */
	char *sock_path;
	char **argv;        /* the program */
	char *cwd;
	char **env;         /* K=V added to the environment */
	int linger;         /* seconds to stay after exit with no client attached */
	bool record_input;
	struct history_opts hopts;
	int sync_ms;        /* fdatasync period */

	int listen_fd;
	int spare_fd;       /* /dev/null, given up to refuse a peer when out of descriptors */
	int pty_fd;
	int sig_fd;
	pid_t child;
	bool exited;
	int wstatus;
	uint64_t created_ns;
	uint64_t exited_ns;
	uint64_t last_detach_ns;
	bool terminating;   /* SIGTERM seen */
	bool log_failed;    /* the last append failed (disk full): a gap is recorded when it works again */
	uint64_t log_dropped; /* output bytes not recorded because of write errors */

	int cols, rows;
	struct history_writer *hw;
	char *logdir;
	uint64_t log_base;     /* history offset of ring offset 0 */
	bool log_exact;        /* every output byte reached the log: clients may catch up from it */
	bool hw_dirty;
	uint64_t last_sync_ns;

	struct vt *vt;
	struct vt_modes modes; /* sees every output byte */
	char *ring;            /* HOLDER_RING bytes of recent output, read into directly */
	uint64_t out_head;     /* output bytes read from the PTY since start (ring offsets) */
	uint64_t vt_done;      /* output bytes the screen has consumed */
	bool vt_quiet;         /* no output since the last idle poll: the screen may work */
	uint64_t vt_resyncs;
	uint64_t last_output_ns;
	bool ring_touched;     /* pages of the ring are in use since the last release */

	char *inq;             /* input waiting for the PTY */
	size_t inq_len;

	struct holder_peer *peers[HOLDER_MAX_PEERS];
	int npeers;

};

uint64_t holder_now_ns(void);

/* holder-pty.c: open the PTY and start the program; exec errors come back as *cause. */
int holder_pty_start(struct holder *h, char **cause);
void holder_pty_resize(struct holder *h, int cols, int rows);

/* holder-peer.c */
void holder_peer_accept(struct holder *h);
void holder_peer_read(struct holder *h, struct holder_peer *c);
void holder_peer_flush(struct holder *h, struct holder_peer *c);
void holder_peer_send(struct holder *h, struct holder_peer *c, enum proto_type type,
		      const void *data, size_t len);
void holder_peer_output(struct holder *h);
void holder_peer_pump(struct holder *h, struct holder_peer *c);
bool holder_peer_wants_write(const struct holder *h, const struct holder_peer *c);
void holder_peer_broadcast_exit(struct holder *h);
void holder_peer_reap(struct holder *h);
int holder_peer_attached(const struct holder *h);

/* holder-state.c */
void holder_state_vt_step(struct holder *h, size_t budget);
void holder_state_vt_sync(struct holder *h);
void holder_state_vt_add(struct holder *h, const char *data, size_t len);
bool holder_state_consumed(const struct holder *h);
bool holder_state_ring_release(struct holder *h);
int holder_state_render(struct holder *h, bool ansi, struct buf *out);
void holder_state_info(struct holder *h, struct buf *out);
void holder_state_save_final(struct holder *h);
void holder_state_log(struct holder *h, enum history_type type, const void *data, size_t len);
void holder_state_size_update(struct holder *h);

#endif
