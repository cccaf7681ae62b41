/*
 * status - the counters behind the status page and the three views written
 * into the spool's root; see status.h.
 *
 * state/status-counters is a small text file:
 *   spoold-status-counters 1
 *   hour0 1764579600
 *   sent 0 3 12 ... (STATUS_HOURS numbers, [0] the current hour)
 *   deferred ...
 *   failed ...
 *   count 42 recipient-invalid relay     (one line per category and relay)
 * Anything else (another version, a short line) reads as no counters.
 *
 * The views are derived: they are written to a hidden temporary in the
 * same directory and renamed into place (readers never see half a file),
 * mode 0644, without fsync: after a crash the next change rewrites them.
 * The same goes for the counters, which are at worst a few events behind.
 * What the spool holds is gathered by status_scan.c, the page written by
 * status_html.c; the JSON and Prometheus text are written here.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pid.h"
#include "status.h"
#include "status_int.h"
#include "timefmt.h"

#define COUNTERS_FILE "status-counters"
#define COUNTERS_MAGIC "spoold-status-counters"
#define COUNTERS_VERSION 1
#define COUNTERS_MAX 16384
#define OTHER_KEY "other other"

/* hour_of - the start of t's hour */
static time_t hour_of(time_t t)
{
	return t - ((t % 3600) + 3600) % 3600;
}

/* shift_one - one array moved on by k hours, the new hours zero */
static void shift_one(unsigned *a, time_t k)
{
	if (k >= STATUS_HOURS) {
		memset(a, 0, STATUS_HOURS * sizeof *a);
		return;
	}
	memmove(a + k, a, (size_t)(STATUS_HOURS - k) * sizeof *a);
	memset(a, 0, (size_t)k * sizeof *a);
}

/* status_shift - the buckets moved on to now's hour */
void status_shift(struct status_counters *sc, time_t now)
{
	time_t h = hour_of(now), k;

	if (sc->hour0 != 0 && h == sc->hour0)
		return;
	if (sc->hour0 == 0 || h < sc->hour0 - (time_t)STATUS_HOURS * 3600)
		k = STATUS_HOURS; /* nothing yet, or a clock set far back: start afresh */
	else if (h < sc->hour0)
		return; /* set back a little: count into the newest hour */
	else
		k = (h - sc->hour0) / 3600;
	shift_one(sc->sent, k);
	shift_one(sc->deferred, k);
	shift_one(sc->failed, k);
	sc->hour0 = h;
}

/* key_part - s with characters outside [A-Za-z0-9._-] as '_', at most max bytes */
static void key_part(char *dst, size_t max, const char *s)
{
	size_t n = 0;

	for (; s && *s && n < max; s++)
		dst[n++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		                           (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		                           *s == '-'
		                   ? *s
		                   : '_';
	if (!n)
		memcpy(dst, "none", n = 4);
	dst[n] = '\0';
}

/* key_slot - the slot counting key, added when new; the last slot is kept
 * for OTHER_KEY when the table fills; -1 when there is none */
static int key_slot(struct status_counters *sc, const char *key)
{
	for (int i = 0; i < sc->nkeys; i++)
		if (!strcmp(sc->key[i], key))
			return i;
	if (sc->nkeys < STATUS_MAX_KEYS - 1 ||
	        (sc->nkeys == STATUS_MAX_KEYS - 1 && !strcmp(key, OTHER_KEY))) {
		snprintf(sc->key[sc->nkeys], sizeof sc->key[0], "%s", key);
		sc->count[sc->nkeys] = 0;
		return sc->nkeys++;
	}
	return strcmp(key, OTHER_KEY) ? key_slot(sc, OTHER_KEY) : -1;
}

/* status_note - count one attempt's outcome */
void status_note(struct status_counters *sc, enum status_event ev, const char *category,
        const char *relay, time_t now)
{
	char cat[32], rel[16], key[sizeof sc->key[0]];
	unsigned *a;
	int i;

	status_shift(sc, now);
	a = ev == STATUS_SENT ? sc->sent : ev == STATUS_DEFERRED ? sc->deferred : sc->failed;
	if (a[0] < ~0u)
		a[0]++;
	key_part(cat, sizeof cat - 1, category);
	key_part(rel, sizeof rel - 1, relay);
	snprintf(key, sizeof key, "%s %s", cat, rel);
	if ((i = key_slot(sc, key)) >= 0)
		sc->count[i]++;
}

/* read_array - "NAME n n n ..." into a; 0 ok, -1 malformed */
static int read_array(const char *line, const char *name, unsigned *a)
{
	size_t n = strlen(name);
	const char *p = line + n;
	char *end;

	if (strncmp(line, name, n) || *p != ' ')
		return -1;
	for (int i = 0; i < STATUS_HOURS; i++) {
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || errno || v > ~0u)
			return -1;
		a[i] = (unsigned)v;
		p = end;
	}
	return *p ? -1 : 0;
}

/* read_counters - the file's text into sc; 0 ok, -1 not ours or malformed */
static int read_counters(struct status_counters *sc, char *text)
{
	char *save = NULL, *line;
	int n = 0, version;
	long long h;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		char cat[32], rel[16], key[sizeof sc->key[0]];
		unsigned long long cnt;
		int used = 0, i;

		if (n == 0 && (sscanf(line, COUNTERS_MAGIC " %d", &version) != 1 ||
		                      version != COUNTERS_VERSION))
			return -1;
		if (n == 1 && (sscanf(line, "hour0 %lld%n", &h, &used) != 1 || line[used] || h < 0))
			return -1;
		if (n == 1)
			sc->hour0 = (time_t)h;
		if ((n == 2 && read_array(line, "sent", sc->sent) < 0) ||
		        (n == 3 && read_array(line, "deferred", sc->deferred) < 0) ||
		        (n == 4 && read_array(line, "failed", sc->failed) < 0))
			return -1;
		if (n < 5)
			continue;
		if (sscanf(line, "count %llu %31s %15s%n", &cnt, cat, rel, &used) != 3 ||
		        line[used])
			return -1;
		key_part(cat, sizeof cat - 1, strcpy(key, cat));
		key_part(rel, sizeof rel - 1, strcpy(key, rel));
		snprintf(key, sizeof key, "%s %s", cat, rel);
		if ((i = key_slot(sc, key)) >= 0)
			sc->count[i] += cnt;
	}
	return n >= 5 ? 0 : -1;
}

