/*
 * reply - the provider-aware classifier: what an SMTP outcome means.
 *
 * Owns the logic; the words are data in reply_rules.c.  reply_judge
 *   1. settles replies that are not failures: a 2xx at data-end is sent,
 *      any other 2xx/3xx (or a code out of range) is not a verdict;
 *      code 0 (no reply) is a drop: unknown-outcome after the final dot,
 *      tls-failed at STARTTLS, transient elsewhere;
 *   2. normalises the text (lower case; the reply code and repeated
 *      enhanced codes at line starts removed, so phrases that span lines
 *      match; lines joined by one space; white space collapsed) and finds
 *      the reply's own enhanced code (the one the text starts with);
 *   3. walks the rule table in order of precedence, first match wins;
 *   4. for rate-limited and transient verdicts, reads a retry time from the
 *      text (reply_when.c: "after/until <date>", "in N minutes"...).  Rate
 *      limits without a time wait 24 h (daily quotas) or the rule's
 *      back-off.
 * reply_judge_local adds the local flags first: tls_error -> tls-failed;
 * refused (spoold refused the step) -> sender-rejected at MAIL,
 * recipient-invalid at RCPT, message-rejected at DATA, auth-failed (the
 * settings) elsewhere; a timeout is code 0 as above.
 *
 * Pure: no state, no allocation, no locale, no libc time zone; safe for
 * any input (a fuzz target is tests/fuzz/fuzz_reply.c).  The escalation of
 * repeated message-rejected replies to account-blocked needs history and
 * belongs to the caller.
 */
#include <string.h>

#include "reply.h"
#include "reply_int.h"
#include "reply_rules.h"

#define NORM_MAX 4096 /* normalised text kept; the rest is ignored */

static const char *const stage_names[] = {
        "connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data-end"};

/* An enhanced status code (RFC 3463): class.subject.detail. */
struct enh {
	int ok, cls, subj, det;
};

