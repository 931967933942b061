/*
 * err.h: the one table of error codes. Low layers return 0 or -ERR_x; the
 * command layer turns codes into messages, exit codes and (later) HTTP
 * statuses. Not for free-form causes: those are strings built by callers.
 */
#ifndef ROOST_ERR_H
#define ROOST_ERR_H

/* name, message, HTTP status, exit code */
#define ERR_TABLE(X)                                                              \
	X(OK, "success", 200, 0)                                                  \
	X(FAIL, "operation failed", 500, 1)                                       \
	X(USAGE, "bad usage", 400, 2)                                             \
	X(NOENT, "not found", 404, 3)                                             \
	X(EXIST, "already exists", 409, 4)                                        \
	X(STATE, "not in a state that allows this", 409, 5)                       \
	X(INVAL, "invalid argument", 400, 2)                                      \
	X(IO, "input/output error", 500, 1)                                       \
	X(NOSPC, "no space left on device", 507, 1)                               \
	X(PERM, "permission denied", 403, 6)                                      \
	X(PROTO, "protocol error", 400, 7)                                        \
	X(TOOBIG, "too large", 413, 2)                                            \
	X(CORRUPT, "corrupt data", 500, 8)                                        \
	X(CONNECT, "cannot connect", 503, 9)                                      \
	X(NOEXEC, "cannot execute", 500, 126)                                     \
	X(NOCMD, "command not found", 500, 127)

enum err_code {
#define ERR_ENUM(name, msg, http, exitc) ERR_##name,
	ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
	ERR_COUNT
};

/* Message, HTTP status and process exit code of a code (positive or negative). */
const char *err_message(int code);
int err_http_status(int code);
int err_exit_code(int code);

/* Map an errno value to the closest code (returned negative). */
int err_from_errno(int errnum);

#endif
