/*
 * reason - reason files for staff; see reason.h.
 *
 * Owns the wording and the order of the sections, and the cleaning of
 * every string that comes from a job or a server (put_clean): the file is
 * read in Notepad or on a terminal with cat, so nothing may move the
 * cursor, change colours or reorder the text.  The caller's sentences
 * (what happened, what to do) are kept on one line each, as written, so
 * that tools (spool list) can take the first line of a section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "datefmt.h"
#include "reason.h"
#include "utf8.h"

static const char *const wday_name[] = {
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const mon_name[] = {"January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December"};

static char *reason_zone; /* the practice's zone, or NULL: local time */

/* reason_set_zone - remember the practice's zone */
int reason_set_zone(const char *zone)
{
	char *z = NULL;

	if (zone && !(z = strdup(zone)))
		return -1;
	free(reason_zone);
	reason_zone = z;
	return 0;
}

/* utf8_len - length of the valid UTF-8 sequence at p (NUL-terminated), 0
 * when invalid */
static size_t utf8_len(const unsigned char *p)
{
	return utf8_char(p, 4);
}

/* invisible - a C1 control, or a line separator or bidirectional control
 * that would reorder the text around it (U+200E-200F, U+2028-202E,
 * U+2066-2069) */
static int invisible(const unsigned char *p, size_t k)
{
	if (k == 2)
		return p[0] == 0xc2 && p[1] < 0xa0;
	if (k != 3 || p[0] != 0xe2)
		return 0;
	return (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xa8 && p[2] <= 0xae))) ||
	       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

/* put_clean - s without control characters: a line break becomes nl (a
 * space when nl is NULL), CR before LF is dropped, a tab is a space, any
 * other control or invalid UTF-8 is '?'; trailing white space is dropped */
static void put_clean(FILE *fp, const char *s, const char *nl)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p);

	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	while (p < end) {
		size_t k = utf8_len(p);
		if (*p == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		if (*p == '\n' || *p == '\r' || *p == '\t')
			fputs(*p == '\n' && nl ? nl : " ", fp);
		else if (k == 0 || *p < 0x20 || *p == 0x7f || invisible(p, k))
			fputc('?', fp);
		else
			fwrite(p, 1, k, fp);
		p += k ? k : 1;
	}
}

/* put_field - "Label:       value" for a value that is there */
static void put_field(FILE *fp, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	fprintf(fp, "%-13s ", label);
	put_clean(fp, value, NULL);
	fputc('\n', fp);
}

/* contains - s holds word, ignoring case */
static int contains(const char *s, const char *word)
{
	return s && strcasestr(s, word) != NULL;
}

/* put_patient - the patient's first and last name, else the addressee's */
static void put_patient(FILE *fp, const struct job *j)
{
	const char *first = job_get_str(j, "patient.first_name");
	const char *last = job_get_str(j, "patient.last_name");

	if ((first && *first) || (last && *last)) {
		put_clean(fp, first, NULL);
		fputs(first && *first && last && *last ? " " : "", fp);
		put_clean(fp, last, NULL);
	} else if (j->to_name && *j->to_name) {
		put_clean(fp, j->to_name, NULL);
	} else {
		fputs("the patient", fp);
	}
}

/* put_when - the appointment in the practice's zone ("Tuesday, December 1,
 * 2026 at 9:30 AM CST"); at the job's own offset when the zone is unknown */
static void put_when(FILE *fp, const struct job *j)
{
	struct datefmt_tm tm;
	struct tm g;
	time_t t;

	if (datefmt_local(j->appt_start, reason_zone, &tm) < 0) {
		t = j->appt_start + (time_t)j->appt_offset * 60;
		if (!gmtime_r(&t, &g))
			return;
		tm = (struct datefmt_tm){.year = g.tm_year + 1900,
		        .mon = g.tm_mon + 1,
		        .mday = g.tm_mday,
		        .hour = g.tm_hour,
		        .min = g.tm_min,
		        .wday = g.tm_wday};
		snprintf(tm.abbr, sizeof tm.abbr, "UTC%c%02d:%02d", j->appt_offset < 0 ? '-' : '+',
		        abs(j->appt_offset) / 60, abs(j->appt_offset) % 60);
	}
	fprintf(fp, "%-13s %s, %s %d, %d at %d:%02d %s ", "Appointment:", wday_name[tm.wday % 7],
	        mon_name[(tm.mon + 11) % 12], tm.mday, tm.year, (tm.hour + 11) % 12 + 1, tm.min,
	        tm.hour < 12 ? "AM" : "PM");
	put_clean(fp, tm.abbr, NULL);
	fputc('\n', fp);
}

