/*
 * test-store.c: the registry store: migrations and versions, file modes,
 * corruption, prefix rules, projects, sessions and tokens, and fifty
 * processes writing at once. Each test works in its own temporary directory.
 */
#include "common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char *path; /* dir/roost.db */
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);

	snprintf(fx->dir, sizeof fx->dir, "/tmp/roost-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	fx->path = xasprintf("%s/roost.db", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	path_remove_tree(fx->dir);
	free(fx->path);
	free(fx);
	return 0;
}

/* Open fx->path into fx->st, failing the test with the cause if it does not open. */
static struct store *
open_ok(struct fixture *fx)
{
	char *cause = NULL;
	int rc;

	store_close(fx->st);
	fx->st = NULL;
	rc = store_open(fx->path, &fx->st, &cause);
	if (rc != 0)
		fail_msg("store_open: %d %s", rc, cause);
	return fx->st;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole file, for checking that a refused open left it alone. */
static char *
slurp(const char *path, size_t *lenp)
{
	char *data = NULL;

	assert_int_equal(path_read_file(path, 1 << 26, &data, lenp), 0);
	return data;
}

static void
write_file(const char *path, const void *data, size_t len, off_t at, bool trunc)
{
	int fd = open(path, O_WRONLY | O_CREAT | (trunc ? O_TRUNC : 0), 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
	close(fd);
}

static bool
file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static struct store_session
session_in(const char *project_id, const char *name)
{
	struct store_session in = {0};

	in.project_id = (char *)project_id;
	in.name = (char *)name;
	in.command = "[\"/bin/sh\",\"-c\",\"echo hi\"]";
	in.cwd = "/tmp";
	return in;
}

/* Create a session or fail the test; returns its id (the caller frees it). */
static char *
session_add(struct store *st, const char *project_id, const char *name, int flags)
{
	struct store_session in = session_in(project_id, name), *s = NULL;
	char *cause = NULL, *id;
	int rc;

	rc = store_session_create(st, &in, flags, &s, &cause);
	if (rc != 0)
		fail_msg("store_session_create %s: %d %s", name ? name : "(auto)", rc, cause);
	id = xstrdup(s->id);
	store_session_free(s);
	return id;
}

static char *
project_add(struct store *st, const char *prefix, const char *path)
{
	struct store_project in = {0}, *p = NULL;
	char *cause = NULL, *id;
	int rc;

	in.prefix = (char *)prefix;
	in.path = (char *)path;
	rc = store_project_create(st, &in, &p, &cause);
	if (rc != 0)
		fail_msg("store_project_create %s: %d %s", prefix, rc, cause);
	id = xstrdup(p->id);
	store_project_free(p);
	return id;
}

static void
set_state(struct store *st, const char *id, enum store_session_state state, int expect)
{
	struct store_session v = {0};
	char *cause = NULL;
	int rc;

	v.state = state;
	rc = store_session_update(st, id, STORE_SESSION_SET_STATE, &v, &cause);
	if (rc != expect)
		fail_msg("state %s: %d (wanted %d) %s", store_session_state_name(state), rc, expect,
			 cause);
	free(cause);
}

/* Migrations from an empty file; the default project; a second connection. */
static void
test_open_migrates(void **state)
{
	struct fixture *fx = *state;
	struct store_project *p = NULL, **v = NULL;
	struct store *st2 = NULL;
	char *cause = NULL, *missing, *link, *target;
	size_t n;

	open_ok(fx);
	assert_true(store_schema_latest() >= 1);
	assert_int_equal(store_schema_version(fx->st), store_schema_latest());
	assert_int_equal(store_project_find(fx->st, STORE_PROJECT_DEFAULT, &p, &cause), 0);
	assert_string_equal(p->id, "default");
	assert_true(p->managed);
	assert_null(p->path);
	assert_true(p->pinned);
	assert_true(p->created > 0);
	store_project_free(p);
	assert_int_equal(store_project_list(fx->st, NULL, &v, &n, &cause), 0);
	assert_int_equal(n, 1);
	store_project_list_free(v, n);
	assert_int_equal(store_project_count(fx->st, &n, &cause), 0);
	assert_int_equal(n, 0);

	/* A second connection sees the same, and migrating again is a no-op. */
	assert_int_equal(store_open(fx->path, &st2, &cause), 0);
	assert_int_equal(store_project_list(st2, NULL, &v, &n, &cause), 0);
	assert_int_equal(n, 1);
	store_project_list_free(v, n);
	store_close(st2);

	missing = xasprintf("%s/no/such/dir/roost.db", fx->dir);
	assert_int_equal(store_open(missing, &st2, &cause), -ERR_NOENT);
	assert_null(st2);
	assert_non_null(strstr(cause, "no/such/dir"));
	free(cause);
	free(missing);

	/* A symbolic link in place of the database is refused, not followed. */
	link = xasprintf("%s/link.db", fx->dir);
	target = xasprintf("%s/target.db", fx->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(store_open(link, &st2, &cause), -ERR_PERM);
	assert_non_null(strstr(cause, "symbolic link"));
	assert_false(file_exists(target));
	free(cause);
	free(link);
	free(target);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fixture *fx = *state;
	struct store_project in = {0}, *p = NULL;
	struct store_session *s = NULL;
	struct store_token *t = NULL;
	char *tags[] = {"ml", "web"}, *cause = NULL, *sid, *pid, hash[STORE_HASH_LEN + 1];

	open_ok(fx);
	in.prefix = "keep";
	in.path = "/srv/keep";
	in.description = "kept across restarts";
	in.tags = tags;
	in.ntags = 2;
	assert_int_equal(store_project_create(fx->st, &in, &p, &cause), 0);
	pid = xstrdup(p->id);
	store_project_free(p);
	sid = session_add(fx->st, pid, "agent", 0);
	assert_int_equal(store_token_hash("secret", hash), 0);
	assert_int_equal(store_token_create(fx->st, "ci", hash, true, NULL, &cause), 0);
	store_close(fx->st);
	fx->st = NULL;

	open_ok(fx);
	assert_int_equal(store_project_find(fx->st, pid, &p, &cause), 0);
	assert_string_equal(p->description, "kept across restarts");
	assert_string_equal(p->path, "/srv/keep");
	assert_int_equal(p->ntags, 2);
	assert_string_equal(p->tags[0], "ml");
	assert_string_equal(p->tags[1], "web");
	store_project_free(p);
	assert_int_equal(store_session_find_by_name(fx->st, pid, "agent", &s, &cause), 0);
	assert_string_equal(s->id, sid);
	assert_string_equal(s->command, "[\"/bin/sh\",\"-c\",\"echo hi\"]");
	store_session_free(s);
	assert_int_equal(store_token_find_by_hash(fx->st, hash, &t, &cause), 0);
	assert_string_equal(t->name, "ci");
	assert_true(t->read_only);
	store_token_free(t);
	free(sid);
	free(pid);
}

/* user_version lives at offset 60 of the database header, big-endian. */
static void
test_future_version_refused(void **state)
{
	struct fixture *fx = *state;
	unsigned char v[4] = {0, 0, 0x03, 0xe7}; /* 999 */
	char *cause = NULL, *before, *after, *wal = xasprintf("%s-wal", fx->path);
	struct store *st = NULL;
	size_t n1, n2;

	open_ok(fx);
	store_close(fx->st);
	fx->st = NULL;
	assert_false(file_exists(wal)); /* checkpointed into the main file on close */
	write_file(fx->path, v, sizeof v, 60, false);
	before = slurp(fx->path, &n1);

	assert_int_equal(store_open(fx->path, &st, &cause), -ERR_STATE);
	assert_null(st);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "999"));
	assert_non_null(strstr(cause, "newer"));
	free(cause);
	after = slurp(fx->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
	free(wal);
}

static void
test_prefix_rules(void **state)
{
	static const char *good[] = {"a", "abc", "my-project", "a1", "x-1-2", "a--b", "default"};
	static const char *bad[] = {
	    "",	      "A",	  "Abc",	 "myProject",	 "1abc", "9",	"-abc",
	    "abc-",   "a_b",	  "a.b",	 "a b",		 "../x", "..",	"a/b",
	    "x/../y", "\xc3\xa9", "caf\xc3\xa9", "\xef\xbd\x81", "a\n",	 "a\t", "a;rm"};
	static const char *good_ids[] = {"default", "abc-0123abcd", "a-00000000", "a--b-ffffffff"};
	static const char *bad_ids[] = {"",
					"abc",
					"abc-0123ABCD",
					"abc-0123abc",
					"abc-0123abcde",
					"abc0123abcd",
					"-01234567",
					"../x-01234567",
					"1bc-01234567",
					"abc--01234567",
					"abc-0123abcg",
					"Default",
					"default-"};
	static const char *good_tags[] = {"ml", "v1.2", "a_b-c", "0day"};
	static const char *bad_tags[] = {"", "ML", "-x", ".x", "_x", "a b", "a,b", "\xc3\xa9"};
	char longp[STORE_PREFIX_MAX + 2], longid[STORE_PREFIX_MAX + 12], longtag[STORE_TAG_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		if (!store_project_prefix_is_valid(good[i]))
			fail_msg("prefix '%s' should be valid", good[i]);
	}
	for (i = 0; i < nitems(bad); i++) {
		if (store_project_prefix_is_valid(bad[i]))
			fail_msg("prefix '%s' should be invalid", bad[i]);
	}
	for (i = 0; i < nitems(good_ids); i++) {
		if (!store_project_id_is_valid(good_ids[i]))
			fail_msg("id '%s' should be valid", good_ids[i]);
	}
	for (i = 0; i < nitems(bad_ids); i++) {
		if (store_project_id_is_valid(bad_ids[i]))
			fail_msg("id '%s' should be invalid", bad_ids[i]);
	}
	for (i = 0; i < nitems(good_tags); i++)
		assert_true(store_tag_is_valid(good_tags[i]));
	for (i = 0; i < nitems(bad_tags); i++)
		assert_false(store_tag_is_valid(bad_tags[i]));

	/* 32 is the limit, 33 is one too many; the same for ids built on them. */
	memset(longp, 'a', sizeof longp);
	longp[STORE_PREFIX_MAX] = '\0';
	assert_true(store_project_prefix_is_valid(longp));
	snprintf(longid, sizeof longid, "%s-0123abcd", longp);
	assert_true(store_project_id_is_valid(longid));
	longp[STORE_PREFIX_MAX] = 'a';
	longp[STORE_PREFIX_MAX + 1] = '\0';
	assert_false(store_project_prefix_is_valid(longp));
	memset(longtag, 'a', sizeof longtag);
	longtag[STORE_TAG_MAX] = '\0';
	assert_true(store_tag_is_valid(longtag));
	longtag[STORE_TAG_MAX] = 'a';
	longtag[STORE_TAG_MAX + 1] = '\0';
	assert_false(store_tag_is_valid(longtag));
}

static void
test_project_crud(void **state)
{
	struct fixture *fx = *state;
	struct store_project in = {0}, v = {0}, *p = NULL, *q = NULL;
	char *tags[] = {"web", "ml", "web"}, *newtags[] = {"prod"}, *many[STORE_TAGS_MAX + 1];
	char *cause = NULL, *id;
	size_t n, i;

	open_ok(fx);
	in.prefix = "web";
	in.path = "/srv/web";
	in.description = "the site";
	in.tags = tags;
	in.ntags = 3;
	assert_int_equal(store_project_create(fx->st, &in, &p, &cause), 0);
	assert_true(store_project_id_is_valid(p->id));
	assert_int_equal(strncmp(p->id, "web-", 4), 0);
	assert_int_equal(strlen(p->id), 12);
	assert_string_equal(p->prefix, "web");
	assert_string_equal(p->path, "/srv/web");
	assert_false(p->managed);
	assert_false(p->pinned);
	assert_int_equal(p->ntags, 2); /* sorted, duplicates dropped */
	assert_string_equal(p->tags[0], "ml");
	assert_string_equal(p->tags[1], "web");
	assert_true(p->created > 0);
	assert_true(p->updated == p->created && p->last_activity == p->created);
	assert_int_equal(p->expires_at, 0);
	id = xstrdup(p->id);

	assert_int_equal(store_project_find(fx->st, id, &q, &cause), 0);
	assert_string_equal(q->description, "the site");
	assert_int_equal(q->ntags, 2);
	store_project_free(q);

	/* The same directory twice is a unique violation; a managed one needs no path. */
	in.tags = NULL;
	in.ntags = 0;
	assert_int_equal(store_project_create(fx->st, &in, NULL, &cause), -ERR_EXIST);
	assert_non_null(strstr(cause, "/srv/web"));
	free(cause);
	cause = NULL;
	in.path = NULL;
	in.description = NULL;
	assert_int_equal(store_project_create(fx->st, &in, &q, &cause), 0);
	assert_true(q->managed);
	assert_null(q->path);
	assert_string_equal(q->description, "");
	assert_string_not_equal(q->id, id);
	store_project_free(q);
	assert_int_equal(store_project_count(fx->st, &n, &cause), 0);
	assert_int_equal(n, 2);

	/* Bad input never reaches the database. */
	in.prefix = "Web";
	assert_int_equal(store_project_create(fx->st, &in, NULL, &cause), -ERR_INVAL);
	assert_non_null(strstr(cause, "'Web'"));
	free(cause);
	in.prefix = "../x";
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), -ERR_INVAL);
	in.prefix = "ok";
	in.path = "relative/dir";
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), -ERR_INVAL);
	in.path = NULL;
	in.description = "bad \xff utf-8";
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), -ERR_INVAL);
	in.description = NULL;
	newtags[0] = "Prod";
	in.tags = newtags;
	in.ntags = 1;
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), -ERR_INVAL);
	for (i = 0; i < nitems(many); i++)
		many[i] = "t";
	in.tags = many;
	in.ntags = nitems(many);
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), -ERR_INVAL);
	assert_int_equal(store_project_count(fx->st, &n, NULL), 0);
	assert_int_equal(n, 2);

	/* Unknown and malformed ids. */
	assert_int_equal(store_project_find(fx->st, "web-00000000", &q, &cause), -ERR_NOENT);
	assert_null(q);
	assert_string_equal(cause, "no project 'web-00000000'");
	free(cause);
	assert_int_equal(store_project_find(fx->st, "../etc", &q, NULL), -ERR_INVAL);
	assert_int_equal(
	    store_project_update(fx->st, "web-00000000", STORE_PROJECT_SET_PINNED, &v, NULL),
	    -ERR_NOENT);
	assert_int_equal(store_project_delete(fx->st, "web-00000000", 0, NULL), -ERR_NOENT);

	/* Update: only the named fields change. */
	newtags[0] = "prod";
	v.description = "the new site";
	v.tags = newtags;
	v.ntags = 1;
	v.pinned = true;
	v.expires_at = 4102444800000; /* 2100 */
	assert_int_equal(
	    store_project_update(fx->st, id,
				 STORE_PROJECT_SET_DESCRIPTION | STORE_PROJECT_SET_TAGS |
				     STORE_PROJECT_SET_PINNED | STORE_PROJECT_SET_EXPIRES,
				 &v, &cause),
	    0);
	assert_int_equal(store_project_find(fx->st, id, &q, &cause), 0);
	assert_string_equal(q->description, "the new site");
	assert_int_equal(q->ntags, 1);
	assert_string_equal(q->tags[0], "prod");
	assert_true(q->pinned);
	assert_int_equal(q->expires_at, 4102444800000);
	assert_string_equal(q->path, "/srv/web");
	assert_true(q->updated >= p->updated);
	store_project_free(q);
	memset(&v, 0, sizeof v);
	v.last_activity = 12345;
	v.description = "ignored";
	assert_int_equal(store_project_update(fx->st, id, STORE_PROJECT_SET_ACTIVITY, &v, NULL), 0);
	v.expires_at = 0;
	assert_int_equal(store_project_update(fx->st, id, STORE_PROJECT_SET_EXPIRES, &v, NULL), 0);
	assert_int_equal(store_project_find(fx->st, id, &q, NULL), 0);
	assert_int_equal(q->last_activity, 12345);
	assert_int_equal(q->expires_at, 0);
	assert_string_equal(q->description, "the new site");
	store_project_free(q);
	v.description = "\xc0\xaf";
	assert_int_equal(store_project_update(fx->st, id, STORE_PROJECT_SET_DESCRIPTION, &v, NULL),
			 -ERR_INVAL);

	/* Delete, and the default project stays. */
	assert_int_equal(store_project_delete(fx->st, id, 0, &cause), 0);
	assert_int_equal(store_project_find(fx->st, id, &q, NULL), -ERR_NOENT);
	assert_int_equal(store_project_delete(fx->st, id, 0, NULL), -ERR_NOENT);
	assert_int_equal(store_project_delete(fx->st, STORE_PROJECT_DEFAULT, STORE_FORCE, &cause),
			 -ERR_STATE);
	free(cause);
	assert_int_equal(store_project_count(fx->st, &n, NULL), 0);
	assert_int_equal(n, 1);
	store_project_free(p);
	free(id);
}

