/*
 * status_int - what status.c gathers from the spool and hands to the
 * writers of the three views (status.c: JSON and Prometheus; status_html.c:
 * the page).  Internal to lib/status*.c.
 *
 * A struct status_view holds nothing a view may not show: the patient
 * fields of a problem are filled according to conf.status_detail when it
 * is gathered (full: name and e-mail; initials: "J. D."; none: empty), and
 * the reason and action are, below full, the plain sentences with the
 * patient's name and address cut out.  The writers print what they find.
 */
#ifndef SPOOLD_STATUS_INT_H
#define SPOOLD_STATUS_INT_H

#include <stdio.h>
#include <time.h>

#include "status.h"

#define STATUS_PROBLEMS_MAX 50 /* failed, corrupt and held jobs listed, the most recent */

/* One failed, corrupt or held job, as the views may show it. */
struct status_problem {
	char name[SPOOLDIR_NAME_MAX + 1];
	enum folder f;
	time_t mtime;      /* when it arrived in the folder */
	char category[32]; /* recipient-invalid, expired, unknown-outcome, held, corrupt, ... */
	char reason[600];  /* one plain sentence */
	char action[600];  /* what to do, or "" */
	char patient[256]; /* full: the name; initials: "J. D."; none: "" */
	char email[256];   /* full only */
	time_t appt;       /* the appointment (0: none, or status_detail none) */
};

struct status_view {
	const struct conf *c;
	struct status_counters sc; /* shifted to now */
	const struct account *acct;
	int nacct;
	int per_day;  /* 0: no daily limit */
	int used_24h; /* < 0: not known */
	time_t now;
	size_t count[F_COUNT];
	time_t oldest; /* the oldest waiting job's first sight; 0: none waiting */
	int indexed;   /* new/ and deferred/ are in spoold's index: only counted */
	time_t queued; /* then the oldest of them from the index (0: none) */
	struct status_problem *prob;
	size_t nprob; /* listed */
	size_t nall;  /* failed + corrupt + held in all */
};

/* status_gather - fill v's counts, oldest waiting job and problems from the
 * spool (v->c and v->now set); 0, or -1 with errno when a folder could not
 * be read (what could be read is kept) */
int status_gather(struct status_view *v, struct spooldir *sd);
/* status_view_free - what status_gather allocated */
void status_view_free(struct status_view *v);
/* status_html - the page for v on fp */
void status_html(const struct status_view *v, FILE *fp);
/* status_when - t as "today at 2:05 PM", "yesterday at ...", "Tue Dec 1 at
 * ..." in the practice's zone, seen at now; with_zone adds " CST" */
char *status_when(const struct conf *c, time_t t, time_t now, int with_zone, char *buf, size_t len);
/* status_category_words - a category in words for the front desk */
const char *status_category_words(const char *category);
/* status_sent_24h - the sends of the last 24 hourly buckets */
unsigned status_sent_24h(const struct status_counters *sc);

#endif
