/*
 * name-fuzzer.c: libFuzzer target for the validation every outside name
 * passes before it touches the filesystem (path_name_is_valid,
 * path_id_is_valid in src/common/path.c). Checks safety properties (a
 * valid name is one harmless path component) and the documented grammar.
 * Not a test of name binding or lookup (tests/regress does that).
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define name_fuzzer_assert(cond)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "name-fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool
name_fuzzer_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* docs/cli.md: letters, digits, '.', '_', '-', starting with a letter or digit, 1..64 bytes. */
static bool
name_fuzzer_grammar(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > PATH_NAME_MAX || !name_fuzzer_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!name_fuzzer_alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

static bool
name_fuzzer_id_grammar(const char *s)
{
	size_t i;

	if (strlen(s) != PATH_ID_LEN)
		return false;
	for (i = 0; i < PATH_ID_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t i, n;
	bool valid;

	/* An exact-size allocation: ASan catches a read past the NUL. */
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);

	valid = path_name_is_valid(s);
	name_fuzzer_assert(valid == name_fuzzer_grammar(s));
	if (valid) {
		/* One path component that names neither this nor the parent directory. */
		name_fuzzer_assert(n >= 1 && n <= PATH_NAME_MAX);
		name_fuzzer_assert(strchr(s, '/') == NULL);
		name_fuzzer_assert(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
		name_fuzzer_assert(s[0] != '-' && s[0] != '.');
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			name_fuzzer_assert(c > 0x20 && c < 0x7f); /* no controls, spaces or UTF-8 */
			name_fuzzer_assert(c != '\\' && c != '"' && c != '\'' && c != '$' &&
					   c != '*' && c != '?' && c != '~');
		}
	}

	valid = path_id_is_valid(s);
	name_fuzzer_assert(valid == name_fuzzer_id_grammar(s));
	/* Every id is also a valid name: a name wins over an id in lookups. */
	if (valid)
		name_fuzzer_assert(path_name_is_valid(s));
	free(s);
	return 0;
}
