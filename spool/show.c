/*
 * show - spool show NAME: everything about one job.
 *
 * Prints where the job is, its members (recipient, kind, id, appointment,
 * not_before, expiry), the spool history (each attempt: time, relay,
 * stage, reply code and text, category), the Message-ID, the next attempt
 * and the reason, then the reason file beside it.  --json prints the job
 * object itself with "folder" added; --message prints the message exactly
 * as it was sent (sent/NAME.eml.gz), and nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "expiry.h"
#include "timefmt.h"

const char help_show[] =
        "usage: spool show [--json | --message] NAME\n"
        "\n"
        "Everything about one job: its folder, recipient, kind, id, appointment,\n"
        "not_before, expiry, each delivery attempt (time, relay, stage, reply,\n"
        "category), Message-ID, next attempt, and why it failed.  NAME is a job name\n"
        "as spool list prints it, never a path.\n"
        "\n"
        "Options:\n"
        "  --json      the job object as stored, plus \"folder\"\n"
        "  --message   the message exactly as it was sent (jobs in sent/ only)\n"
        "\n"
        "Example:\n"
        "  spool show 1764578400.M123456P45Q1.host\n";

#define LABEL "%-16s "

/* put_time - one "Label: absolute (relative)" line; nothing for 0 */
static void put_time(struct cli *c, const char *label, time_t t, int offset, const char *note)
{
	char abs[CLI_TIME_MAX], rel[CLI_TIME_MAX];

	if (!t)
		return;
	printf(LABEL "%s (%s)%s%s\n", label, cli_when(t, offset, abs, sizeof abs),
	        cli_reltime(t, c->now, rel, sizeof rel), note ? " " : "", note ? note : "");
}

/* put_str - one "Label: text" line, made safe; nothing for NULL */
static void put_str(const char *label, const char *s)
{
	char safe[2048];

	if (s)
		printf(LABEL "%s\n", label, cli_safe(s, 0, 0, safe, sizeof safe));
}

