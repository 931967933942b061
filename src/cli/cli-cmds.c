/*
 * cli-cmds.c: the body of each roost verb. Each parses its own flags,
 * resolves sessions, talks to holders and prints; errors go through
 * cli_error so every failure has a message and a documented exit code.
 */
#include "common/compat.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "history/history-export.h"

static bool
cli_cmd_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A numeric environment setting: 1 and *out if set, 0 if unset, or -ERR_USAGE (reported). */
static int
cli_cmd_env_number(const char *name, long min, long max, long *out)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		return 0;
	if (!cli_cmd_number(v, min, max, out)) {
		cli_error(-ERR_USAGE, "bad %s '%s': a number from %ld to %ld expected", name, v, min,
			  max);
		return -ERR_USAGE;
	}
	return 1;
}

/* Parse a detach key: "^\", "^X" (control), a single character, or "none". */
static bool
cli_cmd_key(const char *s, int *key)
{
	if (strcmp(s, "none") == 0) {
		*key = -1;
		return true;
	}
	if (s[0] == '^' && s[1] != '\0' && s[2] == '\0') {
		char c = s[1];

		if (c == '?') {
			*key = 0x7f;
			return true;
		}
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < '@' || c > '_')
			return false;
		*key = c - '@';
		return true;
	}
	if (s[0] != '\0' && s[1] == '\0') {
		*key = (unsigned char)s[0];
		return true;
	}
	return false;
}

/* An option getopt did not accept: name it, then the usage. */
static int
cli_cmd_usage(char **argv, const char *usage)
{
	const char *bad = argv[optind - 1];

	/* optopt names a short option (unknown, or missing its argument); else a long one. */
	if (optopt > 0 && optopt < 128 && bad[1] != '-')
		cli_error(-ERR_USAGE, "bad option '-%c' or missing argument", optopt);
	else
		cli_error(-ERR_USAGE, "bad option '%s' or missing argument", bad);
	fprintf(stderr, "usage: roost %s\n", usage);
	return err_exit_code(-ERR_USAGE);
}

static int
cli_cmd_resolve(struct cli_ctx *ctx, const char *ref, struct cli_session *s)
{
	char *cause = NULL;
	int rc = cli_session_resolve(ctx, ref, s, &cause);

	if (rc != 0) {
		rc = cli_error(rc, "%s", cause);
		free(cause);
		return rc;
	}
	return 0;
}

