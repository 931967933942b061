/*
 * store-session.c: sessions in the registry: names bound per project (with
 * takeover from finished sessions), state transitions, revive, and the
 * lookups by id, name and what a person typed. Not for holders or their
 * files: the daemon starts and watches those and records what it sees here.
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "store/store-int.h"

#define STORE_SESSION_ID_TRIES 8     /* fresh random ids to try on a collision */
#define STORE_SESSION_SIZE_MAX 10000 /* cols, rows */

#define STORE_SESSION_COLUMNS                                                                      \
	"id, project_id, name, bound, command, cwd, env, resume_command, state, exit_status, "     \
	"holder_pid, child_pid, created, started, ended, run, cols, rows, bytes"

static const char *const store_session_states[] = {"starting", "running", "exited", "lost"};

static const char store_session_sql_check[] =
    "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) = 'array'"
    "  AND json_array_length(?1) > 0"
    "  AND NOT EXISTS (SELECT 1 FROM json_each(?1) WHERE type <> 'text') ELSE 0 END,"
    " CASE WHEN json_valid(?2) THEN json_type(?2) = 'object'"
    "  AND NOT EXISTS (SELECT 1 FROM json_each(?2)"
    "                  WHERE type <> 'text' OR key = '' OR instr(key, '=') > 0) ELSE 0 END,"
    " ?3 IS NULL OR CASE WHEN json_valid(?3) THEN json_type(?3) = 'array'"
    "  AND json_array_length(?3) > 0"
    "  AND NOT EXISTS (SELECT 1 FROM json_each(?3) WHERE type <> 'text') ELSE 0 END";
static const char store_session_sql_touch_project[] =
    "UPDATE projects SET last_activity = ?2 WHERE id = ?1";
static const char store_session_sql_default_name[] =
    "SELECT min(c.n) FROM (SELECT 1 AS n UNION ALL"
    " SELECT CAST(name AS INTEGER) + 1 FROM sessions"
    "  WHERE project_id = ?1 AND bound = 1 AND length(name) BETWEEN 1 AND 15"
    "  AND name NOT GLOB '*[^0-9]*' AND name NOT GLOB '0*') AS c"
    " WHERE NOT EXISTS (SELECT 1 FROM sessions s"
    "  WHERE s.project_id = ?1 AND s.bound = 1 AND s.name = CAST(c.n AS TEXT))";
static const char store_session_sql_holder[] =
    "SELECT id, state FROM sessions WHERE project_id = ?1 AND name = ?2 AND bound = 1";
static const char store_session_sql_unbind[] = "UPDATE sessions SET bound = 0 WHERE id = ?1";
static const char store_session_sql_insert[] =
    "INSERT INTO sessions (id, project_id, name, bound, command, cwd, env, resume_command,"
    " state, created, run, cols, rows, bytes)"
    " VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, 'starting', ?8, 1, ?9, ?10, 0)";
static const char store_session_sql_find[] =
    "SELECT " STORE_SESSION_COLUMNS " FROM sessions WHERE id = ?1";
static const char store_session_sql_find_name[] =
    "SELECT " STORE_SESSION_COLUMNS " FROM sessions"
    " WHERE name = ?2 AND bound = 1 AND (?1 IS NULL OR project_id = ?1)"
    " ORDER BY project_id";
static const char store_session_sql_list[] =
    "SELECT " STORE_SESSION_COLUMNS " FROM sessions"
    " WHERE (?1 IS NULL OR project_id = ?1) AND (?2 IS NULL OR state IN (?3, ?4, ?5, ?6))"
    " ORDER BY created, rowid";
static const char store_session_sql_update[] =
    "UPDATE sessions SET"
    " state = CASE WHEN ?2 THEN ?3 ELSE state END,"
    " started = CASE WHEN ?2 AND ?3 = 'running' AND started IS NULL THEN ?4 ELSE started END,"
    " ended = CASE WHEN ?2 AND ?3 IN ('exited', 'lost') AND ended IS NULL THEN ?4"
    "  ELSE ended END,"
    " holder_pid = CASE WHEN ?5 THEN ?6 ELSE holder_pid END,"
    " child_pid = CASE WHEN ?5 THEN ?7 ELSE child_pid END,"
    " exit_status = CASE WHEN ?8 THEN ?9 ELSE exit_status END,"
    " bytes = CASE WHEN ?10 THEN ?11 ELSE bytes END,"
    " cols = CASE WHEN ?12 THEN ?13 ELSE cols END,"
    " rows = CASE WHEN ?12 THEN ?14 ELSE rows END"
    " WHERE id = ?1";