static size_t
count_projects(struct store *st, const struct store_project_filter *f)
{
	struct store_project **v = NULL;
	char *cause = NULL;
	size_t n = 0;
	int rc;

	rc = store_project_list(st, f, &v, &n, &cause);
	if (rc != 0)
		fail_msg("store_project_list: %d %s", rc, cause);
	store_project_list_free(v, n);
	return n;
}

static void
test_project_filters(void **state)
{
	struct fixture *fx = *state;
	struct store_project_filter f = {0};
	struct store_project in = {0}, **v = NULL;
	char *t1[] = {"ml", "gpu"}, *t2[] = {"ml"}, *t3[] = {"web"};
	size_t n;

	open_ok(fx);
	in.prefix = "ai";
	in.tags = t1;
	in.ntags = 2;
	in.pinned = true;
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), 0);
	in.tags = t2;
	in.ntags = 1;
	in.pinned = false;
	in.expires_at = 1000;
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), 0);
	in.prefix = "site";
	in.tags = t3;
	in.expires_at = 5000;
	assert_int_equal(store_project_create(fx->st, &in, NULL, NULL), 0);

	assert_int_equal(count_projects(fx->st, NULL), 4);
	assert_int_equal(count_projects(fx->st, &f), 4);
	f.prefix = "ai";
	assert_int_equal(count_projects(fx->st, &f), 2);
	f.prefix = "nothing";
	assert_int_equal(count_projects(fx->st, &f), 0);
	f.prefix = NULL;
	f.tag = "ml";
	assert_int_equal(count_projects(fx->st, &f), 2);
	f.tag = "gpu";
	assert_int_equal(count_projects(fx->st, &f), 1);
	f.tag = NULL;
	f.pinned = 1; /* the default project is pinned */
	assert_int_equal(count_projects(fx->st, &f), 2);
	f.pinned = -1;
	assert_int_equal(count_projects(fx->st, &f), 2);
	f.pinned = 0;
	f.expires_before = 1000;
	assert_int_equal(count_projects(fx->st, &f), 1);
	f.expires_before = 5000;
	assert_int_equal(count_projects(fx->st, &f), 2);
	f.tag = "ml";
	f.prefix = "ai";
	assert_int_equal(count_projects(fx->st, &f), 1);

	/* Creation order, default first. */
	assert_int_equal(store_project_list(fx->st, NULL, &v, &n, NULL), 0);
	assert_string_equal(v[0]->id, "default");
	assert_string_equal(v[3]->prefix, "site");
	store_project_list_free(v, n);

	f.prefix = "Bad";
	assert_int_equal(store_project_list(fx->st, &f, &v, &n, NULL), -ERR_INVAL);
	assert_null(v);
	f.prefix = NULL;
	f.tag = "no tag";
	assert_int_equal(store_project_list(fx->st, &f, &v, &n, NULL), -ERR_INVAL);
}

