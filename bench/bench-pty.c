/*
 * bench-pty.c: the timing half of bench/bench.py. It starts commands with
 * posix_spawn or under a fresh PTY and times them with CLOCK_MONOTONIC, so
 * every terminal multiplexer is measured by the same code. It knows nothing
 * about any particular tool: bench.py passes the command lines.
 *
 *   bench-pty spawn [--out FILE] [--wait-path PATH | --wait-dir DIR --suffix SFX] -- CMD... [;; CMD...]
 *       time from posix_spawn until each CMD in turn exited (stdout of the
 *       first to FILE) and, if asked, PATH exists or a file in DIR ends
 *       with SFX; prints "ns=N status=S ready=R".
 *   bench-pty stream --marker M [--cols C --rows R --timeout S --gate TEXT] -- CMD...
 *       run CMD (an attach client) in a CxR PTY, drain the PTY master as fast
 *       as possible, wait until the client put its tty in raw mode and went
 *       quiet, write TEXT (the gate), and time until M has been read;
 *       --count S counts S in what came after the gate, --detach K types
 *       the client's detach keys at the end (else it is hung up on).
 *   bench-pty first --marker M [--cols C --rows R --timeout S] -- CMD...
 *       time from fork until M has been read (reattach latency).
 * Build: cc -O2 -o bench/out/bench-pty bench/bench-pty.c -lutil
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BENCH_PTY_BUF (256 * 1024)
#define BENCH_PTY_MARKER_MAX 256

static uint64_t
bench_pty_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
bench_pty_sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static int
bench_pty_dir_has_suffix(const char *dir, const char *sfx)
{
	size_t sl = strlen(sfx);
	struct dirent *de;
	int found = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		found = l >= sl && strcmp(de->d_name + l - sl, sfx) == 0;
	}
	closedir(d);
	return found;
}

/* Run one command to completion with stdio on /dev/null (stdout on out if given). */
static int
bench_pty_run(char **argv, const char *out)
{
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out != NULL)
		posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return 127;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
bench_pty_spawn(int argc, char **argv)
{
	const char *wait_path = NULL, *wait_dir = NULL, *suffix = NULL, *out = NULL;
	uint64_t start, deadline;
	int i, j, status = 0, ready = 1;

	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--wait-path") == 0 && i + 1 < argc)
			wait_path = argv[++i];
		else if (strcmp(argv[i], "--wait-dir") == 0 && i + 1 < argc)
			wait_dir = argv[++i];
		else if (strcmp(argv[i], "--suffix") == 0 && i + 1 < argc)
			suffix = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "bench-pty spawn: no command\n");
		return 2;
	}
	argv += i + 1;
	argc -= i + 1;

	/* Commands separated by ";;" run one after the other; only the first gets --out. */
	start = bench_pty_now();
	for (i = 0; i < argc; i = j + 1) {
		for (j = i; j < argc && strcmp(argv[j], ";;") != 0; j++)
			;
		argv[j < argc ? j : argc] = NULL;
		status = bench_pty_run(argv + i, i == 0 ? out : NULL);
		if (status != 0)
			break;
	}
	/* Usable means the socket a client would connect to is there. */
	deadline = bench_pty_now() + 10000000000u;
	if (wait_path != NULL || wait_dir != NULL) {
		ready = 0;
		while (bench_pty_now() < deadline) {
			struct stat sb;

			if (wait_path != NULL && stat(wait_path, &sb) == 0) {
				ready = 1;
				break;
			}
			if (wait_dir != NULL && bench_pty_dir_has_suffix(wait_dir, suffix ? suffix : "")) {
				ready = 1;
				break;
			}
			bench_pty_sleep_us(100);
		}
	}
	printf("ns=%llu status=%d ready=%d\n", (unsigned long long)(bench_pty_now() - start),
	       status, ready);
	return 0;
}

struct bench_pty_child {
	pid_t pid;
	int master;
};

static int
bench_pty_start(struct bench_pty_child *ch, int cols, int rows, char **argv)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	int master, slave;

	if (openpty(&master, &slave, NULL, NULL, &ws) != 0) {
		perror("openpty");
		return -1;
	}
	ch->pid = fork();
	if (ch->pid < 0) {
		perror("fork");
		return -1;
	}
	if (ch->pid == 0) {
		close(master);
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(slave);
	fcntl(master, F_SETFL, O_NONBLOCK);
	ch->master = master;
	return 0;
}

/*
 * Detach the client with its own detach keys (as a user would), else or then
 * hang up on it, and reap it; returns its CPU seconds.
 */
