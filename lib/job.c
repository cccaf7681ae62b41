/*
 * job - one job file: parsing, strict validation, and the job's history.
 *
 * Owns the job file format (DESIGN.md, "Job files"): job_parse checks
 * every member spoold knows, in a fixed order, and reports the first
 * problem as "member: what is wrong"; members it does not know are kept
 * as they are.  The "spool" member is spoold's own (job_spool.c reads and
 * writes it).  All JSON goes through jansson; strings in struct job are
 * borrowed from j->root.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "job.h"
#include "timefmt.h"
#include "utf8.h"

#define ID_MAX 200      /* bytes in "id" */
#define TO_NAME_MAX 200 /* bytes in "to.name" */
#define KIND_MAX 64     /* bytes in "kind" */
#define MINUTES_MAX 1440
#define QUOTE_MAX 60  /* bytes of a value quoted in an error */
#define MEMBER_MAX 64 /* a dotted member name */
#define RFC3339_HINT "is not an RFC 3339 time with an offset, e.g. 2026-12-01T09:30:00-06:00"
/* The longest number jansson writes: "-2.2250738585072014e-308", or an
 * int64 ("-9223372036854775808", 20). */
#define JSON_NUMBER_MAX 24

/* fail - format "member: what is wrong" into err (when given); return -1 */
__attribute__((format(printf, 3, 4))) static int fail(
        char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* utf8_seq - length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	return utf8_char(p, n);
}

/* sanitize - replace control characters and invalid UTF-8 in s by '?' */
static void sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), k;

	while (*p != '\0') {
		k = utf8_seq(p, n);
		if (k == 0 || *p < 0x20 || *p == 0x7f) {
			*p = '?';
			k = 1;
		}
		p += k;
		n -= k;
	}
}

