/*
 * conf - the configuration file, read with libinih; see conf.h.
 *
 * Every key is listed once in the tables below with its default; unknown
 * sections and keys are errors (a typo must not silently fall back to a
 * default).  The secret in relay.password_file is read here, once, and
 * refused when the file is readable by group or others.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "conf_int.h"
#include "profile.h"

/* conf_path - opt, else $SPOOLD_CONF, else /etc/spoold.conf */
const char *conf_path(const char *opt)
{
	const char *env;

	if (opt && *opt)
		return opt;
	env = getenv("SPOOLD_CONF");
	if (env && *env)
		return env;
	return CONF_DEFAULT_PATH;
}

/* conf_tls_name - the configuration word for a TLS mode */
const char *conf_tls_name(enum tls_mode m)
{
	switch (m) {
	case TLS_IMPLICIT:
		return "implicit";
	case TLS_NONE:
		return "none";
	default:
		return "starttls";
	}
}

/* conf_status_detail_name - the configuration word for a status_detail */
const char *conf_status_detail_name(enum status_detail d)
{
	switch (d) {
	case STATUS_DETAIL_FULL:
		return "full";
	case STATUS_DETAIL_NONE:
		return "none";
	default:
		return "initials";
	}
}

/* conf_set_str - replace an owned string */
void conf_set_str(char **dst, const char *val)
{
	free(*dst);
	*dst = *val ? strdup(val) : NULL;
}

/* conf_int - parse a bounded integer */
int conf_int(const char *val, long lo, long hi, int *out)
{
	char *end;
	long v;

	if (lo == 0 && hi == 1) { /* a yes/no key */
		static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no",
		                                                                     "false", "off",
		                                                                     "0"};
		for (size_t i = 0; i < 4; i++) {
			if (!strcasecmp(val, yes[i]) || !strcasecmp(val, no[i])) {
				*out = !strcasecmp(val, yes[i]);
				return 0;
			}
		}
		return -1;
	}
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* relay_defaults - an unconfigured relay section */
static void relay_defaults(struct relay_conf *r, const char *section)
{
	r->section = section;
	r->tls = TLS_STARTTLS;
	r->timeout = 30;
	r->idle = 30;
	r->pacing = (struct pacing_conf){-1, -1, -1, -1, -1, -1, -1, -1};
}

/* conf_defaults - every documented default */
static void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->spool_dir = strdup(CONF_DEFAULT_SPOOL);
	c->user = strdup("spoold");
	c->dedupe_days = 7;
	c->sent_days = 30;
	c->recall_days = 30;
	c->retry_max_minutes = 60;
	c->alerts.command_timeout = 30;
	c->status_detail = STATUS_DETAIL_INITIALS;
	relay_defaults(&c->relay, "relay");
	relay_defaults(&c->fallback, "fallback");
	relay_defaults(&c->alert_relay, "alert_relay");
	conf_verify_defaults(c);
}

struct int_key {
	const char *section, *name;
	size_t off;
	long lo, hi;
};

#define CONF_OFF(m) offsetof(struct conf, m)
static const struct int_key int_keys[] = {
        {"", "dedupe_days", CONF_OFF(dedupe_days), 0, 3650},
        {"", "sent_days", CONF_OFF(sent_days), 0, 3650},
        {"", "recall_days", CONF_OFF(recall_days), 1, 3650},
        {"", "retry_max_minutes", CONF_OFF(retry_max_minutes), 1, 7 * 24 * 60},
        {"message", "ics", CONF_OFF(message.ics), 0, 1},
        {"alerts", "command_timeout", CONF_OFF(alerts.command_timeout), 1, 3600},
};

struct str_key {
	const char *section, *name;
	size_t off;
};

