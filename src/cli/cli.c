/*
 * cli.c: roost's entry point: global flags, the verb table, usage and
 * the one error printer every verb uses.
 */
#include "common/compat.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"

#define ROOST_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*exec)(struct cli_ctx *, int, char **);
	const char *usage;
} cli_verbs[] = {
	{"new", cli_cmd_new, "new [-s NAME] [-d] [-C DIR] [-e K=V]... [--linger SEC] [--record-input] [-- CMD [ARG]...]"},
	{"attach", cli_cmd_attach, "attach [-r] [--detach-key KEY] NAME"},
	{"ls", cli_cmd_ls, "ls [--json]"},
	{"kill", cli_cmd_kill, "kill [-s SIGNAL] NAME"},
	{"send", cli_cmd_send, "send NAME TEXT... [--enter]"},
	{"capture", cli_cmd_capture, "capture [--ansi] NAME"},
	{"history", cli_cmd_history, "history NAME [--format raw|text|asciicast] [--tail N]"},
	{"wait", cli_cmd_wait, "wait NAME"},
};

int
cli_error(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("roost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return err_exit_code(rc);
}

static void
cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: roost [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < nitems(cli_verbs); i++)
		fprintf(f, "  roost %s\n", cli_verbs[i].usage);
	fprintf(f, "\nNAME is a session name or id. See docs/cli.md for details and exit codes.\n");
}

int
main(int argc, char **argv)
{
	struct cli_ctx ctx;
	char *cause = NULL;
	size_t i;
	int rc;

	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("roost %s\n", ROOST_VERSION);
		return 0;
	}
	for (i = 0; i < nitems(cli_verbs); i++)
		if (strcmp(argv[1], cli_verbs[i].name) == 0)
			break;
	if (i == nitems(cli_verbs)) {
		cli_error(-ERR_USAGE, "unknown command '%s'", argv[1]);
		cli_usage(stderr);
		return 2;
	}
	opterr = 0; /* each verb reports bad options itself */
	/* A holder that closes on us is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	memset(&ctx, 0, sizeof ctx);
	ctx.prog = argv[0];
	if ((rc = path_dirs_init(&ctx.dirs, &cause)) != 0) {
		rc = cli_error(rc, "%s", cause);
		free(cause);
		path_dirs_release(&ctx.dirs);
		return rc;
	}
	rc = cli_verbs[i].exec(&ctx, argc - 1, argv + 1);
	path_dirs_release(&ctx.dirs);
	return rc;
}