/* same_word - a and b equal, ignoring ASCII case */
static int same_word(const char *a, const char *b)
{
	for (; *a && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* enh_scan - an enhanced code at s ("5.7.14" then space, ';', ',' or the end); its length, 0 */
static size_t enh_scan(const char *s, const char *end, struct enh *e)
{
	const char *p = s;
	int part[3];

	for (int i = 0; i < 3; i++) {
		int n = 0, v = 0;
		while (p < end && is_digit((unsigned char)*p) && n < 3) {
			v = v * 10 + (*p++ - '0');
			n++;
		}
		if (n == 0 || (i == 0 && (n != 1 || (v != 2 && v != 4 && v != 5))))
			return 0;
		part[i] = v;
		if (i < 2) {
			if (p >= end || *p != '.')
				return 0;
			p++;
		}
	}
	if (p < end && (is_alnum((unsigned char)*p) || *p == '.'))
		return 0;
	if (e) {
		e->ok = 1;
		e->cls = part[0];
		e->subj = part[1];
		e->det = part[2];
	}
	return (size_t)(p - s);
}

/* normalise - the reply text as patterns see it, into out; the reply's enhanced code in *e */
static void normalise(const char *text, int code, char *out, size_t len, struct enh *e)
{
	const char *line = text, *end, *p;
	char prev[16] = "";
	size_t n = 0;
	int space = 0;

	memset(e, 0, sizeof *e);
	while (*line) {
		end = line + strcspn(line, "\n");
		p = line;
		while (p < end && is_space((unsigned char)*p))
			p++;
		/* "550-" or "550 " when the reply code was kept in the text */
		if (code >= 100 && code <= 599 && end - p >= 3 && p[0] - '0' == code / 100 &&
		        p[1] - '0' == code / 10 % 10 && p[2] - '0' == code % 10 &&
		        (end - p == 3 || p[3] == ' ' || p[3] == '-')) {
			p += end - p == 3 ? 3 : 4;
			while (p < end && is_space((unsigned char)*p))
				p++;
		}
		struct enh here;
		size_t k = enh_scan(p, end, &here);
		if (k) {
			if (!e->ok)
				*e = here;
			if (k < sizeof prev && strlen(prev) == k && !memcmp(prev, p, k))
				p += k; /* the same code again: a continuation line */
			else if (k < sizeof prev) {
				memcpy(prev, p, k);
				prev[k] = '\0';
			}
		}
		for (; p < end; p++) {
			unsigned char c = (unsigned char)*p;
			if (is_space(c)) {
				space = n > 0;
				continue;
			}
			if (n + 2 >= len)
				break;
			if (space)
				out[n++] = ' ';
			space = 0;
			out[n++] = (char)lower(c);
		}
		space = n > 0;
		line = *end ? end + 1 : end;
	}
	out[n] = '\0';
}

static const char *pat_seq(const char *p, const char *t, const char *start);

/* pat_unit - one unit of a pattern at *p ('#' or a character) against *t;
 * advances both; 0 when it does not match */
static int pat_unit(const char **p, const char **t)
{
	if (**p == '#') {
		if (!is_digit((unsigned char)**t))
			return 0;
		while (is_digit((unsigned char)**t))
			(*t)++;
		(*p)++;
		return 1;
	}
	if (**t == '\0' || lower((unsigned char)**p) != (unsigned char)**t)
		return 0;
	(*p)++;
	(*t)++;
	return 1;
}

/* pat_seq - the rest of pattern p at t (the match began at start); end of the match, or NULL */
static const char *pat_seq(const char *p, const char *t, const char *start)
{
	for (;;) {
		if (*p == '\0' || (*p == '*' && p[1] == '\0')) {
			if (*p == '\0' && t > start && is_alnum((unsigned char)t[-1]) &&
			        is_alnum((unsigned char)*t))
				return NULL; /* ends inside a word */
			return t;
		}
		if (*p == '{') {
			const char *close = strchr(p, '}'), *a = p + 1;
			if (!close)
				return NULL;
			for (;;) {
				const char *q = a, *u = t, *r;
				while (q < close && *q != '|' && pat_unit(&q, &u))
					;
				if ((q == close || *q == '|') && (r = pat_seq(close + 1, u, start)))
					return r;
				while (q < close && *q != '|')
					q++;
				if (q >= close)
					return NULL;
				a = q + 1;
			}
		}
		if (!pat_unit(&p, &t))
			return NULL;
	}
}

/* first_chars - the characters a match of p can start with, into set
 * (NUL-terminated); 0 when any can ('#', an empty alternative) */
static int first_chars(const char *p, char *set, size_t len)
{
	size_t n = 0;

	if (*p != '{') {
		if (*p == '#' || *p == '\0' || len < 2)
			return 0;
		set[n++] = (char)lower((unsigned char)*p);
	} else
		for (const char *a = p + 1;; a++) {
			if (*a == '|' || *a == '}' || *a == '\0' || *a == '#' || n + 2 > len)
				return 0;
			set[n++] = (char)lower((unsigned char)*a);
			while (*a && *a != '|' && *a != '}')
				a++;
			if (*a != '|')
				break;
		}
	set[n] = '\0';
	return 1;
}

/* pat_find - 1 when pattern pat occurs in the normalised text t */
static int pat_find(const char *pat, const char *t)
{
	int loose = pat[0] == '*';
	const char *p = pat + loose;
	char set[32];
	int filter = first_chars(p, set, sizeof set);

	for (const char *s = t; *s; s++) {
		if (filter && !strchr(set, *s))
			continue;
		if (!loose && s > t && is_alnum((unsigned char)s[-1]) &&
		        is_alnum((unsigned char)*s))
			continue;
		if (pat_seq(p, s, s))
			return 1;
	}
	return 0;
}

/* enh_part - one part of an enh pattern ("x", "*" or a number) against v; advances *p */
static int enh_part(const char **p, int v)
{
	int n = 0, any = 0;

	if (**p == 'x' || **p == '*') {
		(*p)++;
		return 1;
	}
	while (is_digit((unsigned char)**p)) {
		n = n * 10 + (*(*p)++ - '0');
		any = 1;
	}
	return any && n == v;
}

/* enh_match - the reply's enhanced code e against a pattern such as "x.1.*" */
static int enh_match(const char *pat, const struct enh *e)
{
	const char *p = pat;

	if (!e->ok || !enh_part(&p, e->cls) || *p++ != '.' || !enh_part(&p, e->subj) ||
	        *p++ != '.' || !enh_part(&p, e->det))
		return 0;
	return *p == '\0';
}

/* any_text - 1 when one of the patterns occurs in t */
static int any_text(const char *const *pats, const char *t)
{
	for (; pats && *pats; pats++)
		if (pat_find(*pats, t))
			return 1;
	return 0;
}

/* rule_holds - rule r's conditions for (stage, code, normalised text, enhanced code) */
static int rule_holds(const struct reply_rule *r, enum smtp_stage stage, int code, const char *t,
        const struct enh *e)
{
	unsigned cls = code / 100 == 4 ? RC_4XX : RC_5XX;
	int cond = 0, hit = 0;

	if (r->flags & RF_LOCAL)
		return 0;
	if (r->stages && !(r->stages & RS(stage)))
		return 0;
	if (r->classes && !(r->classes & cls))
		return 0;
	if (r->codes) {
		cond = 1;
		for (const int *c = r->codes; *c && !hit; c++)
			hit = *c == code;
	}
	if (r->enh) {
		cond = 1;
		for (const char *const *p = r->enh; *p && !hit; p++)
			hit = enh_match(*p, e);
	}
	if (r->text) {
		cond = 1;
		hit = hit || any_text(r->text, t);
	}
	if (cond && !hit)
		return 0;
	return !any_text(r->unless, t);
}

/* rule_by_id - a local rule of the table; a generic one if the table lacks it */
static const struct reply_rule *rule_by_id(const char *id)
{
	static const struct reply_rule missing = {.id = "missing-rule",
	        .cat = CAT_TRANSIENT,
	        .explanation = "The outcome is unknown.",
	        .action = "Nothing to do: spoold tries again by itself."};

	for (size_t i = 0; i < reply_nrules; i++)
		if (!strcmp(reply_rules[i].id, id))
			return &reply_rules[i];
	return &missing;
}

/* fill - v from rule r */
static void fill(struct verdict *v, const struct reply_rule *r)
{
	memset(v, 0, sizeof *v);
	v->cat = r->cat;
	v->daily = !!(r->flags & RF_DAILY);
	v->one_connection = !!(r->flags & RF_ONE_CONN);
	v->reconnect = !!(r->flags & RF_RECONNECT);
	v->explanation = r->explanation;
	v->action = r->action;
	v->rule = r->id;
}

/* reply_judge - a pure function of (stage, code, text, now): the verdict */
void reply_judge(enum smtp_stage stage, int code, const char *text, time_t now, struct verdict *v)
{
	char norm[NORM_MAX];
	struct enh e;
	const struct reply_rule *r = NULL;

	if ((unsigned)stage > STAGE_DATA_END)
		stage = STAGE_CONNECT;
	if (code == 0) {
		fill(v, rule_by_id(stage == STAGE_DATA_END   ? "no-answer-after-message"
		                   : stage == STAGE_STARTTLS ? "encryption-no-answer"
		                                             : "connection-failed"));
		return;
	}
	if (code >= 200 && code < 300 && stage == STAGE_DATA_END) {
		fill(v, rule_by_id("accepted"));
		return;
	}
	if (code < 400 || code > 599) {
		fill(v, rule_by_id("unexpected-reply"));
		return;
	}
	normalise(text ? text : "", code, norm, sizeof norm, &e);
	for (size_t i = 0; i < reply_nrules && !r; i++)
		if (rule_holds(&reply_rules[i], stage, code, norm, &e))
			r = &reply_rules[i];
	fill(v, r ? r : rule_by_id(code < 500 ? "temporary" : "rejected"));
	if (v->cat == CAT_RATE_LIMITED || v->cat == CAT_TRANSIENT)
		v->retry_at = reply_retry_time(norm, now);
	if (v->cat == CAT_RATE_LIMITED && !v->retry_at)
		v->retry_at =
		        now + (v->daily ? DAY : (time_t)(r && r->backoff ? r->backoff : 5) * 60);
}

/* reply_judge_local - the same for a struct smtp_reply (also uses tls_error/timeout/refused) */
void reply_judge_local(const struct smtp_reply *r, time_t now, struct verdict *v)
{
	char text[sizeof r->text + 1];

	if (r->tls_error) {
		fill(v, rule_by_id("tls-handshake"));
		return;
	}
	if (r->refused) {
		fill(v, rule_by_id(r->stage == STAGE_MAIL   ? "refused-sender"
		                   : r->stage == STAGE_RCPT ? "refused-recipient"
		                   : r->stage == STAGE_DATA || r->stage == STAGE_DATA_END
		                           ? "refused-message"
		                           : "refused-settings"));
		return;
	}
	if (r->code == 0 && r->timeout && r->stage != STAGE_DATA_END &&
	        r->stage != STAGE_STARTTLS) {
		fill(v, rule_by_id("timeout"));
		return;
	}
	memcpy(text, r->text, sizeof r->text);
	text[sizeof r->text] = '\0'; /* not trusted to be terminated */
	reply_judge(r->stage, r->code, text, now, v);
}

/* reply_stage_parse - "connect" ... "data-end" -> stage; -1 when unknown */
int reply_stage_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof stage_names / sizeof stage_names[0]; i++)
		if (same_word(stage_names[i], s))
			return (int)i;
	return -1;
}

