/*
 * replay.c: runs a fuzz target on given input files without libFuzzer, so a
 * crash input or a whole corpus can be replayed under gcc, gdb or valgrind:
 *   cc -g -Isrc tests/fuzz/replay.c tests/fuzz/vt-fuzzer.c src/vt/*.c src/common/*.c -lvterm
 *   ./a.out tests/fuzz/corpus/vt/*
 * Not a fuzzer: it only runs what it is given.
 */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		unsigned char *data = NULL;
		size_t len = 0, cap = 0, n;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? 2 * cap : 65536;
				if ((data = realloc(data, cap)) == NULL)
					return 1;
			}
			n = fread(data + len, 1, cap - len, f);
			len += n;
		} while (n > 0);
		fclose(f);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	printf("replayed %d input(s)\n", argc - 1);
	return 0;
}
