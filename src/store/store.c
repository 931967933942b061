/*
 * store.c: opening the database (file mode, pragmas, corruption check),
 * migrations, transactions with bounded busy retries, the statement cache
 * and error mapping. Not for the tables themselves: store-project.c,
 * store-session.c, store-token.c.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "store/store-int.h"

static const char store_sql_begin[] = "BEGIN";
static const char store_sql_begin_immediate[] = "BEGIN IMMEDIATE";
static const char store_sql_commit[] = "COMMIT";
static const char store_sql_rollback[] = "ROLLBACK";
static const char store_sql_user_version[] = "PRAGMA user_version";
static const char store_sql_wal[] = "PRAGMA journal_mode = WAL";

static int64_t
store_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
store_random(struct store *st)
{
	st->rng ^= st->rng << 13;
	st->rng ^= st->rng >> 7;
	st->rng ^= st->rng << 17;
	return st->rng;
}

/* Sleep a jittered, growing interval (1 ms to about 40 ms), never past the deadline. */
static bool
store_backoff(struct store *st, int count)
{
	int64_t left = st->deadline - store_mono_ms();
	int64_t ms = count < 5 ? (int64_t)1 << count : 25;
	struct timespec ts;

	if (left <= 0)
		return false;
	/* Jitter keeps fifty waiting processes from waking in lockstep. */
	ms = ms / 2 + 1 + (int64_t)(store_random(st) % (uint64_t)ms);
	if (ms > left)
		ms = left;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return true;
}

/*
 * SQLite's busy handler: called while another connection holds a lock we
 * need. It plays the part of sqlite3_busy_timeout but shares the deadline
 * of the whole operation with store_tx's retry loop, and adds jitter.
 */
static int
store_busy_cb(void *arg, int count)
{
	return store_backoff(arg, count) ? 1 : 0;
}

static int
store_code(int src)
{
	switch (src & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		switch (src) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return -ERR_EXIST;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return -ERR_STATE;
		default: /* CHECK, NOT NULL, DATATYPE */
			return -ERR_INVAL;
		}
	case SQLITE_FULL:
		return -ERR_NOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -ERR_CORRUPT;
	case SQLITE_IOERR:
		return src == SQLITE_IOERR_NOMEM ? -ERR_FAIL : -ERR_IO;
	case SQLITE_CANTOPEN:
		return -ERR_IO;
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return -ERR_PERM;
	case SQLITE_TOOBIG:
		return -ERR_TOOBIG;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -ERR_INVAL;
	default:
		return -ERR_FAIL;
	}
}

int
store_fail(char **cause, int code, const char *fmt, ...)
{
	va_list ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		*cause = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return code;
}

int
store_error(struct store *st, int src, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *what;

	st->busy = (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED;
	if (cause != NULL) {
		va_start(ap, fmt);
		what = xvasprintf(fmt, ap);
		va_end(ap);
		*cause = xasprintf("%s: %s", what,
				   st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(src));
		free(what);
	}
	return store_code(src) != 0 ? store_code(src) : -ERR_FAIL;
}

int
store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmtp, char **cause)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;
	int src;

	for (i = 0; i < st->nstmts; i++) {
		if (st->stmts[i].sql == sql) {
			*stmtp = st->stmts[i].stmt;
			return 0;
		}
	}
	src = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (src != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return store_error(st, src, cause, "cannot prepare a statement");
	}
	st->stmts = xrealloc(st->stmts, (st->nstmts + 1) * sizeof *st->stmts);
	st->stmts[st->nstmts].sql = sql;
	st->stmts[st->nstmts].stmt = stmt;
	st->nstmts++;
	*stmtp = stmt;
	return 0;
}

void
store_reset(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

static void
store_reset_all(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nstmts; i++)
		store_reset(st->stmts[i].stmt);
}

int
store_exec(struct store *st, const char *sql, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, sql, &stmt, cause)) != 0)
		return rc;
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return store_error(st, src, cause, "'%s' failed", sql);
	return 0;
}

int
store_changes(struct store *st)
{
	return sqlite3_changes(st->db);
}

char *
store_column_strdup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

int
store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

int
store_bind_int_or_null(sqlite3_stmt *stmt, int idx, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_int64(stmt, idx, v);
}

