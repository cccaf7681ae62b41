/*
 * job - one job file: parsing, strict validation, and the job's history.
 *
 * A job is a UTF-8 JSON object of at most JOB_MAX_SIZE bytes (DESIGN.md,
 * "Job files").  job_parse validates it and fills struct job; every string
 * pointer in struct job is borrowed from j->root and lives until job_free.
 * Members the scheduler adds that we do not know are kept untouched.
 *
 * The "spool" member belongs to spoold: a version, the Message-ID, the
 * first time the job was seen, the computed expiry, the attempts (time,
 * relay, stage, code, text, category), the next attempt and the reason a
 * job failed.  job_dump writes the whole object back, stable and readable.
 */
#ifndef SPOOLD_JOB_H
#define SPOOLD_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define JOB_MAX_SIZE 65536       /* what a scheduler may submit */
#define JOB_FILE_MAX (4 * 65536) /* a job plus spoold's history */
#define JOB_ATTEMPTS_KEPT 50     /* the first attempt and the latest 49 */
#define JOB_VERSION 1
#define JOB_SPOOL_VERSION 1

struct job {
	json_t *root;         /* owned: the whole job object */
	const char *id;       /* idempotency key (required) */
	const char *kind;     /* template name, [a-z0-9_-]{1,64} */
	const char *to_email; /* one valid mailbox */
	const char *to_name;  /* display name or NULL */
	const char *locale;   /* "en", "es", ... or NULL */
	time_t not_before;    /* 0 when absent */
	time_t expires;       /* 0 when absent in the file */
	time_t appt_start;    /* 0 when no appointment */
	int appt_offset;      /* the start's UTC offset in minutes */
};

/* One delivery attempt, as recorded in spool.attempts. */
struct job_attempt {
	time_t when;
	const char *relay;    /* "host:port" */
	const char *stage;    /* connect, ehlo, starttls, auth, mail, rcpt, data, data-end */
	int code;             /* SMTP reply code, 0 when there was none */
	const char *text;     /* reply text verbatim, or the local error */
	const char *category; /* sent, transient, unknown-outcome, ... */
};

/* job_parse - parse and validate; 0 ok, -1 with "member: what is wrong" in err */
int job_parse(struct job *j, const char *buf, size_t len, char *err, size_t errlen);
/* job_free - release what job_parse allocated; safe on a zeroed job */
void job_free(struct job *j);
/* job_dump - the job as JSON text (indented, keys in file order); free() it */
char *job_dump(const struct job *j);

/* job_spool - the "spool" member, created when absent (borrowed) */
json_t *job_spool(struct job *j);
/* job_spool_str - a string member of "spool", or NULL */
const char *job_spool_str(const struct job *j, const char *key);
/* job_spool_set_str - set spool.KEY to a string (NULL removes it) */
void job_spool_set_str(struct job *j, const char *key, const char *val);
/* job_spool_time - spool.KEY parsed as RFC 3339, or 0 */
time_t job_spool_time(const struct job *j, const char *key);
/* job_spool_set_time - spool.KEY = RFC 3339 of t (0 removes it) */
void job_spool_set_time(struct job *j, const char *key, time_t t);
/* job_add_attempt - append to spool.attempts */
void job_add_attempt(struct job *j, const struct job_attempt *a);
/* job_attempts - number of recorded attempts */
size_t job_attempts(const struct job *j);
/* job_get_attempt - attempt i (0 = oldest) into a, strings borrowed from the
 * job (NULL when absent in the file); 0 ok, -1 when there is no attempt i */
int job_get_attempt(const struct job *j, size_t i, struct job_attempt *a);
/* job_get_str - a string at a dotted path ("patient.first_name"), or NULL */
const char *job_get_str(const struct job *j, const char *path);

#endif
