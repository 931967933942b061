/*
 * holder.c: the holder's start-up and loop. One process per session, started
 * by the CLI (later the daemon) and detached from it; it reports readiness or
 * the program's exec failure on --ready-fd, then runs poll() over the PTY,
 * its listening socket, a signalfd and its peers until the program has
 * exited and no client has been attached for the linger period.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "holder/holder.h"

static noreturn_fn void
holder_usage(void)
{
	fprintf(stderr, "usage: roost-holder --id ID --dir DIR --socket PATH [--ready-fd N] "
			"[--cols C] [--rows R] [--linger SEC] [--cwd DIR] [--env K=V]... "
			"[--record-input] [--segment-size BYTES] [--cap BYTES] [--sync-ms MS] "
			"-- COMMAND [ARG]...\n");
	exit(2);
}

static long
holder_number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "roost-holder: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void
holder_ready(int fd, const char *fmt, ...) printflike(2, 3);

static void
holder_ready(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int
holder_listen(struct holder *h, char **cause)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(h->sock_path) >= sizeof sa.sun_path) {
		*cause = xasprintf("socket path too long: '%s'", h->sock_path);
		return -ERR_INVAL;
	}
	strncpy(sa.sun_path, h->sock_path, sizeof sa.sun_path - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*cause = xasprintf("cannot create socket: %s", strerror(errno));
		return err_from_errno(errno);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		*cause = xasprintf("cannot bind '%s': %s", h->sock_path, strerror(errno));
		close(fd);
		return err_from_errno(errno);
	}
	chmod(h->sock_path, 0600);
	if (listen(fd, 64) != 0) {
		*cause = xasprintf("cannot listen on '%s': %s", h->sock_path, strerror(errno));
		close(fd);
		unlink(h->sock_path);
		return err_from_errno(errno);
	}
	h->listen_fd = fd;
	return 0;
}

/* The program has exited: take the output it left, record, save, tell clients. */
static void
holder_child_exited(struct holder *h, int wstatus)
{
	char st[32];

	h->exited = true;
	h->wstatus = wstatus;
	h->exited_ns = holder_now_ns();
	snprintf(st, sizeof st, "%d", wstatus);
	holder_state_log(h, HISTORY_EXIT, st, strlen(st));
	history_writer_sync(h->hw);
	h->hw_dirty = false;
	holder_state_save_final(h);
	holder_peer_broadcast_exit(h);
	log_info("program exited with wait status %d", wstatus);
}

/* Read the PTY straight into the ring; then log, clients, modes. */
static void
holder_pty_read(struct holder *h)
{
	size_t pos = (size_t)(h->out_head % HOLDER_RING);
	size_t room = HOLDER_RING - pos < HOLDER_READ_SIZE ? HOLDER_RING - pos : HOLDER_READ_SIZE;
	char *p = h->ring + pos;
	ssize_t n;

	do
		n = read(h->pty_fd, p, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* EIO: every slave fd is closed. */
		close(h->pty_fd);
		h->pty_fd = -1;
		return;
	}
	h->vt_quiet = false;
	h->ring_touched = true;
	h->last_output_ns = holder_now_ns();
	h->out_head += (uint64_t)n;
	holder_state_log(h, HISTORY_OUTPUT, p, (size_t)n);
	holder_state_vt_add(h, p, (size_t)n);
	holder_peer_output(h);
}

static void
holder_pty_write(struct holder *h)
{
	ssize_t n;

	do
		n = write(h->pty_fd, h->inq, h->inq_len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return;
	memmove(h->inq, h->inq + n, h->inq_len - (size_t)n);
	h->inq_len -= (size_t)n;
}

static void
holder_signals(struct holder *h)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(h->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("terminating on signal %u", si.ssi_signo);
			h->terminating = true;
			h->linger = 0;
			if (!h->exited)
				kill(-h->child, SIGHUP);
		}
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != h->child || h->exited)
			continue;
		/* Take what the program wrote before it went. */
		if (h->pty_fd >= 0) {
			int i;

			for (i = 0; i < 1024 && h->pty_fd >= 0; i++) {
				uint64_t before = h->out_head;

				holder_pty_read(h);
				if (h->out_head == before)
					break;
			}
		}
		holder_child_exited(h, status);
	}
}

static int
holder_timeout(struct holder *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	/*
	 * The screen catches up once output has paused for HOLDER_VT_QUIET_MS,
	 * then keeps going in slices while the pause lasts; while output flows it
	 * waits (and resynchronises from the tail if it falls off the ring).
	 */
	if (h->vt_done < h->out_head)
		return h->vt_quiet ? 0 : HOLDER_VT_QUIET_MS;
	if (h->hw_dirty)
		next = h->last_sync_ns + (uint64_t)h->sync_ms * 1000000u;
	if (h->ring_touched) {
		uint64_t end = h->last_output_ns + (uint64_t)HOLDER_RING_IDLE_MS * 1000000u;

		if (end < next)
			next = end;
	}
	if (h->exited && holder_peer_attached(h) == 0) {
		uint64_t since = h->exited_ns > h->last_detach_ns ? h->exited_ns : h->last_detach_ns;
		uint64_t end = since + (uint64_t)h->linger * 1000000000u;

		if (end < next)
			next = end;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now) / 1000000u) + 1;
}

