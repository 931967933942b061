/*
 * log.h: levelled logging to a file descriptor, with control characters
 * escaped so that nothing a peer sends can forge log lines or drive a
 * terminal. Not for user-facing messages (those go to stderr directly).
 */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Log to fd (not owned) at level and above; tag names the process. */
void log_open(int fd, enum log_level level, const char *tag);

void log_msg(enum log_level level, const char *fmt, ...) printflike(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