static double
bench_pty_stop(struct bench_pty_child *ch, const char *detach)
{
	struct rusage ru;
	uint64_t deadline;
	int status;
	char buf[4096];

	memset(&ru, 0, sizeof ru);
	if (detach != NULL && write(ch->master, detach, strlen(detach)) > 0) {
		deadline = bench_pty_now() + 2000000000u;
		while (bench_pty_now() < deadline) {
			if (wait4(ch->pid, &status, WNOHANG, &ru) == ch->pid) {
				close(ch->master);
				goto done;
			}
			while (read(ch->master, buf, sizeof buf) > 0)
				;
			bench_pty_sleep_us(1000);
		}
	}
	deadline = bench_pty_now() + 3000000000u;
	close(ch->master);
	kill(ch->pid, SIGHUP);
	for (;;) {
		pid_t r = wait4(ch->pid, &status, WNOHANG, &ru);

		if (r == ch->pid)
			break;
		if (bench_pty_now() > deadline) {
			kill(ch->pid, SIGKILL);
			wait4(ch->pid, &status, 0, &ru);
			break;
		}
		bench_pty_sleep_us(2000);
	}
done:
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Keep the last bytes read so a marker split across reads is still found. */
struct bench_pty_scan {
	const char *marker;
	size_t mlen;
	char tail[2 * BENCH_PTY_MARKER_MAX];
	size_t tlen;
};

static int
bench_pty_scan(struct bench_pty_scan *sc, const char *data, size_t len)
{
	char joined[4 * BENCH_PTY_MARKER_MAX];
	size_t head = len < sc->mlen ? len : sc->mlen, keep;

	/* Marker straddling the previous tail and this read. */
	if (sc->tlen > 0) {
		memcpy(joined, sc->tail, sc->tlen);
		memcpy(joined + sc->tlen, data, head);
		if (memmem(joined, sc->tlen + head, sc->marker, sc->mlen) != NULL)
			return 1;
	}
	if (memmem(data, len, sc->marker, sc->mlen) != NULL)
		return 1;
	keep = sc->mlen - 1;
	if (len >= keep) {
		memcpy(sc->tail, data + len - keep, keep);
		sc->tlen = keep;
	} else {
		size_t drop = sc->tlen + len > keep ? sc->tlen + len - keep : 0;

		memmove(sc->tail, sc->tail + drop, sc->tlen - drop);
		sc->tlen -= drop;
		memcpy(sc->tail + sc->tlen, data, len);
		sc->tlen += len;
	}
	return 0;
}

/* Occurrences of s in data, plus those straddling the previous call's tail. */
static unsigned long long
bench_pty_count(const char *s, char *tail, size_t *tlen, const char *data, size_t len)
{
	size_t sl = strlen(s), head = len < sl - 1 ? len : sl - 1, keep = sl - 1;
	unsigned long long n = 0;
	char joined[2 * BENCH_PTY_MARKER_MAX];
	const char *p = data, *q;

	if (*tlen > 0 && head > 0) {
		memcpy(joined, tail, *tlen);
		memcpy(joined + *tlen, data, head);
		if (memmem(joined, *tlen + head, s, sl) != NULL)
			n++;
	}
	while ((q = memmem(p, len - (size_t)(p - data), s, sl)) != NULL) {
		n++;
		p = q + sl;
	}
	if (len >= keep) {
		memcpy(tail, data + len - keep, keep);
		*tlen = keep;
	} else {
		*tlen = 0; /* a rare tiny read: a straddling match may be missed */
	}
	return n;
}

struct bench_pty_opts {
	const char *marker;
	const char *gate;
	const char *detach; /* keys that detach the client, written before hanging up */
	const char *count;  /* a string to count in the stream after the gate (e.g. a redraw) */
	int cols, rows;
	double timeout;
	char **argv;
};

static int
bench_pty_parse(int argc, char **argv, struct bench_pty_opts *o)
{
	int i;

	memset(o, 0, sizeof *o);
	o->cols = 120;
	o->rows = 40;
	o->timeout = 120;
	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--marker") == 0)
			o->marker = argv[++i];
		else if (strcmp(argv[i], "--gate") == 0)
			o->gate = argv[++i];
		else if (strcmp(argv[i], "--detach") == 0)
			o->detach = argv[++i];
		else if (strcmp(argv[i], "--count") == 0)
			o->count = argv[++i];
		else if (strcmp(argv[i], "--cols") == 0)
			o->cols = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--rows") == 0)
			o->rows = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--timeout") == 0)
			o->timeout = strtod(argv[++i], NULL);
	}
	if (o->count != NULL && (strlen(o->count) < 2 || strlen(o->count) > BENCH_PTY_MARKER_MAX)) {
		fprintf(stderr, "bench-pty: --count needs 2 to %d bytes\n", BENCH_PTY_MARKER_MAX);
		return -1;
	}
	if (o->marker == NULL || strlen(o->marker) == 0 || strlen(o->marker) > BENCH_PTY_MARKER_MAX ||
	    i + 1 >= argc) {
		fprintf(stderr, "bench-pty: --marker M -- CMD... required\n");
		return -1;
	}
	o->argv = argv + i + 1;
	return 0;
}

