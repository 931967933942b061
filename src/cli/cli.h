/*
 * cli.h: the roost command-line client. Without a daemon yet, the CLI
 * finds sessions on disk (state/sessions/<id>/meta, state/names/<name>)
 * and talks to each session's holder over its unix socket.
 */
#ifndef ROOST_CLI_H
#define ROOST_CLI_H

#include "common/path.h"
#include "proto/proto.h"

#define CLI_META_MAX (1024 * 1024)

struct cli_ctx {
	struct roost_dirs dirs;
	const char *prog; /* argv[0] of roost, to find roost-holder beside it */
};

struct cli_session {
	char id[PATH_ID_LEN + 1];
	char *name;
	char *dir;      /* state/sessions/<id> */
	char *sock;     /* runtime/s-<id>.sock */
	char **argv;    /* NULL-terminated */
	char *cwd;
	int64_t created; /* unix milliseconds */
};

/* What a holder says about its session, or what is left on disk. */
struct cli_info {
	bool running;       /* a holder answered */
	bool exited;        /* the program exited (holder running or not) */
	bool lost;          /* no holder and no exit status: killed or rebooted */
	bool busy;          /* a holder is there but did not answer (too many clients, wedged) */
	char busy_why[128];
	int wstatus;
	long pid;
	int clients;
	long long bytes;    /* -1 if unknown */
	int cols, rows;
	char title[256];
};

/* cli.c */
int cli_error(int rc, const char *fmt, ...) printflike(2, 3);

/* cli-session.c */
int cli_session_resolve(struct cli_ctx *ctx, const char *ref, struct cli_session *s, char **cause);
int cli_session_load(struct cli_ctx *ctx, const char *id, struct cli_session *s);
void cli_session_release(struct cli_session *s);
int cli_session_list(struct cli_ctx *ctx, struct cli_session **out, size_t *n);
void cli_session_info(struct cli_session *s, struct cli_info *info);
char *cli_session_command(const struct cli_session *s);

struct cli_new_opts {
	const char *name;
	const char *cwd;
	char **env;      /* K=V */
	int nenv;
	char **argv;
	int cols, rows;
	int linger;
	bool record_input;
	const char *history_cap; /* bytes, validated; NULL = the holder's default */
	const char *sync_ms;     /* fdatasync period; NULL = default */
};
int cli_session_create(struct cli_ctx *ctx, const struct cli_new_opts *o, struct cli_session *s,
		       char **cause);

/* cli-link.c: a blocking connection to a holder. */
struct cli_link {
	int fd;
	struct proto_decoder dec;
};
int cli_link_open(struct cli_link *l, const char *sock);
void cli_link_close(struct cli_link *l);
/* Bound every read and write on the link (control requests; never attach). */
void cli_link_set_timeout(struct cli_link *l, int seconds);
#define CLI_CONTROL_TIMEOUT 10 /* seconds a holder has to answer a control request */
int cli_link_send(struct cli_link *l, enum proto_type type, const void *data, size_t len);
int cli_link_hello(struct cli_link *l, uint32_t flags, int cols, int rows);
/* Read into the decoder; returns bytes read, 0 at EOF, or -ERR_x. */
int cli_link_fill(struct cli_link *l);
/* Blocking: next frame (1), EOF (0) or -ERR_x with *cause. */
int cli_link_recv(struct cli_link *l, struct proto_frame *f, const char **cause);

/* cli-attach.c */
int cli_attach_run(struct cli_session *s, bool readonly, int detach_key);

/* cli-cmds.c: one function per verb. */
int cli_cmd_new(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_attach(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_ls(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_kill(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_send(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_capture(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_history(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_wait(struct cli_ctx *ctx, int argc, char **argv);

#endif
