/*
 * imap - the only module that speaks IMAP (through libetpan), for delivery
 * checks: was a message filed in the account's Sent folder, what arrived
 * in INBOX (bounces, provider notices, the canary), and marking what was
 * processed.  TLS (implicit or STARTTLS) is verified exactly as for SMTP
 * (tlsverify.h): chain against the system store or ca_file, and the host
 * name.  Every step has a timeout.  One struct imap is one session; the
 * caller owns it and frees it with imap_free.  Not thread-safe.
 */
#ifndef SPOOLD_IMAP_H
#define SPOOLD_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct imap_conf {
	char *host;
	int port;          /* 993 implicit, 143 STARTTLS */
	enum tls_mode tls; /* implicit (default for 993), starttls, none (tests only) */
	char *ca_file;
	char *user;
	char *password;
	int timeout; /* seconds per step */
};

struct imap;

/* The keyword imap_mark sets: a processed message keeps it (and its \Seen
 * state) and is never returned by imap_fetch_unprocessed again. */
#define IMAP_PROCESSED "$SpooldProcessed"

/* imap_fetch_unprocessed reads at most this much of each message: a
 * bounce's report is near the top, and a patient's reply with a photo
 * must not cost 25 MB (dsn_parse reads no more either). */
#define IMAP_FETCH_MAX (256 * 1024)

/* A message found in a folder: its UID and the raw bytes (when fetched). */
struct imap_msg {
	uint32_t uid;
	char *data; /* malloc'ed, NUL-terminated; NULL when not fetched */
	size_t len;
	int seen;    /* \Seen was set */
	int flagged; /* the processed flag (imap_mark) was set */
};

/* imap_open - connect, TLS, verify, LOGIN; NULL with the reason in err.
 * port 0: 993 for implicit TLS, else 143.  tls = none is refused unless the
 * host is the loopback (127.x, ::1, localhost): LOGIN would go in clear.
 * A command the server refuses (NO, BAD) keeps the session; a timeout or a
 * lost connection closes it and every later call fails.  The caller ignores
 * SIGPIPE (as for smtp). */
struct imap *imap_open(const struct imap_conf *ic, char *err, size_t errlen);
void imap_free(struct imap *im);
/* imap_select - open a folder (read-write); -1 with err */
int imap_select(struct imap *im, const char *folder, char *err, size_t errlen);
/* imap_special_folder - the name of the folder LIST marks with the RFC 6154
 * special-use flag use ("Sent", "Junk"; without the backslash) into out,
 * as the server spells it (what imap_select takes): 1 found, 0 none, -1
 * with err.  Gmail's Sent is "[Gmail]/Sent Mail" in English and
 * "[Gmail]/Enviados" in Spanish: the flag is the same. */
int imap_special_folder(
        struct imap *im, const char *use, char *out, size_t outlen, char *err, size_t errlen);
/* imap_uidvalidity - the selected folder's UIDVALIDITY (0 when unknown):
 * UIDs kept from an earlier session mean nothing once it changes */
uint32_t imap_uidvalidity(const struct imap *im);
/* imap_find_message_id - 1 when the selected folder holds a message whose
 * Message-ID header is msgid ("<...>"), 0 when not, -1 on error */
int imap_find_message_id(struct imap *im, const char *msgid, char *err, size_t errlen);
/* imap_fetch_unprocessed - messages in the selected folder WITHOUT the
 * processed keyword, UID greater than after_uid, at most max of them,
 * fetched with BODY.PEEK[], the first IMAP_FETCH_MAX bytes (never marks
 * them \Seen); *out is a malloc'ed
 * array of *n entries, free with imap_msgs_free.  Lowest UIDs first (the
 * oldest); max 0 fetches nothing.  0, or -1 with err (*out NULL, *n 0). */
int imap_fetch_unprocessed(struct imap *im, uint32_t after_uid, size_t max, struct imap_msg **out,
        size_t *n, char *err, size_t errlen);
void imap_msgs_free(struct imap_msg *m, size_t n);
/* imap_mark - set the processed keyword ($SpooldProcessed) on uid; never deletes */
int imap_mark(struct imap *im, uint32_t uid, char *err, size_t errlen);
/* imap_append - store a message in folder (tests and the canary's own checks) */
int imap_append(
        struct imap *im, const char *folder, const char *msg, size_t len, char *err, size_t errlen);

#endif
