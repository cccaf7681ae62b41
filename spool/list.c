/*
 * list - spool list: the jobs in the spool.
 *
 * list prints one row per job of the chosen folders (by default the
 * waiting ones: new, active, deferred, hold), in folder order and then by
 * name (Maildir names sort by arrival), as an aligned table or, with
 * --json, an array of objects with stable keys.  It reads the spool
 * through spooldir_each/spooldir_read only; a job that does not parse is
 * shown as unreadable with the reason, never skipped.  (spool status, the
 * counts and the account's state, is in status.c.)
 *
 * list --failed alone answers the front desk's question, which patients
 * got no reminder and why, in one screen: the patient, the appointment in
 * the practice's zone, the address and the first sentence of the reason,
 * soonest appointment first, cut to the terminal's width, and a last line
 * saying what to do (--names adds the job names that spool retry takes).
 * On a terminal the headings are bold and folder names coloured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "term.h"

const char help_list[] =
        "usage: spool list [--new] [--active] [--deferred] [--hold] [--sent] [--failed]\n"
        "                  [--corrupt] [--all] [--json]\n"
        "       spool list --failed [--names]\n"
        "\n"
        "List jobs: by default the waiting ones (new, active, deferred, hold).\n"
        "Folder options combine (--sent --failed).  Columns: NAME, FOLDER, TO, KIND,\n"
        "APPOINTMENT (at the appointment's own offset), ATTEMPTS and NEXT/WHEN: the\n"
        "next attempt (deferred), when it was sent (sent), or why it failed (failed,\n"
        "corrupt).\n"
        "\n"
        "--failed alone: which patients got no reminder, and why.  Columns: PATIENT,\n"
        "APPOINTMENT (in the practice's time zone), EMAIL and WHY (the reason's first\n"
        "sentence, cut to the width of the terminal, else $COLUMNS, else 100), the\n"
        "soonest appointment first, then what to do.\n"
        "\n"
        "Options:\n"
        "  --new, --active, --deferred, --hold, --sent, --failed, --corrupt\n"
        "                the folders to list\n"
        "  --all         every folder\n"
        "  --names       with --failed alone: a NAME column first (for spool retry NAME)\n"
        "  --json        an array of {name, folder, to, kind, id, appointment, attempts,\n"
        "                next_attempt, reason, mtime}; times in RFC 3339\n"
        "\n"
        "Example:\n"
        "  spool list --failed\n"
        "  spool list --sent --failed --json\n";

struct entry {
	enum folder f;
	struct stat st;
	char *name;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

/* collect - spooldir_each callback: remember one job of the folder */
static int collect(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct entries *e = arg;

	(void)sd;
	if (e->n == e->cap) {
		size_t n = e->cap ? e->cap * 2 : 256;
		struct entry *v = realloc(e->v, n * sizeof *v);
		if (!v)
			return -1;
		e->v = v;
		e->cap = n;
	}
	if (!(e->v[e->n].name = strdup(name)))
		return -1;
	e->v[e->n].f = f;
	e->v[e->n].st = *st;
	e->n++;
	return 0;
}

/* entry_cmp - folder order, then name */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->f != y->f)
		return x->f < y->f ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* gather - every job of the folders in mask, sorted; EX_OK or EX_IOERR */
static int gather(struct cli *c, unsigned mask, struct entries *e)
{
	for (int f = 0; f < F_COUNT; f++) {
		if (!(mask & 1u << f))
			continue;
		if (spooldir_each(&c->sd, (enum folder)f, 0, collect, e) != 0) {
			cli_err(c, "cannot read %s/%s: %s", c->sd.path,
			        spooldir_folder_name((enum folder)f), strerror(errno));
			return EX_IOERR;
		}
	}
	if (e->n)
		qsort(e->v, e->n, sizeof *e->v, entry_cmp);
	return EX_OK;
}

/* entries_free - release the names */
static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
}

