/*
 * store-token.c: API tokens in the registry, kept as SHA-256 hashes (the
 * token itself is shown once by whoever makes it and never stored), and
 * the hash and constant-time comparison helpers. Not for generating tokens
 * or checking requests: that is the daemon's.
 */
#include "common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "store/store-int.h"

#define STORE_TOKEN_COLUMNS "id, name, hash, read_only, created, last_used"

static const char store_token_sql_insert[] =
    "INSERT INTO tokens (name, hash, read_only, created) VALUES (?1, ?2, ?3, ?4)";
static const char store_token_sql_find_id[] =
    "SELECT " STORE_TOKEN_COLUMNS " FROM tokens WHERE id = ?1";
static const char store_token_sql_find_hash[] =
    "SELECT " STORE_TOKEN_COLUMNS " FROM tokens WHERE hash = ?1";
static const char store_token_sql_find_name[] = "SELECT 1 FROM tokens WHERE name = ?1";
static const char store_token_sql_list[] =
    "SELECT " STORE_TOKEN_COLUMNS " FROM tokens ORDER BY name";
static const char store_token_sql_revoke[] = "DELETE FROM tokens WHERE name = ?1";
static const char store_token_sql_touch[] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1";

int
store_token_hash(const char *token, char *hex)
{
	return store_crypto_sha256_hex(token, hex) == 0 ? 0 : -ERR_FAIL;
}

bool
store_token_hash_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	/* Lengths are public (every hash is STORE_HASH_LEN); contents are compared in full. */
	return n == strlen(b) && store_crypto_equal(a, b, n);
}

static bool
store_token_hash_is_valid(const char *hash)
{
	size_t i;

	for (i = 0; i < STORE_HASH_LEN; i++) {
		char c = hash[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return hash[STORE_HASH_LEN] == '\0';
}

void
store_token_free(struct store_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->hash);
	free(t);
}

void
store_token_list_free(struct store_token **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_token_free(v[i]);
	free(v);
}

static struct store_token *
store_token_from_row(sqlite3_stmt *stmt)
{
	struct store_token *t = xcalloc(1, sizeof *t);

	t->id = sqlite3_column_int64(stmt, 0);
	t->name = store_column_strdup(stmt, 1);
	t->hash = store_column_strdup(stmt, 2);
	t->read_only = sqlite3_column_int(stmt, 3) != 0;
	t->created = sqlite3_column_int64(stmt, 4);
	t->last_used = sqlite3_column_int64(stmt, 5);
	return t;
}

/* Read at most one token with a statement bound by the caller. */
static int
store_token_read(struct store *st, sqlite3_stmt *stmt, struct store_token **tp, char **cause)
{
	int src, rc = 0;

	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW)
		*tp = store_token_from_row(stmt);
	else if (src == SQLITE_DONE)
		rc = store_fail(cause, -ERR_NOENT, "no such token");
	else
		rc = store_error(st, src, cause, "cannot read tokens");
	store_reset(stmt);
	return rc;
}

struct store_token_create_args {
	const char *name;
	const char *hash;
	bool read_only;
	struct store_token *out;
};

