/*
 * pace - sliding windows, a gap with jitter, messages per connection and
 * quiet hours (the contract is in pace.h).
 *
 * A send at time t counts in a window of length W at time now when
 * now - W < t: it leaves the window at t + W.  With a limit of L per W
 * the next message may therefore go once the L-th most recent send has
 * left, at t[n - L] + W.  Each constraint only moves time forward, so the
 * earliest time allowed is the largest of now, the windows' times and
 * last + gap; when that falls in quiet hours it moves to their end (which
 * leaves every other constraint met).
 *
 * History: p->t holds the send times in ascending order, at most the
 * largest limit (PACE_KEEP_MAX at most) and none older than the day
 * window; it grows geometrically up to that size.  A limit above
 * PACE_KEEP_MAX acts as PACE_KEEP_MAX (never a blast).  Dropping old times
 * moves the rest down (one memmove per pace_sent at most: cheap next to
 * an SMTP transaction, and it keeps t oldest-first as pace.h says).
 *
 * The gap (min_gap_ms) is real milliseconds, not scaled by
 * SPOOLD_TEST_TIME_SCALE; quiet hours are wall-clock local time.
 *
 * state/NAME: "version 1", then one decimal time in ms per line (the last
 * send alone when no window needs history, so the gap survives too).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pace.h"

#define PACE_KEEP_MAX 100000             /* most send times kept */
#define PACE_FUTURE_MS 60000             /* pace_load: tolerated clock skew */
#define PACE_FILE_MAX (4u * 1024 * 1024) /* pace_load: state/NAME at most */
#define PACE_VERSION "version 1"

static int64_t scale_cached; /* 0: not read yet */

/* pace_scale - SPOOLD_TEST_TIME_SCALE (a positive integer), else 1 */
int64_t pace_scale(void)
{
	const char *v;
	char *end = NULL;
	long long n = 0;

	if (scale_cached == 0) {
		if ((v = getenv("SPOOLD_TEST_TIME_SCALE")) != NULL && *v)
			n = strtoll(v, &end, 10);
		scale_cached = n > 0 && n < LLONG_MAX && *end == '\0' ? n : 1;
	}
	return scale_cached;
}

/* pace_scale_reset - forget the cached scale (tests) */
void pace_scale_reset(void)
{
	scale_cached = 0;
}

/* pace_window_ms - seconds as scaled milliseconds, at least 1 */
int64_t pace_window_ms(int seconds)
{
	int64_t w = (int64_t)seconds * 1000 / pace_scale();

	return w > 0 ? w : 1;
}

/* pace_now_ms - the wall clock in ms */
int64_t pace_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* limit_of - a configured limit as the number of sends it allows */
static size_t limit_of(int v)
{
	if (v <= 0)
		return 0;
	return v > PACE_KEEP_MAX ? PACE_KEEP_MAX : (size_t)v;
}

/* keep_max - the most send times worth keeping */
static size_t keep_max(const struct pacing_conf *lim)
{
	size_t k = limit_of(lim->per_minute);

	if (limit_of(lim->per_hour) > k)
		k = limit_of(lim->per_hour);
	if (limit_of(lim->per_day) > k)
		k = limit_of(lim->per_day);
	return k;
}

/* drop_oldest - forget the k oldest send times */
static void drop_oldest(struct pace *p, size_t k)
{
	if (k == 0)
		return;
	if (k > p->n)
		k = p->n;
	memmove(p->t, p->t + k, (p->n - k) * sizeof *p->t);
	p->n -= k;
}