/* A project with sessions is only deleted when forced, and then with them. */
static void
test_project_delete_sessions(void **state)
{
	struct fixture *fx = *state;
	struct store_session_filter f = {NULL, 0};
	struct store_session **v = NULL, *s = NULL;
	char *cause = NULL, *pid, *s1, *s2, *s3;
	size_t n;

	open_ok(fx);
	pid = project_add(fx->st, "doomed", "/srv/doomed");
	s1 = session_add(fx->st, pid, "one", 0);
	s2 = session_add(fx->st, pid, "two", 0);
	s3 = session_add(fx->st, NULL, "elsewhere", 0);

	assert_int_equal(store_project_delete(fx->st, pid, 0, &cause), -ERR_STATE);
	assert_non_null(strstr(cause, "2 sessions"));
	free(cause);
	f.project_id = pid;
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	store_session_list_free(v, n);

	assert_int_equal(store_project_delete(fx->st, pid, STORE_FORCE, &cause), 0);
	assert_int_equal(store_project_find(fx->st, pid, &(struct store_project *){NULL}, NULL),
			 -ERR_NOENT);
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(store_session_find(fx->st, s1, &s, NULL), -ERR_NOENT);
	assert_int_equal(store_session_find(fx->st, s3, &s, NULL),
			 0); /* other projects untouched */
	store_session_free(s);

	/* A session cannot be added to a project that is gone. */
	{
		struct store_session in = session_in(pid, "late");

		assert_int_equal(store_session_create(fx->st, &in, 0, NULL, &cause), -ERR_NOENT);
		assert_non_null(strstr(cause, pid));
		free(cause);
	}
	free(pid);
	free(s1);
	free(s2);
	free(s3);
}