static const struct str_key str_keys[] = {
        {"", "spool_dir", CONF_OFF(spool_dir)},
        {"", "user", CONF_OFF(user)},
        {"", "timezone", CONF_OFF(timezone)},
        {"pacing", "timezone", CONF_OFF(timezone)},
        {"", "templates_dir", CONF_OFF(templates_dir)},
        {"", "probe_to", CONF_OFF(probe_to)},
        {"message", "unsubscribe_mailto", CONF_OFF(message.unsubscribe_mailto)},
        {"message", "unsubscribe_url", CONF_OFF(message.unsubscribe_url)},
        {"message", "organizer", CONF_OFF(message.organizer)},
        {"alerts", "command", CONF_OFF(alerts.command)},
        {"alerts", "alert_to", CONF_OFF(alerts.alert_to)},
};

/* Keys of [relay], [fallback] and [alert_relay], relative to struct relay_conf. */
#define RELAY_OFF(m) offsetof(struct relay_conf, m)
static const struct int_key relay_int_keys[] = {
        {"", "port", RELAY_OFF(port), 1, 65535},
        {"", "timeout", RELAY_OFF(timeout), 1, 3600},
        {"", "idle", RELAY_OFF(idle), 0, 3600},
};
static const struct str_key relay_str_keys[] = {
        {"", "profile", RELAY_OFF(profile)},
        {"", "host", RELAY_OFF(host)},
        {"", "ca_file", RELAY_OFF(ca_file)},
        {"", "user", RELAY_OFF(user)},
        {"", "password_file", RELAY_OFF(password_file)},
        {"", "from", RELAY_OFF(from)},
        {"", "from_name", RELAY_OFF(from_name)},
        {"", "helo", RELAY_OFF(helo)},
};
/* Pacing keys: in [pacing] for [relay], inline in [fallback]. */
#define PACE_OFF(m) offsetof(struct pacing_conf, m)
static const struct int_key pacing_keys[] = {
        {"", "per_minute", PACE_OFF(per_minute), 0, 1000000},
        {"", "per_hour", PACE_OFF(per_hour), 0, 1000000},
        {"", "per_day", PACE_OFF(per_day), 0, 1000000},
        {"", "connections", PACE_OFF(connections), 0, 100},
        {"", "per_connection", PACE_OFF(per_connection), 0, 1000000},
        {"", "min_gap_ms", PACE_OFF(min_gap_ms), 0, 3600000},
};

/* set_int - one integer key into base+off; 1 ok, 0 bad value (err set) */
static int set_int(struct conf_ctx *ctx, const struct int_key *k, void *base, const char *section,
        const char *name, const char *value)
{
	if (conf_int(value, k->lo, k->hi, (int *)((char *)base + k->off)) == 0)
		return 1;
	if (k->lo == 0 && k->hi == 1)
		snprintf(ctx->err, sizeof ctx->err, "%s%s%s: \"%s\" must be yes or no", section,
		        *section ? "." : "", name, value);
	else
		snprintf(ctx->err, sizeof ctx->err,
		        "%s%s%s: \"%s\" is not a whole number from %ld to %ld", section,
		        *section ? "." : "", name, value, k->lo, k->hi);
	return 0;
}

/* find_int / find_str - a key in a table, or NULL */
static const struct int_key *find_int(
        const struct int_key *t, size_t n, const char *section, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(section, t[i].section) && !strcmp(name, t[i].name))
			return &t[i];
	return NULL;
}

static const struct str_key *find_str(
        const struct str_key *t, size_t n, const char *section, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(section, t[i].section) && !strcmp(name, t[i].name))
			return &t[i];
	return NULL;
}

#define N(t) (sizeof t / sizeof t[0])

