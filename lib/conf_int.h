/*
 * conf_int - what conf.c shares with the modules that read its other
 * sections (conf_verify.c).  Not for callers of conf.h.
 */
#ifndef SPOOLD_CONF_INT_H
#define SPOOLD_CONF_INT_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

struct conf_ctx {
	struct conf *c;
	char err[512];
};

/* conf_set_str - replace an owned string ("" clears it) */
void conf_set_str(char **dst, const char *val);
/* conf_int - a bounded integer, or yes/no when lo 0 and hi 1; 0 or -1 */
int conf_int(const char *val, long lo, long hi, int *out);
/* conf_tls_parse - "starttls", "implicit", "none"; -1 otherwise */
int conf_tls_parse(const char *val, enum tls_mode *out);
/* conf_read_secret - the first line of a file only its owner may read */
int conf_read_secret(const char *sect, const char *path, char **out, char *err, size_t errlen);

/* conf_verify_defaults - [verify] and [canary] before the file is read */
void conf_verify_defaults(struct conf *c);
/* conf_verify_key - a key of [verify] or [canary]: 1 ok, 0 bad (ctx->err),
 * -1 not one of theirs */
int conf_verify_key(struct conf_ctx *ctx, const char *section, const char *name, const char *value);
/* conf_verify_sections - mark [verify] and [canary] configured when the
 * file has their header, even with no keys (libinih calls back per key) */
void conf_verify_sections(struct conf *c, FILE *fp);
/* conf_verify_check - defaults from the relay and profiles, rules, secrets */
int conf_verify_check(struct conf *c, int secrets, char *err, size_t errlen);
/* conf_verify_free - their strings, secrets wiped */
void conf_verify_free(struct conf *c);

#endif
