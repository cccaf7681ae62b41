/*
 * job_spool - a job's "spool" member, spoold's own part of the job file: a
 * version, strings and times set by the daemon (first_seen, next_attempt,
 * reason, ...), and spool.attempts, one object per delivery attempt (time,
 * relay, stage, code, text, category).  See job.h; job.c parses and
 * checks the rest of the file.  Values are borrowed from j->root.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "timefmt.h"
#include "utf8.h"

#define TEXT_MAX 1024 /* bytes of reply text kept per attempt */

/* jstr - a JSON string of at most max bytes of s, invalid UTF-8 as U+FFFD; NULL stays NULL */
static json_t *jstr(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k, o = 0;
	json_t *v;
	char *c;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((c = malloc(n * 3 + 1)) == NULL)
		return NULL;
	while (n > 0) {
		k = utf8_char(p, n);
		if (o + (k ? k : 3) > max)
			break;
		if (k == 0) {
			memcpy(c + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(c + o, p, k);
			o += k;
		}
		p += k;
		n -= k;
	}
	v = json_stringn(c, o);
	free(c);
	return v;
}

/* spool_get - the "spool" member if it is an object, else NULL (never creates) */
static json_t *spool_get(const struct job *j)
{
	json_t *sp = j != NULL ? json_object_get(j->root, "spool") : NULL;

	return json_is_object(sp) ? sp : NULL;
}

/* job_spool - the "spool" member, created with "version" first when absent (borrowed) */
json_t *job_spool(struct job *j)
{
	json_t *sp;

	if (j == NULL || j->root == NULL)
		return NULL;
	if ((sp = spool_get(j)) != NULL)
		return sp;
	if ((sp = json_object()) == NULL)
		return NULL;
	json_object_set_new(sp, "version", json_integer(JOB_SPOOL_VERSION));
	if (json_object_set_new(j->root, "spool", sp) < 0)
		return NULL;
	return sp;
}

/* job_spool_str - a string member of "spool", or NULL */
const char *job_spool_str(const struct job *j, const char *key)
{
	return json_string_value(json_object_get(spool_get(j), key));
}

/* job_spool_set_str - set spool.KEY to a string (NULL removes it) */
void job_spool_set_str(struct job *j, const char *key, const char *val)
{
	json_t *sp;

	if (val == NULL) {
		if ((sp = spool_get(j)) != NULL)
			json_object_del(sp, key);
		return;
	}
	if ((sp = job_spool(j)) != NULL)
		json_object_set_new(sp, key, jstr(val, JOB_MAX_SIZE));
}

/* job_spool_time - spool.KEY parsed as RFC 3339, or 0 */
time_t job_spool_time(const struct job *j, const char *key)
{
	time_t t;

	if (rfc3339_parse(job_spool_str(j, key), &t, NULL) < 0)
		return 0;
	return t;
}

/* job_spool_set_time - spool.KEY = RFC 3339 of t (0 removes it) */
void job_spool_set_time(struct job *j, const char *key, time_t t)
{
	char buf[TIMEFMT_MAX];

	if (t == 0 || rfc3339_format(t, buf, sizeof buf)[0] == '\0')
		job_spool_set_str(j, key, NULL);
	else
		job_spool_set_str(j, key, buf);
}

/* job_add_attempt - append to spool.attempts (text kept up to TEXT_MAX bytes) */
void job_add_attempt(struct job *j, const struct job_attempt *a)
{
	char buf[TIMEFMT_MAX];
	json_t *sp, *arr, *o;

	if ((sp = job_spool(j)) == NULL)
		return;
	arr = json_object_get(sp, "attempts");
	if (!json_is_array(arr)) {
		arr = json_array();
		if (json_object_set_new(sp, "attempts", arr) < 0)
			return;
	}
	if ((o = json_object()) == NULL)
		return;
	json_object_set_new(o, "time", json_string(rfc3339_format(a->when, buf, sizeof buf)));
	if (a->relay != NULL)
		json_object_set_new(o, "relay", jstr(a->relay, JOB_MAX_SIZE));
	if (a->stage != NULL)
		json_object_set_new(o, "stage", jstr(a->stage, JOB_MAX_SIZE));
	json_object_set_new(o, "code", json_integer(a->code));
	if (a->text != NULL)
		json_object_set_new(o, "text", jstr(a->text, TEXT_MAX));
	if (a->category != NULL)
		json_object_set_new(o, "category", jstr(a->category, JOB_MAX_SIZE));
	json_array_append_new(arr, o);
	/* Bounded history: keep the first attempt and the latest ones. */
	if (json_array_size(arr) > JOB_ATTEMPTS_KEPT) {
		json_int_t dropped = json_integer_value(json_object_get(sp, "attempts_dropped"));
		json_array_remove(arr, 1);
		/* The count comes from the file: never negative, never overflowing. */
		dropped = dropped < 0 ? 0 : dropped;
		json_object_set_new(sp, "attempts_dropped",
		        json_integer(dropped < LLONG_MAX ? dropped + 1 : dropped));
	}
}

/* job_attempts - number of recorded attempts */
size_t job_attempts(const struct job *j)
{
	json_t *sp = spool_get(j);
	json_int_t dropped = json_integer_value(json_object_get(sp, "attempts_dropped"));

	return json_array_size(json_object_get(sp, "attempts")) +
	       (size_t)(dropped > 0 ? dropped : 0);
}

/* job_get_attempt - attempt i (0 = oldest) into a, strings borrowed; 0 ok, -1 none */
int job_get_attempt(const struct job *j, size_t i, struct job_attempt *a)
{
	json_t *o = json_array_get(json_object_get(spool_get(j), "attempts"), i);
	json_t *code;

	memset(a, 0, sizeof *a);
	if (!json_is_object(o))
		return -1;
	if (rfc3339_parse(json_string_value(json_object_get(o, "time")), &a->when, NULL) < 0)
		a->when = 0;
	a->relay = json_string_value(json_object_get(o, "relay"));
	a->stage = json_string_value(json_object_get(o, "stage"));
	code = json_object_get(o, "code");
	a->code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	a->text = json_string_value(json_object_get(o, "text"));
	a->category = json_string_value(json_object_get(o, "category"));
	return 0;
}

/* job_get_str - a string at a dotted path ("patient.first_name"), or NULL
 *
 * A segment of digits indexes an array ("spool.attempts.0.text"). */
const char *job_get_str(const struct job *j, const char *path)
{
	const json_t *cur;
	const char *seg, *dot;
	size_t n, i, idx;

	if (j == NULL || j->root == NULL || path == NULL)
		return NULL;
	cur = j->root;
	for (seg = path;; seg = dot + 1) {
		dot = strchr(seg, '.');
		n = dot != NULL ? (size_t)(dot - seg) : strlen(seg);
		if (json_is_object(cur)) {
			cur = json_object_getn(cur, seg, n);
		} else if (json_is_array(cur) && n > 0) {
			for (i = 0, idx = 0; i < n && seg[i] >= '0' && seg[i] <= '9'; i++)
				idx = idx * 10 + (size_t)(seg[i] - '0');
			if (i < n || n > 9)
				return NULL;
			cur = json_array_get(cur, idx);
		} else {
			return NULL;
		}
		if (cur == NULL)
			return NULL;
		if (dot == NULL)
			return json_string_value(cur);
	}
}
