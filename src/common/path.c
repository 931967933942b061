/*
 * path.c: roost's directories, name/id validation and small-file helpers.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/path.h"
#include "common/xmalloc.h"

int
path_mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = err_from_errno(errno);
			goto out;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
out:
	free(p);
	return rc;
}

static char *
path_from_env(const char *var, const char *home_suffix, const char *sub)
{
	const char *v = getenv(var), *home;

	if (v != NULL && v[0] == '/')
		return xasprintf("%s/%s", v, sub);
	home = getenv("HOME");
	if (home == NULL || home[0] != '/')
		return NULL;
	return xasprintf("%s/%s/%s", home, home_suffix, sub);
}

int
path_dirs_init(struct roost_dirs *d, char **cause)
{
	const char *home = getenv("ROOST_HOME"), *rt;
	struct stat sb;
	int rc;

	memset(d, 0, sizeof *d);
	if (home != NULL && home[0] != '\0') {
		if (home[0] != '/') {
			*cause = xasprintf("ROOST_HOME must be an absolute path: '%s'", home);
			return -ERR_INVAL;
		}
		d->state = xasprintf("%s/state", home);
		d->runtime = xasprintf("%s/run", home);
		d->config = xasprintf("%s/config", home);
	} else {
		d->state = path_from_env("XDG_STATE_HOME", ".local/state", "roost");
		d->config = path_from_env("XDG_CONFIG_HOME", ".config", "roost");
		rt = getenv("XDG_RUNTIME_DIR");
		if (rt != NULL && rt[0] == '/')
			d->runtime = xasprintf("%s/roost", rt);
		else
			d->runtime = xasprintf("/tmp/roost-%ld", (long)getuid());
		if (d->state == NULL || d->config == NULL) {
			*cause = xstrdup("cannot find a home directory: set HOME or ROOST_HOME");
			return -ERR_INVAL;
		}
	}
	if ((rc = path_mkdir_p(d->state)) != 0 || (rc = path_mkdir_p(d->runtime)) != 0 ||
	    (rc = path_mkdir_p(d->config)) != 0) {
		*cause = xasprintf("cannot create roost directories under '%s': %s",
				   home ? home : d->state, strerror(errno));
		return rc;
	}
	/* The runtime directory holds sockets: it must be ours and private. */
	if (lstat(d->runtime, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) {
		*cause = xasprintf("runtime directory '%s' is not a directory owned by us",
				   d->runtime);
		return -ERR_PERM;
	}
	if ((sb.st_mode & 077) != 0 && chmod(d->runtime, 0700) != 0) {
		*cause = xasprintf("cannot make '%s' private: %s", d->runtime, strerror(errno));
		return -ERR_PERM;
	}
	return 0;
}

void
path_dirs_release(struct roost_dirs *d)
{
	free(d->state);
	free(d->runtime);
	free(d->config);
	memset(d, 0, sizeof *d);
}

bool
path_name_is_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > PATH_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (i == 0 && !alnum)
			return false;
		if (!alnum && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

bool
path_id_is_valid(const char *id)
{
	size_t i;

	for (i = 0; i < PATH_ID_LEN; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return id[PATH_ID_LEN] == '\0';
}

int
path_id_generate(char *id)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[PATH_ID_LEN / 2];
	size_t i;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return err_from_errno(errno);
	for (i = 0; i < sizeof rnd; i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[PATH_ID_LEN] = '\0';
	return 0;
}

int
path_write_atomic(const char *path, const void *data, size_t len, bool sync)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_from_errno(errno);
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_from_errno(errno);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if ((sync && fdatasync(fd) != 0) || rename(tmp, path) != 0)
		rc = err_from_errno(errno);
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
path_read_file(const char *path, size_t limit, char **out, size_t *lenp)
{
	char *data = NULL;
	size_t len = 0, cap = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno);
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			data = xrealloc(data, cap);
		}
		n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_from_errno(errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > limit) {
			rc = -ERR_TOOBIG;
			goto out;
		}
	}
	data = xrealloc(data, len + 1);
	data[len] = '\0';
	*out = data;
	data = NULL;
	if (lenp != NULL)
		*lenp = len;
out:
	free(data);
	close(fd);
	return rc;
}

static int
path_remove_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(p) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(p) == 0 || errno == ENOENT ? 0 : -1;
}

int
path_remove_tree(const char *path)
{
	if (nftw(path, path_remove_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return errno == ENOENT ? 0 : err_from_errno(errno);
	return 0;
}
