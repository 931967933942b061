/*
 * path.h: where roost keeps things (state, runtime, config) and the
 * validation every outside name passes before it touches the filesystem.
 */
#ifndef ROOST_PATH_H
#define ROOST_PATH_H

#define PATH_NAME_MAX 64 /* session names */
#define PATH_ID_LEN 12   /* session ids: lower-case hex */

struct roost_dirs {
	char *state;   /* roost.db, sessions/<id>/ */
	char *runtime; /* sockets, 0700 */
	char *config;  /* config file */
};

/*
 * Resolve the directories from ROOST_HOME (state = $ROOST_HOME/state,
 * runtime = $ROOST_HOME/run, config = $ROOST_HOME/config) or else the XDG
 * variables, creating them 0700. Returns 0 or -ERR_x with *cause set (the
 * caller frees it).
 */
int path_dirs_init(struct roost_dirs *d, char **cause);
void path_dirs_release(struct roost_dirs *d);

/* mkdir -p with mode 0700; an existing directory is fine. */
int path_mkdir_p(const char *path);

/* A session name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most PATH_NAME_MAX bytes. */
bool path_name_is_valid(const char *name);

/* A session id: exactly PATH_ID_LEN lower-case hex digits. */
bool path_id_is_valid(const char *id);

/* Fill id (PATH_ID_LEN + 1 bytes) with a fresh random id. */
int path_id_generate(char *id);

/*
 * Write data to path atomically (temp file, rename), mode 0600. With sync
 * the data is fdatasync'ed before the rename, so that a power loss leaves
 * the old or the new file, never an empty one.
 */
int path_write_atomic(const char *path, const void *data, size_t len, bool sync);

/* Read a whole small file (at most limit bytes) into a new NUL-terminated string. */
int path_read_file(const char *path, size_t limit, char **out, size_t *lenp);

/* Remove a directory tree without following symlinks; returns 0 or -ERR_x. */
int path_remove_tree(const char *path);

#endif
