/*
 * status_html - status.html: the front desk's page.
 *
 * Written for receptionists, on a screen patients may see: the account's
 * state in large type with what to do when it is not running, the day's
 * sends against the daily limit, the jobs per folder in words, a chart of
 * the last 48 hours, and the jobs that need a person with their reasons
 * (patient data as status_detail allows: status_scan.c has cut it already).
 *
 * One self-contained file: no scripts, no external resources, inline CSS
 * and SVG; it reloads itself every 30 seconds.  Semantic HTML, lang="en",
 * colours with enough contrast in light and dark mode (prefers-color-
 * scheme), one column at phone width.  The chart has a title and a
 * description, and a table of the same numbers.  Times are absolute, in
 * the practice's zone (conf.timezone): the page is rewritten only when
 * something changes, so "5 min ago" would go stale on screen.  Everything
 * from files is escaped (and invalid UTF-8 replaced).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "datefmt.h"
#include "status_int.h"

#define CHART_W (CHART_L + STATUS_HOURS * BAR_W + 24)
#define CHART_H 230
#define CHART_L 52 /* room for the numbers on the left */
#define CHART_B 30 /* and for the hours below */
#define CHART_T 12
#define BAR_W 10

static const char css[] =
        ":root{color-scheme:light dark;--bg:#fff;--fg:#1b1d21;--muted:#4d5560;--card:#f3f4f6;"
        "--line:#c9ced6;--ok:#166b2c;--ok-bg:#e5f4e9;--warn:#7a4a00;--warn-bg:#fff3dc;"
        "--bad:#a8001c;--bad-bg:#fdeaec;--info:#0a4f96;--info-bg:#e6eefb;--sent:#2e7d32;"
        "--deferred:#d08700;--failed:#c62828}\n"
        "@media (prefers-color-scheme:dark){:root{--bg:#121417;--fg:#eceff2;--muted:#b4bcc6;"
        "--card:#1c2026;--line:#3b424c;--ok:#86e39a;--ok-bg:#132d1a;--warn:#ffc870;"
        "--warn-bg:#35270b;--bad:#ff9a9a;--bad-bg:#3b1117;--info:#9cc3ff;--info-bg:#13243d;"
        "--sent:#66bb6a;--deferred:#ffb74d;--failed:#ef5350}}\n"
        "*{box-sizing:border-box}\n"
        "body{margin:0;background:var(--bg);color:var(--fg);"
        "font:1rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\n"
        "header,main,footer{max-width:62rem;margin:0 auto;padding:0 1rem}\n"
        "header{padding-top:.75rem}\n"
        "h1{font-size:1.25rem;margin:0}h1 span{color:var(--muted);font-weight:400}\n"
        "h2{font-size:1.2rem;margin:1.75rem 0 .5rem}\n"
        "p{margin:.4rem 0}\n"
        "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;"
        "overflow-wrap:anywhere}\n"
        ".state{border-left:.6rem solid;border-radius:.5rem;padding:.9rem 1.1rem;margin:1rem 0}\n"
        ".state h2{margin:0}\n"
        ".big{display:block;font-size:clamp(2.6rem,13vw,4.5rem);font-weight:800;line-height:1.05;"
        "letter-spacing:.02em}\n"
        ".label{display:block;font-size:1rem;font-weight:600;color:var(--muted)}\n"
        ".lead{font-size:1.2rem;font-weight:600}\n"
        ".running{background:var(--ok-bg);border-color:var(--ok)}.running .big{color:var(--ok)}\n"
        ".rate-limited,.probing{background:var(--warn-bg);border-color:var(--warn)}\n"
        ".rate-limited .big,.probing .big{color:var(--warn)}\n"
        ".probing{background:var(--info-bg);border-color:var(--info)}"
        ".probing .big{color:var(--info)}\n"
        ".blocked,.suspect{background:var(--bad-bg);border-color:var(--bad)}\n"
        ".blocked .big,.suspect .big{color:var(--bad)}\n"
        ".suspect .big{font-size:clamp(2rem,8vw,4.5rem)}\n"
        ".todo{background:var(--bg);border:2px solid var(--bad);border-radius:.4rem;"
        "padding:.6rem .8rem;margin:.8rem 0;font-size:1.1rem}\n"
        ".rate-limited .todo,.probing .todo{border-color:var(--line)}\n"
        ".meta,.hint{color:var(--muted);font-size:.95rem}\n"
        ".small .big{font-size:clamp(1.8rem,8vw,2.6rem)}\n"
        ".num{font-size:1.15rem}.num strong{font-size:2rem}\n"
        ".meter{height:.9rem;background:var(--card);border:1px solid var(--line);"
        "border-radius:.45rem;overflow:hidden;max-width:30rem}\n"
        ".meter span{display:block;height:100%;background:var(--sent)}\n"
        ".meter.full span{background:var(--deferred)}\n"
        ".tiles{list-style:none;padding:0;margin:0;display:grid;gap:.6rem;"
        "grid-template-columns:repeat(auto-fill,minmax(8rem,1fr))}\n"
        ".tiles li{background:var(--card);border:1px solid var(--line);border-radius:.5rem;"
        "padding:.5rem .75rem}\n"
        ".tiles .n{display:block;font-size:1.9rem;font-weight:700;line-height:1.2}\n"
        ".tiles .f{display:block;color:var(--muted);font-size:.85rem}\n"
        ".tiles li.attn{border:2px solid var(--bad);background:var(--bad-bg)}\n"
        "figure{margin:0}svg{display:block;width:100%;max-width:46rem;height:auto}\n"
        ".ax{fill:var(--muted);font-size:13px}.grid{stroke:var(--line);stroke-width:1}\n"
        "@media (max-width:40rem){.ax{font-size:19px}.ax.minor{display:none}}\n"
        ".c-sent{fill:var(--sent)}.c-deferred{fill:var(--deferred)}.c-failed{fill:var(--failed)}\n"
        ".legend{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;"
        "gap:.3rem 1.2rem}\n"
        ".sw{display:inline-block;width:.9rem;height:.9rem;border-radius:.15rem;"
        "vertical-align:-.1rem;margin-right:.35rem}\n"
        ".sw.c-sent{background:var(--sent)}.sw.c-deferred{background:var(--deferred)}"
        ".sw.c-failed{background:var(--failed)}\n"
        "details{margin:.5rem 0}summary{cursor:pointer;color:var(--info);font-weight:600}\n"
        "table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}\n"
        "th,td{padding:.15rem .8rem .15rem 0;text-align:right;border-bottom:1px solid var(--line)}"
        "th:first-child,td:first-child{text-align:left}\n"
        ".problems{list-style:none;padding:0;margin:0}\n"
        ".problems ul{margin:.2rem 0;padding-left:1.4rem}\n"
        ".problems>li{border:1px solid var(--line);border-left:.4rem solid var(--bad);"
        "border-radius:.4rem;padding:.6rem .8rem;margin:.6rem 0;background:var(--card)}\n"
        ".problems>li.f-hold{border-left-color:var(--deferred)}\n"
        ".badge{font-weight:700}.who{font-size:1.05rem}\n"
        ".ok-note{background:var(--ok-bg);border-radius:.4rem;padding:.6rem .8rem}\n"
        "footer{margin:2rem auto;color:var(--muted);font-size:.9rem}\n";