static bool
holder_done(struct holder *h, uint64_t now)
{
	uint64_t since;

	if (!h->exited || holder_peer_attached(h) != 0)
		return false;
	since = h->exited_ns > h->last_detach_ns ? h->exited_ns : h->last_detach_ns;
	return now >= since + (uint64_t)h->linger * 1000000000u;
}

static void
holder_loop(struct holder *h)
{
	struct pollfd pfd[3 + HOLDER_MAX_PEERS];
	int n, i, base, timeout;
	uint64_t now;

	for (;;) {
		now = holder_now_ns();
		if (holder_done(h, now))
			break;
		pfd[0].fd = h->sig_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->listen_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = h->pty_fd;
		pfd[2].events = POLLIN | (h->inq_len > 0 ? POLLOUT : 0);
		base = 3;
		for (i = 0; i < h->npeers; i++) {
			struct holder_peer *c = h->peers[i];

			pfd[base + i].fd = c->fd;
			pfd[base + i].events = POLLIN | (holder_peer_wants_write(h, c) ? POLLOUT : 0);
		}
		timeout = holder_timeout(h, now);
		n = poll(pfd, (nfds_t)(base + h->npeers), timeout);
		if (n < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (n <= 0) {
			h->vt_quiet = true;
			holder_state_vt_step(h, HOLDER_VT_IDLE_SLICE);
		} else {
			if (pfd[0].revents & POLLIN)
				holder_signals(h);
			if (h->pty_fd >= 0 && pfd[2].fd == h->pty_fd) {
				if (pfd[2].revents & POLLOUT)
					holder_pty_write(h);
				if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
					holder_pty_read(h);
			}
			for (i = 0; i < h->npeers; i++) {
				struct holder_peer *c = h->peers[i];
				short re = pfd[base + i].revents;

				if (pfd[base + i].fd != c->fd)
					continue;
				if (re & POLLOUT)
					holder_peer_flush(h, c);
				if (re & (POLLIN | POLLHUP | POLLERR))
					holder_peer_read(h, c);
			}
			if (pfd[1].revents & POLLIN)
				holder_peer_accept(h);
		}
		holder_peer_reap(h);
		now = holder_now_ns();
		if (h->ring_touched &&
		    now >= h->last_output_ns + (uint64_t)HOLDER_RING_IDLE_MS * 1000000u &&
		    !holder_state_ring_release(h))
			h->last_output_ns = now; /* a client is still reading it: later */
		if (h->hw_dirty && now >= h->last_sync_ns + (uint64_t)h->sync_ms * 1000000u) {
			history_writer_sync(h->hw);
			h->hw_dirty = false;
			h->last_sync_ns = now;
		}
	}
}

static int
holder_setup_signals(struct holder *h)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	h->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return h->sig_fd < 0 ? -1 : 0;
}

