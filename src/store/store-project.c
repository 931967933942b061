/*
 * store-project.c: projects and their tags in the registry: validation of
 * prefixes, ids and tags, and the create/find/list/update/delete queries.
 * Not for workspaces on disk: creating and removing directories is the
 * daemon's job.
 */
#include "common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "store/store-int.h"

#define STORE_PROJECT_SUFFIX_LEN 8 /* hex digits after PREFIX- */
#define STORE_PROJECT_ID_TRIES 8   /* fresh random ids to try on a collision */

/* The tags come as one string; tags cannot hold spaces, so a space separates them. */
#define STORE_PROJECT_COLUMNS                                                                      \
	"p.id, p.prefix, p.path, p.managed, p.description, p.pinned, p.created, p.updated, "       \
	"p.last_activity, p.expires_at, "                                                          \
	"(SELECT group_concat(t.tag, ' ') FROM project_tags t WHERE t.project_id = p.id)"

static const char store_project_sql_insert[] =
    "INSERT INTO projects (id, prefix, path, managed, description, pinned, created, updated, "
    "last_activity, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7, ?8)";
static const char store_project_sql_tag_insert[] =
    "INSERT INTO project_tags (project_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
static const char store_project_sql_tag_clear[] = "DELETE FROM project_tags WHERE project_id = ?1";
static const char store_project_sql_find[] =
    "SELECT " STORE_PROJECT_COLUMNS " FROM projects p WHERE p.id = ?1";
static const char store_project_sql_list[] =
    "SELECT " STORE_PROJECT_COLUMNS " FROM projects p"
    " WHERE (?1 IS NULL OR p.prefix = ?1)"
    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM project_tags t"
    "                            WHERE t.project_id = p.id AND t.tag = ?2))"
    " AND (?3 IS NULL OR p.pinned = ?3)"
    " AND (?4 IS NULL OR (p.expires_at IS NOT NULL AND p.expires_at <= ?4))"
    " ORDER BY p.created, p.rowid";
static const char store_project_sql_update[] =
    "UPDATE projects SET"
    " description = CASE WHEN ?2 THEN ?3 ELSE description END,"
    " pinned = CASE WHEN ?4 THEN ?5 ELSE pinned END,"
    " expires_at = CASE WHEN ?6 THEN ?7 ELSE expires_at END,"
    " last_activity = CASE WHEN ?8 THEN ?9 ELSE last_activity END,"
    " updated = CASE WHEN ?10 THEN ?11 ELSE updated END"
    " WHERE id = ?1";
static const char store_project_sql_sessions[] =
    "SELECT count(*) FROM sessions WHERE project_id = ?1";
static const char store_project_sql_delete_sessions[] =
    "DELETE FROM sessions WHERE project_id = ?1";
static const char store_project_sql_delete[] = "DELETE FROM projects WHERE id = ?1";
static const char store_project_sql_count[] =
    "SELECT count(*) FROM projects WHERE id <> '" STORE_PROJECT_DEFAULT "'";