/* quiet_parse - "21:00-08:00" into minutes after midnight */
static int quiet_parse(const char *v, struct pacing_conf *p)
{
	int h1, m1, h2, m2, n = 0;

	if (!strcmp(v, "") || !strcmp(v, "none")) {
		p->quiet_start = p->quiet_end = -1;
		return 0;
	}
	if (sscanf(v, "%d:%d-%d:%d%n", &h1, &m1, &h2, &m2, &n) != 4 || v[n] || h1 < 0 || h1 > 23 ||
	        h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
		return -1;
	p->quiet_start = h1 * 60 + m1;
	p->quiet_end = h2 * 60 + m2;
	return 0;
}

/* conf_tls_parse - a tls key's value */
int conf_tls_parse(const char *val, enum tls_mode *out)
{
	if (!strcmp(val, "starttls"))
		*out = TLS_STARTTLS;
	else if (!strcmp(val, "implicit"))
		*out = TLS_IMPLICIT;
	else if (!strcmp(val, "none"))
		*out = TLS_NONE;
	else
		return -1;
	return 0;
}

/* relay_key - a key of a relay section or of its pacing; 1 ok, 0 error, -1 unknown */
static int relay_key(struct conf_ctx *ctx, struct relay_conf *r, int pacing_inline,
        const char *section, const char *name, const char *value)
{
	const struct int_key *ik;
	const struct str_key *sk;

	r->configured = 1;
	if ((ik = find_int(relay_int_keys, N(relay_int_keys), "", name)))
		return set_int(ctx, ik, r, section, name, value);
	if ((sk = find_str(relay_str_keys, N(relay_str_keys), "", name))) {
		conf_set_str((char **)((char *)r + sk->off), value);
		return 1;
	}
	if (!strcmp(name, "tls")) {
		if (conf_tls_parse(value, &r->tls) < 0) {
			snprintf(ctx->err, sizeof ctx->err,
			        "%s.tls: \"%s\" must be starttls, implicit or none", section,
			        value);
			return 0;
		}
		r->tls_set = 1;
		return 1;
	}
	if (pacing_inline && (ik = find_int(pacing_keys, N(pacing_keys), "", name)))
		return set_int(ctx, ik, &r->pacing, section, name, value);
	return -1;
}

/* conf_handler - libinih callback: one key at a time */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *ctx = user;
	struct conf *c = ctx->c;
	const struct int_key *ik;
	const struct str_key *sk;
	int rc = -1;

	if ((ik = find_int(int_keys, N(int_keys), section, name)))
		return set_int(ctx, ik, c, section, name, value);
	if ((sk = find_str(str_keys, N(str_keys), section, name))) {
		conf_set_str((char **)((char *)c + sk->off), value);
		return 1;
	}
	if (!*section && !strcmp(name, "status_detail")) {
		for (int d = STATUS_DETAIL_INITIALS; d <= STATUS_DETAIL_NONE; d++)
			if (!strcmp(value, conf_status_detail_name((enum status_detail)d))) {
				c->status_detail = (enum status_detail)d;
				return 1;
			}
		snprintf(
		        ctx->err, sizeof ctx->err, "status_detail: must be full, initials or none");
		return 0;
	}
	if (!strcmp(section, "verify") || !strcmp(section, "canary"))
		rc = conf_verify_key(ctx, section, name, value);
	else if (!strcmp(section, "relay"))
		rc = relay_key(ctx, &c->relay, 0, section, name, value);
	else if (!strcmp(section, "fallback"))
		rc = relay_key(ctx, &c->fallback, 1, section, name, value);
	else if (!strcmp(section, "alert_relay"))
		rc = relay_key(ctx, &c->alert_relay, 0, section, name, value);
	else if (!strcmp(section, "pacing")) {
		if ((ik = find_int(pacing_keys, N(pacing_keys), "", name)))
			return set_int(ctx, ik, &c->relay.pacing, section, name, value);
		if (!strcmp(name, "quiet_hours")) {
			if (quiet_parse(value, &c->relay.pacing) == 0 &&
			        quiet_parse(value, &c->fallback.pacing) == 0)
				return 1;
			snprintf(ctx->err, sizeof ctx->err,
			        "pacing.quiet_hours: \"%s\" must look like 21:00-08:00", value);
			return 0;
		}
	} else if (*section && strcmp(section, "message") && strcmp(section, "alerts")) {
		snprintf(ctx->err, sizeof ctx->err, "unknown section [%s]", section);
		return 0;
	}
	if (rc >= 0)
		return rc;
	snprintf(ctx->err, sizeof ctx->err, "unknown key \"%s\"%s%s%s", name,
	        *section ? " in [" : "", section, *section ? "]" : "");
	return 0;
}