/* Read what is there; returns bytes read, 0 if none, -1 on hangup. */
static ssize_t
bench_pty_drain(int fd, char *buf, int wait_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	n = read(fd, buf, BENCH_PTY_BUF);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	return n;
}

static int
bench_pty_stream(int argc, char **argv)
{
	struct bench_pty_opts o;
	struct bench_pty_child ch;
	struct bench_pty_scan sc;
	struct termios t;
	uint64_t start, deadline, quiet_since, gate_at = 0, first_at = 0, end_at = 0;
	unsigned long long before = 0, after = 0, counted = 0;
	char ctail[BENCH_PTY_MARKER_MAX];
	size_t ctlen = 0;
	char *buf;
	int found = 0, raw = 0;
	ssize_t n;

	if (bench_pty_parse(argc, argv, &o) != 0)
		return 2;
	buf = malloc(BENCH_PTY_BUF);
	memset(&sc, 0, sizeof sc);
	sc.marker = o.marker;
	sc.mlen = strlen(o.marker);
	if (bench_pty_start(&ch, o.cols, o.rows, o.argv) != 0)
		return 1;
	start = bench_pty_now();
	deadline = start + (uint64_t)(o.timeout * 1e9);
	quiet_since = start;

	/* Attached: the client has put the terminal in raw mode and drawn its screen. */
	while (bench_pty_now() < deadline) {
		n = bench_pty_drain(ch.master, buf, 10);
		if (n < 0)
			break;
		if (n > 0) {
			before += (unsigned long long)n;
			quiet_since = bench_pty_now();
			continue;
		}
		if (!raw && tcgetattr(ch.master, &t) == 0 && !(t.c_lflag & ICANON))
			raw = 1, quiet_since = bench_pty_now();
		if (raw && bench_pty_now() - quiet_since > 300000000u)
			break;
	}
	if (o.gate != NULL) {
		gate_at = bench_pty_now();
		if (write(ch.master, o.gate, strlen(o.gate)) < 0)
			perror("write gate");
	} else {
		gate_at = bench_pty_now();
	}
	while (!found && bench_pty_now() < deadline) {
		n = bench_pty_drain(ch.master, buf, 100);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		if (first_at == 0)
			first_at = bench_pty_now();
		after += (unsigned long long)n;
		if (o.count != NULL)
			counted += bench_pty_count(o.count, ctail, &ctlen, buf, (size_t)n);
		found = bench_pty_scan(&sc, buf, (size_t)n);
		if (found)
			end_at = bench_pty_now();
	}
	/* The marker's own line end may follow in the next read. */
	while (found && (n = bench_pty_drain(ch.master, buf, 50)) > 0)
		after += (unsigned long long)n;
	printf("found=%d raw=%d elapsed_ns=%llu first_ns=%llu before=%llu after=%llu ", found, raw,
	       found ? (unsigned long long)(end_at - gate_at) : 0ULL,
	       first_at ? (unsigned long long)(first_at - gate_at) : 0ULL, before, after);
	printf("counted=%llu client_cpu=%.3f\n", counted, bench_pty_stop(&ch, o.detach));
	free(buf);
	return found ? 0 : 1;
}

static int
bench_pty_first(int argc, char **argv)
{
	struct bench_pty_opts o;
	struct bench_pty_child ch;
	struct bench_pty_scan sc;
	uint64_t start, deadline, end_at = 0;
	unsigned long long got = 0;
	char *buf;
	int found = 0;
	ssize_t n;

	if (bench_pty_parse(argc, argv, &o) != 0)
		return 2;
	buf = malloc(BENCH_PTY_BUF);
	memset(&sc, 0, sizeof sc);
	sc.marker = o.marker;
	sc.mlen = strlen(o.marker);
	start = bench_pty_now();
	if (bench_pty_start(&ch, o.cols, o.rows, o.argv) != 0)
		return 1;
	deadline = start + (uint64_t)(o.timeout * 1e9);
	while (!found && bench_pty_now() < deadline) {
		n = bench_pty_drain(ch.master, buf, 100);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		got += (unsigned long long)n;
		if ((found = bench_pty_scan(&sc, buf, (size_t)n)))
			end_at = bench_pty_now();
	}
	/* Let the client finish drawing before hanging up, so the server sees a clean detach. */
	while ((n = bench_pty_drain(ch.master, buf, 100)) > 0)
		got += (unsigned long long)n;
	printf("found=%d elapsed_ns=%llu bytes=%llu ", found,
	       found ? (unsigned long long)(end_at - start) : 0ULL, got);
	printf("client_cpu=%.3f\n", bench_pty_stop(&ch, o.detach));
	free(buf);
	return found ? 0 : 1;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "spawn") == 0)
		return bench_pty_spawn(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "stream") == 0)
		return bench_pty_stream(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "first") == 0)
		return bench_pty_first(argc - 2, argv + 2);
	fprintf(stderr, "usage: bench-pty spawn|stream|first [OPTIONS] -- CMD...\n");
	return 2;
}
