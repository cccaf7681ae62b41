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

struct conf_ctx {
	struct conf *c;
	char err[512];
};

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

/* conf_set_str - replace an owned string */
static void conf_set_str(char **dst, const char *val)
{
	free(*dst);
	*dst = *val ? strdup(val) : NULL;
}

/* conf_int - parse a bounded integer */
static int conf_int(const char *val, long lo, long hi, int *out)
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
	c->relay.tls = TLS_STARTTLS;
	c->relay.timeout = 30;
	c->relay.idle = 30;
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
        {"relay", "port", CONF_OFF(relay.port), 1, 65535},
        {"relay", "timeout", CONF_OFF(relay.timeout), 1, 3600},
        {"relay", "idle", CONF_OFF(relay.idle), 0, 3600},
};

struct str_key {
	const char *section, *name;
	size_t off;
};

static const struct str_key str_keys[] = {
        {"", "spool_dir", CONF_OFF(spool_dir)},
        {"", "user", CONF_OFF(user)},
        {"", "timezone", CONF_OFF(timezone)},
        {"relay", "host", CONF_OFF(relay.host)},
        {"relay", "ca_file", CONF_OFF(relay.ca_file)},
        {"relay", "user", CONF_OFF(relay.user)},
        {"relay", "password_file", CONF_OFF(relay.password_file)},
        {"relay", "from", CONF_OFF(relay.from)},
        {"relay", "from_name", CONF_OFF(relay.from_name)},
        {"relay", "helo", CONF_OFF(relay.helo)},
};

/* conf_handler - libinih callback: one key at a time */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *ctx = user;
	struct conf *c = ctx->c;
	size_t i;

	for (i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
		const struct int_key *k = &int_keys[i];
		if (strcmp(section, k->section) || strcmp(name, k->name))
			continue;
		if (conf_int(value, k->lo, k->hi, (int *)((char *)c + k->off)) < 0) {
			snprintf(ctx->err, sizeof ctx->err,
			        k->lo == 0 && k->hi == 1
			                ? "%s%s%s: \"%s\" must be yes or no"
			                : "%s%s%s: \"%s\" is not a whole number from %ld to %ld",
			        section, *section ? "." : "", name, value, k->lo, k->hi);
			return 0;
		}
		return 1;
	}
	for (i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
		const struct str_key *k = &str_keys[i];
		if (strcmp(section, k->section) || strcmp(name, k->name))
			continue;
		conf_set_str((char **)((char *)c + k->off), value);
		return 1;
	}
	if (!strcmp(section, "relay") && !strcmp(name, "tls")) {
		if (!strcmp(value, "starttls"))
			c->relay.tls = TLS_STARTTLS;
		else if (!strcmp(value, "implicit"))
			c->relay.tls = TLS_IMPLICIT;
		else if (!strcmp(value, "none"))
			c->relay.tls = TLS_NONE;
		else {
			snprintf(ctx->err, sizeof ctx->err,
			        "relay.tls: \"%s\" must be starttls, implicit or none", value);
			return 0;
		}
		return 1;
	}
	if (*section && strcmp(section, "relay") && strcmp(section, "message"))
		snprintf(ctx->err, sizeof ctx->err, "unknown section [%s]", section);
	else
		snprintf(ctx->err, sizeof ctx->err, "unknown key \"%s\"%s%s%s", name,
		        *section ? " in [" : "", section, *section ? "]" : "");
	return 0;
}

/* conf_read_secret - read a password file that only its owner may read */
static int conf_read_secret(const char *path, char **out, char *err, size_t errlen)
{
	struct stat st;
	char buf[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "relay.password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "relay.password_file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		        "relay.password_file %s is readable by group or others (mode %04o); "
		        "run: chmod 600 %s",
		        path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "relay.password_file %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* the first line is the secret */
	if (!*buf) {
		snprintf(err, errlen, "relay.password_file %s is empty", path);
		return -1;
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* conf_check - rules across keys, once the whole file is read */
static int conf_check(struct conf *c, int secrets, char *err, size_t errlen)
{
	struct relay_conf *r = &c->relay;
	char why[128];

	if (!c->spool_dir || c->spool_dir[0] != '/') {
		snprintf(err, errlen, "spool_dir must be an absolute path");
		return -1;
	}
	if (r->port == 0)
		r->port = r->tls == TLS_IMPLICIT ? 465 : r->tls == TLS_NONE ? 25 : 587;
	if (r->from && !addr_valid(r->from, why, sizeof why)) {
		snprintf(
		        err, errlen, "relay.from: \"%s\" is not a valid address: %s", r->from, why);
		return -1;
	}
	if (c->message.unsubscribe_url && strncmp(c->message.unsubscribe_url, "https://", 8)) {
		snprintf(err, errlen, "message.unsubscribe_url must start with https://");
		return -1;
	}
	if (c->message.unsubscribe_mailto &&
	        !addr_valid(c->message.unsubscribe_mailto, why, sizeof why)) {
		snprintf(err, errlen,
		        "message.unsubscribe_mailto: \"%s\" is not a valid address: %s",
		        c->message.unsubscribe_mailto, why);
		return -1;
	}
	if (c->message.organizer && !addr_valid(c->message.organizer, why, sizeof why)) {
		snprintf(err, errlen, "message.organizer: \"%s\" is not a valid address: %s",
		        c->message.organizer, why);
		return -1;
	}
	if (r->user && r->tls == TLS_NONE) {
		snprintf(err, errlen,
		        "relay: AUTH over an unencrypted connection is refused: "
		        "set tls = starttls or implicit, or remove user");
		return -1;
	}
	if (r->user && !r->password_file) {
		snprintf(err, errlen, "relay.user is set but relay.password_file is not");
		return -1;
	}
	if (secrets && r->password_file &&
	        conf_read_secret(r->password_file, &r->password, err, errlen) < 0)
		return -1;
	return 0;
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

/* conf_free - release every owned string and wipe the secret */
void conf_free(struct conf *c)
{
	struct relay_conf *r = &c->relay;

	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++)
		free(*(char **)((char *)c + str_keys[i].off));
	free(c->path);
	memset(c, 0, sizeof *c);
}