/* put_steps - what to do: the caller's action, then the usual steps it
 * does not already name */
static void put_steps(FILE *fp, const struct job *j, const char *name, const char *action)
{
	const char *cat = j ? job_spool_str(j, "category") : NULL;
	struct job_attempt a = {0};
	int wrong_address;

	if (j && job_attempts(j))
		job_get_attempt(j, job_attempts(j) - 1, &a);
	wrong_address = a.category && !strcmp(a.category, "recipient-invalid");
	fputs("What to do:\n  ", fp);
	put_clean(fp, action && *action ? action : "Phone the patient.", NULL);
	fputc('\n', fp);
	if (!contains(action, "phone the patient"))
		fputs("  - If the appointment is soon, phone the patient.\n", fp);
	if (wrong_address && !contains(action, "address"))
		fputs("  - If the e-mail address is wrong, correct it in your scheduling "
		      "software.\n",
		        fp);
	if (contains(action, "spool re") || (cat && !strcmp(cat, "expired")))
		return;
	fprintf(fp,
	        "  - Once the cause is fixed (for example, the practice's e-mail account "
	        "re-verified\n    with the provider), send it again with:  spool retry %s\n",
	        name);
	if (wrong_address)
		fputs("    (it goes to the same address: a corrected address needs a new "
		      "reminder from\n    the scheduler)\n",
		        fp);
}

/* reason_failed - the failed/ (and hold/) reason text */
char *reason_failed(const struct job *j, const char *name, const char *what, const char *action,
        const char *reply)
{
	const char *kind = j && j->kind ? j->kind : "e-mail";
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (!fp)
		return NULL;
	/* 1. The headline and what happened, in plain words. */
	fprintf(fp, "The %s for ", kind);
	if (j)
		put_patient(fp, j);
	else
		fputs("the patient", fp);
	fputs(contains(action, "spool release") ? " is on hold.\n\n" : " was NOT sent.\n\n", fp);
	fputs("What happened:\n  ", fp);
	put_clean(fp, what && *what ? what : "The mail server refused it.", NULL);
	fputs("\n\n", fp);
	/* 2. Who and which appointment. */
	if (j) {
		fprintf(fp, "%-13s ", "Patient:");
		put_patient(fp, j);
		fputc('\n', fp);
		put_field(fp, "Phone:", job_get_str(j, "patient.phone"));
		put_field(fp, "E-mail:", j->to_email);
		if (j->appt_start)
			put_when(fp, j);
		put_field(fp, "Provider:", job_get_str(j, "appointment.provider"));
		put_field(fp, "Location:", job_get_str(j, "appointment.location"));
	}
	put_field(fp, "Job:", name);
	fputc('\n', fp);
	/* 3. What to do. */
	put_steps(fp, j, name, action);
	/* 4. The server's own words, last. */
	if (reply && *reply) {
		fputs("\nFor your IT contact - the mail server's own words:\n  ", fp);
		put_clean(fp, reply, "\n  ");
		fputc('\n', fp);
	}
	if (fclose(fp) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* reason_corrupt - the corrupt/ reason text */
char *reason_corrupt(const char *name, const char *original, const char *why)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (!fp)
		return NULL;
	fputs("This file is not a valid job, so nothing was sent.\n\n", fp);
	put_field(fp, "File:", name);
	if (original && name && strcmp(original, name))
		put_field(fp, "Arrived as:", original);
	fputs("\nWhat is wrong:\n  ", fp);
	put_clean(fp, why, NULL);
	fputs("\n\nWhat to do:\n  The program that writes reminders (your scheduler) produced "
	      "this file.\n"
	      "  Tell whoever maintains it what is wrong (above); once fixed, it can submit\n"
	      "  the reminder again.  If the patient must be reached now, phone them.\n",
	        fp);
	if (fclose(fp) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
