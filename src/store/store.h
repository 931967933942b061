/*
 * store.h: the registry (projects, sessions, API tokens) in SQLite. The
 * only interface to the database: nothing outside src/store includes
 * sqlite3.h or writes SQL. Not for history logs (those are files, see
 * history.h). Design notes: docs/internals/store.md.
 *
 * Conventions for every function below:
 * - It returns 0 or a negative code from common/err.h: -ERR_NOENT (no such
 *   row), -ERR_EXIST (unique violation), -ERR_INVAL (bad argument, checked
 *   before any SQL runs), -ERR_STATE (the row is in a state that forbids
 *   it; a database newer than this code), -ERR_IO, -ERR_NOSPC, -ERR_PERM,
 *   -ERR_CORRUPT, -ERR_FAIL (anything else, including giving up on a busy
 *   database after the busy limit).
 * - cause may be NULL. If not, on failure *cause is set to a message for
 *   people that the caller frees; on success it is left alone.
 * - Objects and arrays handed out are owned by the caller and freed with
 *   the matching *_free function; strings passed in are copied.
 * - A struct store is one connection: use it from one thread at a time and
 *   never across fork(). Open one per process (or per thread).
 * - Times are milliseconds since the epoch (CLOCK_REALTIME); 0 means unset.
 */
#ifndef ROOST_STORE_H
#define ROOST_STORE_H

#define STORE_PREFIX_MAX 32		/* project prefix: [a-z][a-z0-9-]*, no trailing '-' */
#define STORE_PROJECT_ID_MAX 41		/* PREFIX-xxxxxxxx */
#define STORE_PROJECT_DEFAULT "default" /* the project of ad-hoc sessions */
#define STORE_TAG_MAX 32		/* tag: [a-z0-9][a-z0-9._-]* */
#define STORE_TAGS_MAX 32		/* tags per project */
#define STORE_DESCRIPTION_MAX 4096	/* bytes of UTF-8 */
#define STORE_PATH_MAX 4096		/* project path, session cwd */
#define STORE_JSON_MAX 65536		/* command, env, resume_command */
#define STORE_HASH_LEN 64		/* token hash: SHA-256, lower-case hex */
#define STORE_BUSY_LIMIT_MS 10000	/* default bound on waiting for a busy database */

struct store;

/* Flags of store_project_delete and store_session_create / _rebind. */
#define STORE_FORCE (1 << 0)	/* delete a project with its sessions */
#define STORE_TAKEOVER (1 << 1) /* take a name from an exited or lost session */

/*
 * Open (creating if needed, mode 0600) the database at path and bring its
 * schema up to date, each migration in its own transaction. A file that is
 * not a database gives -ERR_CORRUPT and is left untouched; a schema newer
 * than this code gives -ERR_STATE. On success *stp is the new store.
 */
int store_open(const char *path, struct store **stp, char **cause);

/* Close the connection and free st; NULL is fine. */
void store_close(struct store *st);

/* The schema version the database is at (after store_open: the latest known). */
int store_schema_version(struct store *st);

/* The schema version this code migrates to. */
int store_schema_latest(void);

/*
 * Bound, in milliseconds, on how long one operation waits for other
 * processes' write transactions before it fails (default STORE_BUSY_LIMIT_MS).
 */
void store_set_busy_limit(struct store *st, int ms);

/* Projects ---------------------------------------------------------------- */

struct store_project {
	char *id;
	char *prefix;
	char *path;	   /* absolute; NULL: the managed workspace state/projects/<id> */
	bool managed;	   /* roost created the workspace and may remove it */
	char *description; /* never NULL ("" when none) */
	char **tags;	   /* sorted, ntags of them */
	size_t ntags;
	bool pinned; /* exempt from automatic cleanup */
	int64_t created;
	int64_t updated;       /* last change of the fields above */
	int64_t last_activity; /* last session created or revived, or explicit touch */
	int64_t expires_at;    /* 0: never */
};

/* A zeroed filter matches everything. */
struct store_project_filter {
	const char *prefix;	/* NULL: any */
	const char *tag;	/* NULL: any */
	int pinned;		/* 0: any; 1: only pinned; -1: only not pinned */
	int64_t expires_before; /* 0: any; else expires_at set and <= this */
};

