/*
 * cli-session.c: sessions as the CLI finds them on disk without a daemon:
 * state/sessions/<id>/meta (JSON, written once at creation), the name index
 * state/names/<name> (a symlink to the id), and each holder's socket.
 * Also starts holders: double fork, setsid, readiness on a pipe.
 */
#include "common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"

static void
cli_session_paths(struct cli_ctx *ctx, struct cli_session *s)
{
	s->dir = xasprintf("%s/sessions/%s", ctx->dirs.state, s->id);
	s->sock = xasprintf("%s/s-%s.sock", ctx->dirs.runtime, s->id);
}

void
cli_session_release(struct cli_session *s)
{
	size_t i;

	free(s->name);
	free(s->dir);
	free(s->sock);
	free(s->cwd);
	for (i = 0; s->argv != NULL && s->argv[i] != NULL; i++)
		free(s->argv[i]);
	free(s->argv);
	memset(s, 0, sizeof *s);
}

static bool
cli_session_owns_name(struct cli_ctx *ctx, const char *name, const char *id)
{
	char *link = xasprintf("%s/names/%s", ctx->dirs.state, name);
	char cur[PATH_ID_LEN + 2];
	ssize_t n = readlink(link, cur, sizeof cur);

	free(link);
	return n == PATH_ID_LEN && memcmp(cur, id, PATH_ID_LEN) == 0;
}

int
cli_session_load(struct cli_ctx *ctx, const char *id, struct cli_session *s)
{
	json_t *root = NULL, *cmd, *v;
	char *path = NULL, *text = NULL;
	json_error_t jerr;
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	if (!path_id_is_valid(id))
		return -ERR_INVAL;
	memcpy(s->id, id, PATH_ID_LEN + 1);
	cli_session_paths(ctx, s);
	path = xasprintf("%s/meta", s->dir);
	if ((rc = path_read_file(path, CLI_META_MAX, &text, NULL)) != 0)
		goto out;
	root = json_loads(text, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		rc = -ERR_CORRUPT;
		goto out;
	}
	v = json_object_get(root, "name");
	s->name = xstrdup(json_is_string(v) ? json_string_value(v) : s->id);
	if (!cli_session_owns_name(ctx, s->name, s->id)) {
		/* Its name was taken over by a newer session: it goes by its id. */
		free(s->name);
		s->name = xstrdup(s->id);
	}
	v = json_object_get(root, "cwd");
	s->cwd = xstrdup(json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(root, "created");
	s->created = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
	cmd = json_object_get(root, "command");
	s->argv = xcalloc(json_array_size(cmd) + 1, sizeof *s->argv);
	for (i = 0; i < json_array_size(cmd); i++) {
		v = json_array_get(cmd, i);
		s->argv[i] = xstrdup(json_is_string(v) ? json_string_value(v) : "?");
	}
out:
	if (rc != 0) {
		char keep[PATH_ID_LEN + 1];

		memcpy(keep, s->id, sizeof keep);
		cli_session_release(s);
		memcpy(s->id, keep, sizeof keep);
	}
	json_decref(root);
	free(text);
	free(path);
	return rc;
}

int
cli_session_resolve(struct cli_ctx *ctx, const char *ref, struct cli_session *s, char **cause)
{
	char target[PATH_ID_LEN + 2], *link = NULL;
	ssize_t n;
	int rc;

	memset(s, 0, sizeof *s);
	if (!path_name_is_valid(ref)) {
		*cause = xasprintf("invalid session name '%s'", ref);
		return -ERR_INVAL;
	}
	/* A name wins over an id, so that a name which looks like an id still works. */
	link = xasprintf("%s/names/%s", ctx->dirs.state, ref);
	n = readlink(link, target, sizeof target);
	free(link);
	if (n == PATH_ID_LEN) {
		target[n] = '\0';
		if ((rc = cli_session_load(ctx, target, s)) == 0)
			return 0;
	} else if (path_id_is_valid(ref) && cli_session_load(ctx, ref, s) == 0) {
		return 0;
	}
	*cause = xasprintf("no session '%s'", ref);
	return -ERR_NOENT;
}

static int
cli_session_cmp(const void *a, const void *b)
{
	const struct cli_session *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
cli_session_list(struct cli_ctx *ctx, struct cli_session **out, size_t *np)
{
	struct cli_session *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *path;
	DIR *d;

	*out = NULL;
	*np = 0;
	path = xasprintf("%s/sessions", ctx->dirs.state);
	d = opendir(path);
	free(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : err_from_errno(errno);
	while ((de = readdir(d)) != NULL) {
		struct cli_session s;

		if (!path_id_is_valid(de->d_name))
			continue;
		if (cli_session_load(ctx, de->d_name, &s) != 0) {
			cli_session_release(&s);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof *list);
		}
		list[n++] = s;
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof *list, cli_session_cmp);
	*out = list;
	*np = n;
	return 0;
}

static void
cli_session_parse_info(struct cli_info *info, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "pid") == 0)
			info->pid = strtol(eq, NULL, 10);
		else if (strcmp(line, "state") == 0)
			info->exited = strcmp(eq, "exited") == 0;
		else if (strcmp(line, "status") == 0)
			info->wstatus = (int)strtol(eq, NULL, 10);
		else if (strcmp(line, "clients") == 0)
			info->clients = (int)strtol(eq, NULL, 10);
		else if (strcmp(line, "bytes") == 0)
			info->bytes = strtoll(eq, NULL, 10);
		else if (strcmp(line, "cols") == 0)
			info->cols = (int)strtol(eq, NULL, 10);
		else if (strcmp(line, "rows") == 0)
			info->rows = (int)strtol(eq, NULL, 10);
		else if (strcmp(line, "title") == 0)
			snprintf(info->title, sizeof info->title, "%s", eq);
	}
}