/* quote - s as a double-quoted, escaped, possibly shortened string in buf */
static const char *quote(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n = strlen(s), k, used = 0;

	buf[o++] = '"';
	while (*p != '\0' && o + 8 < len) {
		k = utf8_seq(p, n);
		if (used + (k ? k : 1) > QUOTE_MAX) {
			snprintf(buf + o, len - o, "...");
			o += 3;
			break;
		}
		if (*p == '"' || *p == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", *p);
		else if (*p == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (*p == '\r')
			o += (size_t)snprintf(buf + o, len - o, "\\r");
		else if (*p == '\t')
			o += (size_t)snprintf(buf + o, len - o, "\\t");
		else if (*p < 0x20 || *p == 0x7f || k == 0)
			o += (size_t)snprintf(buf + o, len - o, k ? "\\u%04x" : "\\x%02x", *p);
		else
			o += (size_t)snprintf(buf + o, len - o, "%.*s", (int)k, (const char *)p);
		k = k ? k : 1;
		used += k;
		p += k;
		n -= k;
	}
	snprintf(buf + o, len - o, "\"");
	return buf;
}

/* type_name - how a JSON value's type is named in errors */
static const char *type_name(const json_t *v)
{
	/* indexed by json_type: object, array, string, integer, real, true, false, null */
	static const char *const names[] = {
	        "object", "array", "string", "number", "number", "boolean", "boolean", "null"};

	return names[json_typeof(v)];
}

/* member - look up obj.key of type want: 1 present, 0 absent or null (and
 * optional), -1 error */
static int member(const json_t *obj, const char *name, const char *key, json_type want,
        int required, json_t **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *what;
	char num[64];

	/* An optional member that is null is absent: what a scheduler's JSON
	 * library writes for a database NULL. */
	if (v != NULL && json_is_null(v) && !required)
		v = NULL;
	*out = v;
	if (v == NULL)
		return required ? fail(err, errlen, "%s: missing", name) : 0;
	if (json_typeof(v) == want)
		return 1;
	what = want == JSON_OBJECT ? "an object" : want == JSON_STRING ? "a string" : "an integer";
	if (want == JSON_INTEGER && json_is_real(v)) {
		snprintf(num, sizeof num, "%.15g", json_real_value(v));
		if (strpbrk(num, ".eEni") == NULL)
			strcat(num, ".0");
		return fail(err, errlen, "%s: expected an integer, got %s", name, num);
	}
	return fail(err, errlen, "%s: expected %s, got %s", name, what, type_name(v));
}

/* opt_strings - the optional string members keys[] of obj, named prefix.key */
static int opt_strings(
        const json_t *obj, const char *prefix, const char *const *keys, char *err, size_t errlen)
{
	char name[MEMBER_MAX];
	json_t *v;

	for (; *keys != NULL; keys++) {
		snprintf(name, sizeof name, "%s.%s", prefix, *keys);
		if (member(obj, name, *keys, JSON_STRING, 0, &v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* opt_object - an optional object member checked for its string members */
static int opt_object(const json_t *root, const char *key, const char *const *strs, json_t **out,
        char *err, size_t errlen)
{
	int r = member(root, key, key, JSON_OBJECT, 0, out, err, errlen);

	if (r <= 0 || strs == NULL)
		return r;
	return opt_strings(*out, key, strs, err, errlen) < 0 ? -1 : 1;
}

/* check_time - a string member holding an RFC 3339 time with an offset */
static int check_time(const json_t *obj, const char *name, const char *key, int required, time_t *t,
        int *off, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 6 + 16];
	json_t *v;
	int r = member(obj, name, key, JSON_STRING, required, &v, err, errlen);

	if (r <= 0)
		return r;
	if (rfc3339_parse(json_string_value(v), t, off) < 0)
		return fail(err, errlen, "%s: %s " RFC3339_HINT, name,
		        quote(q, sizeof q, json_string_value(v)));
	return 1;
}

/* check_header - version, id and kind */
static int check_header(const json_t *root, struct job *j, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 6 + 16];
	json_t *v;
	const unsigned char *p;
	size_t n, i;

	if (member(root, "version", "version", JSON_INTEGER, 1, &v, err, errlen) < 0)
		return -1;
	if (json_integer_value(v) != JOB_VERSION)
		return fail(err, errlen,
		        "version: %" JSON_INTEGER_FORMAT
		        " is not supported (this spoold reads version %d)",
		        json_integer_value(v), JOB_VERSION);

	if (member(root, "id", "id", JSON_STRING, 1, &v, err, errlen) < 0)
		return -1;
	n = json_string_length(v);
	p = (const unsigned char *)json_string_value(v);
	if (n == 0)
		return fail(err, errlen, "id: empty");
	if (n > ID_MAX)
		return fail(err, errlen, "id: %zu bytes; the limit is %d", n, ID_MAX);
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return fail(err, errlen, "id: contains a control character (U+%04X)", p[i]);
	j->id = (const char *)p;

	if (member(root, "kind", "kind", JSON_STRING, 1, &v, err, errlen) < 0)
		return -1;
	n = json_string_length(v);
	p = (const unsigned char *)json_string_value(v);
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
		            p[i] == '-'))
			break;
	if (n == 0 || n > KIND_MAX || i < n)
		return fail(err, errlen, "kind: %s must match [a-z0-9_-]{1,64}",
		        quote(q, sizeof q, (const char *)p));
	j->kind = (const char *)p;
	return 0;
}

/* check_to - the recipient: to.email (required, one mailbox) and to.name */
static int check_to(const json_t *root, struct job *j, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 6 + 16], why[128];
	json_t *to, *v;

	if (member(root, "to", "to", JSON_OBJECT, 1, &to, err, errlen) < 0)
		return -1;
	if (member(to, "to.email", "email", JSON_STRING, 1, &v, err, errlen) < 0)
		return -1;
	if (!addr_valid(json_string_value(v), why, sizeof why))
		return fail(err, errlen, "to.email: %s is not a valid address: %s",
		        quote(q, sizeof q, json_string_value(v)), why);
	j->to_email = json_string_value(v);
	if (member(to, "to.name", "name", JSON_STRING, 0, &v, err, errlen) < 0)
		return -1;
	if (v != NULL && json_string_length(v) > TO_NAME_MAX)
		return fail(err, errlen, "to.name: %zu bytes; the limit is %d",
		        json_string_length(v), TO_NAME_MAX);
	j->to_name = json_string_value(v);
	return 0;
}

/* check_appointment - appointment.start (required there, and for reminders) and the rest */
static int check_appointment(const json_t *root, struct job *j, char *err, size_t errlen)
{
	static const char *const strs[] = {"provider", "location", NULL};
	json_t *appt, *v;
	json_int_t m;
	int r = member(root, "appointment", "appointment", JSON_OBJECT, 0, &appt, err, errlen);

	if (r < 0)
		return -1;
	if (r == 0)
		return strcmp(j->kind, "reminder") == 0
		               ? fail(err, errlen, "appointment.start: required for a reminder")
		               : 0;
	if (check_time(appt, "appointment.start", "start", 1, &j->appt_start, &j->appt_offset, err,
	            errlen) < 0)
		return -1;
	if (member(appt, "appointment.minutes", "minutes", JSON_INTEGER, 0, &v, err, errlen) < 0)
		return -1;
	if (v != NULL && ((m = json_integer_value(v)) < 1 || m > MINUTES_MAX))
		return fail(err, errlen,
		        "appointment.minutes: %" JSON_INTEGER_FORMAT " is not between 1 and %d", m,
		        MINUTES_MAX);
	return opt_strings(appt, "appointment", strs, err, errlen);
}

/* is_alnum - ASCII letter or digit, whatever the locale */
static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* check_locale - [a-z]{2,3}(-[A-Za-z0-9]{2,8})* */
static int check_locale(const json_t *root, struct job *j, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 6 + 16];
	json_t *v;
	const char *s, *p;
	int ok, r = member(root, "locale", "locale", JSON_STRING, 0, &v, err, errlen);

	if (r <= 0)
		return r;
	for (s = p = json_string_value(v); *p >= 'a' && *p <= 'z'; p++)
		;
	ok = p - s >= 2 && p - s <= 3;
	while (ok && *p == '-') {
		for (s = ++p; is_alnum(*p); p++)
			;
		ok = p - s >= 2 && p - s <= 8;
	}
	if (!ok || *p != '\0')
		return fail(err, errlen, "locale: %s must match [a-z]{2,3}(-[A-Za-z0-9]{2,8})*",
		        quote(q, sizeof q, json_string_value(v)));
	j->locale = json_string_value(v);
	return 1;
}