/* What store_project_update changes. */
#define STORE_PROJECT_SET_DESCRIPTION (1 << 0)
#define STORE_PROJECT_SET_TAGS (1 << 1) /* replaces the whole set */
#define STORE_PROJECT_SET_PINNED (1 << 2)
#define STORE_PROJECT_SET_EXPIRES (1 << 3)
#define STORE_PROJECT_SET_ACTIVITY (1 << 4) /* last_activity = v->last_activity, or now if 0 */

/* A project prefix: [a-z][a-z0-9-]*, at most STORE_PREFIX_MAX bytes, not ending in '-'. */
bool store_project_prefix_is_valid(const char *prefix);

/* A project id: a valid prefix, '-' and 8 lower-case hex digits; or "default". */
bool store_project_id_is_valid(const char *id);

/* A tag: [a-z0-9][a-z0-9._-]*, at most STORE_TAG_MAX bytes. */
bool store_tag_is_valid(const char *tag);

/*
 * Create a project from in's prefix, path, managed, description, tags,
 * pinned and expires_at (the other fields are ignored); the id is the prefix
 * and 8 random hex digits. A NULL path makes a managed project; a path
 * another project has gives -ERR_EXIST (one project per directory). If pp
 * is not NULL, *pp is the stored project.
 */
int store_project_create(struct store *st, const struct store_project *in,
			 struct store_project **pp, char **cause);

/* Find a project by id: -ERR_NOENT if there is none. */
int store_project_find(struct store *st, const char *id, struct store_project **pp, char **cause);

/*
 * List projects matching f (NULL: all) in creation order, into a new array
 * of *np projects that the caller frees with store_project_list_free.
 */
int store_project_list(struct store *st, const struct store_project_filter *f,
		       struct store_project ***vp, size_t *np, char **cause);

/* Change the fields named by set (STORE_PROJECT_SET_*) to those of v. */
int store_project_update(struct store *st, const char *id, int set, const struct store_project *v,
			 char **cause);

/*
 * Delete a project and its tags. With sessions registered it fails with
 * -ERR_STATE, unless flags has STORE_FORCE: then its sessions' rows go too
 * (stopping their holders and removing files is the caller's job, first).
 * The default project cannot be deleted (-ERR_STATE).
 */
int store_project_delete(struct store *st, const char *id, int flags, char **cause);

/* Count projects, not counting the default project (for the max-projects limit). */
int store_project_count(struct store *st, size_t *np, char **cause);

void store_project_free(struct store_project *p);
void store_project_list_free(struct store_project **v, size_t n);

/* Sessions ---------------------------------------------------------------- */

enum store_session_state {
	STORE_SESSION_STARTING,
	STORE_SESSION_RUNNING,
	STORE_SESSION_EXITED,
	STORE_SESSION_LOST, /* its holder died without recording an exit */
};

struct store_session {
	char *id; /* 12 lower-case hex digits (PATH_ID_LEN) */
	char *project_id;
	char *name;
	bool bound;    /* holds its name; false once taken over (reach it by id) */
	char *command; /* JSON array of strings */
	char *cwd;
	char *env;	      /* JSON object of extra variables; "{}" when none */
	char *resume_command; /* JSON array, or NULL */
	enum store_session_state state;
	bool has_exit_status;
	int exit_status;  /* wait(2) status, if has_exit_status */
	pid_t holder_pid; /* 0: none */
	pid_t child_pid;  /* 0: none */
	int64_t created;
	int64_t started; /* of the current run; 0 until running */
	int64_t ended;	 /* of the current run; 0 until exited or lost */
	int64_t run;	 /* 1, then + 1 per revive */
	int cols;
	int rows;
	int64_t bytes; /* output bytes, last known */
};

struct store_session_filter {
	const char *project_id; /* NULL: any */
	int states;		/* 1 << STORE_SESSION_x ORed; 0: any */
};

/* What store_session_update changes. */
#define STORE_SESSION_SET_STATE (1 << 0) /* checked against the allowed transitions */
#define STORE_SESSION_SET_PIDS (1 << 1)	 /* holder_pid and child_pid */
#define STORE_SESSION_SET_EXIT (1 << 2)	 /* exit_status (and has_exit_status) */
#define STORE_SESSION_SET_BYTES (1 << 3)
#define STORE_SESSION_SET_SIZE (1 << 4) /* cols and rows */

/* "starting", "running", "exited", "lost"; NULL for a bad value. */
const char *store_session_state_name(enum store_session_state state);