bool
store_utf8_is_valid(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (p[n] != '\0') {
		unsigned char c = p[n];
		int more, i;
		uint32_t cp;

		if (c < 0x80) {
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else
			return false;
		for (i = 1; i <= more; i++) {
			if ((p[n + i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[n + i] & 0x3f);
		}
		/* Overlong forms, surrogates and past U+10FFFF. */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		n += (size_t)more + 1;
	}
	return n <= max;
}

static void
store_rollback(struct store *st)
{
	sqlite3_stmt *stmt;

	if (sqlite3_get_autocommit(st->db))
		return;
	if (store_prepare(st, store_sql_rollback, &stmt, NULL) == 0) {
		sqlite3_step(stmt);
		sqlite3_reset(stmt);
	}
	/* A failed ROLLBACK leaves the transaction open; close it the blunt way. */
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_tx(struct store *st, bool write, store_tx_cb cb, void *arg, char **cause)
{
	const char *begin = write ? store_sql_begin_immediate : store_sql_begin;
	int64_t start = store_mono_ms();
	char *c = NULL;
	int attempt = 0, rc;

	st->deadline = start + st->busy_limit;
	for (;;) {
		st->busy = false;
		rc = store_exec(st, begin, &c);
		if (rc == 0) {
			rc = cb(st, arg, &c);
			if (rc == 0)
				rc = store_exec(st, store_sql_commit, &c);
		}
		if (rc != 0)
			store_rollback(st);
		store_reset_all(st);
		if (rc == 0 || !st->busy)
			break;
		free(c);
		c = NULL;
		if (!store_backoff(st, attempt++)) {
			c = xasprintf("database '%s' is busy: gave up after %lld ms", st->path,
				      (long long)(store_mono_ms() - start));
			rc = -ERR_FAIL;
			break;
		}
	}
	if (rc != 0 && cause != NULL)
		*cause = c;
	else
		free(c);
	return rc;
}

/*
 * A statement outside any transaction (journal mode, pragmas at open),
 * retried while busy like store_tx. If text is not NULL, the first column of
 * the first row is copied into it (size bytes).
 */
static int
store_open_exec(struct store *st, const char *sql, char *text, size_t size, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src, attempt = 0;

	for (;;) {
		st->busy = false;
		if ((rc = store_prepare(st, sql, &stmt, cause)) != 0)
			goto retry;
		src = sqlite3_step(stmt);
		if (src == SQLITE_ROW && text != NULL) {
			const unsigned char *s = sqlite3_column_text(stmt, 0);

			snprintf(text, size, "%s", s != NULL ? (const char *)s : "");
		}
		store_reset(stmt);
		if (src == SQLITE_ROW || src == SQLITE_DONE)
			return 0;
		rc = store_error(st, src, cause, "cannot read database '%s'", st->path);
	retry:
		if (!st->busy || !store_backoff(st, attempt++))
			return rc;
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
	}
}

static int
store_read_version_cb(struct store *st, void *arg, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_sql_user_version, &stmt, cause)) != 0)
		return rc;
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW) {
		rc = store_error(st, src, cause, "cannot read database '%s'", st->path);
		store_reset(stmt);
		return rc;
	}
	*(int *)arg = sqlite3_column_int(stmt, 0);
	store_reset(stmt);
	return 0;
}

static int
store_check_version(struct store *st, int version, char **cause)
{
	int latest = store_schema_latest();

	if (version > latest)
		return store_fail(cause, -ERR_STATE,
				  "database '%s' has schema version %d, newer than this roost "
				  "knows (%d): use a newer roost, or another database",
				  st->path, version, latest);
	return 0;
}

/* Apply one migration if the database is not past it yet. */
static int
store_migrate_cb(struct store *st, void *arg, char **cause)
{
	const struct store_migration *m = arg;
	char *errmsg = NULL, pragma[64];
	int rc, src, version;

	if ((rc = store_read_version_cb(st, &version, cause)) != 0)
		return rc;
	if ((rc = store_check_version(st, version, cause)) != 0)
		return rc;
	if (version >= m->version)
		return 0;
	if (version != m->version - 1)
		return store_fail(cause, -ERR_STATE,
				  "database '%s' is at schema version %d: "
				  "cannot apply migration %s",
				  st->path, version, m->name);
	/* Our own embedded SQL, not data: sqlite3_exec runs its statements in turn. */
	src = sqlite3_exec(st->db, m->sql, NULL, NULL, &errmsg);
	if (src != SQLITE_OK) {
		rc = store_error(st, src, cause, "migration %s of '%s' failed (%s)", m->name,
				 st->path, errmsg != NULL ? errmsg : "");
		sqlite3_free(errmsg);
		return rc;
	}
	/* PRAGMA takes no parameters; the number is ours, not input. */
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
	src = sqlite3_exec(st->db, pragma, NULL, NULL, NULL);
	if (src != SQLITE_OK)
		return store_error(st, src, cause, "cannot record schema version %d of '%s'",
				   m->version, st->path);
	return 0;
}