/* count_upto - how many send times are <= v (p->t is ascending) */
static size_t count_upto(const struct pace *p, int64_t v)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->t[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* new_gap - min_gap_ms plus a jitter of up to 25% */
static int64_t new_gap(const struct pacing_conf *lim)
{
	int64_t g = lim->min_gap_ms > 0 ? lim->min_gap_ms : 0;

	return g > 0 ? g + random() % (g / 4 + 1) : 0;
}

/* pace_init - no sends yet */
void pace_init(struct pace *p, const struct pacing_conf *lim)
{
	memset(p, 0, sizeof *p);
	p->lim = *lim;
	p->gap = new_gap(lim);
}

/* pace_set_limits - new limits, keeping the newest send times that matter */
void pace_set_limits(struct pace *p, const struct pacing_conf *lim)
{
	int gap_changed = lim->min_gap_ms != p->lim.min_gap_ms;
	size_t keep = keep_max(lim);
	int64_t *t;

	p->lim = *lim;
	if (p->n > keep)
		drop_oldest(p, p->n - keep);
	if (p->cap > keep && (t = realloc(p->t, (keep ? keep : 1) * sizeof *t))) {
		p->t = t;
		p->cap = keep;
	}
	if (gap_changed)
		p->gap = new_gap(lim);
}

/* pace_free - release the history */
void pace_free(struct pace *p)
{
	free(p->t);
	p->t = NULL;
	p->n = p->cap = 0;
}

/* window_next - when a window of w ms allows one more under limit v */
static int64_t window_next(const struct pace *p, int v, int64_t w)
{
	size_t l = limit_of(v);

	if (l == 0 || p->n < l)
		return 0;
	return p->t[p->n - l] + w;
}

/* is_quiet - local time tm falls within quiet hours */
static int is_quiet(const struct pacing_conf *lim, const struct tm *tm)
{
	int m = tm->tm_hour * 60 + tm->tm_min;

	if (lim->quiet_start < 0 || lim->quiet_end < 0 || lim->quiet_start == lim->quiet_end)
		return 0;
	if (lim->quiet_start < lim->quiet_end)
		return m >= lim->quiet_start && m < lim->quiet_end;
	return m >= lim->quiet_start || m < lim->quiet_end;
}

/* quiet_end - the next local time equal to quiet_end after at (seconds)
 *
 * Today's and tomorrow's date with either DST flag, each checked by
 * converting back: only a time that reads quiet_end locally counts, and
 * the earliest wins (the first of the two on a day the clock goes back).
 * On a day the end falls into the hour skipped in spring, the first
 * minute that is no longer quiet. */
static time_t quiet_end(const struct pacing_conf *lim, time_t at, const struct tm *now_tm)
{
	int h = lim->quiet_end / 60, mi = lim->quiet_end % 60;
	time_t best = (time_t)-1;
	struct tm x, chk;

	for (int day = 0; day < 2; day++)
		for (int dst = 0; dst < 2; dst++) {
			x = *now_tm;
			x.tm_mday += day;
			x.tm_hour = h;
			x.tm_min = mi;
			x.tm_sec = 0;
			x.tm_isdst = dst;
			time_t r = mktime(&x);
			if (r == (time_t)-1 || r <= at || !localtime_r(&r, &chk))
				continue;
			if (chk.tm_hour == h && chk.tm_min == mi &&
			        (best == (time_t)-1 || r < best))
				best = r;
		}
	if (best != (time_t)-1)
		return best;
	for (time_t r = (at / 60 + 1) * 60; r < at + 2 * 86400; r += 60)
		if (localtime_r(&r, &chk) && !is_quiet(lim, &chk))
			return r;
	return at + 60;
}

/* pace_next - the earliest time the next message may go */
int64_t pace_next(const struct pace *p, int64_t now, const char **why)
{
	static const struct {
		const char *name;
		int seconds;
	} win[] = {{"per_minute", 60}, {"per_hour", 3600}, {"per_day", 86400}};
	const int lims[] = {p->lim.per_minute, p->lim.per_hour, p->lim.per_day};
	const char *reason = NULL;
	int64_t next = now, c;
	struct tm tm;
	time_t sec;

	for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
		c = window_next(p, lims[i], pace_window_ms(win[i].seconds));
		if (c > now && c >= next) { /* a tie: the longer window says more */
			next = c;
			reason = win[i].name;
		}
	}
	if (p->last > 0 && p->gap > 0 && p->last + p->gap > next) {
		next = p->last + p->gap;
		reason = "min_gap";
	}
	sec = (time_t)(next / 1000);
	if (localtime_r(&sec, &tm) && is_quiet(&p->lim, &tm)) {
		next = (int64_t)quiet_end(&p->lim, sec, &tm) * 1000;
		reason = "quiet_hours";
	}
	if (why)
		*why = reason;
	return next;
}

/* grow - room for one more send time; 0 or -1 */
static int grow(struct pace *p)
{
	size_t keep = keep_max(&p->lim), cap;
	int64_t *t;

	if (p->n < p->cap)
		return 0;
	cap = p->cap ? p->cap * 2 : 16;
	if (cap > keep)
		cap = keep;
	if (cap <= p->n)
		return -1;
	t = realloc(p->t, cap * sizeof *t);
	if (!t)
		return -1;
	p->t = t;
	p->cap = cap;
	return 0;
}

