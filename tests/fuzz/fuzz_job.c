/*
 * fuzz_job - libFuzzer target for job_parse and job_dump.
 *
 * Any input job_parse accepts must dump to text that job_parse accepts
 * again, with the same fields, and that dumps to the same text (stable).
 * The same holds after spoold's own additions: a spool string and a
 * delivery attempt whose texts come from the input (any bytes, cut at the
 * first NUL).  A refused input must come with a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* same - two optional strings are equal */
static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* roundtrip - dump j, parse the dump, compare; the dump when all is well */
static char *roundtrip(const struct job *j, const char *when)
{
	struct job k;
	char err[1024], *d1 = job_dump(j), *d2;

	if (!d1) {
		fprintf(stderr, "%s: job_dump failed\n", when);
		abort();
	}
	if (job_parse(&k, d1, strlen(d1), err, sizeof err) < 0) {
		fprintf(stderr, "%s: the dump does not parse: %s\n", when, err);
		abort();
	}
	if (!same(j->id, k.id) || !same(j->kind, k.kind) || !same(j->to_email, k.to_email) ||
	        !same(j->to_name, k.to_name) || !same(j->locale, k.locale) ||
	        j->not_before != k.not_before || j->expires != k.expires ||
	        j->appt_start != k.appt_start || j->appt_offset != k.appt_offset) {
		fprintf(stderr, "%s: the dump parses to another job\n", when);
		abort();
	}
	d2 = job_dump(&k);
	if (!d2 || strcmp(d1, d2) != 0) {
		fprintf(stderr, "%s: the dump is not stable\n", when);
		abort();
	}
	free(d2);
	job_free(&k);
	return d1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j;
	struct job_attempt a = {0}, b = {0}, last = {0};
	char err[1024], *text;
	size_t i;

	err[0] = '\0';
	if (job_parse(&j, (const char *)data, size, err, sizeof err) < 0) {
		if (!err[0]) {
			fprintf(stderr, "refused without a reason\n");
			abort();
		}
		return 0;
	}
	free(roundtrip(&j, "parsed"));

	if (!(text = malloc(size + 1))) {
		job_free(&j);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	job_spool_set_str(&j, "message_id", text);
	job_spool_set_time(&j, "first_seen", 1796139000);
	a.when = 1796139000;
	a.relay = "smtp.example.com:587";
	a.stage = "rcpt";
	a.code = 550;
	a.text = text;
	a.category = "recipient-invalid";
	job_add_attempt(&j, &a);
	for (i = 0; job_get_attempt(&j, i, &b) == 0; i++)
		last = b;
	if (job_attempts(&j) < 1 || i < 1 || last.code != 550 ||
	        job_spool_time(&j, "first_seen") != 1796139000) {
		fprintf(stderr, "the attempt or the time did not stick\n");
		abort();
	}
	free(roundtrip(&j, "with history"));
	free(text);
	job_free(&j);
	return 0;
}