static void
test_session_crud(void **state)
{
	struct fixture *fx = *state;
	struct store_session in = session_in(NULL, "agent"), *s = NULL, **v = NULL;
	struct store_session_filter f = {NULL, 0};
	char *cause = NULL, *pid, *other, *solo;
	size_t n, i;
	static const char *bad_commands[] = {"[",   "{\"a\":1}", "[]",
					     "[1]", "\"sh\"",	 "[\"a\",null]"};
	static const char *bad_envs[] = {"[]", "{\"A\":1}", "{\"A=B\":\"x\"}", "{\"\":\"x\"}", "{"};

	open_ok(fx);
	pid = project_add(fx->st, "p", "/srv/p");
	in.id = "0123456789ab";
	in.command = "[\"claude\",\"--model\",\"x\"]";
	in.env = "{\"A\":\"1\"}";
	in.resume_command = "[\"claude\",\"--resume\"]";
	in.cols = 100;
	in.rows = 30;
	assert_int_equal(store_session_create(fx->st, &in, 0, &s, &cause), 0);
	assert_string_equal(s->id, "0123456789ab");
	assert_string_equal(s->project_id, "default");
	assert_string_equal(s->name, "agent");
	assert_true(s->bound);
	assert_string_equal(s->command, "[\"claude\",\"--model\",\"x\"]");
	assert_string_equal(s->env, "{\"A\":\"1\"}");
	assert_string_equal(s->resume_command, "[\"claude\",\"--resume\"]");
	assert_string_equal(s->cwd, "/tmp");
	assert_int_equal(s->state, STORE_SESSION_STARTING);
	assert_false(s->has_exit_status);
	assert_int_equal(s->run, 1);
	assert_int_equal(s->cols, 100);
	assert_int_equal(s->rows, 30);
	assert_int_equal(s->bytes, 0);
	assert_int_equal(s->holder_pid, 0);
	assert_true(s->created > 0);
	assert_int_equal(s->started, 0);
	store_session_free(s);

	/* Unique violations: the id anywhere, the name within a project. */
	in.name = "other";
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, &cause), -ERR_EXIST);
	assert_non_null(strstr(cause, "0123456789ab"));
	free(cause);
	in.id = NULL;
	in.name = "agent";
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, &cause), -ERR_EXIST);
	assert_string_equal(cause, "session 'agent' already exists in project 'default'");
	free(cause);
	other = session_add(fx->st, pid, "agent", 0); /* the same name in another project */
	solo = session_add(fx->st, pid, "solo", 0);

	/* Lookups: by id, by name in a project, by a name unique across projects. */
	assert_int_equal(store_session_find(fx->st, "0123456789ab", &s, NULL), 0);
	assert_string_equal(s->name, "agent");
	store_session_free(s);
	assert_int_equal(store_session_find(fx->st, "ffffffffffff", &s, &cause), -ERR_NOENT);
	assert_null(s);
	assert_string_equal(cause, "no session 'ffffffffffff'");
	free(cause);
	assert_int_equal(store_session_find(fx->st, "../../etc/pa", &s, NULL), -ERR_INVAL);
	assert_int_equal(store_session_find_by_name(fx->st, pid, "agent", &s, NULL), 0);
	assert_string_equal(s->id, other);
	store_session_free(s);
	assert_int_equal(store_session_find_by_name(fx->st, "default", "agent", &s, NULL), 0);
	assert_string_equal(s->id, "0123456789ab");
	store_session_free(s);
	assert_int_equal(store_session_find_by_name(fx->st, NULL, "agent", &s, &cause), -ERR_INVAL);
	assert_non_null(strstr(cause, "ambiguous"));
	assert_non_null(strstr(cause, pid));
	assert_non_null(strstr(cause, "'default'"));
	free(cause);
	assert_int_equal(store_session_find_by_name(fx->st, NULL, "solo", &s, NULL), 0);
	assert_string_equal(s->id, solo);
	store_session_free(s);
	assert_int_equal(store_session_find_by_name(fx->st, "default", "solo", &s, &cause),
			 -ERR_NOENT);
	assert_string_equal(cause, "no session 'solo' in project 'default'");
	free(cause);

	/* What a person typed: a name wins, else an id. */
	assert_int_equal(store_session_get(fx->st, NULL, "solo", &s, NULL), 0);
	assert_string_equal(s->id, solo);
	store_session_free(s);
	assert_int_equal(store_session_get(fx->st, NULL, other, &s, NULL), 0);
	assert_string_equal(s->name, "agent");
	store_session_free(s);
	assert_int_equal(store_session_get(fx->st, "default", other, &s, NULL), -ERR_NOENT);
	assert_int_equal(store_session_get(fx->st, NULL, "nope", &s, NULL), -ERR_NOENT);
	assert_int_equal(store_session_get(fx->st, NULL, "a/b", &s, NULL), -ERR_INVAL);

	/* Bad input. */
	in = session_in(NULL, NULL);
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), 0);
	for (i = 0; i < nitems(bad_commands); i++) {
		in.command = (char *)bad_commands[i];
		if (store_session_create(fx->st, &in, 0, NULL, &cause) != -ERR_INVAL)
			fail_msg("command %s accepted", bad_commands[i]);
		assert_non_null(strstr(cause, "command"));
		free(cause);
	}
	in = session_in(NULL, NULL);
	for (i = 0; i < nitems(bad_envs); i++) {
		in.env = (char *)bad_envs[i];
		if (store_session_create(fx->st, &in, 0, NULL, NULL) != -ERR_INVAL)
			fail_msg("environment %s accepted", bad_envs[i]);
	}
	in = session_in(NULL, NULL);
	in.resume_command = "[]";
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);
	in = session_in(NULL, NULL);
	in.cwd = "tmp";
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);
	in = session_in(NULL, "-x");
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);
	in = session_in("nosuch-00000000", "x");
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, &cause), -ERR_NOENT);
	assert_string_equal(cause, "no project 'nosuch-00000000'");
	free(cause);
	in = session_in("../p", "x");
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);
	in = session_in(NULL, "x");
	in.id = "0123456789AB";
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);
	in = session_in(NULL, "x");
	in.cols = 100000;
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, NULL), -ERR_INVAL);

	/* Lists and filters. */
	assert_int_equal(store_session_list(fx->st, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0]->id, "0123456789ab"); /* creation order */
	store_session_list_free(v, n);
	f.project_id = pid;
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	store_session_list_free(v, n);
	f.states = 1 << STORE_SESSION_RUNNING;
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(v);
	set_state(fx->st, solo, STORE_SESSION_RUNNING, 0);
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, solo);
	store_session_list_free(v, n);
	f.project_id = NULL;
	f.states = 1 << STORE_SESSION_STARTING | 1 << STORE_SESSION_EXITED;
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	store_session_list_free(v, n);
	f.states = 1 << 9;
	assert_int_equal(store_session_list(fx->st, &f, &v, &n, NULL), -ERR_INVAL);

	/* Delete. */
	assert_int_equal(store_session_delete(fx->st, solo, NULL), 0);
	assert_int_equal(store_session_delete(fx->st, solo, &cause), -ERR_NOENT);
	free(cause);
	assert_int_equal(store_session_find(fx->st, solo, &s, NULL), -ERR_NOENT);
	assert_int_equal(store_session_update(fx->st, solo, STORE_SESSION_SET_BYTES,
					      &(struct store_session){0}, NULL),
			 -ERR_NOENT);
	free(pid);
	free(other);
	free(solo);
}