/* put - s HTML-escaped; control characters become spaces, bytes that are
 * not UTF-8 U+FFFD */
static void put(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		int n = *p < 0x80                           ? 1
		        : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 2
		        : (*p & 0xF0) == 0xE0               ? 3
		        : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 4
		                                            : 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				n = 0;
		if (n == 0) {
			fputs("\xEF\xBF\xBD", fp);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, (size_t)n, fp);
			p += n;
			continue;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(*p < 0x20 || *p == 0x7F ? ' ' : *p, fp);
		}
		p++;
	}
}

/* local - t as wall-clock time in the practice's zone (else the process's) */
static void local(const struct conf *c, time_t t, struct datefmt_tm *tm)
{
	struct tm l;

	if (datefmt_local(t, c->timezone, tm) == 0)
		return;
	memset(tm, 0, sizeof *tm);
	if (!localtime_r(&t, &l))
		return;
	*tm = (struct datefmt_tm){l.tm_year + 1900, l.tm_mon + 1, l.tm_mday, l.tm_hour, l.tm_min,
	        l.tm_sec, l.tm_wday, l.tm_gmtoff, ""};
	strftime(tm->abbr, sizeof tm->abbr, "%Z", &l);
}

/* day_number - days since 1970-01-01 of a civil date */
static long day_number(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* clock12 - "9:30 AM" */
static char *clock12(const struct datefmt_tm *tm, char *buf, size_t len)
{
	snprintf(buf, len, "%d:%02d %s", tm->hour % 12 ? tm->hour % 12 : 12, tm->min,
	        tm->hour < 12 ? "AM" : "PM");
	return buf;
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* status_when - "today at 2:05 PM", "Tue Dec 1 at 9:30 AM", ... */
char *status_when(const struct conf *c, time_t t, time_t now, int with_zone, char *buf, size_t len)
{
	struct datefmt_tm a, b;
	char hm[16], day[32];
	long d;

	local(c, t, &a);
	local(c, now, &b);
	d = day_number(a.year, a.mon, a.mday) - day_number(b.year, b.mon, b.mday);
	if (d >= -1 && d <= 1)
		snprintf(day, sizeof day, "%s",
		        d == 0  ? "today"
		        : d < 0 ? "yesterday"
		                : "tomorrow");
	else if (a.year == b.year)
		snprintf(day, sizeof day, "%s %s %d", wdays[a.wday % 7], months[(a.mon + 11) % 12],
		        a.mday);
	else
		snprintf(day, sizeof day, "%s %s %d, %d", wdays[a.wday % 7],
		        months[(a.mon + 11) % 12], a.mday, a.year);
	snprintf(buf, len, "%s at %s%s%s", day, clock12(&a, hm, sizeof hm), with_zone ? " " : "",
	        with_zone ? a.abbr : "");
	return buf;
}

/* suspect_lead - the lead line of a suspect account: what is wrong, what spoold does meanwhile */
static void suspect_lead(FILE *fp, const struct status_view *v)
{
	fputs("<p class=\"lead\">Your e-mail provider is accepting reminders but "
	      "<strong>not</strong> delivering them. ",
	        fp);
	if (v->c->verify.on_suspect == SUSPECT_STOP)
		fputs("Sending has stopped until a check message arrives again or someone runs "
		      "<code>spool resume</code>.</p>\n",
		        fp);
	else
		fprintf(fp,
		        "While this is checked, only one reminder goes out every %d minutes; "
		        "sending runs as before by itself once a check message arrives.</p>\n",
		        v->c->verify.trickle_minutes > 0 ? v->c->verify.trickle_minutes : 10);
}

/* account_box - one account's state: the word in large type, why, what to do */
static void account_box(FILE *fp, const struct status_view *v, const struct account *a,
        int main_acct, int backup_ok)
{
	static const char *const big[ACCT_NSTATES] = {
	        "RUNNING", "PAUSED", "STOPPED", "RESUMING", "NOT DELIVERING"};
	const char *who = v->nacct < 2 ? NULL : main_acct ? "Main account" : "Backup account";
	char when[96];
	int s = (unsigned)a->state < ACCT_NSTATES ? (int)a->state : ACCT_BLOCKED;

	fprintf(fp, "<section class=\"state %s%s\" aria-labelledby=\"state-",
	        account_state_name((enum account_state)s), main_acct ? "" : " small");
	put(fp, a->relay);
	fputs("\">\n<h2 id=\"state-", fp);
	put(fp, a->relay);
	fputs("\">", fp);
	if (who)
		fprintf(fp, "<span class=\"label\">%s</span>", who);
	fprintf(fp, "<span class=\"big\">%s</span></h2>\n", big[s]);
	switch (s) {
	case ACCT_RUNNING:
		fputs("<p class=\"lead\">Reminder e-mails are going out.</p>\n", fp);
		break;
	case ACCT_RATE_LIMITED:
		fputs("<p class=\"lead\">The e-mail provider asked us to slow down. ", fp);
		if (a->until > v->now)
			fprintf(fp, "Sending starts again by itself %s.</p>\n",
			        status_when(v->c, a->until, v->now, 0, when, sizeof when));
		else
			fputs("Sending starts again by itself shortly.</p>\n", fp);
		break;
	case ACCT_BLOCKED:
		fprintf(fp,
		        "<p class=\"lead\">Reminder e-mails are <strong>not</strong> going "
		        "out%s.</p>\n",
		        backup_ok ? " through this account; the backup account sends them meanwhile"
		                  : "");
		break;
	case ACCT_SUSPECT:
		suspect_lead(fp, v);
		break;
	default:
		fputs("<p class=\"lead\">Sending one test message first. If the provider accepts "
		      "it, "
		      "reminders go out again; if not, sending stops and this page says so.</p>\n",
		        fp);
	}
	if (s != ACCT_RUNNING && *a->reason) {
		fputs("<p><strong>Why:</strong> ", fp);
		put(fp, a->reason);
		fputs("</p>\n", fp);
	}
	if (s == ACCT_BLOCKED || s == ACCT_SUSPECT || (s == ACCT_RATE_LIMITED && *a->action)) {
		fputs("<div class=\"todo\"><strong>What to do:</strong> ", fp);
		put(fp, *a->action ? a->action
		        : s == ACCT_SUSPECT
		                ? "Ask your IT contact to check with the e-mail provider "
		                  "that mail from the account is delivered, then run: "
		                  "spool resume"
		                : "Ask your IT contact to look at the account.");
		fputs("</div>\n", fp);
	}
	fputs("<p class=\"meta\">", fp);
	if (s != ACCT_RUNNING && a->since)
		fprintf(fp, "%s since %s. ",
		        s == ACCT_BLOCKED   ? "Stopped"
		        : s == ACCT_PROBING ? "Resuming"
		        : s == ACCT_SUSPECT ? "Not delivering"
		                            : "Paused",
		        status_when(v->c, a->since, v->now, 1, when, sizeof when));
	if (s == ACCT_BLOCKED || s == ACCT_RATE_LIMITED || s == ACCT_SUSPECT)
		fputs("Waiting reminders are kept and go out once sending resumes. ", fp);
	fprintf(fp, "Account state: %s", account_state_name((enum account_state)s));
	if (s != ACCT_RUNNING && *a->category &&
	        strcmp(a->category, account_state_name((enum account_state)s))) {
		fputs(" (", fp);
		put(fp, a->category);
		fputs(")", fp);
	}
	fputs(".</p>\n</section>\n", fp);
}

/* budget - the last 24 hours against the daily limit */
static void budget(FILE *fp, const struct status_view *v)
{
	fputs("<section aria-labelledby=\"budget-h\">\n"
	      "<h2 id=\"budget-h\">Sent in the last 24 hours</h2>\n",
	        fp);
	if (v->per_day <= 0) {
		fprintf(fp,
		        "<p class=\"num\"><strong>%u</strong> e-mails (no daily limit is "
		        "set)</p>\n",
		        status_sent_24h(&v->sc));
	} else if (v->used_24h < 0) {
		fprintf(fp,
		        "<p class=\"num\">Not known (the record could not be read); the daily "
		        "limit is %d.</p>\n",
		        v->per_day);
	} else {
		int pct = v->used_24h >= v->per_day ? 100 : v->used_24h * 100 / v->per_day;
		fprintf(fp,
		        "<p class=\"num\"><strong>%d</strong> of %d allowed per day</p>\n"
		        "<div class=\"meter%s\" aria-hidden=\"true\"><span "
		        "style=\"width:%d%%\"></span>"
		        "</div>\n",
		        v->used_24h, v->per_day, pct >= 90 ? " full" : "", pct);
		if (pct >= 100)
			fputs("<p class=\"hint\">The daily limit is reached: reminders wait and go "
			      "out "
			      "as the allowance frees up over the next hours.</p>\n",
			        fp);
		else
			fprintf(fp, "<p class=\"hint\">%d%% of the daily limit.</p>\n", pct);
	}
	fputs("</section>\n", fp);
}

/* folders - the jobs per folder, in words */
static void folders(FILE *fp, const struct status_view *v)
{
	static const struct {
		enum folder f;
		const char *words;
	} t[] = {{F_NEW, "Ready to send"}, {F_ACTIVE, "Being sent now"},
	        {F_DEFERRED, "Waiting to retry"}, {F_HOLD, "On hold"},
	        {F_FAILED, "Failed: need a person"}, {F_CORRUPT, "Invalid files"},
	        {F_SENT, "Sent"}};
	char when[96];

	fputs("<section aria-labelledby=\"folders-h\">\n<h2 id=\"folders-h\">Reminders now</h2>\n"
	      "<ul class=\"tiles\">\n",
	        fp);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int attn = (t[i].f == F_FAILED || t[i].f == F_CORRUPT || t[i].f == F_HOLD) &&
		           v->count[t[i].f];
		fprintf(fp, "<li%s><span class=\"n\">%zu</span> %s", attn ? " class=\"attn\"" : "",
		        v->count[t[i].f], t[i].words);
		if (t[i].f == F_SENT && v->c->sent_days > 0)
			fprintf(fp, " (kept %d days)", v->c->sent_days);
		fprintf(fp, " <span class=\"f\">%s/</span></li>\n", spooldir_folder_name(t[i].f));
	}
	fputs("</ul>\n", fp);
	if (v->oldest)
		fprintf(fp, "<p class=\"hint\">The oldest reminder still waiting arrived %s.</p>\n",
		        status_when(v->c, v->oldest, v->now, 0, when, sizeof when));
	fputs("</section>\n", fp);
}

/* hour_label - the label under bucket start t: "6 AM", the weekday at
 * midnight; NULL when the hour gets none (every 6 hours; *minor for 6 AM
 * and 6 PM, which narrow screens leave out) */
static const char *hour_label(const struct conf *c, time_t t, int *minor, char *buf, size_t len)
{
	struct datefmt_tm tm;

	local(c, t, &tm);
	if (tm.hour % 6)
		return NULL;
	*minor = tm.hour % 12 != 0;
	if (tm.hour == 0)
		snprintf(buf, len, "%s", wdays[tm.wday % 7]);
	else
		snprintf(buf, len, "%d %s", tm.hour % 12 ? tm.hour % 12 : 12,
		        tm.hour < 12 ? "AM" : "PM");
	return buf;
}

/* hour_name - "Tue 2 PM" for the table and the bars' titles */
static char *hour_name(const struct conf *c, time_t t, char *buf, size_t len)
{
	struct datefmt_tm tm;

	local(c, t, &tm);
	snprintf(buf, len, "%s %d:%02d %s", wdays[tm.wday % 7], tm.hour % 12 ? tm.hour % 12 : 12,
	        tm.min, tm.hour < 12 ? "AM" : "PM");
	return buf;
}

/* nice_max - the chart's top: the first of 1 2 3 4 5 6 8, 10 12 16 20 30 40
 * 50 60 80, 100 ... at least m (from 10 on, even: the middle line is whole) */
static unsigned nice_max(unsigned m)
{
	static const unsigned small[] = {1, 2, 3, 4, 5, 6, 8},
	                      big[] = {10, 12, 16, 20, 30, 40, 50, 60, 80};
	unsigned p = 1;

	for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
		if (m <= small[i])
			return small[i];
	while (p <= 100000000) {
		for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
			if (m <= big[i] * p)
				return big[i] * p;
		p *= 10;
	}
	return m;
}

/* chart - sent, deferred and failed per hour over 48 hours: SVG and a table */
static void chart(FILE *fp, const struct status_view *v)
{
	const struct status_counters *sc = &v->sc;
	unsigned top = 0, ts = 0, td = 0, tf = 0;
	const int ph = CHART_H - CHART_T - CHART_B;
	char name[48], lab[16];
	int minor;

	for (int i = 0; i < STATUS_HOURS; i++) {
		unsigned n = sc->sent[i] + sc->deferred[i] + sc->failed[i];
		top = n > top ? n : top;
		ts += sc->sent[i], td += sc->deferred[i], tf += sc->failed[i];
	}
	top = nice_max(top ? top : 1);
	fputs("<section aria-labelledby=\"chart-h\">\n"
	      "<h2 id=\"chart-h\">E-mails per hour, last 48 hours</h2>\n<figure>\n",
	        fp);
	fprintf(fp,
	        "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"chart-t chart-d\">\n"
	        "<title id=\"chart-t\">E-mails per hour over the last 48 hours</title>\n"
	        "<desc id=\"chart-d\">Bars per hour, oldest on the left: %u sent, %u waiting to "
	        "retry, %u failed in all. The same numbers are in the table below.</desc>\n",
	        CHART_W, CHART_H, ts, td, tf);
	for (int k = 0; k <= 2; k++) {
		unsigned val = top * (unsigned)k / 2;
		int y = CHART_T + ph - ph * k / 2;
		if (k == 1 && top % 2)
			continue;
		fprintf(fp,
		        "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
		        "<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n",
		        CHART_L, CHART_L + STATUS_HOURS * BAR_W, y, y, CHART_L - 6, y + 5, val);
	}
	for (int i = STATUS_HOURS - 1; i >= 0; i--) {
		time_t t = sc->hour0 - (time_t)i * 3600;
		int x = CHART_L + (STATUS_HOURS - 1 - i) * BAR_W, y = CHART_T + ph;
		const unsigned vals[] = {sc->sent[i], sc->deferred[i], sc->failed[i]};
		const char *cls[] = {"c-sent", "c-deferred", "c-failed"};
		if (hour_label(v->c, t, &minor, lab, sizeof lab))
			fprintf(fp,
			        "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
			        "<text class=\"ax%s\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s"
			        "</text>\n",
			        x, x, CHART_T + ph, CHART_T + ph + 6, minor ? " minor" : "", x,
			        CHART_H - 6, lab);
		if (!vals[0] && !vals[1] && !vals[2])
			continue;
		fprintf(fp, "<g><title>%s: %u sent, %u waiting to retry, %u failed</title>",
		        hour_name(v->c, t, name, sizeof name), vals[0], vals[1], vals[2]);
		for (int k = 0; k < 3; k++) {
			int hgt = (int)((unsigned long long)vals[k] * (unsigned)ph / top);
			if (!vals[k])
				continue;
			hgt = hgt < 1 ? 1 : hgt;
			y -= hgt;
			fprintf(fp,
			        "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
			        cls[k], x + 1, y, BAR_W - 2, hgt);
		}
		fputs("</g>\n", fp);
	}
	fputs("</svg>\n<figcaption><ul class=\"legend\">"
	      "<li><span class=\"sw c-sent\"></span>Sent</li>"
	      "<li><span class=\"sw c-deferred\"></span>Waiting to retry</li>"
	      "<li><span class=\"sw c-failed\"></span>Failed</li></ul></figcaption>\n</figure>\n",
	        fp);
	fprintf(fp,
	        "<details>\n<summary>The numbers per hour</summary>\n<table>\n"
	        "<caption class=\"hint\">Newest first; times %s</caption>\n"
	        "<thead><tr><th scope=\"col\">Hour</th><th scope=\"col\">Sent</th>"
	        "<th scope=\"col\">Waiting to retry</th><th scope=\"col\">Failed</th></tr>"
	        "</thead>\n<tbody>\n",
	        v->c->timezone ? v->c->timezone : "of this computer");
	for (int i = 0; i < STATUS_HOURS; i++)
		fprintf(fp, "<tr><th scope=\"row\">%s</th><td>%u</td><td>%u</td><td>%u</td></tr>\n",
		        hour_name(v->c, sc->hour0 - (time_t)i * 3600, name, sizeof name),
		        sc->sent[i], sc->deferred[i], sc->failed[i]);
	fprintf(fp,
	        "</tbody>\n<tfoot><tr><th scope=\"row\">Total</th><td>%u</td><td>%u</td>"
	        "<td>%u</td></tr></tfoot>\n</table>\n</details>\n</section>\n",
	        ts, td, tf);
}

/* steps - "What to do:" and the first step, then the others (one a line) as a list */
static void steps(FILE *fp, const char *action)
{
	char buf[sizeof((struct status_problem *)0)->action];
	char *save = NULL, *line;
	int n = 0;

	snprintf(buf, sizeof buf, "%s", action);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		fputs(n == 0     ? "<p><strong>What to do:</strong> "
		        : n == 1 ? "<ul>\n<li>"
		                 : "<li>",
		        fp);
		put(fp, line);
		fputs(n == 0 ? "</p>\n" : "</li>\n", fp);
	}
	if (n > 1)
		fputs("</ul>\n", fp);
}

