/*
 * holder-pty.c: the PTY and the program on it. The program gets its own
 * session with the PTY as controlling terminal; an exec (or chdir) failure
 * comes back through a close-on-exec pipe so the creator can report it.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "holder/holder.h"

/* What the child reports on the error pipe before it dies. */
struct holder_pty_failure {
	int phase; /* 0 chdir, 1 exec */
	int errnum;
};

static noreturn_fn void
holder_pty_child(struct holder *h, const char *slave_name, int errfd)
{
	struct holder_pty_failure f;
	sigset_t none;
	int fd, i;

	setsid();
	fd = open(slave_name, O_RDWR);
	if (fd < 0)
		_exit(126);
	ioctl(fd, TIOCSCTTY, 0);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);

	setenv("TERM", "xterm-256color", 1);
	setenv("ROOST_SESSION", h->id, 1);
	for (i = 0; h->env != NULL && h->env[i] != NULL; i++)
		putenv(h->env[i]);

	if (h->cwd != NULL && chdir(h->cwd) != 0) {
		f.phase = 0;
		f.errnum = errno;
		(void)!write(errfd, &f, sizeof f);
		_exit(126);
	}
	if (h->cwd != NULL)
		setenv("PWD", h->cwd, 1);
	execvp(h->argv[0], h->argv);
	f.phase = 1;
	f.errnum = errno;
	(void)!write(errfd, &f, sizeof f);
	_exit(errno == ENOENT ? 127 : 126);
}

int
holder_pty_start(struct holder *h, char **cause)
{
	struct holder_pty_failure f;
	struct winsize ws;
	char slave_name[128];
	int master = -1, pipefd[2] = {-1, -1}, rc = 0;
	ssize_t n;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
	    ptsname_r(master, slave_name, sizeof slave_name) != 0) {
		*cause = xasprintf("cannot open a pty: %s", strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	memset(&ws, 0, sizeof ws);
	ws.ws_col = (unsigned short)h->cols;
	ws.ws_row = (unsigned short)h->rows;
	ioctl(master, TIOCSWINSZ, &ws);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot create a pipe: %s", strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		*cause = xasprintf("cannot fork: %s", strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	if (pid == 0) {
		close(master);
		close(pipefd[0]);
		holder_pty_child(h, slave_name, pipefd[1]);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	do
		n = read(pipefd[0], &f, sizeof f);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof f) {
		waitpid(pid, NULL, 0);
		if (f.phase == 0) {
			*cause = xasprintf("cannot change directory to '%s': %s", h->cwd,
					   strerror(f.errnum));
			rc = err_from_errno(f.errnum);
		} else {
			*cause = xasprintf("cannot execute '%s': %s", h->argv[0],
					   strerror(f.errnum));
			rc = f.errnum == ENOENT ? -ERR_NOCMD : -ERR_NOEXEC;
		}
		goto out;
	}
	h->child = pid;
	h->pty_fd = master;
	master = -1;
	fcntl(h->pty_fd, F_SETFL, fcntl(h->pty_fd, F_GETFL) | O_NONBLOCK);
out:
	if (master >= 0)
		close(master);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return rc;
}

void
holder_pty_resize(struct holder *h, int cols, int rows)
{
	struct winsize ws;

	if (cols == h->cols && rows == h->rows)
		return;
	h->cols = cols;
	h->rows = rows;
	if (h->pty_fd >= 0) {
		memset(&ws, 0, sizeof ws);
		ws.ws_col = (unsigned short)cols;
		ws.ws_row = (unsigned short)rows;
		ioctl(h->pty_fd, TIOCSWINSZ, &ws);
	}
}