/*
 * Ask the holder for INFO: 1 answered, 0 nothing listens (connect refused),
 * 2 it refused us (ERROR) or did not answer in time, -1 it closed without a
 * word (a dying holder, or one that refused before our request arrived).
 */
static int
cli_session_ask(struct cli_session *s, struct cli_info *info)
{
	struct cli_link l;
	struct proto_frame f = {0};
	const char *cause;
	int rc = -ERR_IO, ret = -1;

	if (cli_link_open(&l, s->sock) != 0)
		return 0;
	cli_link_set_timeout(&l, CLI_CONTROL_TIMEOUT);
	if (cli_link_hello(&l, 0, 0, 0) == 0 && cli_link_send(&l, PROTO_INFO_REQ, NULL, 0) == 0)
		rc = cli_link_recv(&l, &f, &cause);
	if (rc == 1 && f.type == PROTO_INFO) {
		char *copy = xstrndup((const char *)f.data, f.len);

		info->running = true;
		cli_session_parse_info(info, copy);
		free(copy);
		ret = 1;
	} else if (rc == 1 && f.type == PROTO_ERROR) {
		snprintf(info->busy_why, sizeof info->busy_why, "%.*s", (int)f.len, f.data);
		ret = 2;
	} else if (rc == -ERR_CONNECT) {
		snprintf(info->busy_why, sizeof info->busy_why, "no answer");
		ret = 2;
	}
	cli_link_close(&l);
	return ret;
}

void
cli_session_info(struct cli_session *s, struct cli_info *info)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	char *path, *text = NULL;
	int i, rc = 0;

	memset(info, 0, sizeof *info);
	info->bytes = -1;
	/*
	 * A connection closed without a word is either a holder dying as we
	 * came (the next connect is refused) or one refusing peers before our
	 * request arrived (the next is accepted again): ask a few times.
	 */
	for (i = 0; i < 3; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		rc = cli_session_ask(s, info);
		if (rc >= 0)
			break;
	}
	if (rc == 1)
		return;
	if (rc == 2 || rc < 0) {
		info->busy = true;
		if (rc < 0)
			snprintf(info->busy_why, sizeof info->busy_why, "refused");
		return;
	}
	/* No holder: what it left on disk says how it ended. */
	path = xasprintf("%s/exit", s->dir);
	if (path_read_file(path, 4096, &text, NULL) == 0) {
		char *nl, *end;
		long long bytes;

		info->exited = true;
		info->wstatus = (int)strtol(text, &nl, 10);
		if (*nl == '\n') {
			bytes = strtoll(nl + 1, &end, 10);
			if (end != nl + 1)
				info->bytes = bytes;
		}
	} else {
		info->lost = true;
	}
	free(text);
	free(path);
}

char *
cli_session_command(const struct cli_session *s)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, "");
	for (i = 0; s->argv[i] != NULL; i++) {
		if (i > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, s->argv[i]);
	}
	return b.data;
}

static char *
cli_session_holder_path(struct cli_ctx *ctx)
{
	const char *env = getenv("ROOST_HOLDER");
	char self[PATH_MAX];
	ssize_t n;

	(void)ctx;
	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			return xasprintf("%s/roost-holder", self);
		}
	}
	return xstrdup("roost-holder");
}

static int64_t
cli_session_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Is a holder answering on this session's socket? */
static bool
cli_session_is_live(struct cli_ctx *ctx, const char *id)
{
	struct cli_link l;
	char *sock = xasprintf("%s/s-%s.sock", ctx->dirs.runtime, id);
	bool live = cli_link_open(&l, sock) == 0;

	if (live)
		cli_link_close(&l);
	free(sock);
	return live;
}

/*
 * Bind name to id under a lock. A name held by a session whose holder is
 * gone is taken over (that session stays reachable by its id).
 */
