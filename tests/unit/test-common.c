/*
 * test-common.c: names and ids, the bounded buffer, the error table and the
 * small-file helpers.
 */
#include "common/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/path.h"

static void
test_names(void **state)
{
	static const char *good[] = {"a", "1", "work", "my-agent_2.x", "A-b"};
	static const char *bad[] = {"", "-a", ".a", "_a", "a/b", "..", "a b", "a\n", "é",
				    "a\\b", "a:b", "a*b"};
	char longname[PATH_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++)
		assert_true(path_name_is_valid(good[i]));
	for (i = 0; i < nitems(bad); i++)
		assert_false(path_name_is_valid(bad[i]));
	memset(longname, 'a', sizeof longname - 1);
	longname[PATH_NAME_MAX] = '\0';
	assert_true(path_name_is_valid(longname));
	longname[PATH_NAME_MAX] = 'a';
	longname[PATH_NAME_MAX + 1] = '\0';
	assert_false(path_name_is_valid(longname));
}

static void
test_ids(void **state)
{
	char id[PATH_ID_LEN + 1], other[PATH_ID_LEN + 1];

	(void)state;
	assert_int_equal(path_id_generate(id), 0);
	assert_true(path_id_is_valid(id));
	assert_int_equal(path_id_generate(other), 0);
	assert_string_not_equal(id, other);
	assert_false(path_id_is_valid("0123456789a"));
	assert_false(path_id_is_valid("0123456789abc"));
	assert_false(path_id_is_valid("0123456789aB"));
	assert_false(path_id_is_valid("../456789abc"));
	assert_true(path_id_is_valid("0123456789ab"));
}

static void
test_buf_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_adds(&b, "hello"), 0);
	assert_int_equal(buf_addf(&b, "%d", 1234), 0);
	assert_int_equal(b.len, 9);
	assert_int_equal(buf_adds(&b, "xy"), -ERR_TOOBIG);
	assert_int_equal(b.len, 9);
	assert_string_equal(b.data, "hello1234");
	buf_consume(&b, 5);
	assert_string_equal(b.data, "1234");
	buf_release(&b);
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_addf(&b, "%0300d", i), 0);
	assert_int_equal(b.len, 300000);
	buf_release(&b);
}

static void
test_err_table(void **state)
{
	(void)state;
	assert_int_equal(err_exit_code(0), 0);
	assert_int_equal(err_exit_code(-ERR_USAGE), 2);
	assert_int_equal(err_exit_code(-ERR_NOENT), 3);
	assert_int_equal(err_exit_code(-ERR_NOCMD), 127);
	assert_int_equal(err_http_status(-ERR_NOENT), 404);
	assert_string_equal(err_message(-ERR_EXIST), "already exists");
	/* out of range codes fall back to a generic failure rather than reading past the table */
	assert_int_equal(err_exit_code(-9999), 1);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/roost-unit-XXXXXX", *path, *sub, *text = NULL;
	struct stat sb;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub = malloc(strlen(dir) + 32);
	strcpy(sub, dir);
	strcat(sub, "/a/b/c");
	assert_int_equal(path_mkdir_p(sub), 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	path = malloc(strlen(sub) + 8);
	strcpy(path, sub);
	strcat(path, "/f");
	assert_int_equal(path_write_atomic(path, "data", 4, true), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(path_read_file(path, 100, &text, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "data");
	free(text);
	assert_int_equal(path_read_file(path, 2, &text, &len), -ERR_TOOBIG);
	assert_int_equal(path_read_file("/no/such/file", 2, &text, &len), -ERR_NOENT);
	assert_int_equal(path_remove_tree(dir), 0);
	assert_int_not_equal(stat(dir, &sb), 0);
	free(path);
	free(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	  cmocka_unit_test(test_ids),
		cmocka_unit_test(test_buf_limit), cmocka_unit_test(test_err_table),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
