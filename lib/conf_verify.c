/*
 * conf_verify - the [verify] and [canary] sections of the configuration:
 * the IMAP accounts spoold reads after the provider said 250, and how it
 * checks (see conf.h, struct verify_conf).
 *
 * [verify] is off unless the section appears.  It is usually the sending
 * account itself: user and password_file default to [relay]'s, and the
 * profile (default [relay]'s) gives the IMAP host, the Sent folder's name
 * and whether the provider files SMTP submissions there (confirm_sent).
 * [canary] is the mailbox canary_to on another provider, with its own
 * login; it is required when canary_to is set.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf_int.h"
#include "profile.h"

#define VOFF(m) offsetof(struct verify_conf, m)
#define IOFF(m) offsetof(struct imap_account_conf, m)

struct vint {
	const char *name;
	size_t off;
	long lo, hi;
};

static const struct vint verify_ints[] = {
        {"confirm_sent", VOFF(confirm_sent), 0, 1},
        {"confirm_minutes", VOFF(confirm_minutes), 1, 7 * 24 * 60},
        {"check_minutes", VOFF(check_minutes), 1, 24 * 60},
        {"burst_seconds", VOFF(burst_seconds), 1, 3600},
        {"canary_every", VOFF(canary_every), 1, 1000000},
        {"canary_minutes", VOFF(canary_minutes), 1, 7 * 24 * 60},
        {"canary_wait", VOFF(canary_wait), 1, 7 * 24 * 60},
        {"trickle_minutes", VOFF(trickle_minutes), 1, 24 * 60},
};

static const struct vint imap_ints[] = {
        {"port", IOFF(port), 1, 65535},
        {"timeout", IOFF(timeout), 1, 3600},
};

static const struct {
	const char *name;
	size_t off;
} imap_strs[] = {
        {"profile", IOFF(profile)},
        {"host", IOFF(host)},
        {"ca_file", IOFF(ca_file)},
        {"user", IOFF(user)},
        {"password_file", IOFF(password_file)},
        {"folder", IOFF(folder)},
};

/* account_defaults - an unconfigured IMAP account section */
static void account_defaults(struct imap_account_conf *a, const char *section)
{
	a->section = section;
	a->tls = TLS_IMPLICIT;
	a->timeout = 30;
}

/* conf_verify_defaults - every documented default of [verify] and [canary] */
void conf_verify_defaults(struct conf *c)
{
	struct verify_conf *v = &c->verify;

	account_defaults(&v->imap, "verify");
	account_defaults(&v->canary, "canary");
	v->confirm_sent = -1; /* the profile's */
	v->confirm_minutes = 10;
	v->check_minutes = 5;
	v->burst_seconds = 60;
	v->canary_every = 100;
	v->canary_minutes = 60;
	v->canary_wait = 30;
	v->on_suspect = SUSPECT_SLOW;
	v->trickle_minutes = 10;
}

/* set_vint - one integer key; 1 ok, 0 bad value */
static int set_vint(struct conf_ctx *ctx, const struct vint *k, void *base, const char *section,
        const char *value)
{
	if (conf_int(value, k->lo, k->hi, (int *)((char *)base + k->off)) == 0)
		return 1;
	if (k->lo == 0 && k->hi == 1)
		snprintf(ctx->err, sizeof ctx->err, "%s.%s: \"%s\" must be yes or no", section,
		        k->name, value);
	else
		snprintf(ctx->err, sizeof ctx->err,
		        "%s.%s: \"%s\" is not a whole number from %ld to %ld", section, k->name,
		        value, k->lo, k->hi);
	return 0;
}

/* account_key - a key every IMAP account section has; 1, 0 or -1 (unknown) */
static int account_key(
        struct conf_ctx *ctx, struct imap_account_conf *a, const char *name, const char *value)
{
	a->configured = 1;
	for (size_t i = 0; i < sizeof imap_ints / sizeof imap_ints[0]; i++)
		if (!strcmp(name, imap_ints[i].name))
			return set_vint(ctx, &imap_ints[i], a, a->section, value);
	for (size_t i = 0; i < sizeof imap_strs / sizeof imap_strs[0]; i++)
		if (!strcmp(name, imap_strs[i].name)) {
			conf_set_str((char **)((char *)a + imap_strs[i].off), value);
			return 1;
		}
	if (!strcmp(name, "tls")) {
		if (conf_tls_parse(value, &a->tls) == 0) {
			a->tls_set = 1;
			return 1;
		}
		snprintf(ctx->err, sizeof ctx->err,
		        "%s.tls: \"%s\" must be implicit, starttls or none", a->section, value);
		return 0;
	}
	return -1;
}

