/*
 * fuzz_reply - libFuzzer target for the reply classifier (lib/reply.c,
 * lib/reply_rules.c).
 *
 * Input: a first line "STAGE CODE [FLAGS]" (a stage name such as
 * "data-end", or any byte; a code; FLAGS any of t, o, r for tls_error,
 * timeout, refused), then the reply text.  Seeds are in
 * tests/fuzz/corpus/reply/, one real reply each.  Checks what must hold for
 * every input: a category in range, static non-empty words, a retry time
 * only for rate-limited and transient verdicts and never in the past or
 * more than 7 days ahead, determinism, and reply_judge_local agreeing with
 * reply_judge when no flag is set.
 *
 * Build (with lib/reply.c and lib/reply_rules.c, nothing else needed):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_reply.c lib/reply.c lib/reply_rules.c -o fuzz_reply
 *   ./fuzz_reply tests/fuzz/corpus/reply
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

#define NOW ((time_t)1796040000)
#define NCAT (CAT_UNKNOWN_OUTCOME + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - the invariants of one verdict */
static void check(const struct verdict *v)
{
	if ((unsigned)v->cat >= NCAT || !v->rule || !*v->rule || !v->explanation ||
	        !*v->explanation || !v->action || !*v->action)
		abort();
	if (v->retry_at && v->cat != CAT_RATE_LIMITED && v->cat != CAT_TRANSIENT)
		abort();
	if (v->cat == CAT_RATE_LIMITED && !v->retry_at)
		abort();
	if (v->retry_at && (v->retry_at <= NOW || v->retry_at > NOW + 7 * 86400))
		abort();
	if (strcmp(reply_category_name(v->cat), "unknown") == 0)
		abort();
}

/* LLVMFuzzerTestOneInput - one input: "STAGE CODE [FLAGS]\nTEXT" */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char head[64], *text, *sp;
	size_t nl = 0, hl;
	struct smtp_reply r;
	struct verdict a, b;
	int stage, code = 0;

	while (nl < size && data[nl] != '\n')
		nl++;
	hl = nl < sizeof head - 1 ? nl : sizeof head - 1;
	memcpy(head, data, hl);
	head[hl] = '\0';
	if (!(text = malloc(size - nl + 1)))
		return 0;
	memcpy(text, data + (nl < size ? nl + 1 : size), size - (nl < size ? nl + 1 : size));
	text[size - (nl < size ? nl + 1 : size)] = '\0';

	memset(&r, 0, sizeof r);
	sp = strchr(head, ' ');
	if (sp)
		*sp++ = '\0';
	stage = reply_stage_parse(head);
	if (stage < 0)
		stage = hl ? (unsigned char)head[0] % (STAGE_DATA_END + 1) : 0;
	if (sp) {
		for (; *sp >= '0' && *sp <= '9' && code < 10000; sp++)
			code = code * 10 + (*sp - '0');
		r.tls_error = strchr(sp, 't') != NULL;
		r.timeout = strchr(sp, 'o') != NULL;
		r.refused = strchr(sp, 'r') != NULL;
	}
	(void)reply_category_parse(head);

	reply_judge((enum smtp_stage)stage, code, text, NOW, &a);
	check(&a);
	reply_judge((enum smtp_stage)stage, code, text, NOW, &b);
	if (memcmp(&a, &b, sizeof a))
		abort();

	r.stage = (enum smtp_stage)stage;
	r.code = code;
	strncpy(r.text, text, sizeof r.text); /* may leave it unterminated: allowed */
	reply_judge_local(&r, NOW, &b);
	check(&b);
	if (!r.tls_error && !r.refused && !r.timeout && strlen(text) < sizeof r.text &&
	        memcmp(&a, &b, sizeof a))
		abort();
	if (reply_classify(&r) == CAT_SENT)
		abort();
	free(text);
	return 0;
}
