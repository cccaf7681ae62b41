/*
 * fuzz_qp - libFuzzer target for qp_encode.
 *
 * The input is any bytes, NULs included.  Checked (tests/unit/qp_check.h):
 * only printable ASCII and CRLF, lines of at most 76 characters, "=" only
 * as =XX or a soft break, no white space ending a line, no "." or "From "
 * opening one, and libetpan's decoder reading back the input exactly
 * (line ends as CRLF).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/qp_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - encode, check, decode, compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad = qp_check((const char *)data, size);

	if (bad) {
		fprintf(stderr, "qp_encode: %s\n", bad);
		abort();
	}
	return 0;
}
