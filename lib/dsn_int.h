/*
 * dsn_int - what dsn.c, dsn_text.c and dsn_notice.c share (internal).
 *
 * dsn.c parses the message with libetpan and fills a struct dsn_ctx: the
 * top-level headers the heuristics need, the human-readable text (text
 * parts outside any attached message), the delivery-status part and the
 * attached original's Message-ID.  dsn_util.c holds the text helpers,
 * dsn_text.c the reading of non-standard bounces, dsn_notice.c the
 * provider notices.
 *
 * Every buffer here is NUL-terminated; text, ltext and norm never hold a
 * NUL byte before their end (NULs in the message become spaces).
 */
#ifndef SPOOLD_DSN_INT_H
#define SPOOLD_DSN_INT_H

#include <stddef.h>

#include "dsn.h"

#define DSN_TEXT_MAX 65536 /* bytes of human-readable text kept */

struct dsn_ctx {
	char from[320];        /* the From: address as written, or "" */
	char from_name[128];   /* its display name, decoded, or "" */
	char subject[512];     /* Subject:, decoded to UTF-8 and cleaned */
	char lsubject[512];    /* the same, normalised (dsn_norm) */
	int null_sender;       /* Return-Path: <> (what bounces carry) */
	char failed_rcpt[320]; /* X-Failed-Recipients: (Exim, Gmail), or "" */
	char *plain;           /* text/plain parts (malloc'ed, may be NULL) */
	size_t plain_len;
	char *html; /* text/html parts, likewise */
	size_t html_len;
	char *report; /* the first message/delivery-status body, decoded */
	size_t report_len;
	char orig_mid[512]; /* Message-ID of the attached original, "<...>" */
	int parts;          /* MIME parts visited (bounded) */
	/* made by dsn_text_prepare from plain (else html): */
	char *text;  /* raw, lines kept */
	char *ltext; /* the same bytes in ASCII lower case (positions match text) */
	char *norm;  /* normalised: lower case, each run of white space one space */
	size_t text_len;
};

/* dsn_valid - 1 when s[0..n) is printable ASCII above space or valid UTF-8 (no C1) */
int dsn_valid(const char *s, size_t n);
/* dsn_copy - n bytes of src into dst as one clean line: white space runs
 * (folds too) one space, other controls dropped, invalid UTF-8 '?', cut
 * on a character boundary, trimmed */
void dsn_copy(char *dst, size_t size, const char *src, size_t n);
/* dsn_norm - src (NUL-terminated) lower-cased, white space runs one space, into dst */
void dsn_norm(char *dst, size_t size, const char *src);
/* dsn_addr - the first e-mail address in s[0..n) ("<a@b>" or a bare
 * a@b) other than skip (may be NULL), into out; 1 found, 0 */
int dsn_addr(const char *s, size_t n, const char *skip, char *out, size_t size);
/* dsn_addr_last - the last e-mail address in s[0..n) other than skip; 1, 0 */
int dsn_addr_last(const char *s, size_t n, const char *skip, char *out, size_t size);
/* dsn_angle - the first "<...>" in s[0..n) (no white space inside), into out; 1, 0 */
int dsn_angle(const char *s, size_t n, char *out, size_t size);
/* dsn_status - the first enhanced status code ("5.1.1") in s[0..n), into
 * out (may be NULL); 1, 0 */
int dsn_status(const char *s, size_t n, char *out, size_t size);
/* dsn_code - the first SMTP reply code (4xx, 5xx) in s[0..n) standing as a word; it, 0 */
int dsn_code(const char *s, size_t n);
/* dsn_msgid - the "<...>" after the first "Message-ID:" at a line start in s[0..n); 1, 0 */
int dsn_msgid(const char *s, size_t n, char *out, size_t size);
/* dsn_append - n bytes to the malloc'ed buffer *buf of *len bytes, up to
 * max in all, NULs as spaces, NUL-terminated; 0, -1 out of memory */
int dsn_append(char **buf, size_t *len, size_t max, const char *s, size_t n);

/* dsn_text_prepare - c->text, ltext and norm from the plain (else html) text; 0, -1 */
int dsn_text_prepare(struct dsn_ctx *c);
/* dsn_text_bounce - a non-standard bounce from a mail system: 1 with the
 * kind and what the text says in out, 0 when it is not one */
int dsn_text_bounce(const struct dsn_ctx *c, struct dsn *out);
/* dsn_text_fill - the recipient, status and diagnostic that out lacks,
 * from the human-readable text of an RFC 3464 report */
void dsn_text_fill(const struct dsn_ctx *c, struct dsn *out);
/* dsn_notice - a provider notice: 1 with out filled (DSN_NOTICE), 0 */
int dsn_notice(const struct dsn_ctx *c, struct dsn *out);

#endif
