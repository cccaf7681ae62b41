/*
 * reply_rules - the provider phrase table behind reply.c (internal).
 *
 * One struct reply_rule per rule, in order of precedence: the first rule
 * whose conditions all hold wins.  The table owns every word staff read:
 * the explanation and the action of each rule, and one sentence per
 * category (reply_explain).  reply.c owns the matching; this header is
 * shared by the two files only.
 *
 * A rule holds when the stage is in stages (0: any), the reply class in
 * classes (0: 4xx or 5xx), and, if it has any of codes, enh and text, at
 * least one of them matches, and none of unless matches the text.
 *
 * Text patterns are matched, case-insensitively, against the reply text
 * normalised by reply.c: lower case, the reply code and repeated enhanced
 * codes at line starts removed, lines joined by one space, every run of
 * white space one space.  In a pattern:
 *   ' '       one space (so line breaks match too)
 *   {a|b|}    one of the alternatives (may be empty; no nesting)
 *   #         one or more digits
 *   *         first or last only: the match may start or end inside a word
 * Otherwise a match starts and ends at word boundaries, so "5.7.13" does
 * not match "5.7.139" and "quotaexceededexception" does not match inside
 * "submissionquotaexceededexception".
 *
 * enh patterns are matched against the reply's own enhanced status code
 * (the one at the start of the text): "x.1.*" is any class, subject 1,
 * any detail.
 */
#ifndef SPOOLD_REPLY_RULES_H
#define SPOOLD_REPLY_RULES_H

#include <stddef.h>

#include "reply.h"

#define RS(st) (1u << (st)) /* a stage in reply_rule.stages */
#define RC_4XX 1u           /* reply_rule.classes */
#define RC_5XX 2u

#define RF_DAILY 1u     /* a daily quota: wait for the rolling 24 h */
#define RF_ONE_CONN 2u  /* drop to a single connection */
#define RF_RECONNECT 4u /* open a new connection */
#define RF_LOCAL 8u     /* not matched against replies: chosen by reply.c by id */

struct reply_rule {
	const char *id;            /* short, stable: logs and tests name it */
	enum category cat;         /* the verdict */
	unsigned stages;           /* RS() bits; 0: any stage */
	unsigned classes;          /* RC_ bits; 0: any failure (4xx or 5xx) */
	const int *codes;          /* reply codes, 0-terminated */
	const char *const *enh;    /* the reply's enhanced code, NULL-terminated */
	const char *const *text;   /* phrases anywhere in the text, NULL-terminated */
	const char *const *unless; /* phrases that veto the rule */
	unsigned flags;            /* RF_ */
	int backoff;               /* rate-limited: minutes to wait when no time is given */
	const char *explanation;   /* for front-desk staff: what happened */
	const char *action;        /* for front-desk staff: what to do */
};

extern const struct reply_rule reply_rules[];
extern const size_t reply_nrules;

/* The category names and one sentence each, indexed by enum category. */
extern const char *const reply_cat_names[];
extern const char *const reply_cat_explain[];
extern const size_t reply_ncat;

#endif