static int
store_token_create_cb(struct store *st, void *arg, char **cause)
{
	struct store_token_create_args *a = arg;
	sqlite3_stmt *stmt;
	int64_t id;
	int rc, src;

	if ((rc = store_prepare(st, store_token_sql_find_name, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, a->name);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src == SQLITE_ROW)
		return store_fail(cause, -ERR_EXIST, "token '%s' already exists", a->name);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot read tokens");
	if ((rc = store_prepare(st, store_token_sql_insert, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, a->name);
	store_bind_text(stmt, 2, a->hash);
	sqlite3_bind_int(stmt, 3, a->read_only);
	sqlite3_bind_int64(stmt, 4, store_now());
	src = sqlite3_step(stmt);
	store_reset(stmt);
	/* The name was free, so a unique violation is the hash: say so without showing it. */
	if (src == SQLITE_CONSTRAINT_UNIQUE)
		return store_fail(cause, -ERR_EXIST, "that token is already registered");
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot create token '%s'", a->name);
	id = sqlite3_last_insert_rowid(st->db);
	if ((rc = store_prepare(st, store_token_sql_find_id, &stmt, cause)) != 0)
		return rc;
	sqlite3_bind_int64(stmt, 1, id);
	return store_token_read(st, stmt, &a->out, cause);
}

int
store_token_create(struct store *st, const char *name, const char *hash, bool read_only,
		   struct store_token **tp, char **cause)
{
	struct store_token_create_args a = {name, hash, read_only, NULL};
	int rc;

	if (tp != NULL)
		*tp = NULL;
	if (name == NULL || !path_name_is_valid(name))
		return store_fail(cause, -ERR_INVAL,
				  "bad token name '%s': letters, digits, '.', '_' and '-', "
				  "starting with a letter or digit, at most %d",
				  name != NULL ? name : "", PATH_NAME_MAX);
	if (hash == NULL || !store_token_hash_is_valid(hash))
		return store_fail(cause, -ERR_INVAL,
				  "bad token hash: %d lower-case hex digits expected",
				  STORE_HASH_LEN);
	if ((rc = store_tx(st, true, store_token_create_cb, &a, cause)) != 0)
		return rc;
	if (tp != NULL)
		*tp = a.out;
	else
		store_token_free(a.out);
	return 0;
}

struct store_token_find_args {
	const char *hash;
	struct store_token *out;
};

static int
store_token_find_cb(struct store *st, void *arg, char **cause)
{
	struct store_token_find_args *a = arg;
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = store_prepare(st, store_token_sql_find_hash, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, a->hash);
	return store_token_read(st, stmt, &a->out, cause);
}

int
store_token_find_by_hash(struct store *st, const char *hash, struct store_token **tp, char **cause)
{
	struct store_token_find_args a = {hash, NULL};
	int rc;

	*tp = NULL;
	if (hash == NULL || !store_token_hash_is_valid(hash))
		return store_fail(cause, -ERR_INVAL, "bad token hash");
	/*
	 * The index lookup is not constant-time, but what it could leak is how
	 * much of a SHA-256 matches, which says nothing about the token.
	 */
	if ((rc = store_tx(st, false, store_token_find_cb, &a, cause)) != 0)
		return rc;
	if (!store_token_hash_equal(a.out->hash, hash)) {
		store_token_free(a.out);
		return store_fail(cause, -ERR_NOENT, "no such token");
	}
	*tp = a.out;
	return 0;
}

struct store_token_list_args {
	struct store_token **v;
	size_t n;
};

static int
store_token_list_cb(struct store *st, void *arg, char **cause)
{
	struct store_token_list_args *a = arg;
	struct store_token **v = NULL;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc, src;

	if ((rc = store_prepare(st, store_token_sql_list, &stmt, cause)) != 0)
		return rc;
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = store_token_from_row(stmt);
	}
	store_reset(stmt);
	if (src != SQLITE_DONE) {
		store_token_list_free(v, n);
		return store_error(st, src, cause, "cannot list tokens");
	}
	a->v = v;
	a->n = n;
	return 0;
}

int
store_token_list(struct store *st, struct store_token ***vp, size_t *np, char **cause)
{
	struct store_token_list_args a = {NULL, 0};
	int rc;

	*vp = NULL;
	*np = 0;
	if ((rc = store_tx(st, false, store_token_list_cb, &a, cause)) != 0)
		return rc;
	*vp = a.v;
	*np = a.n;
	return 0;
}

static int
store_token_revoke_cb(struct store *st, void *arg, char **cause)
{
	const char *name = arg;
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_token_sql_revoke, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, name);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot revoke token '%s'", name);
	if (store_changes(st) == 0)
		return store_fail(cause, -ERR_NOENT, "no token '%s'", name);
	return 0;
}

int
store_token_revoke(struct store *st, const char *name, char **cause)
{
	if (name == NULL || !path_name_is_valid(name))
		return store_fail(cause, -ERR_INVAL, "bad token name '%s'",
				  name != NULL ? name : "");
	return store_tx(st, true, store_token_revoke_cb, (void *)name, cause);
}

static int
store_token_touch_cb(struct store *st, void *arg, char **cause)
{
	int64_t id = *(int64_t *)arg;
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_token_sql_touch, &stmt, cause)) != 0)
		return rc;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, store_now());
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot update token %lld", (long long)id);
	if (store_changes(st) == 0)
		return store_fail(cause, -ERR_NOENT, "no token %lld", (long long)id);
	return 0;
}

int
store_token_touch(struct store *st, int64_t id, char **cause)
{
	return store_tx(st, true, store_token_touch_cb, &id, cause);
}
