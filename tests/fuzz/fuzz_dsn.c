/*
 * fuzz_dsn - libFuzzer target for the bounce and notice reader (lib/dsn.c,
 * lib/dsn_text.c, lib/dsn_util.c, lib/dsn_notice.c) and dsn_judge.
 *
 * Input: one raw message.  Seeds are in tests/fuzz/corpus/dsn/ (the
 * messages of tests/data/bounces/ and a few fragments).  Checks what must
 * hold for every input: 0 or -1, and -1 only with an all-empty result; a
 * kind in range; every field NUL-terminated inside its array, printable
 * (no control byte, valid UTF-8); a status that is "" or class.subject.
 * detail; a Message-ID in angle brackets; a notice with its id, reason
 * and action and nothing else, and no notice words otherwise; dsn_judge
 * answering exactly for bounces and delays, with a category in range;
 * determinism.
 *
 * Build (with libetpan; nothing else of spoold is needed but reply.c):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib tests/fuzz/fuzz_dsn.c \
 *     lib/dsn.c lib/dsn_text.c lib/dsn_util.c lib/dsn_notice.c lib/reply.c \
 *     lib/reply_rules.c -letpan -o fuzz_dsn
 *   ./fuzz_dsn -max_len=65536 tests/fuzz/corpus/dsn
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "reply.h"

#define NOW ((time_t)1796040000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* printable - s is NUL-terminated within size, without controls, valid UTF-8 */
static void printable(const char *s, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned char *end = memchr(u, '\0', size);
	size_t k;

	if (end == NULL)
		abort();
	while (u < end) {
		if (*u < 0x20 || *u == 0x7f)
			abort();
		k = *u < 0x80 ? 1 : *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : *u >= 0xc2 ? 2 : 0;
		if (k == 0 || *u > 0xf4 || (size_t)(end - u) < k)
			abort();
		for (size_t i = 1; i < k; i++)
			if ((u[i] & 0xc0) != 0x80)
				abort();
		u += k;
	}
}

/* status_ok - "" or d.d{1,3}.d{1,3} with class 2, 4 or 5 */
static int status_ok(const char *s)
{
	size_t a, b;

	if (!*s)
		return 1;
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	a = strspn(s + 2, "0123456789");
	if (a < 1 || a > 3 || s[2 + a] != '.')
		return 0;
	b = strspn(s + 3 + a, "0123456789");
	return b >= 1 && b <= 3 && s[3 + a + b] == '\0';
}

/* check - the invariants of one result */
static void check(int rc, const struct dsn *d)
{
	struct verdict v;
	size_t n;

	if (rc != 0 && rc != -1)
		abort();
	if ((unsigned)d->kind > DSN_NOTICE)
		abort();
	printable(d->message_id, sizeof d->message_id);
	printable(d->envid, sizeof d->envid);
	printable(d->recipient, sizeof d->recipient);
	printable(d->status, sizeof d->status);
	printable(d->diagnostic, sizeof d->diagnostic);
	printable(d->notice, sizeof d->notice);
	printable(d->reason, sizeof d->reason);
	printable(d->action, sizeof d->action);
	if (!status_ok(d->status))
		abort();
	n = strlen(d->message_id);
	if (n && (n < 3 || d->message_id[0] != '<' || d->message_id[n - 1] != '>'))
		abort();
	if (d->kind == DSN_NOTICE) {
		if (!d->notice[0] || !d->reason[0] || !d->action[0] || d->message_id[0] ||
		        d->envid[0] || d->recipient[0] || d->status[0] || d->diagnostic[0])
			abort();
	} else if (d->notice[0] || d->reason[0] || d->action[0])
		abort();
	if (rc == -1 && (d->kind != DSN_NONE || d->message_id[0] || d->envid[0] ||
	                        d->recipient[0] || d->status[0] || d->diagnostic[0]))
		abort();
	memset(&v, 0, sizeof v);
	if (d->kind == DSN_BOUNCE || d->kind == DSN_DELAY) {
		if (dsn_judge(d, NOW, &v) != 0 || (unsigned)v.cat > CAT_UNKNOWN_OUTCOME ||
		        v.cat == CAT_SENT || !v.rule || !v.explanation || !v.action)
			abort();
	} else if (dsn_judge(d, NOW, &v) != -1)
		abort();
}

/* LLVMFuzzerTestOneInput - one input: a raw message */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn a, b;
	int ra, rb;

	memset(&a, 0x5a, sizeof a); /* dsn_parse must fill every byte that matters */
	ra = dsn_parse((const char *)data, size, &a);
	check(ra, &a);
	memset(&b, 0xa5, sizeof b);
	rb = dsn_parse((const char *)data, size, &b);
	if (ra != rb || a.kind != b.kind || strcmp(a.message_id, b.message_id) ||
	        strcmp(a.envid, b.envid) || strcmp(a.recipient, b.recipient) ||
	        strcmp(a.status, b.status) || strcmp(a.diagnostic, b.diagnostic) ||
	        strcmp(a.notice, b.notice))
		abort();
	return 0;
}