int
cli_cmd_new(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 's'},
		{"detach", no_argument, NULL, 'd'},
		{"cwd", required_argument, NULL, 'C'},
		{"env", required_argument, NULL, 'e'},
		{"linger", required_argument, NULL, 'L'},
		{"record-input", no_argument, NULL, 'I'},
		{"detach-key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct cli_new_opts o;
	struct cli_session s;
	char *cause = NULL, cwd[PATH_MAX], *shell_argv[2];
	bool detach = false;
	int opt, rc, key = 0x1c;
	long v;

	memset(&o, 0, sizeof o);
	o.linger = 60;
	/* Environment overrides (docs/cli.md); flags win over them. */
	if ((rc = cli_cmd_env_number("ROOST_LINGER", 0, 86400L * 365, &v)) < 0)
		return err_exit_code(rc);
	if (rc > 0)
		o.linger = (int)v;
	if ((rc = cli_cmd_env_number("ROOST_HISTORY_CAP", 0, LONG_MAX, &v)) < 0)
		return err_exit_code(rc);
	if (rc > 0)
		o.history_cap = getenv("ROOST_HISTORY_CAP");
	if ((rc = cli_cmd_env_number("ROOST_SYNC_MS", 1, 3600000, &v)) < 0)
		return err_exit_code(rc);
	if (rc > 0)
		o.sync_ms = getenv("ROOST_SYNC_MS");
	o.env = xcalloc((size_t)argc + 1, sizeof *o.env);
	o.cols = 80;
	o.rows = 24;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+s:dC:e:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.name = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'C':
			o.cwd = optarg;
			break;
		case 'e':
			if (optarg[0] == '=' || strchr(optarg, '=') == NULL) {
				free(o.env);
				return cli_error(-ERR_USAGE, "bad environment setting '%s': use -e KEY=VALUE", optarg);
			}
			o.env[o.nenv++] = optarg;
			break;
		case 'L':
			if (!cli_cmd_number(optarg, 0, 86400L * 365, &v)) {
				free(o.env);
				return cli_error(-ERR_USAGE, "bad linger '%s': seconds expected", optarg);
			}
			o.linger = (int)v;
			break;
		case 'I':
			o.record_input = true;
			break;
		case 'k':
			if (!cli_cmd_key(optarg, &key)) {
				free(o.env);
				return cli_error(-ERR_USAGE, "bad detach key '%s'", optarg);
			}
			break;
		default:
			free(o.env);
			return cli_cmd_usage(argv, "new [-s NAME] [-d] [-C DIR] [-e K=V]... [-- CMD [ARG]...]");
		}
	}
	if (!detach && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		free(o.env);
		return cli_error(-ERR_USAGE, "not a terminal: use -d to start the session detached");
	}
	if (optind < argc) {
		o.argv = argv + optind;
	} else {
		const char *sh = getenv("SHELL");

		shell_argv[0] = (char *)(sh != NULL && sh[0] != '\0' ? sh : "/bin/sh");
		shell_argv[1] = NULL;
		o.argv = shell_argv;
	}
	if (o.cwd == NULL) {
		if (getcwd(cwd, sizeof cwd) == NULL) {
			free(o.env);
			return cli_error(-ERR_FAIL, "cannot read the current directory: %s", strerror(errno));
		}
		o.cwd = cwd;
	}
	if (isatty(STDIN_FILENO)) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
			o.cols = ws.ws_col > PROTO_MAX_SIZE ? PROTO_MAX_SIZE : ws.ws_col;
			o.rows = ws.ws_row > PROTO_MAX_SIZE ? PROTO_MAX_SIZE : ws.ws_row;
		}
	}
	rc = cli_session_create(ctx, &o, &s, &cause);
	free(o.env);
	if (rc != 0) {
		rc = cli_error(rc, "%s", cause ? cause : err_message(rc));
		free(cause);
		return rc;
	}
	if (detach) {
		printf("%s\n", s.name);
		rc = 0;
	} else {
		rc = cli_attach_run(&s, false, key);
	}
	cli_session_release(&s);
	return rc;
}

int
cli_cmd_attach(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"read-only", no_argument, NULL, 'r'},
		{"detach-key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct cli_session s;
	bool ro = false;
	int opt, rc, key = 0x1c;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "r", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ro = true;
			break;
		case 'k':
			if (!cli_cmd_key(optarg, &key))
				return cli_error(-ERR_USAGE, "bad detach key '%s': use ^X, a character or none", optarg);
			break;
		default:
			return cli_cmd_usage(argv, "attach [-r] [--detach-key KEY] NAME");
		}
	}
	if (argc - optind != 1)
		return cli_error(-ERR_USAGE, "usage: roost attach [-r] [--detach-key KEY] NAME");
	if ((rc = cli_cmd_resolve(ctx, argv[optind], &s)) != 0)
		return rc;
	rc = cli_attach_run(&s, ro, key);
	cli_session_release(&s);
	return rc;
}

static void
cli_cmd_state(const struct cli_info *info, char *out, size_t len)
{
	if (info->busy)
		snprintf(out, len, "running (busy)");
	else if (info->lost)
		snprintf(out, len, "lost");
	else if (!info->exited)
		snprintf(out, len, "running");
	else if (WIFSIGNALED(info->wstatus))
		snprintf(out, len, "exited (signal %d)", WTERMSIG(info->wstatus));
	else
		snprintf(out, len, "exited (%d)", WEXITSTATUS(info->wstatus));
}

static void
cli_cmd_time(int64_t ms, char *out, size_t len, bool iso)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (iso) {
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		localtime_r(&t, &tm);
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
	}
}

