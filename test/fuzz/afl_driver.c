/*-------------------------------------------------------------------------
 *
 * afl_driver.c
 *	  Runs a libFuzzer-style target on one input file (or stdin) so the
 *	  same targets build for AFL++ (afl-clang-fast) without libFuzzer.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	FILE	   *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
	static uint8_t buf[1 << 20];
	size_t		n;

	if (f == NULL)
		return 1;
	n = fread(buf, 1, sizeof(buf), f);
	if (f != stdin)
		fclose(f);
	return LLVMFuzzerTestOneInput(buf, n);
}
