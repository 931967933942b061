/*
 * history-export.h: a session's history written out as raw bytes, plain
 * text rendered through a VT (scrollback then final screen), or an
 * asciicast v2 recording. Used by the CLI; never by the holder.
 */
#ifndef ROOST_HISTORY_EXPORT_H
#define ROOST_HISTORY_EXPORT_H

#include "history/history.h"

enum history_format { HISTORY_FORMAT_RAW, HISTORY_FORMAT_TEXT, HISTORY_FORMAT_ASCIICAST };

/* Parse "raw", "text" or "asciicast"; returns 0 or -ERR_INVAL. */
int history_format_parse(const char *s, enum history_format *f);

struct history_export_opts {
	enum history_format format;
	long tail;             /* last N lines only, as tail -n counts them; -1 = everything */
	int cols, rows;        /* VT size for text when no RESIZE record says; default 80x24 */
	history_warn_cb warn;  /* warnings about skipped data */
	void *warn_arg;
};

/*
 * Write the history in dir to fd. Returns 0 or -ERR_x; *cause set on error
 * (caller frees), except when the reader of fd went away (EPIPE, seen only
 * if SIGPIPE is ignored): -ERR_IO with *cause NULL, to be quiet about.
 * Missing dir: -ERR_NOENT. tail with asciicast: -ERR_INVAL.
 */
int history_export(const char *dir, const struct history_export_opts *o, int fd, char **cause);

#endif
