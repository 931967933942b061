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

#define HOLDER_READ_SIZE (64 * 1024)       /* one PTY read */
#define HOLDER_VT_RING (1024 * 1024)       /* output the screen has not consumed yet */
#define HOLDER_VT_TAIL (256 * 1024)        /* replayed after the screen fell off the ring */
#define HOLDER_VT_QUIET_MS 1               /* output pause after which the screen catches up */
#define HOLDER_VT_IDLE_SLICE (64 * 1024)   /* screen work per loop turn during a pause */
#define HOLDER_PEER_QUEUE (1024 * 1024)    /* a client further behind than this lags */
#define HOLDER_MAX_PEERS 64
#define HOLDER_INPUT_QUEUE (256 * 1024)    /* input waiting for the PTY */

struct holder_peer {
	int fd;
	uint32_t flags;          /* PROTO_ATTACH, PROTO_READONLY once HELLO is seen */
	bool hello;              /* HELLO received */
	bool dead;               /* close at the next safe point */
	bool lagging;            /* fell behind; gets a fresh screen once drained */
	bool waiting;            /* sent WAIT: gets EXIT when the program exits */
	bool close_after_flush;  /* ERROR or DETACH: close once the queue drains */
	int cols, rows;          /* its terminal size (attached clients) */
	uint64_t active_ns;      /* last input/resize/attach: size follows the latest */
	struct proto_decoder dec;
	char *q;                 /* unsent output: whole frames, from qstart to qend */
	size_t qstart, qend, qcap;
	size_t qframe_left;      /* bytes left of the frame at qstart, 0 at a boundary */
	uint64_t skipped;        /* output bytes skipped while lagging */
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
	bool hw_dirty;
	uint64_t last_sync_ns;

	struct vt *vt;
	struct vt_modes modes; /* sees every output byte */
	char *vring;           /* HOLDER_VT_RING bytes */
	uint64_t vr_head;      /* output bytes put in the ring */
	uint64_t vr_done;      /* output bytes the screen has consumed */
	bool vr_resync;
	bool vt_quiet;         /* no output since the last idle poll: the screen may work */
	uint64_t vt_resyncs;

	char *inq;             /* input waiting for the PTY */
	size_t inq_len;

	struct holder_peer *peers[HOLDER_MAX_PEERS];
	int npeers;

	char *rbuf;            /* HOLDER_READ_SIZE */
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
void holder_peer_output(struct holder *h, const char *data, size_t len);
void holder_peer_broadcast_exit(struct holder *h);
void holder_peer_reap(struct holder *h);
int holder_peer_attached(const struct holder *h);

/* holder-state.c */
void holder_state_vt_step(struct holder *h, size_t budget);
void holder_state_vt_sync(struct holder *h);
void holder_state_vt_add(struct holder *h, const char *data, size_t len);
int holder_state_render(struct holder *h, bool ansi, struct buf *out);
void holder_state_info(struct holder *h, struct buf *out);
void holder_state_save_final(struct holder *h);
void holder_state_log(struct holder *h, enum history_type type, const void *data, size_t len);
void holder_state_size_update(struct holder *h);

#endif