int
cli_cmd_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct cli_session *list;
	bool json = false;
	json_t *arr = NULL;
	size_t n, i;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else
			return cli_cmd_usage(argv, "ls [--json]");
	}
	if (optind != argc)
		return cli_error(-ERR_USAGE, "usage: roost ls [--json]");
	if ((rc = cli_session_list(ctx, &list, &n)) != 0)
		return cli_error(rc, "cannot list sessions: %s", err_message(rc));
	if (json)
		arr = json_array();
	else
		printf("%-16s %-12s %-8s %-18s %-7s %-10s %-19s %-24s %s\n", "NAME", "ID", "PID",
		       "STATE", "CLIENTS", "BYTES", "CREATED", "CWD", "COMMAND");
	for (i = 0; i < n; i++) {
		struct cli_session *s = &list[i];
		struct cli_info info;
		char state[48], when[32], pid[24], bytes[24], *cmd;

		cli_session_info(s, &info);
		cli_cmd_state(&info, state, sizeof state);
		cmd = cli_session_command(s);
		if (json) {
			json_t *argvj = json_array(), *o;
			size_t k;

			for (k = 0; s->argv[k] != NULL; k++)
				json_array_append_new(argvj, json_string(s->argv[k]));
			cli_cmd_time(s->created, when, sizeof when, true);
			o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:i}", "name", s->name,
				      "id", s->id, "command", argvj, "cwd", s->cwd, "created", when,
				      "state", info.lost ? "lost" : info.exited ? "exited" : "running",
				      "holder", info.running, "clients", info.clients);
			if (o != NULL) {
				json_object_set_new(o, "pid", info.pid > 0 ? json_integer(info.pid) : json_null());
				json_object_set_new(o, "exit_status",
						    info.exited ? json_integer(WIFSIGNALED(info.wstatus) ? 128 + WTERMSIG(info.wstatus) : WEXITSTATUS(info.wstatus)) : json_null());
				json_object_set_new(o, "bytes", info.bytes >= 0 ? json_integer(info.bytes) : json_null());
				if (info.busy)
					json_object_set_new(o, "note", json_string(info.busy_why));
				json_array_append_new(arr, o);
			}
		} else {
			cli_cmd_time(s->created, when, sizeof when, false);
			if (info.pid > 0)
				snprintf(pid, sizeof pid, "%ld", info.pid);
			else
				snprintf(pid, sizeof pid, "-");
			if (info.bytes >= 0)
				snprintf(bytes, sizeof bytes, "%lld", info.bytes);
			else
				snprintf(bytes, sizeof bytes, "-");
			printf("%-16s %-12s %-8s %-18s %-7d %-10s %-19s %-24s %s\n", s->name, s->id,
			       pid, state, info.clients, bytes, when, s->cwd, cmd);
		}
		free(cmd);
		cli_session_release(s);
	}
	free(list);
	if (json) {
		char *text = json_dumps(arr, JSON_INDENT(2));

		printf("%s\n", text);
		free(text);
		json_decref(arr);
	}
	return 0;
}

static const struct {
	const char *name;
	int sig;
} cli_cmd_signals[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
	{"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"CONT", SIGCONT},
	{"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM},
};

static int
cli_cmd_signal_parse(const char *s)
{
	size_t i;
	long v;

	if (cli_cmd_number(s, 1, NSIG - 1, &v))
		return (int)v;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < nitems(cli_cmd_signals); i++)
		if (strcasecmp(s, cli_cmd_signals[i].name) == 0)
			return cli_cmd_signals[i].sig;
	return -1;
}

/* Connect as a control client (not attached); returns 0 or an exit code already reported. */
static int
cli_cmd_control(struct cli_session *s, struct cli_link *l)
{
	if (cli_link_open(l, s->sock) != 0)
		return cli_error(-ERR_STATE, "session '%s' is not running", s->name);
	cli_link_set_timeout(l, CLI_CONTROL_TIMEOUT);
	if (cli_link_hello(l, 0, 0, 0) != 0) {
		cli_link_close(l);
		return cli_error(-ERR_IO, "cannot talk to session '%s'", s->name);
	}
	return 0;
}

int
cli_cmd_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_session s;
	struct cli_link l;
	struct proto_frame f;
	const char *cause = NULL;
	unsigned char p[4];
	int opt, rc, sig = SIGHUP;

	optind = 1;
	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's')
			return cli_cmd_usage(argv, "kill [-s SIGNAL] NAME");
		if ((sig = cli_cmd_signal_parse(optarg)) < 0)
			return cli_error(-ERR_USAGE, "unknown signal '%s'", optarg);
	}
	if (argc - optind != 1)
		return cli_error(-ERR_USAGE, "usage: roost kill [-s SIGNAL] NAME");
	if ((rc = cli_cmd_resolve(ctx, argv[optind], &s)) != 0)
		return rc;
	if ((rc = cli_cmd_control(&s, &l)) != 0)
		goto out;
	proto_put32(p, (uint32_t)sig);
	if (cli_link_send(&l, PROTO_SIGNAL, p, sizeof p) != 0 || cli_link_recv(&l, &f, &cause) != 1) {
		rc = cli_error(-ERR_IO, "no answer from session '%s'", s.name);
	} else if (f.type == PROTO_ERROR) {
		rc = cli_error(-ERR_STATE, "cannot signal session '%s': %.*s", s.name, (int)f.len, f.data);
	}
	cli_link_close(&l);