/* check_spool - spoold's own member, if present, must be as spoold writes it:
 * attempts an array of objects with an RFC 3339 time, attempts_dropped a
 * small count (a scheduler has no business writing it; a damaged one must
 * not make a history that cannot be read back) */
static int check_spool(const json_t *sp, char *err, size_t errlen)
{
	json_t *arr = json_object_get(sp, "attempts"), *v;
	size_t i;

	if (arr && !json_is_array(arr))
		return fail(
		        err, errlen, "spool.attempts: expected an array, got %s", type_name(arr));
	json_array_foreach(arr, i, v)
	{
		json_t *t = json_object_get(v, "time"), *code = json_object_get(v, "code");
		if (!json_is_object(v))
			return fail(err, errlen, "spool.attempts[%zu]: expected an object, got %s",
			        i, type_name(v));
		if (!json_is_string(t) || rfc3339_parse(json_string_value(t), NULL, NULL) < 0)
			return fail(
			        err, errlen, "spool.attempts[%zu].time: not an RFC 3339 time", i);
		if (code && !json_is_integer(code))
			return fail(err, errlen,
			        "spool.attempts[%zu].code: expected an integer, got %s", i,
			        type_name(code));
	}
	v = json_object_get(sp, "attempts_dropped");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	                 json_integer_value(v) > 1000000000))
		return fail(err, errlen, "spool.attempts_dropped: expected a count");
	return 0;
}

/* validate - every known member, in a fixed order; the first problem wins */
static int validate(const json_t *root, struct job *j, char *err, size_t errlen)
{
	static const char *const patient[] = {"first_name", "last_name", NULL};
	static const char *const practice[] = {
	        "name", "phone", "address", "email", "website", NULL};
	json_t *v;

	if (!json_is_object(root))
		return fail(err, errlen, "top level: expected an object, got %s", type_name(root));
	if (check_header(root, j, err, errlen) < 0 || check_to(root, j, err, errlen) < 0 ||
	        opt_object(root, "patient", patient, &v, err, errlen) < 0 ||
	        check_appointment(root, j, err, errlen) < 0 ||
	        opt_object(root, "practice", practice, &v, err, errlen) < 0 ||
	        check_locale(root, j, err, errlen) < 0 ||
	        check_time(root, "not_before", "not_before", 0, &j->not_before, NULL, err, errlen) <
	                0 ||
	        check_time(root, "expires", "expires", 0, &j->expires, NULL, err, errlen) < 0 ||
	        opt_object(root, "data", NULL, &v, err, errlen) < 0 ||
	        opt_object(root, "spool", NULL, &v, err, errlen) < 0)
		return -1;
	v = json_object_get(root, "spool");
	if (json_is_object(v) && check_spool(v, err, errlen) < 0)
		return -1;
	return 0;
}

