/*
 * dsn - what a message in the account's INBOX says about our mail:
 * RFC 3464 delivery-status reports, the common non-standard bounces,
 * and provider notices that mean the account is blocked.
 *
 * Pure: a function of the message's bytes.  Parsing uses libetpan's
 * mailmime_parse; the message/delivery-status part's field blocks are
 * read with mailimf_optional_fields_parse (libetpan has no DSN parser).
 *
 * What the fields hold (all NUL-terminated, cleaned: one line, white
 * space runs one space, no controls, valid UTF-8, cut to fit):
 * - message_id: the attached original's Message-ID (message/rfc822 or
 *   text/rfc822-headers), else Gmail's X-Original-Message-ID, else the
 *   first "Message-ID:" line of the text (an inline copy).
 * - envid: Original-Envelope-Id with xtext ("+2B") decoded: the envid
 *   given to smtp_send_dsn.  Use envids of letters, digits, '.', '-' and
 *   '_' only, so that MTAs that do and do not decode it agree.
 * - recipient: Original-Recipient when the report has it, else
 *   Final-Recipient ("rfc822;" dropped), else what the text names.
 * - status: the Status field, else the diagnostic's enhanced code, else
 *   "5.0.0" or "4.0.0" from its reply code ("554: delivery error"), or "".
 * - diagnostic: Diagnostic-Code without its type ("550 5.1.1 ..." for
 *   "smtp; 550 5.1.1 ..."), else the bounce's own words.
 * A report whose Action is delivered, relayed or expanded is DSN_NONE
 * with these fields filled (it proves delivery); ordinary mail is
 * DSN_NONE with every field empty.  DSN_NOTICE fills notice, reason and
 * action only.  Only the first DSN_MAX_INPUT bytes are read.
 */
#ifndef SPOOLD_DSN_H
#define SPOOLD_DSN_H

#include <stddef.h>
#include <time.h>

#define DSN_MAX_INPUT (256 * 1024) /* bytes of a message dsn_parse reads */

struct verdict;

enum dsn_kind {
	DSN_NONE,   /* nothing of ours: an ordinary message */
	DSN_BOUNCE, /* a delivery failure (Action: failed, or a non-standard bounce) */
	DSN_DELAY,  /* Action: delayed (informational) */
	DSN_NOTICE, /* a provider notice: the account is blocked or must be verified */
};

struct dsn {
	enum dsn_kind kind;
	char message_id[512];  /* the bounced message's Message-ID ("<...>"), or "" */
	char envid[256];       /* Original-Envelope-Id, or "" */
	char recipient[320];   /* Final-Recipient / Original-Recipient address, or "" */
	char status[16];       /* "5.1.1" */
	char diagnostic[1024]; /* Diagnostic-Code text, or the bounce's explanation */
	char notice[64];       /* DSN_NOTICE: which one ("zoho-outgoing-blocked", ...) */
	char reason[512];      /* DSN_NOTICE: plain English for staff */
	char action[512];      /* DSN_NOTICE: what to do */
};

/* dsn_parse - classify one raw message (RFC 5322 bytes); 0 ok, -1 unparseable */
int dsn_parse(const char *msg, size_t len, struct dsn *out);
/* dsn_judge - the reply classifier's verdict (reply.h) on a DSN_BOUNCE or
 * DSN_DELAY, as for an SMTP reply at RCPT: code 550 for a 5.x.x status (or
 * a bounce without one), 450 for 4.x.x (or a delay without one), text the
 * status and the diagnostic (its own reply code dropped); so 5.1.1 is
 * recipient-invalid.  0, or -1 (v untouched) for DSN_NONE and DSN_NOTICE. */
int dsn_judge(const struct dsn *d, time_t now, struct verdict *v);

#endif
