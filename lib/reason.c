/*
 * reason - reason files for staff; see reason.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reason.h"

/* reason_failed - the failed/ reason text */
char *reason_failed(const struct job *j, const char *name, const char *what, const char *action,
        const char *reply)
{
	char when[96] = "", *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (!fp)
		return NULL;
	if (j && j->appt_start) {
		time_t t = j->appt_start + (time_t)j->appt_offset * 60;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%A, %B %d, %Y at %H:%M", &tm);
	}
	fprintf(fp, "This %s was NOT sent.\n\n", j && j->kind ? j->kind : "message");
	if (j) {
		const char *first = job_get_str(j, "patient.first_name");
		const char *last = job_get_str(j, "patient.last_name");
		fprintf(fp, "Patient:      %s%s%s\n",
		        first ? first : (j->to_name ? j->to_name : ""), last && first ? " " : "",
		        last && first ? last : "");
		fprintf(fp, "E-mail:       %s\n", j->to_email);
		if (*when)
			fprintf(fp, "Appointment:  %s\n", when);
	}
	fprintf(fp, "Job:          %s\n\n", name);
	fprintf(fp, "What happened:\n  %s\n\n", what);
	fprintf(fp, "What to do:\n  %s\n", action);
	if (reply && *reply) {
		fprintf(fp, "\nThe mail server's words (for your IT contact):\n  ");
		for (const char *p = reply; *p; p++)
			fputs(*p == '\n' ? "\n  " : (char[]){*p, 0}, fp);
		fputc('\n', fp);
	}
	fclose(fp);
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
	fprintf(fp, "This file is not a valid job, so nothing was sent.\n\n");
	fprintf(fp, "File:         %s\n", name);
	if (original && strcmp(original, name))
		fprintf(fp, "Arrived as:   %s\n", original);
	fprintf(fp, "\nWhat is wrong:\n  %s\n\n", why);
	fprintf(fp, "What to do:\n  The program that writes reminders (your scheduler) produced "
	            "this file.\n"
	            "  Tell whoever maintains it what is wrong (above); once fixed, it can submit\n"
	            "  the reminder again.  If the patient must be reached now, phone them.\n");
	fclose(fp);
	return out;
}
