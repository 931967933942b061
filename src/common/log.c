/*
 * log.c: levelled, escaped logging (see log.h).
 */
#include "common/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static int log_fd = STDERR_FILENO;
static enum log_level log_min = LOG_WARN;
static char log_tag[32] = "roost";

void
log_open(int fd, enum log_level level, const char *tag)
{
	log_fd = fd;
	log_min = level;
	snprintf(log_tag, sizeof log_tag, "%s", tag);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	char raw[1024], line[1400];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n, i;
	int k;

	if (level < log_min || log_fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	k = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, log_tag, (long)getpid(), names[level]);
	n = k > 0 ? (size_t)k : 0;
	for (i = 0; raw[i] != '\0' && n + 5 < sizeof line; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", ch);
		else
			line[n++] = (char)ch;
	}
	line[n++] = '\n';
	(void)!write(log_fd, line, n);
}