/* put_block - text indented under a heading, made safe */
static void put_block(const char *indent, const char *text)
{
	static char safe[JOB_MAX_SIZE + 8];
	const char *p = cli_safe(text, 1, 0, safe, sizeof safe);

	while (*p) {
		size_t n = strcspn(p, "\n");
		printf("%s%.*s\n", n ? indent : "", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* show_history - every attempt, oldest first */
static void show_history(const struct job *j)
{
	size_t n = job_attempts(j);
	struct job_attempt a;
	char when[CLI_TIME_MAX], safe[256];

	printf(LABEL "%zu\n", "Attempts:", n);
	for (size_t i = 0; i < n && job_get_attempt(j, i, &a) == 0; i++) {
		printf("  %zu. %s", i + 1,
		        a.when ? cli_when(a.when, INT_MIN, when, sizeof when) : "(no time)");
		printf("  relay %s", cli_safe(a.relay ? a.relay : "-", 0, 80, safe, sizeof safe));
		printf("  stage %s", cli_safe(a.stage ? a.stage : "-", 0, 40, safe, sizeof safe));
		if (a.code)
			printf("  code %d", a.code);
		printf("  %s\n", cli_safe(a.category ? a.category : "-", 0, 40, safe, sizeof safe));
		if (a.text && *a.text)
			put_block("       ", a.text);
	}
}

/* show_expiry - the expiry and where it comes from */
static void show_expiry(struct cli *c, const struct job *j)
{
	time_t seen = job_spool_time(j, "first_seen"), sp = job_spool_time(j, "expires");

	if (j->expires)
		put_time(c, "Expires:", j->expires, INT_MIN, NULL);
	else if (sp)
		put_time(c, "Expires:", sp, INT_MIN, "(computed by spoold)");
	else
		put_time(c, "Expires:", job_expiry(j, seen ? seen : c->now, c->conf.recall_days),
		        INT_MIN,
		        j->appt_start ? "(the appointment's start)"
		                      : "(computed: recall_days after first seen)");
}

/* show_text - the job for people */
static void show_text(
        struct cli *c, const char *name, enum folder f, const struct job *j, const struct stat *st)
{
	char safe[512];

	printf(LABEL "%s\n", "Job:", name);
	printf(LABEL "%s/\n", "Folder:", spooldir_folder_name(f));
	if (j->to_name)
		printf(LABEL "%s <%s>\n", "To:", cli_safe(j->to_name, 0, 0, safe, sizeof safe),
		        j->to_email);
	else
		put_str("To:", j->to_email);
	if (job_get_str(j, "patient.first_name") || job_get_str(j, "patient.last_name")) {
		char first[256], last[256];
		printf(LABEL "%s%s%s\n", "Patient:",
		        cli_safe(job_get_str(j, "patient.first_name"), 0, 0, first, sizeof first),
		        job_get_str(j, "patient.first_name") ? " " : "",
		        cli_safe(job_get_str(j, "patient.last_name"), 0, 0, last, sizeof last));
	}
	put_str("Kind:", j->kind);
	put_str("Id:", j->id);
	put_str("Locale:", j->locale);
	put_time(c, "Appointment:", j->appt_start, j->appt_offset, NULL);
	put_str("Provider:", job_get_str(j, "appointment.provider"));
	put_str("Location:", job_get_str(j, "appointment.location"));
	put_str("Practice:", job_get_str(j, "practice.name"));
	put_time(c, "Not before:", j->not_before, INT_MIN, NULL);
	show_expiry(c, j);
	put_time(c, "First seen:", job_spool_time(j, "first_seen"), INT_MIN, NULL);
	put_str("Message-ID:", job_spool_str(j, "message_id"));
	if (f == F_DEFERRED)
		put_time(c, "Next attempt:", st->st_mtime, INT_MIN, NULL);
	else if (f == F_NEW)
		put_str("Next attempt:", j->not_before > c->now ? "at not_before" : "now");
	else if (f == F_ACTIVE)
		put_str("Next attempt:", "being sent right now");
	put_time(c, "Sent:", job_spool_time(j, "sent"), INT_MIN, NULL);
	put_str("Duplicate of:", job_spool_str(j, "duplicate_of"));
	put_str("Category:", job_spool_str(j, "category"));
	put_str("Reason:", job_spool_str(j, "reason"));
	put_str("Previous reason:", job_spool_str(j, "previous_reason"));
	put_time(c, "Retried:", job_spool_time(j, "retried"), INT_MIN, NULL);
	show_history(j);
}

/* show_message - sent/NAME.eml.gz (or failed/'s), decompressed, exactly */
static int show_message(struct cli *c, const char *name, enum folder f)
{
	char side[SPOOLDIR_NAME_MAX + 32], err[CLI_ERR_MAX], *buf;
	size_t len;

	/* failed/ keeps it for a job that bounced after it was sent. */
	if (f != F_SENT && f != F_FAILED) {
		cli_err(c,
		        "%s: no message kept: the job is in %s/ (only sent jobs keep the "
		        "message as sent)",
		        name, spooldir_folder_name(f));
		return EX_NOINPUT;
	}
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	if (spooldir_read_gz(&c->sd, f, side, &buf, &len, err, sizeof err) < 0) {
		int e = errno;
		if (e == ENOENT)
			cli_err(c, "%s: no message kept in %s/ (%s)", name, spooldir_folder_name(f),
			        f == F_SENT ? "a duplicate is never sent; otherwise spoold was "
			                      "stopped, or the disk refused the copy, just after "
			                      "the server took it"
			                    : "it was never sent");
		else
			cli_err(c, "%s/%s: %s", spooldir_folder_name(f), side, err);
		return e == ENOENT ? EX_NOINPUT : EX_DATAERR;
	}
	fwrite(buf, 1, len, stdout);
	free(buf);
	return EX_OK;
}

/* cmd_show - spool show */
int cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
	        {"json", 0, 0, 'j'}, {"message", 0, 0, 'm'}, {0, 0, 0, 0}};
	char err[CLI_ERR_MAX], *reason;
	int ch, json = 0, message = 0, rc, parsed;
	const char *name;
	struct stat st;
	struct job j;
	enum folder f;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'm')
			message = 1;
		else
			return cli_badopt(c, ch, argv);
	}
	if (optind + 1 != argc)
		return cli_usage(
		        c, optind == argc ? "which job? give its NAME" : "one NAME at a time");
	if (json && message)
		return cli_usage(c, "--json and --message do not go together");
	name = argv[optind];
	if (!spooldir_name_valid(name))
		return cli_find(c, name, &f);
	if ((rc = cli_open(c)) != EX_OK || (rc = cli_find(c, name, &f)) != EX_OK)
		return rc;
	if (message)
		return show_message(c, name, f);
	parsed = cli_read_job(c, f, name, &j, NULL, &st, err, sizeof err) == 0;
	if (!parsed && errno == ENOENT) {
		cli_err(c, "%s: it moved on while we looked; try again", name);
		return EX_TEMPFAIL;
	}
	reason = cli_read_reason(c, f, name);
	if (json) {
		json_t *o = parsed ? json_incref(j.root) : json_object();
		if (!parsed) {
			json_object_set_new(o, "name", json_string(name));
			json_object_set_new(o, "unreadable", json_string(err));
			json_object_set_new(o, "reason_file", cli_json_str(reason));
		}
		json_object_set_new(o, "folder", json_string(spooldir_folder_name(f)));
		rc = cli_json_print(o);
	} else {
		if (parsed) {
			show_text(c, name, f, &j, &st);
		} else {
			printf(LABEL "%s\n", "Job:", name);
			printf(LABEL "%s/\n", "Folder:", spooldir_folder_name(f));
			char safe[CLI_ERR_MAX * 3];
			printf("  (unreadable: %s)\n", cli_safe(err, 0, 0, safe, sizeof safe));
		}
		if (reason) {
			printf("\nReason file (%s/%s%s):\n", spooldir_folder_name(f), name,
			        SPOOLDIR_REASON_SUFFIX);
			put_block("  ", reason);
		}
	}
	if (!parsed && f != F_CORRUPT && rc == EX_OK)
		rc = EX_DATAERR;
	free(reason);
	job_free(&j);
	return rc;
}
