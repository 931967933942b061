/*
 * err.c: lookups into the error table of err.h.
 */
#include "common/compat.h"

#include <errno.h>

#include "common/err.h"

static const struct {
	const char *message;
	int http;
	int exitc;
} err_table[] = {
#define ERR_ROW(name, msg, http, exitc) {msg, http, exitc},
	ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static int
err_index(int code)
{
	if (code < 0)
		code = -code;
	if (code >= ERR_COUNT)
		code = ERR_FAIL;
	return code;
}

const char *
err_message(int code)
{
	return err_table[err_index(code)].message;
}

int
err_http_status(int code)
{
	return err_table[err_index(code)].http;
}

int
err_exit_code(int code)
{
	return err_table[err_index(code)].exitc;
}

int
err_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return 0;
	case ENOENT:
		return -ERR_NOENT;
	case EEXIST:
		return -ERR_EXIST;
	case EACCES:
	case EPERM:
		return -ERR_PERM;
	case ENOSPC:
	case EDQUOT:
		return -ERR_NOSPC;
	case EINVAL:
	case ENAMETOOLONG:
		return -ERR_INVAL;
	case ECONNREFUSED:
		return -ERR_CONNECT;
	case EIO:
		return -ERR_IO;
	default:
		return -ERR_FAIL;
	}
}