/* why - the reason a job is where it is, for failed/ and corrupt/ (and a
 * hold or a duplicate); NULL when there is none; buf holds the text */
static const char *why(struct cli *c, const struct entry *e, const struct job *j, int parsed,
        const char *err, char *buf, size_t len)
{
	const char *r = parsed ? job_spool_str(j, "reason") : NULL;
	char *text;

	if (e->f == F_CORRUPT || (e->f == F_FAILED && !r)) {
		if ((text = cli_read_reason(c, e->f, e->name))) {
			cli_reason_line(text, buf, len);
			free(text);
			return buf;
		}
	}
	if (!parsed) {
		snprintf(buf, len, e->f == F_CORRUPT ? "%s" : "(unreadable: %s)", err);
		return buf;
	}
	if (!r && e->f == F_SENT && job_spool_str(j, "duplicate_of")) {
		snprintf(buf, len, "not sent: a duplicate of %s", job_spool_str(j, "duplicate_of"));
		return buf;
	}
	if (!r)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(r, "\n"), r);
	return buf;
}

/* next_when - the NEXT/WHEN cell */
static const char *next_when(struct cli *c, const struct entry *e, const struct job *j, int parsed,
        const char *reason, char *buf, size_t len)
{
	if (!parsed)
		return reason;
	switch (e->f) {
	case F_NEW:
		if (parsed && j->not_before > c->now)
			return cli_reltime(j->not_before, c->now, buf, len);
		return "now";
	case F_ACTIVE:
		return "sending now";
	case F_DEFERRED:
		return cli_reltime(e->st.st_mtime, c->now, buf, len);
	case F_SENT:
		if (parsed && job_spool_str(j, "duplicate_of"))
			return reason;
		return cli_reltime(parsed && job_spool_time(j, "sent") ? job_spool_time(j, "sent")
		                                                       : e->st.st_mtime,
		        c->now, buf, len);
	default:
		return reason ? reason : "-";
	}
}

/* list_row - one job as a table row */
static int list_row(struct cli *c, const struct entry *e, struct table *t)
{
	char err[CLI_ERR_MAX], rbuf[CLI_ERR_MAX], appt[CLI_TIME_MAX], n[32], when[CLI_ERR_MAX];
	struct job j;
	int parsed = cli_read_job(c, e->f, e->name, &j, NULL, NULL, err, sizeof err) == 0;
	int gone = !parsed && errno == ENOENT;
	const char *reason = why(c, e, &j, parsed, err, rbuf, sizeof rbuf);
	const char *cells[7] = {e->name, spooldir_folder_name(e->f)};
	int rc;

	if (gone)
		return 0; /* moved on while we looked */
	if (parsed) {
		cells[2] = j.to_email;
		cells[3] = j.kind;
		cells[4] = j.appt_start ? cli_appt(j.appt_start, j.appt_offset, appt, sizeof appt)
		                        : NULL;
		snprintf(n, sizeof n, "%zu", job_attempts(&j));
		cells[5] = n;
	} else {
		cells[2] = NULL;
	}
	cells[6] = next_when(c, e, &j, parsed, reason, when, sizeof when);
	rc = table_add(t, cells);
	job_free(&j);
	return rc;
}