/* Create the file ourselves so that it (and, after it, -wal and -shm) is 0600. */
static int
store_open_file(const char *path, char **cause)
{
	struct stat sb;
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ELOOP)
		return store_fail(cause, -ERR_PERM, "database '%s' is a symbolic link: refused",
				  path);
	if (fd < 0 && errno == EISDIR)
		return store_fail(cause, -ERR_INVAL, "database '%s' is a directory", path);
	if (fd < 0)
		return store_fail(cause, err_from_errno(errno), "cannot open database '%s': %s",
				  path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		rc = store_fail(cause, err_from_errno(errno), "cannot stat database '%s': %s", path,
				strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = store_fail(cause, -ERR_INVAL, "database '%s' is not a regular file", path);
		goto out;
	}
	/* SQLite gives -wal and -shm the database's mode: make it private first. */
	if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)
		rc = store_fail(cause, -ERR_PERM, "cannot make database '%s' private: %s", path,
				strerror(errno));
out:
	close(fd);
	return rc;
}

int
store_schema_latest(void)
{
	return store_nmigrations > 0 ? store_migrations[store_nmigrations - 1].version : 0;
}

int
store_schema_version(struct store *st)
{
	return st->version;
}

void
store_set_busy_limit(struct store *st, int ms)
{
	st->busy_limit = ms > 0 ? ms : 0;
}

int
store_open(const char *path, struct store **stp, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	char mode[32];
	size_t i;
	int rc, src, version = 0;

	*stp = NULL;
	st->path = xstrdup(path);
	st->busy_limit = STORE_BUSY_LIMIT_MS;
	st->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)store_now();
	if (st->rng == 0)
		st->rng = 1;
	st->deadline = store_mono_ms() + st->busy_limit;
	if ((rc = store_open_file(path, cause)) != 0)
		goto out;
	src = sqlite3_open_v2(path, &st->db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
				  SQLITE_OPEN_EXRESCODE,
			      NULL);
	if (src != SQLITE_OK) {
		rc = store_error(st, src, cause, "cannot open database '%s'", path);
		goto out;
	}
	sqlite3_busy_handler(st->db, store_busy_cb, st);
	/*
	 * No writable_schema tricks, no "double-quoted strings". trusted_schema
	 * stays on: the file is private, and SQLite 3.40 does not count the JSON
	 * functions our CHECK constraints use as innocuous.
	 */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);

	/* First read: a file that is not a database fails here, untouched. */
	if ((rc = store_tx(st, false, store_read_version_cb, &version, cause)) != 0) {
		if (rc == -ERR_CORRUPT && cause != NULL && *cause != NULL) {
			char *c = xasprintf("%s (the file was left as it is)", *cause);

			free(*cause);
			*cause = c;
		}
		goto out;
	}
	if ((rc = store_check_version(st, version, cause)) != 0)
		goto out;
	if ((rc = store_open_exec(st, store_sql_wal, mode, sizeof mode, cause)) != 0)
		goto out;
	if (strcmp(mode, "wal") != 0) {
		rc = store_fail(cause, -ERR_IO, "database '%s' cannot use WAL (journal mode '%s')",
				path, mode);
		goto out;
	}
	/* These take no locks; foreign_keys is per connection and must be outside a transaction. */
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", NULL,
			 NULL, NULL) != SQLITE_OK) {
		rc = store_error(st, sqlite3_errcode(st->db), cause, "cannot configure '%s'", path);
		goto out;
	}
	for (i = 0; i < store_nmigrations; i++) {
		if (store_migrations[i].version != (int)i + 1) {
			rc = store_fail(cause, -ERR_FAIL, "migration %s is out of sequence",
					store_migrations[i].name);
			goto out;
		}
		rc = store_tx(st, true, store_migrate_cb, (void *)&store_migrations[i], cause);
		if (rc != 0)
			goto out;
	}
	st->version = store_schema_latest();
	*stp = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nstmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	free(st->stmts);
	/* The last connection checkpoints and removes the -wal file. */
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}