/* status_load - state/status-counters, moved on to now; zero when absent */
void status_load(struct status_counters *sc, struct spooldir *sd, time_t now)
{
	char err[256], *buf = NULL;
	size_t len;

	memset(sc, 0, sizeof *sc);
	if (sd->fd[F_STATE] >= 0 && spooldir_read(sd, F_STATE, COUNTERS_FILE, COUNTERS_MAX, &buf,
	                                    &len, NULL, err, sizeof err) == 0) {
		if (read_counters(sc, buf) < 0)
			memset(sc, 0, sizeof *sc);
		free(buf);
	}
	status_shift(sc, now);
}

/* write_at - data as dirfd/name: a hidden temporary renamed into place,
 * mode 0644, not synced (a derived view) */
static int write_at(int dirfd, const char *name, const char *data, size_t len)
{
	static unsigned seq;
	char tmp[128];
	size_t off = 0;
	int fd, e;

	snprintf(tmp, sizeof tmp, ".%s.%ld.%u.tmp", name, (long)pid_self(), ++seq);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == 0)
		return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

/* status_save - state/status-counters */
int status_save(const struct status_counters *sc, struct spooldir *sd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	if (!(fp = open_memstream(&text, &len)))
		return -1;
	fprintf(fp, "%s %d\nhour0 %lld\n", COUNTERS_MAGIC, COUNTERS_VERSION, (long long)sc->hour0);
	const unsigned *arr[] = {sc->sent, sc->deferred, sc->failed};
	const char *names[] = {"sent", "deferred", "failed"};
	for (int k = 0; k < 3; k++) {
		fputs(names[k], fp);
		for (int i = 0; i < STATUS_HOURS; i++)
			fprintf(fp, " %u", arr[k][i]);
		fputc('\n', fp);
	}
	for (int i = 0; i < sc->nkeys && i < STATUS_MAX_KEYS; i++)
		fprintf(fp, "count %llu %s\n", sc->count[i], sc->key[i]);
	if (fclose(fp) != 0) {
		free(text);
		return -1;
	}
	rc = write_at(sd->fd[F_STATE], COUNTERS_FILE, text, len);
	free(text);
	return rc;
}

/* status_sent_24h - the sends of the last 24 hours by the chart's buckets */
unsigned status_sent_24h(const struct status_counters *sc)
{
	unsigned n = 0;

	for (int i = 0; i < 24; i++)
		n += sc->sent[i];
	return n;
}

/* jtime - RFC 3339, or null for 0 */
static json_t *jtime(time_t t)
{
	char buf[TIMEFMT_MAX];

	return t ? json_string(rfc3339_format(t, buf, sizeof buf)) : json_null();
}

