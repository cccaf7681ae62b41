/*
 * status_scan - what the status views show, gathered from the spool: the
 * jobs per folder, the oldest waiting job, and the failed, corrupt and held
 * jobs (the STATUS_PROBLEMS_MAX most recent) with their reasons, cut to
 * what conf.status_detail allows.
 *
 * Reason files (NAME.reason.txt) name the patient and the address, so
 * below full they are never shown as they are: a problem's reason is the
 * job's spool.reason (a plain sentence), its action the "What to do"
 * paragraph, and from both the patient's names and address, and anything
 * that looks like an e-mail address, are cut out all the same.  A corrupt
 * file's "What is wrong" line can quote the bad address: below full only
 * the member it names is kept.
 *
 * The oldest waiting job: new/ by its mtime (when it arrived), deferred/
 * and hold/ by spool.first_seen, found in the file's text without parsing
 * it (this runs once a second while things change).  tmp/, active/ and
 * sent/ are only counted, from readdir without a stat of each job (sent/
 * holds sent_days of jobs); so are new/ and deferred/ when spoold gives the
 * oldest of them from its index (v->queued).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job.h"
#include "status_int.h"
#include "timefmt.h"

#define REASON_FILE_MAX 65536

/* One job of failed/, corrupt/ or hold/, before it is read. */
struct pick {
	char *name;
	enum folder f;
	time_t mtime;
};

struct gather {
	struct status_view *v;
	struct pick *p;
	size_t n, cap;
};

/* status_category_words - a category as the front desk reads it */
const char *status_category_words(const char *category)
{
	static const char *const w[][2] = {{"recipient-invalid", "Wrong e-mail address"},
	        {"message-rejected", "Refused by the provider"}, {"expired", "Too late to send"},
	        {"unknown-outcome", "May have been sent"}, {"held", "Kept back by staff"},
	        {"corrupt", "Not a valid reminder file"}, {"message", "Could not be written"},
	        {"transient", "Temporary problem"}, {"account-blocked", "Account stopped"},
	        {"auth-failed", "Password refused"}, {"sender-rejected", "Sender address refused"},
	        {"tls-failed", "Secure connection failed"}, {"rate-limited", "Sending limit"},
	        {"unreadable", "Could not be read"}};

	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (!strcmp(category, w[i][0]))
			return w[i][1];
	return "Not sent";
}

/* first_seen - spool.first_seen from the job's text, or 0 */
static time_t first_seen(struct spooldir *sd, enum folder f, const char *name)
{
	char err[256], val[TIMEFMT_MAX], *buf, *p;
	size_t len, n;
	time_t t = 0;

	if (spooldir_read(sd, f, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) < 0)
		return 0;
	if ((p = strstr(buf, "\"first_seen\""))) {
		p += strlen("\"first_seen\"");
		p += strspn(p, " \t\n");
		if (*p++ == ':') {
			p += strspn(p, " \t\n");
			n = *p == '"' ? strcspn(++p, "\"") : 0;
			if (n > 0 && n < sizeof val) {
				memcpy(val, p, n);
				val[n] = '\0';
				if (rfc3339_parse(val, &t, NULL) < 0)
					t = 0;
			}
		}
	}
	free(buf);
	return t;
}

/* gather_one - spooldir_each callback: count, the oldest, the problems */
static int gather_one(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct gather *g = arg;
	struct status_view *v = g->v;
	time_t t;

	v->count[f]++;
	if (f == F_NEW || f == F_DEFERRED || f == F_HOLD) {
		t = f == F_NEW ? 0 : first_seen(sd, f, name);
		t = t ? t : st->st_mtime;
		t = t < v->now ? t : v->now;
		if (!v->oldest || t < v->oldest)
			v->oldest = t;
	}
	if (f != F_FAILED && f != F_CORRUPT && f != F_HOLD)
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct pick *p = realloc(g->p, cap * sizeof *p);
		if (!p)
			return 0; /* listed as far as memory goes; still counted */
		g->p = p;
		g->cap = cap;
	}
	if ((g->p[g->n].name = strdup(name))) {
		g->p[g->n].f = f;
		g->p[g->n++].mtime = st->st_mtime;
	}
	return 0;
}