/* problem - one job that needs a person */
static void problem(FILE *fp, const struct status_view *v, const struct status_problem *p)
{
	char when[96];

	fprintf(fp, "<li class=\"f-%s\">\n<p><span class=\"badge\">", spooldir_folder_name(p->f));
	put(fp, status_category_words(p->category));
	fprintf(fp, "</span> <span class=\"meta\">in %s/ since %s</span></p>\n",
	        spooldir_folder_name(p->f),
	        status_when(v->c, p->mtime, v->now, 0, when, sizeof when));
	if (*p->patient || *p->email || p->appt) {
		fputs("<p class=\"who\">", fp);
		if (*p->patient) {
			fputs("<strong>", fp);
			put(fp, p->patient);
			fputs("</strong>", fp);
		}
		if (*p->email) {
			fputs(" &lt;", fp);
			put(fp, p->email);
			fputs("&gt;", fp);
		}
		if (p->appt)
			fprintf(fp, "%sAppointment %s", *p->patient || *p->email ? " · " : "",
			        status_when(v->c, p->appt, v->now, 0, when, sizeof when));
		fputs("</p>\n", fp);
	}
	fputs("<p>", fp);
	put(fp, p->reason);
	fputs("</p>\n", fp);
	if (*p->action)
		steps(fp, p->action);
	fputs("<p class=\"meta\">Job <code>", fp);
	put(fp, p->name);
	fputs("</code> (", fp);
	put(fp, p->category);
	fputs(")</p>\n</li>\n", fp);
}