/* conf_verify_key - one key of [verify] or [canary] */
int conf_verify_key(struct conf_ctx *ctx, const char *section, const char *name, const char *value)
{
	struct verify_conf *v = &ctx->c->verify;

	if (!strcmp(section, "canary"))
		return account_key(ctx, &v->canary, name, value);
	for (size_t i = 0; i < sizeof verify_ints / sizeof verify_ints[0]; i++)
		if (!strcmp(name, verify_ints[i].name)) {
			v->imap.configured = 1;
			return set_vint(ctx, &verify_ints[i], v, section, value);
		}
	if (!strcmp(name, "sent_folder")) {
		v->imap.configured = 1;
		conf_set_str(&v->sent_folder, value);
		return 1;
	}
	if (!strcmp(name, "canary_to")) {
		v->imap.configured = 1;
		conf_set_str(&v->canary_to, value);
		return 1;
	}
	if (!strcmp(name, "on_suspect")) {
		v->imap.configured = 1;
		if (!strcmp(value, "slow") || !strcmp(value, "stop")) {
			v->on_suspect = !strcmp(value, "stop") ? SUSPECT_STOP : SUSPECT_SLOW;
			return 1;
		}
		snprintf(ctx->err, sizeof ctx->err,
		        "verify.on_suspect: \"%s\" must be slow or stop", value);
		return 0;
	}
	return account_key(ctx, &v->imap, name, value);
}

/* conf_verify_sections - a section header alone turns its section on */
void conf_verify_sections(struct conf *c, FILE *fp)
{
	char line[512];

	rewind(fp);
	while (fgets(line, sizeof line, fp)) {
		char name[16];
		int n = 0;
		if (sscanf(line, " [%15[a-z_] ]%n", name, &n) != 1 || !n)
			continue;
		if (!strcmp(name, "verify"))
			c->verify.imap.configured = 1;
		else if (!strcmp(name, "canary"))
			c->verify.canary.configured = 1;
	}
}

/* inherit - a string the section did not set */
static void inherit(char **dst, const char *src)
{
	if (!*dst && src)
		*dst = strdup(src);
}

/* account_check - profile defaults, rules and the secret of one account */
static int account_check(
        struct imap_account_conf *a, const char *profile, int secrets, char *err, size_t errlen)
{
	const struct profile_imap *p = NULL;

	inherit(&a->profile, profile);
	if (a->profile && !profile_find(a->profile)) {
		snprintf(err, errlen, "%s.profile: \"%s\" is not one of %s", a->section, a->profile,
		        profile_names());
		return -1;
	}
	if (a->profile && (p = profile_imap_find(a->profile)))
		inherit(&a->host, p->host);
	inherit(&a->folder, "INBOX");
	if (!a->port)
		a->port = a->tls == TLS_IMPLICIT ? 993 : 143;
	if (!a->host) {
		snprintf(err, errlen, "[%s] needs a host (or a profile with an IMAP server)",
		        a->section);
		return -1;
	}
	if (!a->user || !a->password_file) {
		snprintf(err, errlen, "[%s] needs user and password_file", a->section);
		return -1;
	}
	if (a->tls == TLS_NONE && strcmp(a->host, "127.0.0.1") && strcmp(a->host, "localhost") &&
	        strcmp(a->host, "::1")) {
		snprintf(err, errlen,
		        "%s: LOGIN over an unencrypted connection is refused: set tls = implicit "
		        "or starttls",
		        a->section);
		return -1;
	}
	if (secrets &&
	        conf_read_secret(a->section, a->password_file, &a->password, err, errlen) < 0)
		return -1;
	return 0;
}

/* conf_verify_check - the sections once the whole file is read */
int conf_verify_check(struct conf *c, int secrets, char *err, size_t errlen)
{
	struct verify_conf *v = &c->verify;
	const struct profile_imap *p;
	char why[128];

	if (v->canary.configured && !v->imap.configured) {
		snprintf(err, errlen, "[canary] needs a [verify] section with canary_to");
		return -1;
	}
	if (!v->imap.configured)
		return 0;
	inherit(&v->imap.user, c->relay.user);
	inherit(&v->imap.password_file, c->relay.password_file);
	if (account_check(&v->imap, c->relay.profile, secrets, err, errlen) < 0)
		return -1;
	p = v->imap.profile ? profile_imap_find(v->imap.profile) : NULL;
	v->sent_folder_auto = !v->sent_folder;
	inherit(&v->sent_folder, p ? p->sent_folder : "Sent");
	if (v->confirm_sent < 0)
		v->confirm_sent = p ? p->files_sent : 0;
	if (v->canary_to && !addr_valid(v->canary_to, why, sizeof why)) {
		snprintf(err, errlen, "verify.canary_to: \"%s\" is not a valid address: %s",
		        v->canary_to, why);
		return -1;
	}
	if (v->canary_to && !v->canary.configured) {
		snprintf(err, errlen,
		        "verify.canary_to needs a [canary] section: the IMAP login of %s, so "
		        "spoold can see the canary arrive",
		        v->canary_to);
		return -1;
	}
	if (v->canary.configured && !v->canary_to) {
		snprintf(err, errlen, "[canary] is set but verify.canary_to is not");
		return -1;
	}
	if (v->canary.configured && account_check(&v->canary, NULL, secrets, err, errlen) < 0)
		return -1;
	return 0;
}

/* account_free - one section's strings, the secret wiped */
static void account_free(struct imap_account_conf *a)
{
	if (a->password) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	for (size_t i = 0; i < sizeof imap_strs / sizeof imap_strs[0]; i++)
		free(*(char **)((char *)a + imap_strs[i].off));
}

/* conf_verify_free - release [verify] and [canary] */
void conf_verify_free(struct conf *c)
{
	account_free(&c->verify.imap);
	account_free(&c->verify.canary);
	free(c->verify.sent_folder);
	free(c->verify.canary_to);
}