/* jstr - a string, or null when empty */
static json_t *jstr(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* json_hours - one array, oldest hour first */
static json_t *json_hours(const unsigned *a)
{
	json_t *arr = json_array();

	for (int i = STATUS_HOURS - 1; i >= 0; i--)
		json_array_append_new(arr, json_integer(a[i]));
	return arr;
}

/* json_problem - one failed, corrupt or held job */
static json_t *json_problem(const struct status_view *v, const struct status_problem *p)
{
	json_t *o = json_object(), *pat;

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "folder", json_string(spooldir_folder_name(p->f)));
	json_object_set_new(o, "category", json_string(p->category));
	json_object_set_new(o, "reason", json_string(p->reason));
	json_object_set_new(o, "action", jstr(p->action));
	json_object_set_new(o, "since", jtime(p->mtime));
	if (v->c->status_detail != STATUS_DETAIL_NONE && p->appt)
		json_object_set_new(o, "appointment", jtime(p->appt));
	if (v->c->status_detail == STATUS_DETAIL_FULL && (*p->patient || *p->email)) {
		pat = json_object();
		json_object_set_new(pat, "name", jstr(p->patient));
		json_object_set_new(pat, "email", jstr(p->email));
		json_object_set_new(o, "patient", pat);
	} else if (v->c->status_detail == STATUS_DETAIL_INITIALS && *p->patient) {
		pat = json_object();
		json_object_set_new(pat, "initials", json_string(p->patient));
		json_object_set_new(o, "patient", pat);
	}
	return o;
}

/* status_json - the same facts as the page, stable keys */
static char *status_json(const struct status_view *v)
{
	json_t *o = json_object(), *acc = json_object(), *f = json_object();
	json_t *b = json_object(), *h = json_object(), *pr = json_array();
	char *text;

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "generated", jtime(v->now));
	json_object_set_new(
	        o, "status_detail", json_string(conf_status_detail_name(v->c->status_detail)));
	for (int i = 0; i < v->nacct; i++) {
		const struct account *a = &v->acct[i];
		json_t *x = json_object();
		json_object_set_new(x, "state", json_string(account_state_name(a->state)));
		json_object_set_new(x, "since", jtime(a->since));
		json_object_set_new(
		        x, "until", jtime(a->state == ACCT_RATE_LIMITED ? a->until : 0));
		json_object_set_new(
		        x, "category", jstr(a->state != ACCT_RUNNING ? a->category : ""));
		json_object_set_new(x, "reason", jstr(a->state != ACCT_RUNNING ? a->reason : ""));
		json_object_set_new(x, "action", jstr(a->state != ACCT_RUNNING ? a->action : ""));
		json_object_set_new(acc, *a->relay ? a->relay : "relay", x);
	}
	json_object_set_new(o, "account", acc);
	for (int i = 0; i < F_COUNT; i++)
		json_object_set_new(f, spooldir_folder_name((enum folder)i),
		        json_integer((json_int_t)v->count[i]));
	json_object_set_new(o, "folders", f);
	json_object_set_new(o, "oldest_waiting_seconds",
	        v->oldest ? json_integer(v->now - v->oldest) : json_null());
	json_object_set_new(b, "per_day", v->per_day > 0 ? json_integer(v->per_day) : json_null());
	json_object_set_new(
	        b, "used_24h", v->used_24h >= 0 ? json_integer(v->used_24h) : json_null());
	json_object_set_new(o, "budget", b);
	json_object_set_new(h, "start", jtime(v->sc.hour0 - (time_t)(STATUS_HOURS - 1) * 3600));
	json_object_set_new(h, "hour_seconds", json_integer(3600));
	json_object_set_new(h, "sent", json_hours(v->sc.sent));
	json_object_set_new(h, "deferred", json_hours(v->sc.deferred));
	json_object_set_new(h, "failed", json_hours(v->sc.failed));
	json_object_set_new(o, "hourly", h);
	for (size_t i = 0; i < v->nprob; i++)
		json_array_append_new(pr, json_problem(v, &v->prob[i]));
	json_object_set_new(o, "problems", pr);
	json_object_set_new(o, "problems_total", json_integer((json_int_t)v->nall));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* prom_label_n - at most n bytes of a label value, escaped for the text
 * format (backslash, double quote and newline) */