/* pace_sent - count a message sent at now (a clock that went back counts
 * it at the newest time kept, keeping the times in order) */
void pace_sent(struct pace *p, int64_t now)
{
	size_t keep = keep_max(&p->lim);

	drop_oldest(p, count_upto(p, now - pace_window_ms(86400)));
	if (keep > 0) {
		drop_oldest(p, p->n >= keep ? p->n - keep + 1 : 0);
		if (grow(p) < 0 && p->n > 0)
			drop_oldest(p, 1); /* out of memory: the newest matter most */
		if (p->n < p->cap) {
			p->t[p->n] = p->n > 0 && p->t[p->n - 1] > now ? p->t[p->n - 1] : now;
			p->n++;
		}
	}
	p->last = now;
	p->gap = new_gap(&p->lim);
	p->on_conn++;
}

/* pace_reconnect_due - per_connection messages on this connection */
int pace_reconnect_due(const struct pace *p)
{
	return p->lim.per_connection > 0 && p->on_conn >= (unsigned)p->lim.per_connection;
}

/* pace_connection_opened - a new connection starts at zero */
void pace_connection_opened(struct pace *p)
{
	p->on_conn = 0;
}

/* pace_used - sends within the last window_ms */
size_t pace_used(const struct pace *p, int64_t now, int64_t window_ms)
{
	return p->n - count_upto(p, now - window_ms);
}

/* pace_save - write state/NAME atomically and durably; 0 or -1 + errno */
int pace_save(const struct pace *p, struct spooldir *sd, const char *name)
{
	size_t size = sizeof PACE_VERSION + (p->n + 1) * 24, len;
	char *buf;
	int rc;

	if (!spooldir_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	buf = malloc(size);
	if (!buf)
		return -1;
	len = (size_t)snprintf(buf, size, "%s\n", PACE_VERSION);
	for (size_t i = 0; i < p->n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%lld\n", (long long)p->t[i]);
	if (p->last > 0 && (p->n == 0 || p->t[p->n - 1] < p->last))
		len += (size_t)snprintf(buf + len, size - len, "%lld\n", (long long)p->last);
	rc = spooldir_write(sd, F_STATE, name, buf, len, 0);
	free(buf);
	return rc;
}

/* cmp_time - qsort order of send times */
static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* pace_load - state/NAME back: garbage, future and old lines are skipped;
 * a missing file or state/ is an empty history.  0, or -1 + errno (a file
 * that cannot be read, or of another version: the history is then empty) */
int pace_load(struct pace *p, struct spooldir *sd, const char *name, int64_t now)
{
	int64_t oldest = now - pace_window_ms(86400), *t;
	size_t len, n = 0, keep = keep_max(&p->lim);
	char err[256], *buf, *s, *end, *save = NULL;

	p->n = 0;
	p->last = 0;
	if (sd->fd[F_STATE] < 0)
		return 0;
	if (!spooldir_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	if (spooldir_read(sd, F_STATE, name, PACE_FILE_MAX, &buf, &len, NULL, err, sizeof err) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(t = malloc((len / 2 + 1) * sizeof *t))) {
		free(buf);
		return -1;
	}
	for (s = strtok_r(buf, "\r\n", &save); s; s = strtok_r(NULL, "\r\n", &save)) {
		if (!strncmp(s, "version", 7) && s == buf && strcmp(s, PACE_VERSION)) {
			free(buf);
			free(t);
			errno = EPROTO;
			return -1;
		}
		long long v = strtoll(s, &end, 10);
		end += strspn(end, " \t");
		if (end != s && !*end && v > oldest && v <= now + PACE_FUTURE_MS)
			t[n++] = v;
	}
	free(buf);
	qsort(t, n, sizeof *t, cmp_time);
	p->last = n > 0 ? t[n - 1] : 0;
	if (n > keep) {
		memmove(t, t + (n - keep), keep * sizeof *t);
		n = keep;
	}
	free(p->t);
	p->t = t;
	if ((t = realloc(t, (n ? n : 1) * sizeof *t)))
		p->t = t; /* shrunk to fit */
	p->n = p->cap = n;
	p->gap = new_gap(&p->lim);
	return 0;
}