static void
test_session_states(void **state)
{
	struct fixture *fx = *state;
	struct store_session v = {0}, *s = NULL;
	char *cause = NULL, *id;

	open_ok(fx);
	id = session_add(fx->st, NULL, "work", 0);

	v.state = STORE_SESSION_RUNNING;
	v.holder_pid = 4242;
	v.child_pid = 4243;
	assert_int_equal(store_session_update(fx->st, id,
					      STORE_SESSION_SET_STATE | STORE_SESSION_SET_PIDS, &v,
					      &cause),
			 0);
	assert_int_equal(store_session_find(fx->st, id, &s, NULL), 0);
	assert_int_equal(s->state, STORE_SESSION_RUNNING);
	assert_int_equal(s->holder_pid, 4242);
	assert_int_equal(s->child_pid, 4243);
	assert_true(s->started > 0);
	assert_int_equal(s->ended, 0);
	store_session_free(s);

	set_state(fx->st, id, STORE_SESSION_RUNNING, 0); /* again: fine */
	set_state(fx->st, id, STORE_SESSION_STARTING, -ERR_STATE);

	v.bytes = 1234567890123;
	v.cols = 132;
	v.rows = 43;
	assert_int_equal(store_session_update(fx->st, id,
					      STORE_SESSION_SET_BYTES | STORE_SESSION_SET_SIZE, &v,
					      NULL),
			 0);
	v.bytes = -1;
	assert_int_equal(store_session_update(fx->st, id, STORE_SESSION_SET_BYTES, &v, NULL),
			 -ERR_INVAL);
	v.cols = 0;
	assert_int_equal(store_session_update(fx->st, id, STORE_SESSION_SET_SIZE, &v, NULL),
			 -ERR_INVAL);
	v.state = (enum store_session_state)7;
	assert_int_equal(store_session_update(fx->st, id, STORE_SESSION_SET_STATE, &v, NULL),
			 -ERR_INVAL);

	/* Lost, found again, then exited with a status. */
	set_state(fx->st, id, STORE_SESSION_LOST, 0);
	set_state(fx->st, id, STORE_SESSION_RUNNING, 0);
	memset(&v, 0, sizeof v);
	v.state = STORE_SESSION_EXITED;
	v.has_exit_status = true;
	v.exit_status = 256;
	assert_int_equal(store_session_update(fx->st, id,
					      STORE_SESSION_SET_STATE | STORE_SESSION_SET_EXIT |
						  STORE_SESSION_SET_PIDS,
					      &v, NULL),
			 0);
	assert_int_equal(store_session_find(fx->st, id, &s, NULL), 0);
	assert_int_equal(s->state, STORE_SESSION_EXITED);
	assert_true(s->has_exit_status);
	assert_int_equal(s->exit_status, 256);
	assert_int_equal(s->holder_pid, 0);
	assert_int_equal(s->child_pid, 0);
	assert_int_equal(s->bytes, 1234567890123);
	assert_int_equal(s->cols, 132);
	assert_int_equal(s->rows, 43);
	assert_true(s->ended >= s->started);
	store_session_free(s);
	set_state(fx->st, id, STORE_SESSION_RUNNING, -ERR_STATE);
	set_state(fx->st, id, STORE_SESSION_LOST, -ERR_STATE);

	/* Revive: a new run of the same session. */
	assert_int_equal(store_session_revive(fx->st, id, &cause), 0);
	assert_int_equal(store_session_find(fx->st, id, &s, NULL), 0);
	assert_int_equal(s->state, STORE_SESSION_STARTING);
	assert_int_equal(s->run, 2);
	assert_false(s->has_exit_status);
	assert_int_equal(s->started, 0);
	assert_int_equal(s->ended, 0);
	assert_int_equal(s->bytes, 1234567890123); /* the history goes on */
	store_session_free(s);
	assert_int_equal(store_session_revive(fx->st, id, &cause), -ERR_STATE);
	assert_non_null(strstr(cause, "starting"));
	free(cause);
	assert_int_equal(store_session_revive(fx->st, "ffffffffffff", NULL), -ERR_NOENT);
	free(id);
}