/* list_json - one job as a JSON object */
static json_t *list_json(struct cli *c, const struct entry *e)
{
	char err[CLI_ERR_MAX], rbuf[CLI_ERR_MAX];
	struct job j;
	int parsed = cli_read_job(c, e->f, e->name, &j, NULL, NULL, err, sizeof err) == 0;
	int gone = !parsed && errno == ENOENT;
	const char *reason = why(c, e, &j, parsed, err, rbuf, sizeof rbuf);
	json_t *o;

	if (gone)
		return NULL; /* moved on while we looked */
	o = json_object();
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "folder", json_string(spooldir_folder_name(e->f)));
	json_object_set_new(o, "to", cli_json_str(parsed ? j.to_email : NULL));
	json_object_set_new(o, "kind", cli_json_str(parsed ? j.kind : NULL));
	json_object_set_new(o, "id", cli_json_str(parsed ? j.id : NULL));
	json_object_set_new(o, "appointment",
	        cli_json_str(parsed ? job_get_str(&j, "appointment.start") : NULL));
	json_object_set_new(
	        o, "attempts", parsed ? json_integer((json_int_t)job_attempts(&j)) : json_null());
	json_object_set_new(
	        o, "next_attempt", cli_json_time(e->f == F_DEFERRED ? e->st.st_mtime : 0));
	json_object_set_new(o, "reason", cli_json_str(reason));
	json_object_set_new(o, "mtime", cli_json_time(e->st.st_mtime));
	job_free(&j);
	return o;
}

/* One row of list --failed: the cells and the appointment to sort by. */
struct frow {
	time_t appt;   /* 0: none (a recall), sorted last */
	char *cell[5]; /* NAME, PATIENT, APPOINTMENT, EMAIL, WHY */
};

/* frow_cmp - soonest appointment first, then name */
static int frow_cmp(const void *a, const void *b)
{
	const struct frow *x = a, *y = b;

	if (x->appt != y->appt)
		return !x->appt ? 1 : !y->appt ? -1 : x->appt < y->appt ? -1 : 1;
	return strcmp(x->cell[0], y->cell[0]);
}

/* failed_row - one failed job's cells; 0, 1 when it moved on, -1 out of memory */
static int failed_row(struct cli *c, const struct entry *e, struct frow *r)
{
	char err[CLI_ERR_MAX], rbuf[CLI_ERR_MAX], who[256], appt[CLI_TIME_MAX], first[CLI_ERR_MAX];
	struct job j;
	int parsed = cli_read_job(c, e->f, e->name, &j, NULL, NULL, err, sizeof err) == 0;
	const char *reason, *v[5] = {e->name, "?", "-", "-", NULL};

	if (!parsed && errno == ENOENT)
		return 1;
	reason = why(c, e, &j, parsed, err, rbuf, sizeof rbuf);
	memset(r, 0, sizeof *r);
	if (parsed) {
		v[1] = term_patient(&j, 0, who, sizeof who);
		if (j.appt_start)
			v[2] = term_appt(j.appt_start, c->conf.timezone, appt, sizeof appt);
		else
			v[2] = j.kind; /* a recall: no appointment yet */
		v[3] = j.to_email;
		r->appt = j.appt_start;
	}
	v[4] = reason ? term_sentence(reason, first, sizeof first) : "(no reason recorded)";
	for (int i = 0; i < 5; i++)
		if (!(r->cell[i] = strdup(v[i] ? v[i] : "-")))
			return -1;
	job_free(&j);
	return 0;
}

/* print_table - the table on stdout; on a terminal the headings bold and,
 * when folder_col is 1, the second column's words (folder names) coloured */
static void print_table(const struct table *t, int width, int folder_col)
{
	char *buf = NULL, *line, *next;
	size_t len = 0;
	FILE *fp;

	if (!term_color() || !(fp = open_memstream(&buf, &len))) {
		table_print(t, stdout, width);
		return;
	}
	table_print(t, fp, width);
	fclose(fp);
	for (line = buf; line && *line; line = next) {
		size_t n = strcspn(line, "\n"), a, b;
		next = line[n] ? line + n + 1 : NULL;
		line[n] = '\0';
		if (line == buf) {
			printf("%s\n", term_paint(TERM_BOLD, line));
			continue;
		}
		a = strcspn(line, " ");
		a += strspn(line + a, " ");
		b = a + strcspn(line + a, " ");
		if (folder_col != 1 || !line[a]) {
			printf("%s\n", line);
			continue;
		}
		char word[32];
		snprintf(word, sizeof word, "%.*s", (int)(b - a), line + a);
		printf("%.*s%s%s\n", (int)a, line, term_paint(term_folder_hue(word), word),
		        line + b);
	}
	free(buf);
}

