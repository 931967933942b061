/*
 * store-int.h: what the store's files share and nobody else sees: the
 * connection, transactions with busy retries, the statement cache, error
 * mapping and the embedded migrations. Includes sqlite3.h; never include it
 * from outside src/store.
 */
#ifndef ROOST_STORE_INT_H
#define ROOST_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* One numbered migration, generated at build time from schema/NNNN-*.sql. */
struct store_migration {
	int version; /* NNNN: 1, 2, ... without gaps */
	const char *name;
	const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

struct store_stmt {
	const char *sql; /* the key: a static string, compared by address */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	int version;	  /* schema version after migration */
	int busy_limit;	  /* ms one operation may wait for a busy database */
	int64_t deadline; /* CLOCK_MONOTONIC ms after which busy waits give up */
	bool busy;	  /* the last SQLite error was SQLITE_BUSY or SQLITE_LOCKED */
	uint64_t rng;	  /* xorshift state for busy jitter */
	struct store_stmt *stmts;
	size_t nstmts;
};

/* A transaction body: returns 0 or -ERR_x with *cause set; may run more than once. */
typedef int (*store_tx_cb)(struct store *st, void *arg, char **cause);

/*
 * Run cb in a transaction (BEGIN IMMEDIATE if write, else BEGIN), commit
 * if it returns 0, roll back otherwise. When SQLite reports BUSY or LOCKED
 * anywhere, roll back, wait a little and run cb again, until the busy limit
 * has passed since the call. cb must therefore leave nothing behind when it
 * fails (its results go to arg only on success) and have no effects outside
 * the database.
 */
int store_tx(struct store *st, bool write, store_tx_cb cb, void *arg, char **cause);

/*
 * The cached prepared statement for sql, which must be a string with
 * static storage (the cache compares addresses). Statements are reset and
 * their bindings cleared at the end of every transaction.
 */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmtp, char **cause);

/* sqlite3_reset and sqlite3_clear_bindings. */
void store_reset(sqlite3_stmt *stmt);

/*
 * Turn SQLite result src into -ERR_x, remember whether it was BUSY or
 * LOCKED, and set *cause (if cause is not NULL) to the formatted context,
 * ": ", and SQLite's message.
 */
int store_error(struct store *st, int src, char **cause, const char *fmt, ...) printflike(4, 5);

/* Set *cause (if not NULL) to a new formatted string and return code. */
int store_fail(char **cause, int code, const char *fmt, ...) printflike(3, 4);

/* Run a statement that returns no rows, with no parameters. */
int store_exec(struct store *st, const char *sql, char **cause);

/* The number of rows the last statement changed. */
int store_changes(struct store *st);

/* Now, in ms since the epoch. */
int64_t store_now(void);

/* A copy of a text column, or NULL when it is NULL. */
char *store_column_strdup(sqlite3_stmt *stmt, int col);

/* Bind text, or NULL when s is NULL; the string must outlive the transaction. */
int store_bind_text(sqlite3_stmt *stmt, int idx, const char *s);

/* Bind an integer, or NULL when v is 0. */
int store_bind_int_or_null(sqlite3_stmt *stmt, int idx, int64_t v);

/* SHA-256 of s in lower-case hex (STORE_HASH_LEN + 1 bytes); 0 or -1. */
int store_crypto_sha256_hex(const char *s, char *hex);

/* memcmp(a, b, n) == 0 in time that depends only on n. */
bool store_crypto_equal(const void *a, const void *b, size_t n);

/* Is s valid UTF-8 of at most max bytes? */
bool store_utf8_is_valid(const char *s, size_t max);

#endif