static void
test_session_names(void **state)
{
	struct fixture *fx = *state;
	struct store_session in = session_in(NULL, "agent"), *s = NULL;
	char *cause = NULL, *ids[4], *old, *newer, *pid;
	size_t i;

	open_ok(fx);
	/* Default names: the lowest positive number not bound in the project. */
	for (i = 0; i < 3; i++)
		ids[i] = session_add(fx->st, NULL, NULL, 0);
	assert_int_equal(store_session_find_by_name(fx->st, "default", "3", &s, NULL), 0);
	assert_string_equal(s->id, ids[2]);
	store_session_free(s);
	assert_int_equal(store_session_delete(fx->st, ids[1], NULL), 0);
	free(ids[1]);
	ids[1] = session_add(fx->st, NULL, NULL, 0);
	assert_int_equal(store_session_find(fx->st, ids[1], &s, NULL), 0);
	assert_string_equal(s->name, "2");
	store_session_free(s);
	free(session_add(fx->st, NULL, "5", 0));
	free(session_add(fx->st, NULL, "07", 0)); /* not a number we hand out */
	ids[3] = session_add(fx->st, NULL, NULL, 0);
	assert_int_equal(store_session_find(fx->st, ids[3], &s, NULL), 0);
	assert_string_equal(s->name, "4");
	store_session_free(s);
	free(ids[3]);
	ids[3] = session_add(fx->st, NULL, NULL, 0);
	assert_int_equal(store_session_find(fx->st, ids[3], &s, NULL), 0);
	assert_string_equal(s->name, "6");
	store_session_free(s);
	pid = project_add(fx->st, "fresh", NULL); /* numbering is per project */
	free(ids[0]);
	ids[0] = session_add(fx->st, pid, NULL, 0);
	assert_int_equal(store_session_find(fx->st, ids[0], &s, NULL), 0);
	assert_string_equal(s->name, "1");
	store_session_free(s);

	/* Takeover: only from an exited or lost session, and only when asked. */
	old = session_add(fx->st, NULL, "agent", 0);
	assert_int_equal(store_session_create(fx->st, &in, STORE_TAKEOVER, NULL, &cause),
			 -ERR_EXIST);
	free(cause);
	set_state(fx->st, old, STORE_SESSION_EXITED, 0);
	assert_int_equal(store_session_create(fx->st, &in, 0, NULL, &cause), -ERR_EXIST);
	assert_non_null(strstr(cause, "taken over"));
	free(cause);
	assert_int_equal(store_session_create(fx->st, &in, STORE_TAKEOVER, &s, &cause), 0);
	newer = xstrdup(s->id);
	assert_true(s->bound);
	store_session_free(s);
	assert_int_equal(store_session_find(fx->st, old, &s, NULL), 0);
	assert_false(s->bound);
	assert_string_equal(s->name, "agent"); /* kept for display */
	store_session_free(s);
	assert_int_equal(store_session_get(fx->st, NULL, "agent", &s, NULL), 0);
	assert_string_equal(s->id, newer);
	store_session_free(s);
	assert_int_equal(store_session_get(fx->st, NULL, old, &s, NULL), 0);
	assert_string_equal(s->id, old);
	store_session_free(s);

	/* Rebind: renaming, and taking a name back. */
	assert_int_equal(store_session_rebind(fx->st, old, "agent", STORE_TAKEOVER, &cause),
			 -ERR_EXIST); /* newer is starting */
	free(cause);
	assert_int_equal(store_session_rebind(fx->st, old, "agent-old", 0, NULL), 0);
	assert_int_equal(store_session_find_by_name(fx->st, NULL, "agent-old", &s, NULL), 0);
	assert_string_equal(s->id, old);
	assert_true(s->bound);
	store_session_free(s);
	assert_int_equal(store_session_rebind(fx->st, newer, "agent", 0, NULL), 0); /* its own */
	set_state(fx->st, newer, STORE_SESSION_LOST, 0);
	assert_int_equal(store_session_rebind(fx->st, old, "agent", 0, NULL), -ERR_EXIST);
	assert_int_equal(store_session_rebind(fx->st, old, "agent", STORE_TAKEOVER, NULL), 0);
	assert_int_equal(store_session_find_by_name(fx->st, "default", "agent", &s, NULL), 0);
	assert_string_equal(s->id, old);
	store_session_free(s);
	assert_int_equal(store_session_rebind(fx->st, old, "bad/name", 0, NULL), -ERR_INVAL);
	assert_int_equal(store_session_rebind(fx->st, "ffffffffffff", "x", 0, NULL), -ERR_NOENT);

	/* A revived session keeps its binding (or lack of one). */
	assert_int_equal(store_session_revive(fx->st, newer, NULL), 0);
	assert_int_equal(store_session_find(fx->st, newer, &s, NULL), 0);
	assert_false(s->bound);
	store_session_free(s);
	for (i = 0; i < 4; i++)
		free(ids[i]);
	free(old);
	free(newer);
	free(pid);
}