static void prom_label_n(FILE *fp, const char *s, size_t n)
{
	for (; *s && n; s++, n--) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* prom_label - a label value, escaped */
static void prom_label(FILE *fp, const char *s)
{
	prom_label_n(fp, s, (size_t)-1);
}

/* prom_head - HELP and TYPE of one metric */
static void prom_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* status_prom - the Prometheus text format 0.0.4 */
static void status_prom(const struct status_view *v, FILE *fp)
{
	prom_head(fp, "spoold_attempts_total", "counter",
	        "Delivery attempts and other outcomes by category and relay.");
	for (int i = 0; i < v->sc.nkeys; i++) {
		const char *sp = strchr(v->sc.key[i], ' ');
		if (!sp)
			continue;
		fputs("spoold_attempts_total{category=\"", fp);
		prom_label_n(fp, v->sc.key[i], (size_t)(sp - v->sc.key[i]));
		fputs("\",relay=\"", fp);
		prom_label(fp, sp + 1);
		fprintf(fp, "\"} %llu\n", v->sc.count[i]);
	}
	prom_head(fp, "spoold_jobs", "gauge", "Jobs in each spool folder.");
	for (int i = 0; i < F_COUNT; i++)
		fprintf(fp, "spoold_jobs{folder=\"%s\"} %zu\n",
		        spooldir_folder_name((enum folder)i), v->count[i]);
	prom_head(fp, "spoold_account_state", "gauge",
	        "The sending account's state: 1 for the current one, 0 for the others.");
	for (int i = 0; i < v->nacct; i++)
		for (int s = ACCT_RUNNING; s < ACCT_NSTATES; s++) {
			fputs("spoold_account_state{relay=\"", fp);
			prom_label(fp, v->acct[i].relay);
			fprintf(fp, "\",state=\"%s\"} %d\n",
			        account_state_name((enum account_state)s),
			        v->acct[i].state == (enum account_state)s);
		}
	prom_head(fp, "spoold_account_blocked", "gauge",
	        "1 while the account is blocked: nothing is sent until a person acts.");
	for (int i = 0; i < v->nacct; i++) {
		fputs("spoold_account_blocked{relay=\"", fp);
		prom_label(fp, v->acct[i].relay);
		fprintf(fp, "\"} %d\n", v->acct[i].state == ACCT_BLOCKED);
	}
	prom_head(fp, "spoold_account_suspect", "gauge",
	        "1 while the provider accepts mail but does not deliver it (a delivery check "
	        "failed): a person must act.");
	for (int i = 0; i < v->nacct; i++) {
		fputs("spoold_account_suspect{relay=\"", fp);
		prom_label(fp, v->acct[i].relay);
		fprintf(fp, "\"} %d\n", v->acct[i].state == ACCT_SUSPECT);
	}
	prom_head(fp, "spoold_budget_used_24h", "gauge",
	        "Messages sent through the relay in the last 24 hours.");
	if (v->used_24h >= 0)
		fprintf(fp, "spoold_budget_used_24h %d\n", v->used_24h);
	prom_head(fp, "spoold_budget_per_day", "gauge",
	        "The relay's daily sending limit (0: no limit).");
	fprintf(fp, "spoold_budget_per_day %d\n", v->per_day > 0 ? v->per_day : 0);
	prom_head(fp, "spoold_oldest_waiting_seconds", "gauge",
	        "Age of the oldest job waiting in new/, deferred/ or hold/ (0: none waiting).");
	fprintf(fp, "spoold_oldest_waiting_seconds %lld\n",
	        v->oldest ? (long long)(v->now - v->oldest) : 0LL);
	prom_head(fp, "spoold_status_generated_timestamp_seconds", "gauge",
	        "When these numbers were written, in seconds since the epoch.");
	fprintf(fp, "spoold_status_generated_timestamp_seconds %lld\n", (long long)v->now);
}

/* put_view - one view: text made by fn into the root as name; -1 with errno */
static int put_view(struct spooldir *sd, const char *name, const struct status_view *v,
        void (*fn)(const struct status_view *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	int rc;

	if (!fp)
		return -1;
	fn(v, fp);
	if (fclose(fp) != 0) {
		free(text);
		return -1;
	}
	rc = write_at(sd->root, name, text, len);
	free(text);
	return rc;
}

/* json_view - status_json as a writer for put_view */
static void json_view(const struct status_view *v, FILE *fp)
{
	char *text = status_json(v);

	if (text) {
		fputs(text, fp);
		fputc('\n', fp);
	}
	free(text);
}

/* status_write - the three views, each atomically; 0, or -1 with errno of the first failure */
int status_write(struct spooldir *sd, const struct conf *c, const struct status_counters *sc,
        const struct account *accounts, int n, int per_day, int used_24h, time_t queued, time_t now)
{
	static const struct {
		const char *name;
		void (*fn)(const struct status_view *, FILE *);
	} views[] = {{"status.html", status_html}, {"status.json", json_view},
	        {"spoold.prom", status_prom}};
	struct status_view *v = calloc(1, sizeof *v);
	int rc = 0, e = 0;

	if (!v)
		return -1;
	v->c = c;
	v->sc = *sc;
	status_shift(&v->sc, now);
	v->acct = accounts;
	v->nacct = n;
	v->per_day = per_day > 0 ? per_day : 0;
	v->used_24h = per_day > 0 ? used_24h : -1; /* no limit: no day's worth of sends kept */
	v->now = now;
	v->indexed = queued >= 0;
	v->queued = queued;
	if (status_gather(v, sd) < 0) {
		e = errno;
		rc = -1;
	}
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		if (put_view(sd, views[i].name, v, views[i].fn) < 0) {
			e = e ? e : errno;
			rc = -1;
		}
	status_view_free(v);
	free(v);
	errno = e;
	return rc;
}