/* pick_cmp - the most recent first, then by name */
static int pick_cmp(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* paragraph - the paragraph under head ("What to do:") of a reason file
 * into buf: its lines joined by spaces, except that an item ("- ...")
 * starts a new line; 0 when there is none */
static int paragraph(const char *text, const char *head, char *buf, size_t len)
{
	const char *p = text ? strstr(text, head) : NULL;
	size_t o = 0, n;

	*buf = '\0';
	if (!p || (p != text && p[-1] != '\n'))
		return 0;
	p += strlen(head);
	while (*p == '\n')
		p++;
	while ((*p == ' ' || *p == '\t') && o + 2 < len) { /* one indented line */
		p += strspn(p, " \t");
		n = strcspn(p, "\n");
		if (o && p[0] == '-' && p[1] == ' ') {
			buf[o++] = '\n';
			p += 2, n -= 2;
		} else if (o)
			buf[o++] = ' ';
		if (o + n >= len)
			n = len - o - 1;
		memcpy(buf + o, p, n);
		o += n;
		buf[o] = '\0';
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
	}
	return o > 0;
}

/* is_word - a byte that belongs to a word (ASCII letters and digits, UTF-8) */
static int is_word(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch >= 0x80;
}

/* redact_word - every whole-word, case-insensitive w in s as "(patient)",
 * except within the job's name keep (commands name the job) */
static void redact_word(char *s, size_t cap, const char *w, const char *keep)
{
	char out[1024];
	size_t wl = w ? strlen(w) : 0, kl = strlen(keep), o = 0;

	if (wl < 2 || cap > sizeof out)
		return;
	for (size_t i = 0; s[i] && o + 1 < cap;) {
		if (kl && !strncmp(s + i, keep, kl) && o + kl < cap) {
			memcpy(out + o, s + i, kl);
			o += kl;
			i += kl;
		} else if (!strncasecmp(s + i, w, wl) &&
		           (i == 0 || !is_word((unsigned char)s[i - 1])) &&
		           !is_word((unsigned char)s[i + wl])) {
			o += (size_t)snprintf(out + o, cap - o, "(patient)");
			o = o < cap ? o : cap - 1;
			i += wl;
		} else
			out[o++] = s[i++];
	}
	out[o] = '\0';
	memcpy(s, out, o + 1);
}

/* redact_addresses - every word holding an '@' in s as "(address)" */
static void redact_addresses(char *s, size_t cap)
{
	static const char stop[] = " \t\n<>()[]\"',;";
	char *at;

	while ((at = strchr(s, '@'))) {
		char *a = at, *b = at + 1;
		while (a > s && !strchr(stop, a[-1]))
			a--;
		b += strcspn(b, stop);
		size_t rest = strlen(b), rl = strlen("(address)");
		if ((size_t)(a - s) + rl + 1 > cap) {
			*a = '\0';
			break;
		}
		if ((size_t)(a - s) + rl + rest + 1 > cap)
			rest = cap - (size_t)(a - s) - rl - 1;
		memmove(a + rl, b, rest);
		a[rl + rest] = '\0';
		memcpy(a, "(address)", rl);
	}
}

/* initial - the first letter of s as "J." into out (UTF-8 aware); 0 when none */
static size_t initial(const char *s, char *out)
{
	size_t n = 0;

	while (s && *s && !is_word((unsigned char)*s))
		s++;
	if (!s || !*s)
		return 0;
	if ((unsigned char)*s < 0x80)
		out[n++] = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
	else
		do
			out[n++] = *s++;
		while (n < 4 && ((unsigned char)*s & 0xC0) == 0x80);
	out[n++] = '.';
	out[n] = '\0';
	return n;
}

/* initials - "J. D." from the first and last names, else from the first
 * and last words of the display name */
static void initials(const char *first, const char *last, const char *full, char *buf, size_t len)
{
	char a[8] = "", b[8] = "";

	if (first && *first) {
		initial(first, a);
		initial(last, b);
	} else if (full) {
		const char *sp = strrchr(full, ' ');
		initial(full, a);
		if (sp)
			initial(sp + 1, b);
	}
	snprintf(buf, len, "%s%s%s", a, *a && *b ? " " : "", b);
}

/* corrupt_sentence - why a file is corrupt, with no data from it: only the member named */
static void corrupt_sentence(const char *why, char *buf, size_t len)
{
	size_t n = strcspn(why, ":");
	int ok = why[n] == ':' && n > 0 && n <= 40;

	for (size_t i = 0; ok && i < n; i++)
		ok = is_word((unsigned char)why[i]) && (unsigned char)why[i] < 0x80
		             ? 1
		             : strchr("._ -", why[i]) != NULL;
	if (ok)
		snprintf(buf, len,
		        "The scheduler wrote a file that is not a valid reminder (problem: %.*s).",
		        (int)n, why);
	else
		snprintf(buf, len, "The scheduler wrote a file that is not a valid reminder.");
}

/* category - why a job is where it is, as a category name */
static void category(struct status_problem *p, const struct job *j, int parsed)
{
	const char *c = parsed ? job_spool_str(j, "category") : NULL;
	struct job_attempt a;

	if (p->f == F_CORRUPT)
		c = "corrupt";
	else if (!parsed)
		c = "unreadable";
	else if (p->f == F_HOLD && !job_spool_str(j, "reason"))
		c = "held";
	else if (!c && job_attempts(j) && job_get_attempt(j, job_attempts(j) - 1, &a) == 0)
		c = a.category;
	snprintf(p->category, sizeof p->category, "%s", c && *c ? c : "failed");
}

/* patient - the patient's fields as status_detail allows, and the redaction */
static void patient(const struct status_view *v, struct status_problem *p, const struct job *j)
{
	const char *first = job_get_str(j, "patient.first_name");
	const char *last = job_get_str(j, "patient.last_name");
	enum status_detail d = v->c->status_detail;

	if (d == STATUS_DETAIL_FULL) {
		if (first && *first)
			snprintf(p->patient, sizeof p->patient, "%s%s%s", first, last ? " " : "",
			        last ? last : "");
		else
			snprintf(p->patient, sizeof p->patient, "%s", j->to_name ? j->to_name : "");
		snprintf(p->email, sizeof p->email, "%s", j->to_email ? j->to_email : "");
	} else if (d == STATUS_DETAIL_INITIALS)
		initials(first, last, j->to_name, p->patient, sizeof p->patient);
	p->appt = d == STATUS_DETAIL_NONE ? 0 : j->appt_start;
	if (d == STATUS_DETAIL_FULL)
		return;
	const char *words[] = {j->to_email, j->to_name, first, last};
	for (size_t i = 0; i < 4; i++) {
		redact_word(p->reason, sizeof p->reason, words[i], p->name);
		redact_word(p->action, sizeof p->action, words[i], p->name);
	}
	/* The display name word by word too ("Jane Q. Doe"). */
	char w[256];
	for (const char *s = j->to_name; s && *s; s += strspn(s, " ")) {
		size_t n = strcspn(s, " ");
		snprintf(w, sizeof w, "%.*s", (int)n, s);
		redact_word(p->reason, sizeof p->reason, w, p->name);
		redact_word(p->action, sizeof p->action, w, p->name);
		s += n;
	}
}

/* problem - one failed, corrupt or held job, read and cut to status_detail */
static void problem(const struct status_view *v, struct spooldir *sd, const struct pick *k,
        struct status_problem *p)
{
	char side[SPOOLDIR_NAME_MAX + 32], err[512], why[600], *text = NULL, *buf;
	int full = v->c->status_detail == STATUS_DETAIL_FULL, parsed = 0;
	struct job j = {0};
	const char *r;
	size_t len;

	snprintf(p->name, sizeof p->name, "%s", k->name);
	p->f = k->f;
	p->mtime = k->mtime;
	snprintf(side, sizeof side, "%s%s", k->name, SPOOLDIR_REASON_SUFFIX);
	if (spooldir_read(sd, k->f, side, REASON_FILE_MAX, &text, &len, NULL, err, sizeof err) < 0)
		text = NULL;
	if (k->f != F_CORRUPT && spooldir_read(sd, k->f, k->name, JOB_FILE_MAX, &buf, &len, NULL,
	                                 err, sizeof err) == 0) {
		parsed = job_parse(&j, buf, len, err, sizeof err) == 0;
		free(buf);
	}
	category(p, &j, parsed);
	r = parsed ? job_spool_str(&j, "reason") : NULL;
	if (r)
		snprintf(p->reason, sizeof p->reason, "%.*s", (int)strcspn(r, "\n"), r);
	else if (k->f == F_CORRUPT) {
		if (!paragraph(text, "What is wrong:\n", why, sizeof why))
			snprintf(why, sizeof why, "-");
		if (full)
			snprintf(p->reason, sizeof p->reason, "Not a valid reminder: %.500s", why);
		else
			corrupt_sentence(why, p->reason, sizeof p->reason);
	} else if (parsed && k->f == F_HOLD)
		snprintf(p->reason, sizeof p->reason, "Kept back by staff (spool hold).");
	else if (full && paragraph(text, "What happened:\n", why, sizeof why))
		snprintf(p->reason, sizeof p->reason, "%s", why);
	else
		snprintf(p->reason, sizeof p->reason, "It was not sent.");
	if (!paragraph(text, "What to do:\n", p->action, sizeof p->action) && k->f == F_HOLD)
		snprintf(p->action, sizeof p->action, "To send it: spool release %s", k->name);
	if (!full) {
		redact_addresses(p->reason, sizeof p->reason);
		redact_addresses(p->action, sizeof p->action);
	}
	if (parsed)
		patient(v, p, &j);
	job_free(&j);
	free(text);
}

/* status_gather - counts, the oldest waiting job, the problems */
int status_gather(struct status_view *v, struct spooldir *sd)
{
	struct gather g = {.v = v};
	int rc = 0, e = 0;

	for (int f = 0; f < F_COUNT; f++) {
		long n;
		if (sd->fd[f] < 0)
			continue;
		int indexed = v->indexed && (f == F_NEW || f == F_DEFERRED);
		if (f == F_TMP || f == F_ACTIVE || f == F_SENT || indexed) {
			/* only counted: no stat of each of thousands of sent jobs */
			if ((n = spooldir_count(sd, (enum folder)f)) >= 0)
				v->count[f] += (size_t)n;
			else {
				e = e ? e : errno;
				rc = -1;
			}
		} else if (spooldir_each(sd, (enum folder)f, 0, gather_one, &g) != 0) {
			e = e ? e : errno;
			rc = -1;
		}
	}
	if (v->indexed && v->queued > 0) {
		time_t t = v->queued < v->now ? v->queued : v->now;
		if (!v->oldest || t < v->oldest)
			v->oldest = t;
	}
	if (g.n)
		qsort(g.p, g.n, sizeof *g.p, pick_cmp);
	v->nall = g.n;
	v->nprob = g.n < STATUS_PROBLEMS_MAX ? g.n : STATUS_PROBLEMS_MAX;
	v->prob = v->nprob ? calloc(v->nprob, sizeof *v->prob) : NULL;
	if (!v->prob)
		v->nprob = 0;
	for (size_t i = 0; i < v->nprob; i++)
		problem(v, sd, &g.p[i], &v->prob[i]);
	for (size_t i = 0; i < g.n; i++)
		free(g.p[i].name);
	free(g.p);
	errno = e;
	return rc;
}

/* status_view_free - the problems */
void status_view_free(struct status_view *v)
{
	free(v->prob);
	v->prob = NULL;
	v->nprob = 0;
}