/* list_failed - which patients got no reminder, and why */
static int list_failed(struct cli *c, const struct entries *e, int names)
{
	static const char *const head[] = {"NAME", "PATIENT", "APPOINTMENT", "EMAIL", "WHY"};
	struct frow *r = calloc(e->n + 1, sizeof *r);
	struct table t;
	size_t n = 0;
	int rc = EX_OK, got;

	if (!r)
		return EX_OSERR;
	for (size_t i = 0; i < e->n && rc == EX_OK; i++)
		if ((got = failed_row(c, &e->v[i], &r[n])) < 0)
			rc = EX_OSERR;
		else if (got == 0)
			n++;
	if (rc == EX_OK && n == 0)
		printf("No failed jobs: every patient's reminder was sent or is still waiting.\n");
	if (rc == EX_OK && n > 0) {
		qsort(r, n, sizeof *r, frow_cmp);
		table_init(&t, names ? 5 : 4, head + !names);
		for (size_t i = 0; i < n && rc == EX_OK; i++)
			if (table_add(&t, (const char *const *)r[i].cell + !names) < 0)
				rc = EX_OSERR;
		print_table(&t, term_width(100), 0);
		table_free(&t);
		printf("\nPhone these patients, or fix the cause and run: spool retry NAME%s\n",
		        names ? "" : "  (--names shows each NAME)");
	}
	for (size_t i = 0; i <= n && i < e->n; i++)
		for (int k = 0; k < 5; k++)
			free(r[i].cell[k]);
	free(r);
	return rc;
}

/* cmd_list - spool list */
int cmd_list(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"new", 0, 0, F_NEW}, {"active", 0, 0, F_ACTIVE},
	        {"deferred", 0, 0, F_DEFERRED}, {"hold", 0, 0, F_HOLD}, {"sent", 0, 0, F_SENT},
	        {"failed", 0, 0, F_FAILED}, {"corrupt", 0, 0, F_CORRUPT}, {"all", 0, 0, 'a'},
	        {"json", 0, 0, 'j'}, {"names", 0, 0, 'n'}, {0, 0, 0, 0}};
	static const char *const head[] = {
	        "NAME", "FOLDER", "TO", "KIND", "APPOINTMENT", "ATTEMPTS", "NEXT/WHEN"};
	struct entries e = {0};
	struct table t;
	unsigned mask = 0;
	int ch, json = 0, names = 0, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == 'a')
			mask |= ((1u << F_COUNT) - 1) & ~(1u << F_TMP);
		else if (ch == 'j')
			json = 1;
		else if (ch == 'n')
			names = 1;
		else if (ch >= 0 && ch < F_COUNT)
			mask |= 1u << ch;
		else
			return cli_badopt(c, ch, argv);
	}
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (names && (mask != 1u << F_FAILED || json))
		return cli_usage(c, "--names goes with --failed alone");
	if (!mask)
		mask = 1u << F_NEW | 1u << F_ACTIVE | 1u << F_DEFERRED | 1u << F_HOLD;
	if ((rc = cli_open(c)) != EX_OK || (rc = gather(c, mask, &e)) != EX_OK) {
		entries_free(&e);
		return rc;
	}
	if (mask == 1u << F_FAILED && !json) {
		rc = list_failed(c, &e, names);
	} else if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < e.n; i++) {
			json_t *o = list_json(c, &e.v[i]);
			if (o)
				json_array_append_new(a, o);
		}
		rc = cli_json_print(a);
	} else {
		table_init(&t, 7, head);
		for (size_t i = 0; i < e.n && rc == EX_OK; i++)
			if (list_row(c, &e.v[i], &t) < 0)
				rc = EX_OSERR;
		if (t.nrows)
			print_table(&t, cli_term_width(), 1);
		table_free(&t);
	}
	entries_free(&e);
	return rc;
}