static int
cli_session_bind_name(struct cli_ctx *ctx, const char *name, const char *id, char **cause)
{
	char *dir = xasprintf("%s/names", ctx->dirs.state), *lockp = NULL, *link = NULL, *tmp = NULL;
	char old[PATH_ID_LEN + 2];
	int lockfd = -1, rc = 0;
	ssize_t n;

	if ((rc = path_mkdir_p(dir)) != 0) {
		*cause = xasprintf("cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	lockp = xasprintf("%s/.lock", dir);
	lockfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
		*cause = xasprintf("cannot lock '%s': %s", lockp, strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	link = xasprintf("%s/%s", dir, name);
	if (symlink(id, link) == 0)
		goto out;
	if (errno != EEXIST) {
		*cause = xasprintf("cannot bind name '%s': %s", name, strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	n = readlink(link, old, sizeof old);
	if (n == PATH_ID_LEN) {
		old[n] = '\0';
		if (cli_session_is_live(ctx, old)) {
			*cause = xasprintf("session '%s' already exists", name);
			rc = -ERR_EXIST;
			goto out;
		}
	}
	tmp = xasprintf("%s/.%s.%ld", dir, name, (long)getpid());
	unlink(tmp);
	if (symlink(id, tmp) != 0 || rename(tmp, link) != 0) {
		*cause = xasprintf("cannot bind name '%s': %s", name, strerror(errno));
		rc = err_from_errno(errno);
		unlink(tmp);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	free(dir);
	free(lockp);
	free(link);
	free(tmp);
	return rc;
}

static void
cli_session_unbind_name(struct cli_ctx *ctx, const char *name, const char *id)
{
	char *link = xasprintf("%s/names/%s", ctx->dirs.state, name);
	char cur[PATH_ID_LEN + 2];
	ssize_t n = readlink(link, cur, sizeof cur);

	if (n == PATH_ID_LEN && memcmp(cur, id, PATH_ID_LEN) == 0)
		unlink(link);
	free(link);
}

/* The lowest number not yet used as a name. */
static char *
cli_session_default_name(struct cli_ctx *ctx)
{
	struct stat sb;
	int i;

	for (i = 1;; i++) {
		char *link = xasprintf("%s/names/%d", ctx->dirs.state, i);
		int gone = lstat(link, &sb) != 0;

		free(link);
		if (gone)
			return xasprintf("%d", i);
	}
}

static int
cli_session_write_meta(struct cli_session *s, const struct cli_new_opts *o)
{
	json_t *root, *cmd, *env;
	char *text, *path;
	int i, rc;

	cmd = json_array();
	for (i = 0; o->argv[i] != NULL; i++)
		json_array_append_new(cmd, json_string(o->argv[i]));
	env = json_array();
	for (i = 0; i < o->nenv; i++)
		json_array_append_new(env, json_string(o->env[i]));
	root = json_pack("{s:s, s:s, s:o, s:s, s:o, s:I, s:i, s:i}", "id", s->id, "name", s->name,
			 "command", cmd, "cwd", s->cwd, "env", env, "created",
			 (json_int_t)s->created, "cols", o->cols, "rows", o->rows);
	if (root == NULL)
		return -ERR_INVAL; /* not UTF-8 */
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return -ERR_INVAL;
	path = xasprintf("%s/meta", s->dir);
	/*
	 * No fdatasync: it cost 1.7 ms of the 2 ms create budget. A meta lost to
	 * a power cut makes the session unlisted, never wrong (its log is intact).
	 */
	rc = path_write_atomic(path, text, strlen(text), false);
	free(path);
	free(text);
	return rc;
}

static int
cli_session_spawn(struct cli_ctx *ctx, const struct cli_new_opts *o, struct cli_session *s,
		  char **cause)
{
	char *holder = cli_session_holder_path(ctx), buf[1100], **av = NULL;
	char num[4][32];
	int pipefd[2] = {-1, -1}, ac = 0, i, rc = 0, status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	for (i = 0; o->argv[i] != NULL; i++)
		;
	/* 24 slots cover the holder's own options; then --env pairs and the command. */
	av = xcalloc((size_t)(24 + 2 * o->nenv + i + 1), sizeof *av);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot create a pipe: %s", strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	snprintf(num[0], sizeof num[0], "%d", pipefd[1]);
	snprintf(num[1], sizeof num[1], "%d", o->cols);
	snprintf(num[2], sizeof num[2], "%d", o->rows);
	snprintf(num[3], sizeof num[3], "%d", o->linger);
	av[ac++] = holder;
	av[ac++] = "--id";
	av[ac++] = s->id;
	av[ac++] = "--dir";
	av[ac++] = s->dir;
	av[ac++] = "--socket";
	av[ac++] = s->sock;
	av[ac++] = "--ready-fd";
	av[ac++] = num[0];
	av[ac++] = "--cols";
	av[ac++] = num[1];
	av[ac++] = "--rows";
	av[ac++] = num[2];
	av[ac++] = "--linger";
	av[ac++] = num[3];
	av[ac++] = "--cwd";
	av[ac++] = s->cwd;
	if (o->record_input)
		av[ac++] = "--record-input";
	if (o->history_cap != NULL) {
		av[ac++] = "--cap";
		av[ac++] = (char *)o->history_cap;
	}
	if (o->sync_ms != NULL) {
		av[ac++] = "--sync-ms";
		av[ac++] = (char *)o->sync_ms;
	}
	for (i = 0; i < o->nenv; i++) {
		av[ac++] = "--env";
		av[ac++] = o->env[i];
	}
	av[ac++] = "--";
	for (i = 0; o->argv[i] != NULL; i++)
		av[ac++] = o->argv[i];
	av[ac] = NULL;

	pid = fork();
	if (pid < 0) {
		*cause = xasprintf("cannot fork: %s", strerror(errno));
		rc = err_from_errno(errno);
		goto out;
	}
	if (pid == 0) {
		/* First child: new session, then fork again so the holder is no session leader. */
		close(pipefd[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		fcntl(pipefd[1], F_SETFD, 0);
		execv(holder, av);
		n = snprintf(buf, sizeof buf, "error 127 cannot execute '%s': %s\n", holder,
			     strerror(errno));
		(void)!write(pipefd[1], buf, (size_t)n);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	waitpid(pid, &status, 0);
	for (;;) {
		n = read(pipefd[0], buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL || len == sizeof buf - 1)
			break;
	}
	buf[len] = '\0';
	if (strncmp(buf, "ok ", 3) == 0)
		goto out;
	if (strncmp(buf, "error ", 6) == 0) {
		char *end, *nl;
		long code = strtol(buf + 6, &end, 10);

		if ((nl = strchr(end, '\n')) != NULL)
			*nl = '\0';
		*cause = xstrdup(*end == ' ' ? end + 1 : end);
		rc = code == 127 ? -ERR_NOCMD : code == 126 ? -ERR_NOEXEC : -ERR_FAIL;
	} else {
		*cause = xstrdup("the session holder did not start");
		rc = -ERR_FAIL;
	}
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(av);
	free(holder);
	return rc;
}

int
cli_session_create(struct cli_ctx *ctx, const struct cli_new_opts *o, struct cli_session *s,
		   char **cause)
{
	char *parent = NULL, real[PATH_MAX];
	struct stat sb;
	bool bound = false;
	int rc;

	memset(s, 0, sizeof *s);
	if (o->name != NULL && !path_name_is_valid(o->name)) {
		*cause = xasprintf("invalid session name '%s': use letters, digits, '.', '_' "
				   "and '-', starting with a letter or digit, at most %d",
				   o->name, PATH_NAME_MAX);
		return -ERR_INVAL;
	}
	if (realpath(o->cwd, real) == NULL || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		*cause = xasprintf("not a directory: '%s'", o->cwd);
		return -ERR_INVAL;
	}
	if ((rc = path_id_generate(s->id)) != 0) {
		*cause = xstrdup("cannot generate a session id");
		return rc;
	}
	cli_session_paths(ctx, s);
	s->cwd = xstrdup(real);
	s->created = cli_session_now_ms();
	parent = xasprintf("%s/sessions", ctx->dirs.state);
	if ((rc = path_mkdir_p(parent)) != 0 || mkdir(s->dir, 0700) != 0) {
		*cause = xasprintf("cannot create '%s': %s", s->dir, strerror(errno));
		rc = rc ? rc : err_from_errno(errno);
		goto out;
	}
	if (o->name != NULL) {
		s->name = xstrdup(o->name);
		if ((rc = cli_session_bind_name(ctx, s->name, s->id, cause)) != 0)
			goto fail;
	} else {
		/* Another CLI may take the same number: try the next. */
		for (;;) {
			s->name = cli_session_default_name(ctx);
			rc = cli_session_bind_name(ctx, s->name, s->id, cause);
			if (rc != -ERR_EXIST)
				break;
			free(*cause);
			*cause = NULL;
			free(s->name);
		}
		if (rc != 0)
			goto fail;
	}
	bound = true;
	if ((rc = cli_session_write_meta(s, o)) != 0) {
		*cause = xasprintf("cannot write session metadata: %s", err_message(rc));
		goto fail;
	}
	if ((rc = cli_session_spawn(ctx, o, s, cause)) != 0)
		goto fail;
	goto out;
fail:
	if (bound)
		cli_session_unbind_name(ctx, s->name, s->id);
	path_remove_tree(s->dir);
	cli_session_release(s);
out:
	free(parent);
	return rc;
}
