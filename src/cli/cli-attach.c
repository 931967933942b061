/*
 * cli-attach.c: `roost attach`: the user's terminal in raw mode, joined to
 * a holder. The holder sends the screen snapshot then live output; the
 * detach key (Ctrl-\ by default) leaves the session running.
 */
#include "common/compat.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"
#include "common/xmalloc.h"

/* Undo whatever modes the program left on the user's terminal, then go to the last line. */
static const char cli_attach_reset[] =
    "\033[r\033[?1049l\033[?25h\033[?1l\033>\033[?2004l\033[?1000l\033[?1002l\033[?1003l"
    "\033[?1005l\033[?1006l\033[?1015l\033[?1004l\033[?9l\033[4l\033[?12l\033[0 q\033[0m"
    "\033[999;1H";

static int
cli_attach_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
cli_attach_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col > PROTO_MAX_SIZE ? PROTO_MAX_SIZE : ws.ws_col;
		*rows = ws.ws_row > PROTO_MAX_SIZE ? PROTO_MAX_SIZE : ws.ws_row;
	}
}

static int
cli_attach_resize(struct cli_link *l)
{
	unsigned char p[4];
	int cols, rows;

	cli_attach_size(&cols, &rows);
	proto_put16(p, (uint16_t)cols);
	proto_put16(p + 2, (uint16_t)rows);
	return cli_link_send(l, PROTO_RESIZE, p, sizeof p);
}

static void
cli_attach_describe_exit(char *out, size_t len, int wstatus)
{
	if (WIFSIGNALED(wstatus))
		snprintf(out, len, "killed by signal %d", WTERMSIG(wstatus));
	else
		snprintf(out, len, "status %d", WEXITSTATUS(wstatus));
}

int
cli_attach_run(struct cli_session *s, bool readonly, int detach_key)
{
	struct termios saved, raw;
	struct cli_link l;
	struct proto_frame f;
	struct pollfd pfd[3];
	const char *cause = NULL;
	char msg[512], inbuf[4096], notice[256];
	sigset_t set;
	int sfd = -1, cols, rows, rc = 0, exitc = 0;
	bool done = false, have_term = false;

	msg[0] = '\0';
	notice[0] = '\0';
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cli_error(-ERR_USAGE, "attach needs a terminal on stdin and stdout");
	if ((rc = cli_link_open(&l, s->sock)) != 0)
		return cli_error(-ERR_STATE, "session '%s' is not running", s->name);
	cli_attach_size(&cols, &rows);
	if (cli_link_hello(&l, PROTO_ATTACH | (readonly ? PROTO_READONLY : 0), cols, rows) != 0) {
		cli_link_close(&l);
		return cli_error(-ERR_IO, "cannot talk to session '%s'", s->name);
	}

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);

	tcgetattr(STDIN_FILENO, &saved);
	raw = saved;
	cfmakeraw(&raw);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	have_term = true;

	while (!done) {
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = l.fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = sfd;
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGWINCH) {
					if (!readonly)
						cli_attach_resize(&l);
				} else {
					snprintf(msg, sizeof msg, "[detached from session %s]",
						 s->name);
					done = true;
				}
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			int n = cli_link_fill(&l);

			if (n == 0) {
				snprintf(msg, sizeof msg, "[lost connection to session %s]",
					 s->name);
				exitc = 1;
				break;
			}
			if (n < 0) {
				snprintf(msg, sizeof msg, "[connection to session %s failed]",
					 s->name);
				exitc = 1;
				break;
			}
			while (!done && (rc = proto_decoder_next(&l.dec, &f, &cause)) == 1) {
				switch (f.type) {
				case PROTO_SCREEN:
				case PROTO_DATA:
					cli_attach_write_all(STDOUT_FILENO, f.data, f.len);
					break;
				case PROTO_EXIT: {
					char how[64];

					cli_attach_describe_exit(how, sizeof how,
								 (int)proto_get32(f.data));
					snprintf(msg, sizeof msg, "[session %s exited: %s]", s->name,
						 how);
					done = true;
					break;
				}
				case PROTO_NOTICE:
					/* Said after detaching: the screen is the program's now. */
					if (f.len > 0 && f.len < sizeof notice) {
						memcpy(notice, f.data, f.len);
						notice[f.len] = '\0';
					}
					break;
				case PROTO_ERROR:
					snprintf(msg, sizeof msg, "[session %s: %.*s]", s->name,
						 (int)(f.len > 400 ? 400 : f.len), f.data);
					exitc = 1;
					done = true;
					break;
				default:
					break;
				}
			}
			if (rc < 0) {
				snprintf(msg, sizeof msg, "[protocol error from session %s: %s]",
					 s->name, cause);
				exitc = 1;
				break;
			}
		}
		if (!done && (pfd[0].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(STDIN_FILENO, inbuf, sizeof inbuf);
			char *key;

			if (n <= 0) {
				snprintf(msg, sizeof msg, "[detached from session %s]", s->name);
				break;
			}
			key = detach_key >= 0 ? memchr(inbuf, detach_key, (size_t)n) : NULL;
			if (key != NULL)
				n = key - inbuf;
			if (n > 0 && !readonly && cli_link_send(&l, PROTO_INPUT, inbuf, (size_t)n) != 0) {
				snprintf(msg, sizeof msg, "[lost connection to session %s]",
					 s->name);
				exitc = 1;
				break;
			}
			if (key != NULL) {
				cli_link_send(&l, PROTO_DETACH, NULL, 0);
				snprintf(msg, sizeof msg, "[detached from session %s]", s->name);
				done = true;
			}
		}
	}

	if (have_term) {
		cli_attach_write_all(STDOUT_FILENO, cli_attach_reset, sizeof cli_attach_reset - 1);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	}
	if (msg[0] != '\0')
		printf("\n%s\n", msg);
	if (notice[0] != '\0' && strncmp(notice, "client too slow", 15) == 0)
		printf("[%s]\n", notice);
	fflush(stdout);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	cli_link_close(&l);
	return exitc;
}
