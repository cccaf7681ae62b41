/*
 * test_qp - qp_encode: exact output for the cases that matter, and random
 * text read back by libetpan's decoder (qp_check.h; fuzz_qp does more).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qp.h"
#include "qp_check.h"

/* encodes_as - s encodes to exactly want, and passes qp_check */
static void encodes_as(const char *s, const char *want)
{
	size_t len;
	char *q = qp_encode(s, strlen(s), &len);

	assert_non_null(q);
	assert_string_equal(q, want);
	assert_int_equal(len, strlen(want));
	assert_null(qp_check(s, strlen(s)));
	free(q);
}

static void test_cases(void **state)
{
	(void)state;
	encodes_as("", "");
	encodes_as("abc", "abc\r\n");
	encodes_as("Hi {name}! #1 @ \"home\" ~ [x] | y? F_G\n",
	        "Hi {name}! #1 @ \"home\" ~ [x] | y? F_G\r\n");
	encodes_as("a=b <a href=\"x\">\n", "a=3Db <a href=3D\"x\">\r\n");
	encodes_as("trailing \nand tab\t\n", "trailing=20\r\nand tab=09\r\n");
	encodes_as("a \tb\n", "a \tb\r\n");
	encodes_as(".\na\n.b\n", "=2E\r\na\r\n=2Eb\r\n");
	encodes_as("From here\nFrom\nx From \nFromage\n",
	        "=46rom here\r\nFrom\r\nx From=20\r\nFromage\r\n");
	encodes_as("Jos\xc3\xa9 \xe2\x80\x93 ma\xc3\xb1\x61na\n",
	        "Jos=C3=A9 =E2=80=93 ma=C3=B1ana\r\n");
	encodes_as("a\r\nb\rc\n\n", "a\r\nb=0Dc\r\n\r\n");
	encodes_as("nul\x01\x7f\n", "nul=01=7F\r\n");
}

static void test_soft_breaks(void **state)
{
	char in[256], want[256];

	(void)state;
	/* 76 characters fit a line that ends there; 77 need a soft break after 75 */
	memset(in, 'x', 76);
	strcpy(in + 76, "\n");
	memcpy(want, in, 76);
	strcpy(want + 76, "\r\n");
	encodes_as(in, want);
	memset(in, 'x', 77);
	strcpy(in + 77, "\n");
	memset(want, 'x', 75);
	strcpy(want + 75, "=\r\nxx\r\n");
	encodes_as(in, want);
	/* an =XX that would cross column 75 moves whole to the next line */
	memset(in, 'x', 74);
	strcpy(in + 74, "=yy\n");
	memset(want, 'x', 74);
	strcpy(want + 74, "=\r\n=3Dyy\r\n");
	encodes_as(in, want);
	/* a "." or "From " that a soft break brings to a line's start */
	memset(in, 'x', 75);
	strcpy(in + 75, ".From x\n");
	memset(want, 'x', 75);
	strcpy(want + 75, "=\r\n=2EFrom x\r\n");
	encodes_as(in, want);
	memset(in, 'x', 75);
	strcpy(in + 75, "From x\n");
	memset(want, 'x', 75);
	strcpy(want + 75, "=\r\n=46rom x\r\n");
	encodes_as(in, want);
	/* a space that a soft break follows is not at a line's end */
	memset(in, 'x', 74);
	strcpy(in + 74, " yz\n");
	memset(want, 'x', 74);
	strcpy(want + 74, " =\r\nyz\r\n");
	encodes_as(in, want);
}

/* Random text, mostly the bytes that matter, read back by libetpan. */
static void test_random(void **state)
{
	static const char pick[] = "ab =.F\r\n\t\xc3\xa9\x01\x7f\xff";
	unsigned long x = 20261127;
	char in[600];

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round % 599);
		for (size_t i = 0; i < n; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			unsigned r = (unsigned)(x >> 33);
			in[i] = r % 4 ? pick[r / 4 % (sizeof pick - 1)] : (char)(r >> 8);
			if (r % 23 == 0 && n - i > 5)
				memcpy(in + i, "From ", 5), i += 4;
		}
		const char *bad = qp_check(in, n);
		if (bad) {
			print_error("round %d (%zu bytes): %s\n", round, n, bad);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_soft_breaks),
	        cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