out:
	cli_session_release(&s);
	return rc;
}

int
cli_cmd_send(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"enter", no_argument, NULL, 'E'},
		{NULL, 0, NULL, 0},
	};
	struct cli_session s;
	struct cli_link l;
	struct proto_frame f;
	const char *cause;
	struct buf b;
	bool enter = false;
	int opt, rc, i;
	size_t off;

	/* Permuting: --enter may follow the text; "--" ends options for text starting with '-'. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'E')
			return cli_cmd_usage(argv, "send NAME TEXT... [--enter]");
		enter = true;
	}
	if (argc - optind < 1 || (argc - optind < 2 && !enter))
		return cli_error(-ERR_USAGE, "usage: roost send NAME TEXT... [--enter]");
	if ((rc = cli_cmd_resolve(ctx, argv[optind], &s)) != 0)
		return rc;
	buf_init(&b, 0);
	for (i = optind + 1; i < argc; i++) {
		if (i > optind + 1)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	if (enter)
		buf_addc(&b, '\r');
	if ((rc = cli_cmd_control(&s, &l)) != 0)
		goto out;
	for (off = 0; off < b.len && rc == 0; off += PROTO_MAX_INPUT) {
		size_t n = b.len - off < PROTO_MAX_INPUT ? b.len - off : PROTO_MAX_INPUT;

		if (cli_link_send(&l, PROTO_INPUT, b.data + off, n) != 0)
			rc = cli_error(-ERR_IO, "cannot send to session '%s'", s.name);
	}
	/* An INFO round trip proves the holder has taken the input. */
	if (rc == 0 && (cli_link_send(&l, PROTO_INFO_REQ, NULL, 0) != 0 ||
			cli_link_recv(&l, &f, &cause) != 1))
		rc = cli_error(-ERR_IO, "no answer from session '%s'", s.name);
	else if (rc == 0 && f.type == PROTO_NOTICE)
		rc = cli_error(-ERR_STATE, "session '%s': %.*s", s.name, (int)f.len, f.data);
	cli_link_close(&l);
out:
	buf_release(&b);
	cli_session_release(&s);
	return rc;
}

static int
cli_cmd_write(const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int
cli_cmd_capture(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ansi", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct cli_session s;
	struct cli_link l;
	struct proto_frame f;
	const char *cause;
	unsigned char p[4];
	char *path = NULL, *text = NULL;
	bool ansi = false;
	size_t len;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "e", opts, NULL)) != -1) {
		if (opt != 'a' && opt != 'e')
			return cli_cmd_usage(argv, "capture [--ansi] NAME");
		ansi = true;
	}
	if (argc - optind != 1)
		return cli_error(-ERR_USAGE, "usage: roost capture [--ansi] NAME");
	if ((rc = cli_cmd_resolve(ctx, argv[optind], &s)) != 0)
		return rc;
	if (cli_link_open(&l, s.sock) == 0) {
		cli_link_set_timeout(&l, CLI_CONTROL_TIMEOUT);
		proto_put32(p, ansi ? PROTO_SCREEN_ANSI : 0);
		f.type = 0;
		if (cli_link_hello(&l, 0, 0, 0) == 0 &&
		    cli_link_send(&l, PROTO_SCREEN_REQ, p, sizeof p) == 0 &&
		    cli_link_recv(&l, &f, &cause) == 1 && f.type == PROTO_SCREEN) {
			cli_cmd_write((const char *)f.data, f.len);
			cli_link_close(&l);
			goto out;
		}
		if (f.type == PROTO_ERROR)
			rc = cli_error(-ERR_CONNECT, "session '%s' refused: %.*s", s.name, (int)f.len,
				       f.data);
		else
			rc = cli_error(-ERR_CONNECT, "session '%s' did not answer", s.name);
		cli_link_close(&l);
		goto out;
	}
	/* The holder is gone: the final screen it saved. */
	path = xasprintf("%s/%s", s.dir, ansi ? "screen.ansi" : "screen.txt");
	if ((rc = path_read_file(path, 64 * 1024 * 1024, &text, &len)) != 0) {
		rc = cli_error(-ERR_NOENT, "no screen saved for session '%s' (its holder was killed); "
				  "see roost history --format text", s.name);
		goto out;
	}
	cli_cmd_write(text, len);