/* job_parse - parse and validate; 0 ok, -1 with "member: what is wrong" in err
 *
 * j is overwritten (free a previous job first); on failure it is zeroed. */
int job_parse(struct job *j, const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *root;
	char *s;
	size_t n, limit, body = len; /* the final newline job_dump writes is not counted */

	memset(j, 0, sizeof *j);
	if (len > 0 && len <= JOB_FILE_MAX + 1 && buf != NULL && buf[len - 1] == '\n')
		body = len - 1;
	if (body > JOB_FILE_MAX)
		return fail(err, errlen, "file is %zu bytes; the limit is %d", len, JOB_MAX_SIZE);
	if (len == 0 || buf == NULL)
		return fail(err, errlen, "file is empty");
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		return fail(
		        err, errlen, "not valid JSON: starts with a byte order mark (EF BB BF)");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (root == NULL) {
		sanitize(e.text);
		return fail(err, errlen, "not valid JSON: %s at line %d column %d (byte %d)",
		        e.text, e.line, e.column, e.position);
	}
	/* Only spoold's own history may take a job past the scheduler's limit. */
	if (body > JOB_MAX_SIZE && !json_is_object(json_object_get(root, "spool"))) {
		json_decref(root);
		return fail(err, errlen, "file is %zu bytes; the limit is %d", len, JOB_MAX_SIZE);
	}
	if (validate(root, j, err, errlen) < 0) {
		json_decref(root);
		memset(j, 0, sizeof *j);
		return -1;
	}
	/* job_dump's text must parse again, and jansson writes numbers in full
	 * (1e9 as 1000000000.0, 0.1 as 0.10000000000000001): measure it.  Only
	 * numbers grow, each to at most JSON_NUMBER_MAX characters (and strings
	 * never do: escapes come back as they were or shorter), so a text
	 * shorter than limit / JSON_NUMBER_MAX cannot come back over it. */
	limit = json_is_object(json_object_get(root, "spool")) ? JOB_FILE_MAX : JOB_MAX_SIZE;
	n = len;
	if (len > limit / JSON_NUMBER_MAX) {
		s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
		n = s ? strlen(s) : 0;
		free(s);
	}
	if (n == 0 || n > limit) {
		json_decref(root);
		memset(j, 0, sizeof *j);
		return fail(err, errlen, "file is %zu bytes when written back; the limit is %zu", n,
		        limit);
	}
	j->root = root;
	return 0;
}

/* job_free - release what job_parse allocated; safe on a zeroed job */
void job_free(struct job *j)
{
	if (j == NULL)
		return;
	json_decref(j->root);
	memset(j, 0, sizeof *j);
}

/* job_dump - the job as JSON text (indented, keys in file order, final newline); free() it
 *
 * When the indented text would exceed JOB_MAX_SIZE the compact form is
 * written instead, so that spoold can read back what it wrote. */
char *job_dump(const struct job *j)
{
	char *s, *r;
	size_t n;

	if (j == NULL || j->root == NULL)
		return NULL;
	s = json_dumps(j->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t limit =
	        json_is_object(json_object_get(j->root, "spool")) ? JOB_FILE_MAX : JOB_MAX_SIZE;
	if (s != NULL && strlen(s) + 1 > limit) {
		free(s);
		s = json_dumps(j->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	if (s == NULL)
		return NULL;
	n = strlen(s);
	r = realloc(s, n + 2);
	if (r == NULL) {
		free(s);
		return NULL;
	}
	r[n] = '\n';
	r[n + 1] = '\0';
	return r;
}