/* conf_read_secret - read a password file that only its owner may read */
int conf_read_secret(const char *sect, const char *path, char **out, char *err, size_t errlen)
{
	struct stat st;
	char buf[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s.password_file %s: %s", sect, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s.password_file %s: not a regular file", sect, path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		        "%s.password_file %s is readable by group or others (mode %04o); "
		        "run: chmod 600 %s",
		        sect, path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s.password_file %s: %s", sect, path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* the first line is the secret */
	if (!*buf) {
		snprintf(err, errlen, "%s.password_file %s is empty", sect, path);
		return -1;
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* inherit - copy a string the section did not set */
static void inherit(char **dst, const char *src)
{
	if (!*dst && src)
		*dst = strdup(src);
}

/* pace_fill - a limit not set takes the profile's value, else 0 (no limit) */
static void pace_fill(int *v, int from_profile)
{
	if (*v < 0)
		*v = from_profile;
}

/* relay_check - one relay section: profile, defaults, rules, secret */
static int relay_check(struct relay_conf *r, int secrets, char *err, size_t errlen)
{
	const struct profile *p = NULL;
	struct pacing_conf *pc = &r->pacing;
	char why[128];

	if (r->profile && !(p = profile_find(r->profile))) {
		snprintf(err, errlen, "%s.profile: \"%s\" is not one of %s", r->section, r->profile,
		        profile_names());
		return -1;
	}
	if (p) {
		inherit(&r->host, p->host);
		if (!r->tls_set)
			r->tls = p->tls;
		if (!r->port)
			r->port = p->port;
	}
	pace_fill(&pc->per_minute, p ? p->per_minute : 0);
	pace_fill(&pc->per_hour, p ? p->per_hour : 0);
	pace_fill(&pc->per_day, p ? p->per_day : 0);
	pace_fill(&pc->connections, p ? p->connections : 1);
	pace_fill(&pc->per_connection, p ? p->per_connection : 0);
	pace_fill(&pc->min_gap_ms, p ? p->min_gap_ms : 0);
	if (r->port == 0)
		r->port = r->tls == TLS_IMPLICIT ? 465 : r->tls == TLS_NONE ? 25 : 587;
	if (r->from && !addr_valid(r->from, why, sizeof why)) {
		snprintf(err, errlen, "%s.from: \"%s\" is not a valid address: %s", r->section,
		        r->from, why);
		return -1;
	}
	if (r->user && r->tls == TLS_NONE) {
		snprintf(err, errlen,
		        "%s: AUTH over an unencrypted connection is refused: "
		        "set tls = starttls or implicit, or remove user",
		        r->section);
		return -1;
	}
	if (r->user && !r->password_file) {
		snprintf(err, errlen, "%s.user is set but %s.password_file is not", r->section,
		        r->section);
		return -1;
	}
	if (secrets && r->password_file &&
	        conf_read_secret(r->section, r->password_file, &r->password, err, errlen) < 0)
		return -1;
	return 0;
}

/* check_addr - an optional address key */
static int check_addr(const char *key, const char *v, char *err, size_t errlen)
{
	char why[128];

	if (v && !addr_valid(v, why, sizeof why)) {
		snprintf(err, errlen, "%s: \"%s\" is not a valid address: %s", key, v, why);
		return -1;
	}
	return 0;
}

/* conf_check - rules across keys, once the whole file is read */
static int conf_check(struct conf *c, int secrets, char *err, size_t errlen)
{
	if (!c->spool_dir || c->spool_dir[0] != '/') {
		snprintf(err, errlen, "spool_dir must be an absolute path");
		return -1;
	}
	if (c->message.unsubscribe_url && strncmp(c->message.unsubscribe_url, "https://", 8)) {
		snprintf(err, errlen, "message.unsubscribe_url must start with https://");
		return -1;
	}
	if (check_addr("message.unsubscribe_mailto", c->message.unsubscribe_mailto, err, errlen) ||
	        check_addr("message.organizer", c->message.organizer, err, errlen) ||
	        check_addr("probe_to", c->probe_to, err, errlen) ||
	        check_addr("alerts.alert_to", c->alerts.alert_to, err, errlen))
		return -1;
	/* The fallback and alert relays send as the practice unless told otherwise. */
	inherit(&c->fallback.from, c->relay.from);
	inherit(&c->fallback.from_name, c->relay.from_name);
	inherit(&c->alert_relay.from, c->relay.from);
	inherit(&c->alert_relay.from_name, c->relay.from_name);
	if (c->fallback.pacing.quiet_start < 0 && c->relay.pacing.quiet_start >= 0) {
		c->fallback.pacing.quiet_start = c->relay.pacing.quiet_start;
		c->fallback.pacing.quiet_end = c->relay.pacing.quiet_end;
	}
	if (relay_check(&c->relay, secrets, err, errlen) < 0 ||
	        relay_check(&c->fallback, secrets, err, errlen) < 0 ||
	        relay_check(&c->alert_relay, secrets, err, errlen) < 0)
		return -1;
	if (c->fallback.configured && !c->fallback.host) {
		snprintf(err, errlen, "[fallback] needs a host (or a profile)");
		return -1;
	}
	if (c->alerts.alert_to && !c->alert_relay.host) {
		snprintf(err, errlen,
		        "alerts.alert_to needs an [alert_relay] with a host: alerts must not go "
		        "through the account that may be blocked");
		return -1;
	}
	return conf_verify_check(c, secrets, err, errlen);
}

/* conf_read - defaults, then the file; the secret when asked */
static int conf_read(struct conf *c, const char *path, int secrets, char *err, size_t errlen)
{
	struct conf_ctx ctx = {.c = c};
	struct stat st;
	FILE *fp;
	int line;

	conf_defaults(c);
	c->path = strdup(path);
	fp = fopen(path, "re");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 022)) {
		snprintf(err, errlen, "%s is writable by group or others (mode %04o); refusing it",
		        path, (unsigned)(st.st_mode & 07777));
		fclose(fp);
		goto fail;
	}
	line = ini_parse_file(fp, conf_handler, &ctx);
	if (line == 0)
		conf_verify_sections(c, fp);
	fclose(fp);
	if (line != 0) {
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, line,
			        *ctx.err ? ctx.err : "syntax error");
		else
			snprintf(err, errlen, "%s: cannot parse", path);
		goto fail;
	}
	if (conf_check(c, secrets, ctx.err, sizeof ctx.err) < 0) {
		snprintf(err, errlen, "%s: %s", path, ctx.err);
		goto fail;
	}
	return 0;
fail:
	conf_free(c);
	return -1;
}

/* conf_load - defaults, then the file, with the secret */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	return conf_read(c, path, 1, err, errlen);
}

/* conf_load_nosecret - defaults, then the file, without the secret */
int conf_load_nosecret(struct conf *c, const char *path, char *err, size_t errlen)
{
	return conf_read(c, path, 0, err, errlen);
}

/* relay_free - one relay section's strings, the secret wiped */
static void relay_free(struct relay_conf *r)
{
	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	for (size_t i = 0; i < N(relay_str_keys); i++)
		free(*(char **)((char *)r + relay_str_keys[i].off));
}

/* conf_free - release every owned string and wipe the secrets */
void conf_free(struct conf *c)
{
	relay_free(&c->relay);
	relay_free(&c->fallback);
	relay_free(&c->alert_relay);
	conf_verify_free(c);
	/* timezone appears twice in the table ("" and [pacing]): free it once. */
	for (size_t i = 0; i < N(str_keys); i++)
		if (strcmp(str_keys[i].section, "pacing"))
			free(*(char **)((char *)c + str_keys[i].off));
	free(c->path);
	memset(c, 0, sizeof *c);
}