static void
test_tokens(void **state)
{
	struct fixture *fx = *state;
	struct store_token *t = NULL, **v = NULL;
	char h1[STORE_HASH_LEN + 1], h2[STORE_HASH_LEN + 1], *cause = NULL, bad[STORE_HASH_LEN + 1];
	int64_t id;
	size_t n;

	assert_int_equal(store_token_hash("abc", h1), 0);
	assert_string_equal(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(store_token_hash("", h1), 0);
	assert_string_equal(h1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(store_token_hash_equal(h1, h1));
	memcpy(h2, h1, sizeof h2);
	h2[STORE_HASH_LEN - 1] = 'f';
	assert_false(store_token_hash_equal(h1, h2));
	assert_false(store_token_hash_equal("abc", "abcd"));
	assert_true(store_token_hash_equal("", ""));

	open_ok(fx);
	assert_int_equal(store_token_hash("roost_first", h1), 0);
	assert_int_equal(store_token_hash("roost_second", h2), 0);
	assert_int_equal(store_token_create(fx->st, "ci", h1, false, &t, &cause), 0);
	assert_true(t->id > 0);
	assert_string_equal(t->name, "ci");
	assert_string_equal(t->hash, h1);
	assert_false(t->read_only);
	assert_true(t->created > 0);
	assert_int_equal(t->last_used, 0);
	id = t->id;
	store_token_free(t);

	assert_int_equal(store_token_create(fx->st, "ci", h2, false, NULL, &cause), -ERR_EXIST);
	assert_string_equal(cause, "token 'ci' already exists");
	free(cause);
	assert_int_equal(store_token_create(fx->st, "other", h1, false, NULL, &cause), -ERR_EXIST);
	assert_null(strstr(cause, h1)); /* the hash is not repeated back */
	free(cause);
	assert_int_equal(store_token_create(fx->st, "bad name", h2, false, NULL, NULL), -ERR_INVAL);
	memcpy(bad, h2, sizeof bad);
	bad[0] = 'A';
	assert_int_equal(store_token_create(fx->st, "x", bad, false, NULL, NULL), -ERR_INVAL);
	assert_int_equal(store_token_create(fx->st, "x", "abc", false, NULL, NULL), -ERR_INVAL);
	assert_int_equal(store_token_create(fx->st, "viewer", h2, true, NULL, NULL), 0);

	assert_int_equal(store_token_find_by_hash(fx->st, h1, &t, NULL), 0);
	assert_string_equal(t->name, "ci");
	assert_int_equal(t->id, id);
	store_token_free(t);
	assert_int_equal(store_token_hash("roost_unknown", bad), 0);
	assert_int_equal(store_token_find_by_hash(fx->st, bad, &t, NULL), -ERR_NOENT);
	assert_null(t);
	assert_int_equal(store_token_find_by_hash(fx->st, "' OR 1=1 --", &t, NULL), -ERR_INVAL);

	assert_int_equal(store_token_list(fx->st, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "ci");
	assert_string_equal(v[1]->name, "viewer");
	assert_true(v[1]->read_only);
	store_token_list_free(v, n);

	assert_int_equal(store_token_touch(fx->st, id, NULL), 0);
	assert_int_equal(store_token_find_by_hash(fx->st, h1, &t, NULL), 0);
	assert_true(t->last_used > 0);
	store_token_free(t);
	assert_int_equal(store_token_touch(fx->st, id + 1000, NULL), -ERR_NOENT);

	assert_int_equal(store_token_revoke(fx->st, "ci", NULL), 0);
	assert_int_equal(store_token_find_by_hash(fx->st, h1, &t, NULL), -ERR_NOENT);
	assert_int_equal(store_token_revoke(fx->st, "ci", &cause), -ERR_NOENT);
	assert_string_equal(cause, "no token 'ci'");
	free(cause);
	assert_int_equal(store_token_list(fx->st, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	store_token_list_free(v, n);
}

#define WRITERS 50
#define WRITES 20

static void
writer_child(const char *path, int gate)
{
	struct store *st = NULL;
	char *cause = NULL, c;
	int i, rc;

	/* Wait until every child is ready, so that they all start at once. */
	while (read(gate, &c, 1) < 0 && errno == EINTR)
		;
	if ((rc = store_open(path, &st, &cause)) != 0) {
		fprintf(stderr, "child %d: open: %d %s\n", (int)getpid(), rc, cause);
		_exit(1);
	}
	for (i = 0; i < WRITES; i++) {
		struct store_session in = session_in(NULL, NULL);

		if ((rc = store_session_create(st, &in, 0, NULL, &cause)) != 0) {
			fprintf(stderr, "child %d: write %d: %d %s\n", (int)getpid(), i, rc, cause);
			_exit(1);
		}
	}
	store_close(st);
	_exit(0);
}

/*
 * Fifty processes open a database nobody has created yet (so they also race
 * to migrate it) and register twenty sessions each with automatic names:
 * every write succeeds, and the names are exactly 1..1000.
 */
static void
test_concurrent_writers(void **state)
{
	struct fixture *fx = *state;
	struct store_session **v = NULL;
	bool seen[WRITERS * WRITES + 1] = {false};
	pid_t pids[WRITERS];
	int gate[2], i, failed = 0, status;
	int64_t t0;
	size_t n, k;

	assert_int_equal(pipe(gate), 0);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(gate[1]);
			writer_child(fx->path, gate[0]);
		}
	}
	close(gate[0]);
	t0 = mono_ms();
	close(gate[1]); /* EOF: everyone goes */
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	print_message("%d writers x %d writes: %lld ms\n", WRITERS, WRITES,
		      (long long)(mono_ms() - t0));
	assert_int_equal(failed, 0);

	open_ok(fx);
	assert_int_equal(store_session_list(fx->st, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, WRITERS * WRITES);
	for (k = 0; k < n; k++) {
		char *end;
		long num = strtol(v[k]->name, &end, 10);

		assert_true(*end == '\0' && num >= 1 && num <= WRITERS * WRITES);
		assert_false(seen[num]);
		seen[num] = true;
	}
	store_session_list_free(v, n);
}

/*
 * Another process holds the WAL write lock (byte 120 of the -shm file in
 * SQLite's unix VFS): a write waits for the busy limit, then fails with a
 * clear cause instead of hanging; reads go on; once the lock goes, it works.
 */
static void
test_busy_gives_up(void **state)
{
	struct fixture *fx = *state;
	struct store_session **v = NULL;
	char *shm = xasprintf("%s-shm", fx->path), *cause = NULL, *id, c = 0;
	int ready[2], release[2], status, rc;
	int64_t t0, took;
	size_t n;
	pid_t pid;

	open_ok(fx);
	id = session_add(fx->st, NULL, "first", 0);
	assert_true(file_exists(shm));
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = {0};
		int fd = open(shm, O_RDWR);

		close(release[1]);
		close(ready[0]);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = 120;
		fl.l_len = 1;
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(release[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	store_set_busy_limit(fx->st, 400);
	t0 = mono_ms();
	rc = store_session_create(fx->st, &(struct store_session){0}, 0, NULL, NULL);
	assert_int_equal(rc, -ERR_INVAL); /* checked before any lock */
	{
		struct store_session in = session_in(NULL, "second");

		rc = store_session_create(fx->st, &in, 0, NULL, &cause);
	}
	took = mono_ms() - t0;
	assert_int_equal(rc, -ERR_FAIL);
	assert_non_null(strstr(cause, "busy"));
	free(cause);
	assert_true(took >= 400 && took < 5000);
	assert_int_equal(store_session_list(fx->st, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	store_session_list_free(v, n);

	close(release[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(session_add(fx->st, NULL, "second", 0));
	close(ready[0]);
	free(id);
	free(shm);
}

static void
test_corrupt_garbage(void **state)
{
	struct fixture *fx = *state;
	char garbage[8192], *cause = NULL, *after, *wal = xasprintf("%s-wal", fx->path);
	struct store *st = NULL;
	size_t i, n;

	for (i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)("not a database, just text\n"[i % 26]);
	write_file(fx->path, garbage, sizeof garbage, 0, true);
	assert_int_equal(store_open(fx->path, &st, &cause), -ERR_CORRUPT);
	assert_null(st);
	assert_non_null(cause);
	assert_non_null(strstr(cause, fx->path));
	assert_non_null(strstr(cause, "not a database"));
	assert_non_null(strstr(cause, "left as it is"));
	free(cause);
	after = slurp(fx->path, &n);
	assert_int_equal(n, sizeof garbage);
	assert_memory_equal(after, garbage, n);
	assert_false(file_exists(wal));
	free(after);
	free(wal);
}

/* A good header over damaged pages: the damage is reported when it is read. */
static void
test_corrupt_pages(void **state)
{
	struct fixture *fx = *state;
	struct store_project **v = NULL;
	char junk[4096 * 4], *cause = NULL;
	size_t n;
	int rc;

	open_ok(fx);
	free(project_add(fx->st, "a", "/srv/a"));
	store_close(fx->st);
	fx->st = NULL;
	memset(junk, 0x5a, sizeof junk);
	write_file(fx->path, junk, sizeof junk, 4096, false);
	rc = store_open(fx->path, &fx->st, &cause);
	if (rc == 0)
		rc = store_project_list(fx->st, NULL, &v, &n, &cause);
	assert_int_equal(rc, -ERR_CORRUPT);
	assert_non_null(strstr(cause, "malformed"));
	free(cause);
}

static void
test_file_modes(void **state)
{
	struct fixture *fx = *state;
	char *wal = xasprintf("%s-wal", fx->path), *shm = xasprintf("%s-shm", fx->path);
	mode_t old = umask(0);
	struct stat sb;

	open_ok(fx);
	free(session_add(fx->st, NULL, "m", 0));
	umask(old);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(shm, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_close(fx->st);
	fx->st = NULL;

	/* A database someone made readable by others is made private again. */
	assert_int_equal(chmod(fx->path, 0644), 0);
	open_ok(fx);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(wal);
	free(shm);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_open_migrates),
	    T(test_reopen_keeps_data),
	    T(test_future_version_refused),
	    cmocka_unit_test(test_prefix_rules),
	    T(test_project_crud),
	    T(test_project_filters),
	    T(test_project_delete_sessions),
	    T(test_session_crud),
	    T(test_session_states),
	    T(test_session_names),
	    T(test_tokens),
	    T(test_concurrent_writers),
	    T(test_busy_gives_up),
	    T(test_corrupt_garbage),
	    T(test_corrupt_pages),
	    T(test_file_modes),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