/*
 * Register a session from in's id, project_id, name, command, cwd, env,
 * resume_command, cols and rows, in state starting with run 1. A NULL id
 * gets a random one; a NULL project_id means the default project; a NULL
 * name gets the lowest positive number not bound in the project. A name
 * bound to another session of the project gives -ERR_EXIST, unless flags
 * has STORE_TAKEOVER and that session is exited or lost: then it loses the
 * name (bound becomes false) in the same transaction. An unknown project
 * gives -ERR_NOENT. If sp is not NULL, *sp is the stored session.
 */
int store_session_create(struct store *st, const struct store_session *in, int flags,
			 struct store_session **sp, char **cause);

/* Find a session by id: -ERR_NOENT if there is none. */
int store_session_find(struct store *st, const char *id, struct store_session **sp, char **cause);

/*
 * Find the session bound to name in project_id, or, with a NULL project_id,
 * in any project: then a name bound in more than one project gives
 * -ERR_INVAL (ambiguous; the cause lists the projects).
 */
int store_session_find_by_name(struct store *st, const char *project_id, const char *name,
			       struct store_session **sp, char **cause);

/*
 * Resolve what a person typed: a bound name wins, else a session id; with
 * a project_id, both only within that project, else across projects (an
 * ambiguous name gives -ERR_INVAL as in store_session_find_by_name).
 */
int store_session_get(struct store *st, const char *project_id, const char *ref,
		      struct store_session **sp, char **cause);

/* List sessions matching f (NULL: all) in creation order; free with store_session_list_free. */
int store_session_list(struct store *st, const struct store_session_filter *f,
		       struct store_session ***vp, size_t *np, char **cause);

/*
 * Change the fields named by set (STORE_SESSION_SET_*) to those of v. A
 * state change must be one of starting → running|exited|lost, running →
 * exited|lost, lost → running|exited (setting the current state again is
 * fine), else -ERR_STATE; becoming running sets started, becoming exited or
 * lost sets ended, when unset.
 */
int store_session_update(struct store *st, const char *id, int set, const struct store_session *v,
			 char **cause);

/*
 * Start a new run of an exited or lost session (else -ERR_STATE): state
 * starting, run + 1, exit status, pids, started and ended cleared. Its name
 * binding is unchanged (a taken-over session stays unbound).
 */
int store_session_revive(struct store *st, const char *id, char **cause);

/*
 * Bind name to session id (renaming it, or binding it again after a
 * takeover). A name bound to another session of the project gives
 * -ERR_EXIST unless flags has STORE_TAKEOVER and that one is exited or lost.
 */
int store_session_rebind(struct store *st, const char *id, const char *name, int flags,
			 char **cause);

/* Delete a session's row. */
int store_session_delete(struct store *st, const char *id, char **cause);

void store_session_free(struct store_session *s);
void store_session_list_free(struct store_session **v, size_t n);

/* API tokens -------------------------------------------------------------- */

struct store_token {
	int64_t id;
	char *name;
	char *hash; /* SHA-256 of the token, STORE_HASH_LEN lower-case hex digits */
	bool read_only;
	int64_t created;
	int64_t last_used; /* 0: never */
};

/* Put the SHA-256 of token, in lower-case hex, in hex (STORE_HASH_LEN + 1 bytes). */
int store_token_hash(const char *token, char *hex);

/* Compare two strings in time that depends only on their lengths. */
bool store_token_hash_equal(const char *a, const char *b);

/*
 * Register a token by name (a session-name-like string, see path.h) and
 * hash (from store_token_hash; the token itself is never stored). A name or
 * hash already registered gives -ERR_EXIST.
 */
int store_token_create(struct store *st, const char *name, const char *hash, bool read_only,
		       struct store_token **tp, char **cause);

/*
 * Find the token with this hash: -ERR_NOENT if there is none. The match is
 * checked again with store_token_hash_equal.
 */
int store_token_find_by_hash(struct store *st, const char *hash, struct store_token **tp,
			     char **cause);

/* List tokens by name; free with store_token_list_free. */
int store_token_list(struct store *st, struct store_token ***vp, size_t *np, char **cause);

/* Delete the token called name. */
int store_token_revoke(struct store *st, const char *name, char **cause);

/* Set a token's last_used to now. */
int store_token_touch(struct store *st, int64_t id, char **cause);

void store_token_free(struct store_token *t);
void store_token_list_free(struct store_token **v, size_t n);

#endif
