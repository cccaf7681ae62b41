/*
 * test_addr - addr_valid and addr_domain: good mailboxes, and bad ones with
 * the exact reason each is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

struct bad {
	const char *addr;
	const char *reason;
};

static const char *const good[] = {
        "jane@example.com",
        "Jane.Doe@Example.COM",
        "a@b.co",
        "x@[192.168.0.1]",
        "x@[0.0.0.0]",
        "x@[255.255.255.255]",
        "user+tag@mail.example.org",
        "o'brien@example.ie",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "a.b.c.d@sub-domain.example.com",
        "1234@123.example",
        "x@xn--bcher-kva.example",
        "x@a-b.c-d",
        "x@a1.b2c",
        "UPPER@CASE.TLD",
        NULL,
};

static const struct bad bad[] = {
        {"", "empty address"},
        {"janeexample.com", "no '@'"},
        {"jane@@example.com", "more than one '@'"},
        {"a@b@example.com", "more than one '@'"},
        {"@example.com", "empty local part"},
        {"jane@", "empty domain"},
        {"x@y>z", "contains '>'"},
        {"<jane@example.com>", "contains '<'"},
        {"jane@example.com, bob@example.com", "contains ','"},
        {"jane@example.com,bob@example.com", "contains ','"},
        {"Jane Doe <jane@example.com>", "contains a space"},
        {"jane @example.com", "contains a space"},
        {"jane@example.com\r\nRCPT TO:<x@evil.com>", "contains CR"},
        {"jane@example.com\nBcc: x@evil.com", "contains LF"},
        {"jane\t@example.com", "contains a tab"},
        {"jane\x01@example.com", "contains a control character (0x01)"},
        {"jane\x7f@example.com", "contains a control character (0x7f)"},
        {"j\xc3\xa9rome@example.com", "non-ASCII characters are not supported (SMTPUTF8)"},
        {"jane@b\xc3\xbc"
         "cher.de",
                "non-ASCII characters are not supported (SMTPUTF8)"},
        {"\"jane doe\"@example.com", "contains '\"'"},
        {"\"jane\"@example.com", "contains '\"'"},
        {"jane(comment)@example.com", "contains '('"},
        {"jane)@example.com", "contains ')'"},
        {"jane;x@example.com", "contains ';'"},
        {"jane:x@example.com", "contains ':'"},
        {"jane\\x@example.com", "contains '\\'"},
        {"jane[x]@example.com", "local part contains '['"},
        {"jane]@example.com", "local part contains ']'"},
        {".jane@example.com", "local part starts with '.'"},
        {"jane.@example.com", "local part ends with '.'"},
        {"ja..ne@example.com", "local part contains '..'"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
                "local part longer than 64 characters"},
        {"jane@localhost", "domain \"localhost\" has no '.'"},
        {"jane@.example.com", "domain starts with '.'"},
        {"jane@example.com.", "domain ends with '.'"},
        {"jane@example..com", "domain contains '..'"},
        {"jane@-x.example.com", "domain label \"-x\" starts with '-'"},
        {"jane@x-.example.com", "domain label \"x-\" ends with '-'"},
        {"jane@example.-com", "domain label \"-com\" starts with '-'"},
        {"jane@exa_mple.com", "domain contains '_'"},
        {"jane@exa!mple.com", "domain contains '!'"},
        {"jane@ex[ample.com", "domain contains '['"},
        {"jane@1.2.3.4", "top-level domain \"4\" is all digits (an IP address must be written "
                         "[d.d.d.d])"},
        {"jane@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
                "domain label \"aaaaaaaaaaaaaaaaaaaa...\" longer than 63 characters"},
        {"jane@[1.2.3.4", "address literal does not end with ']'"},
        {"jane@[1.2.3]", "address literal [1.2.3] is not a valid IPv4 address"},
        {"jane@[1.2.3.256]", "address literal [1.2.3.256] is not a valid IPv4 address"},
        {"jane@[1.2.3.4.5]", "address literal [1.2.3.4.5] is not a valid IPv4 address"},
        {"jane@[01.2.3.4]", "address literal [01.2.3.4] is not a valid IPv4 address"},
        {"jane@[1.2..4]", "address literal [1.2..4] is not a valid IPv4 address"},
        {"jane@[1234.2.3.4]", "address literal [1234.2.3.4] is not a valid IPv4 address"},
        {"jane@[]", "address literal [] is not a valid IPv4 address"},
        {"jane@[IPv6:::1]", "IPv6 address literals are not supported"},
        {"jane@[x.example.com]", "address literal [x.example.com] is not a valid IPv4 address"},
        {NULL, NULL},
};

/* test_good - every good address is accepted and its domain found */
static void test_good(void **state)
{
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++) {
		err[0] = '\0';
		if (!addr_valid(good[i], err, sizeof err))
			fail_msg("%s refused: %s", good[i], err);
		assert_ptr_equal(addr_domain(good[i]), strchr(good[i], '@') + 1);
	}
}

/* test_bad - every bad address is refused with exactly its reason */
static void test_bad(void **state)
{
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; bad[i].addr != NULL; i++) {
		err[0] = '\0';
		if (addr_valid(bad[i].addr, err, sizeof err))
			fail_msg("%s accepted", bad[i].addr);
		if (strcmp(err, bad[i].reason) != 0)
			fail_msg("%s: got <%s>, want <%s>", bad[i].addr, err, bad[i].reason);
	}
}

/* test_lengths - the 64, 254 and 63 octet limits, exactly */
static void test_lengths(void **state)
{
	char a[400], err[256];
	char *p;

	(void)state;
	/* local part of 64: ok; 65: refused (covered in the table) */
	memset(a, 'l', 64);
	strcpy(a + 64, "@example.com");
	assert_true(addr_valid(a, err, sizeof err));
	/* label of 63: ok */
	strcpy(a, "x@");
	memset(a + 2, 'd', 63);
	strcpy(a + 65, ".com");
	assert_true(addr_valid(a, err, sizeof err));
	/* total 254: ok; 255: refused */
	strcpy(a, "x@");
	p = a + 2;
	while (p - a < 254 - 4) {
		memset(p, 'd', 49);
		p[49] = '.';
		p += 50;
	}
	/* a holds 252 chars ending in '.', make it exactly 254 */
	p = a + 252;
	strcpy(p, "ab");
	assert_int_equal(strlen(a), 254);
	if (!addr_valid(a, err, sizeof err))
		fail_msg("254 refused: %s", err);
	strcpy(p, "abc");
	assert_false(addr_valid(a, err, sizeof err));
	assert_string_equal(err, "longer than 254 characters");
}

/* test_null_err - err may be NULL; a NULL address is refused; a tiny err is terminated */
static void test_null_err(void **state)
{
	char err[4];

	(void)state;
	assert_false(addr_valid("x@y>z", NULL, 0));
	assert_true(addr_valid("x@y.z", NULL, 0));
	assert_false(addr_valid(NULL, NULL, 0));
	assert_false(addr_valid("janeexample.com", err, sizeof err));
	assert_string_equal(err, "no ");
	assert_null(addr_domain("nothing"));
	assert_null(addr_domain(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good),
	        cmocka_unit_test(test_bad),
	        cmocka_unit_test(test_lengths),
	        cmocka_unit_test(test_null_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