bool
store_project_prefix_is_valid(const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (n == 0 || n > STORE_PREFIX_MAX)
		return false;
	if (prefix[0] < 'a' || prefix[0] > 'z' || prefix[n - 1] == '-')
		return false;
	for (i = 1; i < n; i++) {
		char c = prefix[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

bool
store_project_id_is_valid(const char *id)
{
	char prefix[STORE_PREFIX_MAX + 1];
	size_t i, n = strlen(id), plen;

	if (strcmp(id, STORE_PROJECT_DEFAULT) == 0)
		return true;
	if (n < STORE_PROJECT_SUFFIX_LEN + 2 || n > STORE_PROJECT_ID_MAX)
		return false;
	plen = n - STORE_PROJECT_SUFFIX_LEN - 1;
	if (id[plen] != '-')
		return false;
	for (i = plen + 1; i < n; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	memcpy(prefix, id, plen);
	prefix[plen] = '\0';
	return store_project_prefix_is_valid(prefix);
}

bool
store_tag_is_valid(const char *tag)
{
	size_t i, n = strlen(tag);

	if (n == 0 || n > STORE_TAG_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = tag[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

void
store_project_free(struct store_project *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->id);
	free(p->prefix);
	free(p->path);
	free(p->description);
	for (i = 0; i < p->ntags; i++)
		free(p->tags[i]);
	free(p->tags);
	free(p);
}

void
store_project_list_free(struct store_project **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_project_free(v[i]);
	free(v);
}

static int
store_project_tag_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A project from a row of STORE_PROJECT_COLUMNS. */
static struct store_project *
store_project_from_row(sqlite3_stmt *stmt)
{
	struct store_project *p = xcalloc(1, sizeof *p);
	char *tags, *s, *next;

	p->id = store_column_strdup(stmt, 0);
	p->prefix = store_column_strdup(stmt, 1);
	p->path = store_column_strdup(stmt, 2);
	p->managed = sqlite3_column_int(stmt, 3) != 0;
	p->description = store_column_strdup(stmt, 4);
	if (p->description == NULL)
		p->description = xstrdup("");
	p->pinned = sqlite3_column_int(stmt, 5) != 0;
	p->created = sqlite3_column_int64(stmt, 6);
	p->updated = sqlite3_column_int64(stmt, 7);
	p->last_activity = sqlite3_column_int64(stmt, 8);
	p->expires_at = sqlite3_column_int64(stmt, 9);
	tags = store_column_strdup(stmt, 10);
	for (s = tags; s != NULL && *s != '\0'; s = next) {
		next = strchr(s, ' ');
		if (next != NULL)
			*next++ = '\0';
		else
			next = s + strlen(s);
		p->tags = xrealloc(p->tags, (p->ntags + 1) * sizeof *p->tags);
		p->tags[p->ntags++] = xstrdup(s);
	}
	free(tags);
	if (p->ntags > 1)
		qsort(p->tags, p->ntags, sizeof *p->tags, store_project_tag_cmp);
	return p;
}

static int
store_project_check_tags(char *const *tags, size_t ntags, char **cause)
{
	size_t i;

	if (ntags > STORE_TAGS_MAX)
		return store_fail(cause, -ERR_INVAL, "too many tags: %zu (at most %d)", ntags,
				  STORE_TAGS_MAX);
	for (i = 0; i < ntags; i++) {
		if (tags[i] == NULL || !store_tag_is_valid(tags[i]))
			return store_fail(cause, -ERR_INVAL,
					  "bad tag '%s': lower-case letters, digits, '.', '_' "
					  "and '-', starting with a letter or digit, at most %d",
					  tags[i] != NULL ? tags[i] : "", STORE_TAG_MAX);
	}
	return 0;
}

static int
store_project_check_description(const char *d, char **cause)
{
	if (d != NULL && !store_utf8_is_valid(d, STORE_DESCRIPTION_MAX))
		return store_fail(cause, -ERR_INVAL,
				  "bad description: it must be UTF-8 of at most %d bytes",
				  STORE_DESCRIPTION_MAX);
	return 0;
}

static int
store_project_check_id(const char *id, char **cause)
{
	if (id == NULL || !store_project_id_is_valid(id))
		return store_fail(cause, -ERR_INVAL, "bad project id '%s'", id != NULL ? id : "");
	return 0;
}

static int
store_project_set_tags(struct store *st, const char *id, char *const *tags, size_t ntags,
		       bool clear, char **cause)
{
	sqlite3_stmt *stmt;
	size_t i;
	int rc, src;

	if (clear) {
		if ((rc = store_prepare(st, store_project_sql_tag_clear, &stmt, cause)) != 0)
			return rc;
		store_bind_text(stmt, 1, id);
		src = sqlite3_step(stmt);
		store_reset(stmt);
		if (src != SQLITE_DONE)
			return store_error(st, src, cause, "cannot change tags of project '%s'",
					   id);
	}
	if ((rc = store_prepare(st, store_project_sql_tag_insert, &stmt, cause)) != 0)
		return rc;
	for (i = 0; i < ntags; i++) {
		store_bind_text(stmt, 1, id);
		store_bind_text(stmt, 2, tags[i]);
		src = sqlite3_step(stmt);
		store_reset(stmt);
		if (src != SQLITE_DONE)
			return store_error(st, src, cause, "cannot tag project '%s'", id);
	}
	return 0;
}

/* Read one project in the current transaction. */
static int
store_project_read(struct store *st, const char *id, struct store_project **pp, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, store_project_sql_find, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, id);
	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW)
		*pp = store_project_from_row(stmt);
	else if (src == SQLITE_DONE)
		rc = store_fail(cause, -ERR_NOENT, "no project '%s'", id);
	else
		rc = store_error(st, src, cause, "cannot read project '%s'", id);
	store_reset(stmt);
	return rc;
}

struct store_project_create_args {
	const struct store_project *in;
	struct store_project *out;
};

static int
store_project_create_cb(struct store *st, void *arg, char **cause)
{
	struct store_project_create_args *a = arg;
	const struct store_project *in = a->in;
	char id[STORE_PROJECT_ID_MAX + 1];
	unsigned char rnd[STORE_PROJECT_SUFFIX_LEN / 2];
	sqlite3_stmt *stmt;
	int64_t now = store_now();
	int rc, src = SQLITE_OK, try;

	if ((rc = store_prepare(st, store_project_sql_insert, &stmt, cause)) != 0)
		return rc;
	for (try = 0; try < STORE_PROJECT_ID_TRIES; try++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return store_fail(cause, err_from_errno(errno),
					  "cannot make a project id: %s", strerror(errno));
		snprintf(id, sizeof id, "%s-%02x%02x%02x%02x", in->prefix, rnd[0], rnd[1], rnd[2],
			 rnd[3]);
		store_bind_text(stmt, 1, id);
		store_bind_text(stmt, 2, in->prefix);
		store_bind_text(stmt, 3, in->path);
		sqlite3_bind_int(stmt, 4, in->path == NULL || in->managed);
		store_bind_text(stmt, 5, in->description != NULL ? in->description : "");
		sqlite3_bind_int(stmt, 6, in->pinned);
		sqlite3_bind_int64(stmt, 7, now);
		store_bind_int_or_null(stmt, 8, in->expires_at);
		src = sqlite3_step(stmt);
		store_reset(stmt);
		/* Only the id can collide: draw again. */
		if (src != SQLITE_CONSTRAINT_PRIMARYKEY)
			break;
	}
	if (src == SQLITE_CONSTRAINT_UNIQUE)
		return store_fail(cause, -ERR_EXIST, "a project for '%s' already exists", in->path);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot create a project '%s'", in->prefix);
	rc = store_project_set_tags(st, id, in->tags, in->ntags, false, cause);
	if (rc == 0)
		rc = store_project_read(st, id, &a->out, cause);
	return rc;
}

int
store_project_create(struct store *st, const struct store_project *in, struct store_project **pp,
		     char **cause)
{
	struct store_project_create_args a = {in, NULL};
	int rc;

	if (pp != NULL)
		*pp = NULL;
	if (in->prefix == NULL || !store_project_prefix_is_valid(in->prefix))
		return store_fail(cause, -ERR_INVAL,
				  "bad project prefix '%s': lower-case letters, digits and '-', "
				  "starting with a letter, not ending with '-', at most %d",
				  in->prefix != NULL ? in->prefix : "", STORE_PREFIX_MAX);
	if (in->path != NULL && (in->path[0] != '/' || strlen(in->path) > STORE_PATH_MAX))
		return store_fail(cause, -ERR_INVAL, "bad project path '%s': it must be absolute",
				  in->path);
	if (in->expires_at < 0)
		return store_fail(cause, -ERR_INVAL, "bad expiry time");
	if ((rc = store_project_check_description(in->description, cause)) != 0 ||
	    (rc = store_project_check_tags(in->tags, in->ntags, cause)) != 0)
		return rc;
	if ((rc = store_tx(st, true, store_project_create_cb, &a, cause)) != 0)
		return rc;
	if (pp != NULL)
		*pp = a.out;
	else
		store_project_free(a.out);
	return 0;
}

struct store_project_find_args {
	const char *id;
	struct store_project *out;
};

static int
store_project_find_cb(struct store *st, void *arg, char **cause)
{
	struct store_project_find_args *a = arg;

	return store_project_read(st, a->id, &a->out, cause);
}

int
store_project_find(struct store *st, const char *id, struct store_project **pp, char **cause)
{
	struct store_project_find_args a = {id, NULL};
	int rc;

	*pp = NULL;
	if ((rc = store_project_check_id(id, cause)) != 0)
		return rc;
	if ((rc = store_tx(st, false, store_project_find_cb, &a, cause)) != 0)
		return rc;
	*pp = a.out;
	return 0;
}

struct store_project_list_args {
	const struct store_project_filter *f;
	struct store_project **v;
	size_t n;
};

static int
store_project_list_cb(struct store *st, void *arg, char **cause)
{
	struct store_project_list_args *a = arg;
	const struct store_project_filter *f = a->f;
	struct store_project **v = NULL;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc, src;

	if ((rc = store_prepare(st, store_project_sql_list, &stmt, cause)) != 0)
		return rc;
	if (f != NULL) {
		store_bind_text(stmt, 1, f->prefix);
		store_bind_text(stmt, 2, f->tag);
		if (f->pinned != 0)
			sqlite3_bind_int(stmt, 3, f->pinned > 0);
		store_bind_int_or_null(stmt, 4, f->expires_before);
	}
	while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = store_project_from_row(stmt);
	}
	store_reset(stmt);
	if (src != SQLITE_DONE) {
		store_project_list_free(v, n);
		return store_error(st, src, cause, "cannot list projects");
	}
	a->v = v;
	a->n = n;
	return 0;
}

int
store_project_list(struct store *st, const struct store_project_filter *f,
		   struct store_project ***vp, size_t *np, char **cause)
{
	struct store_project_list_args a = {f, NULL, 0};
	int rc;

	*vp = NULL;
	*np = 0;
	if (f != NULL && f->prefix != NULL && !store_project_prefix_is_valid(f->prefix))
		return store_fail(cause, -ERR_INVAL, "bad project prefix '%s'", f->prefix);
	if (f != NULL && f->tag != NULL && !store_tag_is_valid(f->tag))
		return store_fail(cause, -ERR_INVAL, "bad tag '%s'", f->tag);
	if ((rc = store_tx(st, false, store_project_list_cb, &a, cause)) != 0)
		return rc;
	*vp = a.v;
	*np = a.n;
	return 0;
}

struct store_project_update_args {
	const char *id;
	int set;
	const struct store_project *v;
};

static int
store_project_update_cb(struct store *st, void *arg, char **cause)
{
	struct store_project_update_args *a = arg;
	const struct store_project *v = a->v;
	int changes = STORE_PROJECT_SET_DESCRIPTION | STORE_PROJECT_SET_TAGS |
		      STORE_PROJECT_SET_PINNED | STORE_PROJECT_SET_EXPIRES;
	sqlite3_stmt *stmt;
	int64_t now = store_now();
	int rc, src;

	if ((rc = store_prepare(st, store_project_sql_update, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, a->id);
	sqlite3_bind_int(stmt, 2, (a->set & STORE_PROJECT_SET_DESCRIPTION) != 0);
	store_bind_text(stmt, 3, v->description != NULL ? v->description : "");
	sqlite3_bind_int(stmt, 4, (a->set & STORE_PROJECT_SET_PINNED) != 0);
	sqlite3_bind_int(stmt, 5, v->pinned);
	sqlite3_bind_int(stmt, 6, (a->set & STORE_PROJECT_SET_EXPIRES) != 0);
	store_bind_int_or_null(stmt, 7, v->expires_at);
	sqlite3_bind_int(stmt, 8, (a->set & STORE_PROJECT_SET_ACTIVITY) != 0);
	sqlite3_bind_int64(stmt, 9, v->last_activity != 0 ? v->last_activity : now);
	sqlite3_bind_int(stmt, 10, (a->set & changes) != 0);
	sqlite3_bind_int64(stmt, 11, now);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot update project '%s'", a->id);
	if (store_changes(st) == 0)
		return store_fail(cause, -ERR_NOENT, "no project '%s'", a->id);
	if (a->set & STORE_PROJECT_SET_TAGS)
		return store_project_set_tags(st, a->id, v->tags, v->ntags, true, cause);
	return 0;
}

int
store_project_update(struct store *st, const char *id, int set, const struct store_project *v,
		     char **cause)
{
	struct store_project_update_args a = {id, set, v};
	int rc;

	if ((rc = store_project_check_id(id, cause)) != 0)
		return rc;
	if ((set & STORE_PROJECT_SET_DESCRIPTION) &&
	    (rc = store_project_check_description(v->description, cause)) != 0)
		return rc;
	if ((set & STORE_PROJECT_SET_TAGS) &&
	    (rc = store_project_check_tags(v->tags, v->ntags, cause)) != 0)
		return rc;
	if ((set & STORE_PROJECT_SET_EXPIRES) && v->expires_at < 0)
		return store_fail(cause, -ERR_INVAL, "bad expiry time");
	return store_tx(st, true, store_project_update_cb, &a, cause);
}

/* Run a one-parameter statement that returns one integer. */
static int
store_project_int(struct store *st, const char *sql, const char *param, int64_t *out, char **cause)
{
	sqlite3_stmt *stmt;
	int rc, src;

	if ((rc = store_prepare(st, sql, &stmt, cause)) != 0)
		return rc;
	if (param != NULL)
		store_bind_text(stmt, 1, param);
	src = sqlite3_step(stmt);
	if (src == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	else
		rc = store_error(st, src, cause, "cannot count");
	store_reset(stmt);
	return rc;
}

struct store_project_delete_args {
	const char *id;
	int flags;
};

static int
store_project_delete_cb(struct store *st, void *arg, char **cause)
{
	struct store_project_delete_args *a = arg;
	struct store_project *p = NULL;
	sqlite3_stmt *stmt;
	int64_t n;
	int rc, src;

	if ((rc = store_project_read(st, a->id, &p, cause)) != 0)
		return rc;
	store_project_free(p);
	if ((rc = store_project_int(st, store_project_sql_sessions, a->id, &n, cause)) != 0)
		return rc;
	if (n > 0 && !(a->flags & STORE_FORCE))
		return store_fail(cause, -ERR_STATE,
				  "project '%s' has %lld session%s: remove them first, or force",
				  a->id, (long long)n, n == 1 ? "" : "s");
	if (n > 0) {
		if ((rc = store_prepare(st, store_project_sql_delete_sessions, &stmt, cause)) != 0)
			return rc;
		store_bind_text(stmt, 1, a->id);
		src = sqlite3_step(stmt);
		store_reset(stmt);
		if (src != SQLITE_DONE)
			return store_error(st, src, cause, "cannot delete sessions of project '%s'",
					   a->id);
	}
	if ((rc = store_prepare(st, store_project_sql_delete, &stmt, cause)) != 0)
		return rc;
	store_bind_text(stmt, 1, a->id);
	src = sqlite3_step(stmt);
	store_reset(stmt);
	if (src != SQLITE_DONE)
		return store_error(st, src, cause, "cannot delete project '%s'", a->id);
	return 0;
}

int
store_project_delete(struct store *st, const char *id, int flags, char **cause)
{
	struct store_project_delete_args a = {id, flags};
	int rc;

	if ((rc = store_project_check_id(id, cause)) != 0)
		return rc;
	if (strcmp(id, STORE_PROJECT_DEFAULT) == 0)
		return store_fail(cause, -ERR_STATE, "the default project cannot be deleted");
	return store_tx(st, true, store_project_delete_cb, &a, cause);
}

static int
store_project_count_cb(struct store *st, void *arg, char **cause)
{
	return store_project_int(st, store_project_sql_count, NULL, arg, cause);
}

int
store_project_count(struct store *st, size_t *np, char **cause)
{
	int64_t n = 0;
	int rc;

	*np = 0;
	if ((rc = store_tx(st, false, store_project_count_cb, &n, cause)) != 0)
		return rc;
	*np = (size_t)n;
	return 0;
}