out:
	free(text);
	free(path);
	cli_session_release(&s);
	return rc;
}

static void
cli_cmd_warn(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "roost: warning: %s\n", msg);
}

int
cli_cmd_history(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"tail", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct history_export_opts eo;
	struct cli_session s;
	struct cli_info info;
	char *dir, *cause = NULL;
	int opt, rc;
	long v;

	memset(&eo, 0, sizeof eo);
	eo.format = HISTORY_FORMAT_RAW;
	eo.tail = -1;
	eo.warn = cli_cmd_warn;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (history_format_parse(optarg, &eo.format) != 0)
				return cli_error(-ERR_USAGE, "unknown format '%s': use raw, text or asciicast", optarg);
			break;
		case 'n':
			if (!cli_cmd_number(optarg, 0, LONG_MAX, &v))
				return cli_error(-ERR_USAGE, "bad --tail '%s': a number of lines expected", optarg);
			eo.tail = v;
			break;
		default:
			return cli_cmd_usage(argv, "history NAME [--format raw|text|asciicast] [--tail N]");
		}
	}
	if (argc - optind != 1)
		return cli_error(-ERR_USAGE, "usage: roost history NAME [--format raw|text|asciicast] [--tail N]");
	if ((rc = cli_cmd_resolve(ctx, argv[optind], &s)) != 0)
		return rc;
	cli_session_info(&s, &info);
	eo.cols = info.cols > 0 ? info.cols : 80;
	eo.rows = info.rows > 0 ? info.rows : 24;
	dir = xasprintf("%s/log", s.dir);
	rc = history_export(dir, &eo, STDOUT_FILENO, &cause);
	if (rc != 0 && cause != NULL)
		rc = cli_error(rc, "%s", cause);
	else if (rc != 0)
		rc = err_exit_code(rc);
	free(cause);
	free(dir);
	cli_session_release(&s);
	return rc;
}

static int
cli_cmd_wait_status(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

int
cli_cmd_wait(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_session s;
	struct cli_info info;
	struct cli_link l;
	struct proto_frame f;
	const char *cause = NULL;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cli_error(-ERR_USAGE, "usage: roost wait NAME");
	if ((rc = cli_cmd_resolve(ctx, argv[1], &s)) != 0)
		return rc;
	if (cli_link_open(&l, s.sock) == 0) {
		if (cli_link_hello(&l, 0, 0, 0) == 0 && cli_link_send(&l, PROTO_WAIT, NULL, 0) == 0) {
			while ((rc = cli_link_recv(&l, &f, &cause)) == 1) {
				if (f.type == PROTO_EXIT) {
					rc = cli_cmd_wait_status((int)proto_get32(f.data));
					cli_link_close(&l);
					goto out;
				}
			}
		}
		cli_link_close(&l);
	}
	/* No holder (or it went away while we waited): what it left on disk. */
	cli_session_info(&s, &info);
	if (info.exited && !info.running)
		rc = cli_cmd_wait_status(info.wstatus);
	else
		rc = cli_error(-ERR_STATE, "session '%s' was lost: no exit status recorded", s.name);
out:
	cli_session_release(&s);
	return rc;
}