/* problems - the failed, corrupt and held jobs, the most recent first */
static void problems(FILE *fp, const struct status_view *v)
{
	static const char *const detail[] = {"by their initials", "by name and e-mail address",
	        "not at all (set status_detail to show more)"};

	fprintf(fp,
	        "<section aria-labelledby=\"prob-h\">\n"
	        "<h2 id=\"prob-h\">Reminders that need a person (%zu)</h2>\n",
	        v->nall);
	if (!v->nall) {
		fputs("<p class=\"ok-note\">None: no reminder has failed, is on hold or is "
		      "invalid.</p>\n</section>\n",
		        fp);
		return;
	}
	fprintf(fp,
	        "<p class=\"hint\">Failed, on hold and invalid reminders, newest first. "
	        "Patients are shown %s.</p>\n<ol class=\"problems\">\n",
	        detail[v->c->status_detail <= STATUS_DETAIL_NONE ? v->c->status_detail : 0]);
	for (size_t i = 0; i < v->nprob; i++)
		problem(fp, v, &v->prob[i]);
	fputs("</ol>\n", fp);
	if (v->nall > v->nprob)
		fprintf(fp,
		        "<p>… and %zu more, not listed here. The full list: "
		        "<code>spool list --failed --hold --corrupt</code></p>\n",
		        v->nall - v->nprob);
	fputs("</section>\n", fp);
}