/* reply_category_parse - name -> category; -1 */
int reply_category_parse(const char *s)
{
	for (size_t i = 0; s && i < reply_ncat; i++)
		if (same_word(reply_cat_names[i], s))
			return (int)i;
	return -1;
}

/* reply_classify - the category of a failed step (never CAT_SENT: a 2xx
 * handed in as a failure is not a verdict, as before) */
enum category reply_classify(const struct smtp_reply *r)
{
	struct verdict v;

	reply_judge_local(r, time(NULL), &v);
	return v.cat == CAT_SENT ? CAT_TRANSIENT : v.cat;
}

/* reply_category_name - "sent", "account-blocked", ... */
const char *reply_category_name(enum category c)
{
	if ((unsigned)c >= reply_ncat)
		return "unknown";
	return reply_cat_names[c];
}

/* reply_job_fails - 1 when the category fails this one job */
int reply_job_fails(enum category c)
{
	return c == CAT_RECIPIENT_INVALID || c == CAT_MESSAGE_REJECTED;
}

/* reply_stops_account - 1 when sending must stop for every job */
int reply_stops_account(enum category c)
{
	return c == CAT_ACCOUNT_BLOCKED || c == CAT_AUTH_FAILED || c == CAT_SENDER_REJECTED ||
	       c == CAT_TLS_FAILED || c == CAT_RATE_LIMITED;
}

/* reply_explain - a plain-English sentence for staff */
const char *reply_explain(enum category c)
{
	if ((unsigned)c >= reply_ncat)
		return "The outcome is unknown.";
	return reply_cat_explain[c];
}