static const char store_session_sql_revive[] =
    "UPDATE sessions SET state = 'starting', run = run + 1, exit_status = NULL,"
    " holder_pid = NULL, child_pid = NULL, started = NULL, ended = NULL WHERE id = ?1";
static const char store_session_sql_rebind[] =
    "UPDATE sessions SET name = ?2, bound = 1 WHERE id = ?1";
static const char store_session_sql_delete[] = "DELETE FROM sessions WHERE id = ?1";

const char *
store_session_state_name(enum store_session_state state)
{
	if ((unsigned)state >= nitems(store_session_states))
		return NULL;
	return store_session_states[state];
}

static enum store_session_state
store_session_state_from(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < nitems(store_session_states); i++) {
		if (strcmp(name, store_session_states[i]) == 0)
			return (enum store_session_state)i;
	}
	return STORE_SESSION_LOST; /* the schema's CHECK makes this unreachable */
}

static bool
store_session_is_live(enum store_session_state state)
{
	return state == STORE_SESSION_STARTING || state == STORE_SESSION_RUNNING;
}

void
store_session_free(struct store_session *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->project_id);
	free(s->name);
	free(s->command);
	free(s->cwd);
	free(s->env);
	free(s->resume_command);
	free(s);
}

void
store_session_list_free(struct store_session **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_session_free(v[i]);
	free(v);
}

/* A session from a row of STORE_SESSION_COLUMNS. */
static struct store_session *
store_session_from_row(sqlite3_stmt *stmt)
{
	struct store_session *s = xcalloc(1, sizeof *s);

	s->id = store_column_strdup(stmt, 0);
	s->project_id = store_column_strdup(stmt, 1);
	s->name = store_column_strdup(stmt, 2);
	s->bound = sqlite3_column_int(stmt, 3) != 0;
	s->command = store_column_strdup(stmt, 4);
	s->cwd = store_column_strdup(stmt, 5);
	s->env = store_column_strdup(stmt, 6);
	s->resume_command = store_column_strdup(stmt, 7);
	s->state = store_session_state_from((const char *)sqlite3_column_text(stmt, 8));
	s->has_exit_status = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
	s->exit_status = sqlite3_column_int(stmt, 9);
	s->holder_pid = (pid_t)sqlite3_column_int64(stmt, 10);
	s->child_pid = (pid_t)sqlite3_column_int64(stmt, 11);
	s->created = sqlite3_column_int64(stmt, 12);
	s->started = sqlite3_column_int64(stmt, 13);
	s->ended = sqlite3_column_int64(stmt, 14);
	s->run = sqlite3_column_int64(stmt, 15);
	s->cols = sqlite3_column_int(stmt, 16);
	s->rows = sqlite3_column_int(stmt, 17);
	s->bytes = sqlite3_column_int64(stmt, 18);
	return s;
}

/* Read the rows of a prepared, bound statement into a new array. */
static int
store_session_rows(struct store *st, sqlite3_stmt *stmt, struct store_session ***vp, size_t *np,
		   char **cause)
{
	struct store_session **v = NULL;
	size_t n = 0;
	int src;

	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = store_session_from_row(stmt);
	}
	store_reset(stmt);
	if (src != SQLITE_DONE) {
		store_session_list_free(v, n);
		return store_error(st, src, cause, "cannot read sessions");
	}
	*vp = v;
	*np = n;
	return 0;
}