/* status_html - the page */
void status_html(const struct status_view *v, FILE *fp)
{
	static const char *const word[ACCT_NSTATES] = {
	        "RUNNING", "PAUSED", "STOPPED", "RESUMING", "NOT DELIVERING"};
	const char *practice = v->c->relay.from_name;
	int main_state = v->nacct ? (int)v->acct[0].state : ACCT_RUNNING;
	int backup_ok = v->nacct > 1 && v->acct[1].state == ACCT_RUNNING;
	char when[96];

	main_state = (unsigned)main_state < ACCT_NSTATES ? main_state : ACCT_BLOCKED;
	fprintf(fp,
	        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<meta http-equiv=\"refresh\" content=\"30\">\n"
	        "<meta name=\"color-scheme\" content=\"light dark\">\n"
	        "<title>%s: reminder e-mails",
	        word[main_state]);
	if (practice) {
		fputs(" · ", fp);
		put(fp, practice);
	}
	fprintf(fp,
	        "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>Reminder e-mails",
	        css);
	if (practice) {
		fputs(" <span>· ", fp);
		put(fp, practice);
		fputs("</span>", fp);
	}
	fputs("</h1>\n</header>\n<main>\n", fp);
	for (int i = 0; i < v->nacct; i++)
		account_box(fp, v, &v->acct[i], i == 0, backup_ok);
	folders(fp, v);
	problems(fp, v);
	budget(fp, v);
	chart(fp, v);
	fprintf(fp,
	        "</main>\n<footer>\n<p>Last change: %s. This page reloads itself every 30 "
	        "seconds and is rewritten whenever something changes.</p>\n"
	        "<p>If sending is RUNNING and reminders are waiting but this time is hours old, "
	        "the spoold service may have stopped: tell your IT contact.</p>\n"
	        "</footer>\n</body>\n</html>\n",
	        status_when(v->c, v->now, v->now, 1, when, sizeof when));
}