enum {
	OPT_ID = 256,
	OPT_DIR,
	OPT_SOCKET,
	OPT_READY,
	OPT_COLS,
	OPT_ROWS,
	OPT_LINGER,
	OPT_CWD,
	OPT_ENV,
	OPT_RECORD_INPUT,
	OPT_SEGMENT,
	OPT_CAP,
	OPT_SYNC,
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, OPT_ID},
		{"dir", required_argument, NULL, OPT_DIR},
		{"socket", required_argument, NULL, OPT_SOCKET},
		{"ready-fd", required_argument, NULL, OPT_READY},
		{"cols", required_argument, NULL, OPT_COLS},
		{"rows", required_argument, NULL, OPT_ROWS},
		{"linger", required_argument, NULL, OPT_LINGER},
		{"cwd", required_argument, NULL, OPT_CWD},
		{"env", required_argument, NULL, OPT_ENV},
		{"record-input", no_argument, NULL, OPT_RECORD_INPUT},
		{"segment-size", required_argument, NULL, OPT_SEGMENT},
		{"cap", required_argument, NULL, OPT_CAP},
		{"sync-ms", required_argument, NULL, OPT_SYNC},
		{NULL, 0, NULL, 0},
	};
	struct holder hh, *h = &hh;
	char *cause = NULL, *logpath = NULL, *logdir = NULL;
	int ready_fd = -1, nenv = 0, opt, rc, logfd, exitc = 1, i;

	memset(h, 0, sizeof *h);
	h->listen_fd = h->pty_fd = h->sig_fd = -1;
	h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	h->cols = 80;
	h->rows = 24;
	h->linger = 60;
	h->sync_ms = 1000;
	history_opts_init(&h->hopts);
	h->env = xcalloc((size_t)argc + 1, sizeof *h->env);
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ID:
			h->id = optarg;
			break;
		case OPT_DIR:
			h->dir = optarg;
			break;
		case OPT_SOCKET:
			h->sock_path = optarg;
			break;
		case OPT_READY:
			ready_fd = (int)holder_number(optarg, 0, INT_MAX, "fd");
			break;
		case OPT_COLS:
			h->cols = (int)holder_number(optarg, PROTO_MIN_SIZE, PROTO_MAX_SIZE, "cols");
			break;
		case OPT_ROWS:
			h->rows = (int)holder_number(optarg, PROTO_MIN_SIZE, PROTO_MAX_SIZE, "rows");
			break;
		case OPT_LINGER:
			h->linger = (int)holder_number(optarg, 0, 86400 * 365, "linger");
			break;
		case OPT_CWD:
			h->cwd = optarg;
			break;
		case OPT_ENV:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				fprintf(stderr, "roost-holder: bad --env '%s'\n", optarg);
				exit(2);
			}
			h->env[nenv++] = optarg;
			break;
		case OPT_RECORD_INPUT:
			h->record_input = true;
			break;
		case OPT_SEGMENT:
			h->hopts.segment_size =
			    (uint64_t)holder_number(optarg, 4096, 1L << 30, "segment size");
			break;
		case OPT_CAP:
			h->hopts.cap = (uint64_t)holder_number(optarg, 0, LONG_MAX, "cap");
			break;
		case OPT_SYNC:
			h->sync_ms = (int)holder_number(optarg, 1, 3600000, "sync period");
			break;
		default:
			holder_usage();
		}
	}
	if (h->id == NULL || h->dir == NULL || h->sock_path == NULL || optind >= argc)
		holder_usage();
	h->argv = argv + optind;
	if (ready_fd >= 0)
		fcntl(ready_fd, F_SETFD, FD_CLOEXEC);

	logpath = xasprintf("%s/holder.log", h->dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	log_open(logfd >= 0 ? logfd : STDERR_FILENO, LOG_INFO, "roost-holder");

	if (holder_setup_signals(h) != 0) {
		cause = xasprintf("cannot set up signals: %s", strerror(errno));
		rc = -ERR_FAIL;
		goto fail;
	}
	logdir = xasprintf("%s/log", h->dir);
	if ((rc = history_writer_open(logdir, &h->hopts, &h->hw)) != 0) {
		cause = xasprintf("cannot open history '%s': %s", logdir, err_message(rc));
		goto fail;
	}
	h->logdir = logdir;
	h->log_base = history_writer_offset(h->hw);
	h->log_exact = true;
	if ((rc = holder_listen(h, &cause)) != 0)
		goto fail;
	/* Untouched pages cost nothing: an idle holder stays small. */
	h->ring = mmap(NULL, HOLDER_RING, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->ring == MAP_FAILED) {
		h->ring = NULL;
		cause = xasprintf("cannot map the output ring: %s", strerror(errno));
		rc = -ERR_FAIL;
		goto fail;
	}
	h->inq = xmalloc(HOLDER_INPUT_QUEUE);
	h->vt = vt_create(h->cols, h->rows);
	vt_modes_init(&h->modes);
	h->created_ns = holder_now_ns();
	if ((rc = holder_pty_start(h, &cause)) != 0)
		goto fail;
	{
		char rec[64];

		snprintf(rec, sizeof rec, "start pid %ld", (long)h->child);
		holder_state_log(h, HISTORY_MARK, rec, strlen(rec));
		snprintf(rec, sizeof rec, "%dx%d", h->cols, h->rows);
		holder_state_log(h, HISTORY_RESIZE, rec, strlen(rec));
	}
	log_info("session %s started: pid %ld", h->id, (long)h->child);
	holder_ready(ready_fd, "ok %ld\n", (long)h->child);
	if (ready_fd >= 0)
		close(ready_fd);
	ready_fd = -1;

	/* Detach stdio: the holder must not hold the creator's terminal. */
	{
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
	}

	holder_loop(h);
	exitc = 0;
	goto out;

fail:
	exitc = err_exit_code(rc);
	log_error("%s", cause ? cause : err_message(rc));
	holder_ready(ready_fd, "error %d %s\n", exitc, cause ? cause : err_message(rc));
out:
	if (h->listen_fd >= 0) {
		close(h->listen_fd);
		unlink(h->sock_path);
	}
	for (i = 0; i < h->npeers; i++)
		h->peers[i]->dead = true;
	holder_peer_reap(h);
	if (h->hw != NULL)
		history_writer_close(h->hw, true);
	if (h->vt != NULL)
		vt_destroy(h->vt);
	if (h->pty_fd >= 0)
		close(h->pty_fd);
	if (h->ring != NULL)
		munmap(h->ring, HOLDER_RING);
	free(h->inq);
	free(h->env);
	free(cause);
	free(logpath);
	free(logdir);
	return exitc;
}