/* Read one session by id in the current transaction. */
static int
store_session_read(struct store *st, const char *id, struct store_session **sp, char **cause)
{
	struct store_session **v = NULL;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc;

	if ((rc = store_prepare(st, store_session_sql_find, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, id);
	if ((rc = store_session_rows(st, stmt, &v, &n, cause)) != 0)
		return rc;
	if (n == 0) {
		free(v);
		return store_fail(cause, -ERR_NOENT, "no session '%s'", id);
	}
	*sp = v[0];
	free(v);
	return 0;
}

/* Read the session bound to name (in project_id, or anywhere) in the current transaction. */
static int
store_session_read_name(struct store *st, const char *project_id, const char *name,
			struct store_session **sp, char **cause)
{
	struct store_session **v = NULL;
	sqlite3_stmt *stmt;
	size_t n = 0, i;
	char *list = NULL, *more;
	int rc;

	if ((rc = store_prepare(st, store_session_sql_find_name, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, project_id);
	store_bind_text(stmt, 2, name);
	if ((rc = store_session_rows(st, stmt, &v, &n, cause)) != 0)
		return rc;
	if (n == 0) {
		if (project_id != NULL)
			rc = store_fail(cause, -ERR_NOENT, "no session '%s' in project '%s'", name,
					project_id);
		else
			rc = store_fail(cause, -ERR_NOENT, "no session '%s'", name);
	} else if (n > 1) {
		for (i = 0; i < n; i++) {
			more = xasprintf("%s%s'%s'", list != NULL ? list : "", i > 0 ? ", " : "",
					 v[i]->project_id);
			free(list);
			list = more;
		}
		rc = store_fail(cause, -ERR_INVAL,
				"session name '%s' is ambiguous: it is in projects %s", name, list);
		free(list);
	} else {
		*sp = v[0];
		v[0] = NULL;
	}
	store_session_list_free(v, n);
	return rc;
}

/*
 * Make name free in project_id for session id (NULL: a new one): fine if
 * unbound or already id's; taken from an exited or lost holder with
 * STORE_TAKEOVER; else -ERR_EXIST.
 */
static int
store_session_claim_name(struct store *st, const char *project_id, const char *name, const char *id,
			 int flags, char **cause)
{
	sqlite3_stmt *stmt;
	enum store_session_state state = STORE_SESSION_LOST;
	char *holder = NULL;
	int rc, src;

	if ((rc = store_prepare(st, store_session_sql_holder, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, project_id);
	store_bind_text(stmt, 2, name);
	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW) {
		holder = store_column_strdup(stmt, 0);
		state = store_session_state_from((const char *)sqlite3_column_text(stmt, 1));
	}
	store_reset(stmt);
	if (src == SQLITE_DONE)
		return 0;
	if (src != SQLITE_ROW)
		return store_error(st, src, cause, "cannot look up session '%s'", name);
	if (id != NULL && strcmp(holder, id) == 0)
		goto out;
	if (!(flags & STORE_TAKEOVER) || store_session_is_live(state)) {
		rc = store_fail(cause, -ERR_EXIST, "session '%s' already exists in project '%s'%s",
				name, project_id,
				store_session_is_live(state) ? ""
							     : " (exited: it can be taken over)");
		goto out;
	}
	if ((rc = store_prepare(st, store_session_sql_unbind, &stmt, cause)) != 0)
		goto out;
	store_bind_text(stmt, 1, holder);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		rc = store_error(st, src, cause, "cannot take over name '%s'", name);
out:
	free(holder);
	return rc;
}

static int
store_session_touch_project(struct store *st, const char *project_id, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_session_sql_touch_project, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, project_id);
	sqlite3_bind_int64(stmt, 2, store_now());
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot update project '%s'", project_id);
	if (store_changes(st) == 0)
		return store_fail(cause, -ERR_NOENT, "no project '%s'", project_id);
	return 0;
}

/* Check command, env and resume_command with SQLite's own JSON parser. */
static int
store_session_check_json(struct store *st, const struct store_session *in, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_session_sql_check, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, in->command);
	store_bind_text(stmt, 2, in->env != NULL ? in->env : "{}");
	store_bind_text(stmt, 3, in->resume_command);
	src = sqlite3_step(stmt);
	if (src != SQLITE_ROW)
		rc = store_error(st, src, cause, "cannot check the session's command");
	else if (sqlite3_column_int(stmt, 0) == 0)
		rc = store_fail(cause, -ERR_INVAL,
				"bad command: it must be a non-empty JSON array of strings");
	else if (sqlite3_column_int(stmt, 1) == 0)
		rc = store_fail(cause, -ERR_INVAL,
				"bad environment: it must be a JSON object of strings, keys "
				"non-empty and without '='");
	else if (sqlite3_column_int(stmt, 2) == 0)
		rc = store_fail(cause, -ERR_INVAL,
				"bad resume command: it must be a non-empty JSON array of strings");
	store_reset(stmt);
	return rc;
}

struct store_session_create_args {
	const struct store_session *in;
	int flags;
	struct store_session *out;
};

static int
store_session_create_cb(struct store *st, void *arg, char **cause)
{
	struct store_session_create_args *a = arg;
	const struct store_session *in = a->in;
	const char *project_id = in->project_id != NULL ? in->project_id : STORE_PROJECT_DEFAULT;
	char id[PATH_ID_LEN + 1], *name = NULL;
	sqlite3_stmt *stmt;
	int rc, src = SQLITE_OK, try;

	if ((rc = store_session_check_json(st, in, cause)) != 0)
		return rc;
	if ((rc = store_session_touch_project(st, project_id, cause)) != 0)
		return rc;
	if (in->name != NULL) {
		name = xstrdup(in->name);
		rc = store_session_claim_name(st, project_id, name, NULL, a->flags, cause);
		if (rc != 0)
			goto out;
	} else {
		if ((rc = store_prepare(st, store_session_sql_default_name, &stmt, cause)) != 0)
			goto out;
		store_bind_text(stmt, 1, project_id);
		src = sqlite3_step(stmt);
		if (src == SQLITE_ROW)
			name = xasprintf("%lld", (long long)sqlite3_column_int64(stmt, 0));
		store_reset(stmt);
		if (src != SQLITE_ROW) {
			rc = store_error(st, src, cause, "cannot choose a session name");
			goto out;
		}
	}
	if ((rc = store_prepare(st, store_session_sql_insert, &stmt, cause)) != 0)
		goto out;
	for (try = 0; try < STORE_SESSION_ID_TRIES; try++) {
		if (in->id != NULL)
			snprintf(id, sizeof id, "%s", in->id);
		else if ((rc = path_id_generate(id)) != 0) {
			rc = store_fail(cause, rc, "cannot make a session id");
			goto out;
		}
		store_bind_text(stmt, 1, id);
		store_bind_text(stmt, 2, project_id);
		store_bind_text(stmt, 3, name);
		store_bind_text(stmt, 4, in->command);
		store_bind_text(stmt, 5, in->cwd);
		store_bind_text(stmt, 6, in->env != NULL ? in->env : "{}");
		store_bind_text(stmt, 7, in->resume_command);
		sqlite3_bind_int64(stmt, 8, store_now());
		sqlite3_bind_int(stmt, 9, in->cols > 0 ? in->cols : 80);
		sqlite3_bind_int(stmt, 10, in->rows > 0 ? in->rows : 24);
		src = sqlite3_step(stmt);
		store_reset(stmt);
		/* A random id that collides is drawn again; a given one is the caller's. */
		if (src != SQLITE_CONSTRAINT_PRIMARYKEY || in->id != NULL)
			break;
	}
	if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = store_fail(cause, -ERR_EXIST, "session id '%s' already exists", id);
	else if (src != SQLITE_DONE)
		rc = store_error(st, src, cause, "cannot create session '%s'", name);
	else
		rc = store_session_read(st, id, &a->out, cause);
out:
	free(name);
	return rc;
}

static int
store_session_check_size(int cols, int rows, char **cause)
{
	if (cols < 0 || rows < 0 || cols > STORE_SESSION_SIZE_MAX || rows > STORE_SESSION_SIZE_MAX)
		return store_fail(cause, -ERR_INVAL, "bad terminal size %dx%d", cols, rows);
	return 0;
}

int
store_session_create(struct store *st, const struct store_session *in, int flags,
		     struct store_session **sp, char **cause)
{
	struct store_session_create_args a = {in, flags, NULL};
	int rc;

	if (sp != NULL)
		*sp = NULL;
	if (in->id != NULL && !path_id_is_valid(in->id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", in->id);
	if (in->project_id != NULL && !store_project_id_is_valid(in->project_id))
		return store_fail(cause, -ERR_INVAL, "bad project id '%s'", in->project_id);
	if (in->name != NULL && !path_name_is_valid(in->name))
		return store_fail(cause, -ERR_INVAL,
				  "bad session name '%s': letters, digits, '.', '_' and '-', "
				  "starting with a letter or digit, at most %d",
				  in->name, PATH_NAME_MAX);
	if (in->command == NULL || strlen(in->command) > STORE_JSON_MAX ||
	    (in->env != NULL && strlen(in->env) > STORE_JSON_MAX) ||
	    (in->resume_command != NULL && strlen(in->resume_command) > STORE_JSON_MAX))
		return store_fail(cause, -ERR_INVAL,
				  "bad session: a command is needed, and command, environment "
				  "and resume command are at most %d bytes each",
				  STORE_JSON_MAX);
	if (in->cwd == NULL || in->cwd[0] != '/' || strlen(in->cwd) > STORE_PATH_MAX)
		return store_fail(cause, -ERR_INVAL,
				  "bad session directory '%s': it must be absolute",
				  in->cwd != NULL ? in->cwd : "");
	if ((rc = store_session_check_size(in->cols, in->rows, cause)) != 0)
		return rc;
	if ((rc = store_tx(st, true, store_session_create_cb, &a, cause)) != 0)
		return rc;
	if (sp != NULL)
		*sp = a.out;
	else
		store_session_free(a.out);
	return 0;
}

struct store_session_find_args {
	const char *project_id;
	const char *id;	  /* by id, if not NULL */
	const char *name; /* by name, if not NULL; first, if both */
	struct store_session *out;
};

static int
store_session_find_cb(struct store *st, void *arg, char **cause)
{
	struct store_session_find_args *a = arg;
	int rc = -ERR_NOENT;

	if (a->name != NULL) {
		rc = store_session_read_name(st, a->project_id, a->name, &a->out, cause);
		if (rc != -ERR_NOENT || a->id == NULL)
			return rc;
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
	}
	rc = store_session_read(st, a->id, &a->out, cause);
	if (rc == 0 && a->project_id != NULL && strcmp(a->out->project_id, a->project_id) != 0) {
		store_session_free(a->out);
		a->out = NULL;
		rc = store_fail(cause, -ERR_NOENT, "no session '%s' in project '%s'", a->id,
				a->project_id);
	}
	return rc;
}

static int
store_session_find_run(struct store *st, struct store_session_find_args *a,
		       struct store_session **sp, char **cause)
{
	int rc;

	*sp = NULL;
	if (a->project_id != NULL && !store_project_id_is_valid(a->project_id))
		return store_fail(cause, -ERR_INVAL, "bad project id '%s'", a->project_id);
	if ((rc = store_tx(st, false, store_session_find_cb, a, cause)) != 0)
		return rc;
	*sp = a->out;
	return 0;
}

int
store_session_find(struct store *st, const char *id, struct store_session **sp, char **cause)
{
	struct store_session_find_args a = {NULL, id, NULL, NULL};

	*sp = NULL;
	if (id == NULL || !path_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", id != NULL ? id : "");
	return store_session_find_run(st, &a, sp, cause);
}

int
store_session_find_by_name(struct store *st, const char *project_id, const char *name,
			   struct store_session **sp, char **cause)
{
	struct store_session_find_args a = {project_id, NULL, name, NULL};

	*sp = NULL;
	if (name == NULL || !path_name_is_valid(name))
		return store_fail(cause, -ERR_INVAL, "bad session name '%s'",
				  name != NULL ? name : "");
	return store_session_find_run(st, &a, sp, cause);
}

int
store_session_get(struct store *st, const char *project_id, const char *ref,
		  struct store_session **sp, char **cause)
{
	struct store_session_find_args a = {project_id, NULL, NULL, NULL};

	*sp = NULL;
	if (ref != NULL && path_name_is_valid(ref))
		a.name = ref;
	if (ref != NULL && path_id_is_valid(ref))
		a.id = ref;
	if (a.name == NULL && a.id == NULL)
		return store_fail(cause, -ERR_INVAL, "bad session name or id '%s'",
				  ref != NULL ? ref : "");
	return store_session_find_run(st, &a, sp, cause);
}

struct store_session_list_args {
	const struct store_session_filter *f;
	struct store_session **v;
	size_t n;
};

static int
store_session_list_cb(struct store *st, void *arg, char **cause)
{
	struct store_session_list_args *a = arg;
	sqlite3_stmt *stmt;
	size_t i;
	int rc;

	if ((rc = store_prepare(st, store_session_sql_list, &stmt, cause)) != 0)
		return rc;
	if (a->f != NULL) {
		store_bind_text(stmt, 1, a->f->project_id);
		if (a->f->states != 0) {
			sqlite3_bind_int(stmt, 2, 1);
			for (i = 0; i < nitems(store_session_states); i++) {
				if (a->f->states & (1 << i))
					store_bind_text(stmt, 3 + (int)i, store_session_states[i]);
			}
		}
	}
	return store_session_rows(st, stmt, &a->v, &a->n, cause);
}

int
store_session_list(struct store *st, const struct store_session_filter *f,
		   struct store_session ***vp, size_t *np, char **cause)
{
	struct store_session_list_args a = {f, NULL, 0};
	int rc;

	*vp = NULL;
	*np = 0;
	if (f != NULL && f->project_id != NULL && !store_project_id_is_valid(f->project_id))
		return store_fail(cause, -ERR_INVAL, "bad project id '%s'", f->project_id);
	if (f != NULL && (f->states & ~((1 << nitems(store_session_states)) - 1)) != 0)
		return store_fail(cause, -ERR_INVAL, "bad session state filter %#x", f->states);
	if ((rc = store_tx(st, false, store_session_list_cb, &a, cause)) != 0)
		return rc;
	*vp = a.v;
	*np = a.n;
	return 0;
}

/* May a session go from state from to state to? */
static bool
store_session_may_become(enum store_session_state from, enum store_session_state to)
{
	if (from == to)
		return true;
	switch (from) {
	case STORE_SESSION_STARTING:
		return to != STORE_SESSION_STARTING;
	case STORE_SESSION_RUNNING:
		return to == STORE_SESSION_EXITED || to == STORE_SESSION_LOST;
	case STORE_SESSION_LOST:
		return to == STORE_SESSION_RUNNING || to == STORE_SESSION_EXITED;
	default:
		return false;
	}
}

struct store_session_update_args {
	const char *id;
	int set;
	const struct store_session *v;
};

static int
store_session_update_cb(struct store *st, void *arg, char **cause)
{
	struct store_session_update_args *a = arg;
	const struct store_session *v = a->v;
	struct store_session *s = NULL;
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_session_read(st, a->id, &s, cause)) != 0)
		return rc;
	if ((a->set & STORE_SESSION_SET_STATE) && !store_session_may_become(s->state, v->state)) {
		rc = store_fail(cause, -ERR_STATE, "session '%s' is %s: it cannot become %s",
				s->name, store_session_state_name(s->state),
				store_session_state_name(v->state));
		goto out;
	}
	if ((rc = store_prepare(st, store_session_sql_update, &stmt, cause)) != 0)
		goto out;
	store_bind_text(stmt, 1, a->id);
	sqlite3_bind_int(stmt, 2, (a->set & STORE_SESSION_SET_STATE) != 0);
	store_bind_text(stmt, 3, store_session_state_name(v->state));
	sqlite3_bind_int64(stmt, 4, store_now());
	sqlite3_bind_int(stmt, 5, (a->set & STORE_SESSION_SET_PIDS) != 0);
	store_bind_int_or_null(stmt, 6, v->holder_pid);
	store_bind_int_or_null(stmt, 7, v->child_pid);
	sqlite3_bind_int(stmt, 8, (a->set & STORE_SESSION_SET_EXIT) != 0);
	if (v->has_exit_status)
		sqlite3_bind_int(stmt, 9, v->exit_status);
	sqlite3_bind_int(stmt, 10, (a->set & STORE_SESSION_SET_BYTES) != 0);
	sqlite3_bind_int64(stmt, 11, v->bytes);
	sqlite3_bind_int(stmt, 12, (a->set & STORE_SESSION_SET_SIZE) != 0);
	sqlite3_bind_int(stmt, 13, v->cols);
	sqlite3_bind_int(stmt, 14, v->rows);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		rc = store_error(st, src, cause, "cannot update session '%s'", a->id);
out:
	store_session_free(s);
	return rc;
}

int
store_session_update(struct store *st, const char *id, int set, const struct store_session *v,
		     char **cause)
{
	struct store_session_update_args a = {id, set, v};
	int rc;

	if (id == NULL || !path_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", id != NULL ? id : "");
	if ((set & STORE_SESSION_SET_STATE) && store_session_state_name(v->state) == NULL)
		return store_fail(cause, -ERR_INVAL, "bad session state %d", (int)v->state);
	if ((set & STORE_SESSION_SET_PIDS) && (v->holder_pid < 0 || v->child_pid < 0))
		return store_fail(cause, -ERR_INVAL, "bad process id");
	if ((set & STORE_SESSION_SET_BYTES) && v->bytes < 0)
		return store_fail(cause, -ERR_INVAL, "bad byte count");
	if ((set & STORE_SESSION_SET_SIZE) && (v->cols <= 0 || v->rows <= 0))
		return store_fail(cause, -ERR_INVAL, "bad terminal size %dx%d", v->cols, v->rows);
	if ((set & STORE_SESSION_SET_SIZE) &&
	    (rc = store_session_check_size(v->cols, v->rows, cause)) != 0)
		return rc;
	return store_tx(st, true, store_session_update_cb, &a, cause);
}

/* Run a one-parameter statement on a session id that changes rows. */
static int
store_session_exec_id(struct store *st, const char *sql, const char *id, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, sql, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, id);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot change session '%s'", id);
	if (store_changes(st) == 0)
		return store_fail(cause, -ERR_NOENT, "no session '%s'", id);
	return 0;
}

static int
store_session_revive_cb(struct store *st, void *arg, char **cause)
{
	const char *id = arg;
	struct store_session *s = NULL;
	int rc;

	if ((rc = store_session_read(st, id, &s, cause)) != 0)
		return rc;
	if (store_session_is_live(s->state))
		rc = store_fail(cause, -ERR_STATE,
				"session '%s' is %s: only an exited or lost "
				"session can be revived",
				s->name, store_session_state_name(s->state));
	if (rc == 0)
		rc = store_session_exec_id(st, store_session_sql_revive, id, cause);
	if (rc == 0)
		rc = store_session_touch_project(st, s->project_id, cause);
	store_session_free(s);
	return rc;
}

int
store_session_revive(struct store *st, const char *id, char **cause)
{
	if (id == NULL || !path_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", id != NULL ? id : "");
	return store_tx(st, true, store_session_revive_cb, (void *)id, cause);
}

struct store_session_rebind_args {
	const char *id;
	const char *name;
	int flags;
};

static int
store_session_rebind_cb(struct store *st, void *arg, char **cause)
{
	struct store_session_rebind_args *a = arg;
	struct store_session *s = NULL;
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_session_read(st, a->id, &s, cause)) != 0)
		return rc;
	rc = store_session_claim_name(st, s->project_id, a->name, a->id, a->flags, cause);
	if (rc != 0)
		goto out;
	if ((rc = store_prepare(st, store_session_sql_rebind, &stmt, cause)) != 0)
		goto out;
	store_bind_text(stmt, 1, a->id);
	store_bind_text(stmt, 2, a->name);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		rc = store_error(st, src, cause, "cannot name session '%s'", a->id);
out:
	store_session_free(s);
	return rc;
}

int
store_session_rebind(struct store *st, const char *id, const char *name, int flags, char **cause)
{
	struct store_session_rebind_args a = {id, name, flags};

	if (id == NULL || !path_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", id != NULL ? id : "");
	if (name == NULL || !path_name_is_valid(name))
		return store_fail(cause, -ERR_INVAL, "bad session name '%s'",
				  name != NULL ? name : "");
	return store_tx(st, true, store_session_rebind_cb, &a, cause);
}

static int
store_session_delete_cb(struct store *st, void *arg, char **cause)
{
	return store_session_exec_id(st, store_session_sql_delete, arg, cause);
}

int
store_session_delete(struct store *st, const char *id, char **cause)
{
	if (id == NULL || !path_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad session id '%s'", id != NULL ? id : "");
	return store_tx(st, true, store_session_delete_cb, (void *)id, cause);
}
