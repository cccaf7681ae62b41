/*
 * dsn - what a message in the account's INBOX says about our mail: the
 * MIME walk and the RFC 3464 report (see dsn.h for the contract).
 *
 * dsn_parse parses the message with libetpan's mailmime_parse and visits
 * its parts once, keeping what the readers need (struct dsn_ctx): the
 * top-level From, Subject, Return-Path and X-Failed-Recipients; the text
 * parts outside any attached message (the human-readable explanation); the
 * first message/delivery-status part; and the Message-ID of the first
 * attached original (message/rfc822, read by libetpan, or
 * text/rfc822-headers, read here with libetpan's
 * mailimf_envelope_and_optional_fields_parse).  Then, first match wins:
 *   1. a delivery-status part with a recipient block that has an Action
 *      or a Status: its field blocks are read with
 *      mailimf_optional_fields_parse; the block that matters most
 *      (failed, then delayed, then the rest) decides the kind, and the
 *      human-readable text fills what the block lacks (dsn_text_fill);
 *   2. a provider notice (dsn_notice.c: sender and subject);
 *   3. a non-standard bounce (dsn_text.c: a mail-system sender and
 *      bounce words);
 *   4. DSN_NONE, every field empty.
 *
 * Bounded work: only the first DSN_MAX_INPUT bytes are parsed, cut before
 * the DSN_MAX_CTYPES'th "Content-Type" so that libetpan's recursive MIME
 * parser cannot nest deeper; at most DSN_MAX_PARTS parts at most
 * DSN_MAX_DEPTH levels deep are visited; DSN_TEXT_MAX bytes of text and
 * DSN_MAX_REPORT of report are kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "dsn.h"
#include "dsn_int.h"
#include "reply.h"

#define DSN_MAX_CTYPES 256
#define DSN_MAX_PARTS 64
#define DSN_MAX_DEPTH 8
#define DSN_MAX_REPORT 32768

/* One per-recipient block of the report, as far as it is read. */
struct rblock {
	char final[320], orig[320]; /* addresses of Final- and Original-Recipient */
	char action[16];            /* lower case first word */
	char status[16];
	char diag[1024];
};

/* input_len - len cut to DSN_MAX_INPUT and before the DSN_MAX_CTYPES'th "content-type" */
static size_t input_len(const char *msg, size_t len)
{
	static const char ct[] = "content-type";
	size_t i, k = sizeof(ct) - 1;
	int seen = 0;

	if (len > DSN_MAX_INPUT)
		len = DSN_MAX_INPUT;
	for (i = 0; i + k <= len; i++)
		if ((msg[i] | 0x20) == 'c' && strncasecmp(msg + i, ct, k) == 0 &&
		        ++seen == DSN_MAX_CTYPES)
			return i;
	return len;
}

/* decode - the body of single part d, transfer encoding undone; malloc'ed, NULL */
static char *decode(const struct mailmime_data *d, size_t *n)
{
	char *res = NULL, *out;
	size_t idx = 0, rlen = 0;
	int enc;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT || d->dt_data.dt_text.dt_data == NULL)
		return NULL;
	enc = d->dt_encoded ? d->dt_encoding : MAILMIME_MECHANISM_8BIT;
	if (enc != MAILMIME_MECHANISM_BASE64 && enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		enc = MAILMIME_MECHANISM_8BIT;
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, &idx, enc,
	            &res, &rlen) != MAILIMF_NO_ERROR)
		return NULL;
	out = malloc(rlen + 1);
	if (out) {
		memcpy(out, res, rlen);
		out[rlen] = '\0';
		*n = rlen;
	}
	mailmime_decoded_part_free(res);
	return out;
}

/* ctype - "type/subtype" of content c in lower case (text/plain when absent) */
static void ctype(const struct mailmime_content *c, char *buf, size_t size)
{
	const char *t = "text", *sub;
	const struct mailmime_type *tp = c ? c->ct_type : NULL;
	static const char *const discrete[] = {
	        "x", "text", "image", "audio", "video", "application"};
	size_t i;

	if (tp && tp->tp_type == MAILMIME_TYPE_DISCRETE_TYPE && tp->tp_data.tp_discrete_type) {
		int dt = tp->tp_data.tp_discrete_type->dt_type;
		if (dt == MAILMIME_DISCRETE_TYPE_EXTENSION)
			t = tp->tp_data.tp_discrete_type->dt_extension;
		else if (dt > 0 && dt < (int)(sizeof(discrete) / sizeof(discrete[0])))
			t = discrete[dt];
	} else if (tp && tp->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	           tp->tp_data.tp_composite_type) {
		int ct = tp->tp_data.tp_composite_type->ct_type;
		t = ct == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message"
		    : ct == MAILMIME_COMPOSITE_TYPE_MULTIPART
		            ? "multipart"
		            : tp->tp_data.tp_composite_type->ct_token;
	}
	sub = c && c->ct_subtype ? c->ct_subtype : "plain";
	snprintf(buf, size, "%s/%s", t ? t : "x", sub);
	for (i = 0; buf[i]; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] + 32);
}

/* decode_words - header value v with RFC 2047 words decoded, cleaned, into out */
static void decode_words(const char *v, char *out, size_t size)
{
	char *res = NULL;
	size_t idx = 0;

	if (v == NULL) {
		out[0] = '\0';
		return;
	}
	if (mailmime_encoded_phrase_parse("utf-8", v, strlen(v), &idx, "utf-8", &res) ==
	                MAILIMF_NO_ERROR &&
	        res) {
		dsn_copy(out, size, res, strlen(res));
		free(res);
	} else
		dsn_copy(out, size, v, strlen(v));
}

/* fields_mid - the Message-ID among fields f ("<...>"), into out; 1, 0 */
static int fields_mid(const struct mailimf_fields *f, char *out, size_t size)
{
	clistiter *it;

	for (it = f && f->fld_list ? clist_begin(f->fld_list) : NULL; it; it = clist_next(it)) {
		const struct mailimf_field *fl = clist_content(it);
		const char *v = NULL;
		char tmp[600];
		if (fl->fld_type == MAILIMF_FIELD_MESSAGE_ID && fl->fld_data.fld_message_id)
			v = fl->fld_data.fld_message_id->mid_value;
		else if (fl->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
		         fl->fld_data.fld_optional_field->fld_name &&
		         strcasecmp(fl->fld_data.fld_optional_field->fld_name, "Message-ID") == 0) {
			snprintf(tmp, sizeof(tmp), "Message-ID: %s",
			        fl->fld_data.fld_optional_field->fld_value);
			if (dsn_msgid(tmp, strlen(tmp), out, size))
				return 1;
		}
		if (v && *v && strlen(v) + 3 <= size && !strpbrk(v, "<>") &&
		        dsn_valid(v, strlen(v))) {
			snprintf(out, size, "<%s>", v);
			return 1;
		}
	}
	return 0;
}

/* headers_mid - the Message-ID of a header block s[0..n) (text/rfc822-headers); 1, 0 */
static int headers_mid(const char *s, size_t n, char *out, size_t size)
{
	struct mailimf_fields *f = NULL;
	size_t idx = 0;
	int ok = 0;

	/* (mailimf_fields_parse leaks on a broken Return-Path in libetpan 1.9.4) */
	if (mailimf_envelope_and_optional_fields_parse(s, n, &idx, &f) == MAILIMF_NO_ERROR) {
		ok = fields_mid(f, out, size);
		mailimf_fields_free(f);
	}
	return ok || dsn_msgid(s, n, out, size);
}

/* read_headers - From, Subject, Return-Path, X-Failed-Recipients of the message */
static void read_headers(const struct mailimf_fields *f, struct dsn_ctx *c)
{
	clistiter *it;

	for (it = f && f->fld_list ? clist_begin(f->fld_list) : NULL; it; it = clist_next(it)) {
		const struct mailimf_field *fl = clist_content(it);
		const struct mailimf_mailbox_list *mbl;
		const struct mailimf_optional_field *o;
		const struct mailimf_mailbox *mb;

		switch (fl->fld_type) {
		case MAILIMF_FIELD_FROM:
			mbl = fl->fld_data.fld_from ? fl->fld_data.fld_from->frm_mb_list : NULL;
			if (c->from[0] || !mbl || !mbl->mb_list || !clist_begin(mbl->mb_list))
				break;
			mb = clist_content(clist_begin(mbl->mb_list));
			if (mb->mb_addr_spec)
				dsn_copy(c->from, sizeof(c->from), mb->mb_addr_spec,
				        strlen(mb->mb_addr_spec));
			decode_words(mb->mb_display_name, c->from_name, sizeof(c->from_name));
			break;
		case MAILIMF_FIELD_SUBJECT:
			if (!c->subject[0] && fl->fld_data.fld_subject)
				decode_words(fl->fld_data.fld_subject->sbj_value, c->subject,
				        sizeof(c->subject));
			break;
		case MAILIMF_FIELD_RETURN_PATH:
			if (fl->fld_data.fld_return_path &&
			        fl->fld_data.fld_return_path->ret_path) {
				const char *a =
				        fl->fld_data.fld_return_path->ret_path->pt_addr_spec;
				c->null_sender |= a == NULL || *a == '\0';
			}
			break;
		case MAILIMF_FIELD_OPTIONAL_FIELD:
			o = fl->fld_data.fld_optional_field;
			if (!o->fld_name || !o->fld_value)
				break;
			if (strcasecmp(o->fld_name, "X-Failed-Recipients") == 0 &&
			        !c->failed_rcpt[0])
				dsn_addr(o->fld_value, strlen(o->fld_value), NULL, c->failed_rcpt,
				        sizeof(c->failed_rcpt));
			else if (strcasecmp(o->fld_name, "From") == 0 && !c->from[0])
				dsn_addr(o->fld_value, strlen(o->fld_value), NULL, c->from,
				        sizeof(c->from));
			else if (strcasecmp(o->fld_name, "Return-Path") == 0)
				c->null_sender |=
				        strspn(o->fld_value, " \t<>") == strlen(o->fld_value);
			break;
		}
	}
	dsn_norm(c->lsubject, sizeof(c->lsubject), c->subject);
}

/* single - one leaf part of type t (not inside an attached message) */
static void single(const struct mailmime *m, const char *t, struct dsn_ctx *c)
{
	char *body;
	size_t n = 0;
	int report = !strcmp(t, "message/delivery-status") ||
	             !strcmp(t, "message/global-delivery-status");
	int headers = !strcmp(t, "text/rfc822-headers") || !strcmp(t, "message/rfc822") ||
	              !strcmp(t, "message/rfc822-headers");

	if ((report && c->report) || (headers && c->orig_mid[0]))
		return;
	if (!report && !headers && strcmp(t, "text/plain") && strcmp(t, "text/html"))
		return;
	if ((body = decode(m->mm_data.mm_single, &n)) == NULL)
		return;
	if (report) {
		c->report = body;
		c->report_len = n < DSN_MAX_REPORT ? n : DSN_MAX_REPORT;
		c->report[c->report_len] = '\0';
		return;
	}
	if (headers)
		headers_mid(body, n, c->orig_mid, sizeof(c->orig_mid));
	else if (!strcmp(t, "text/plain")) {
		if (dsn_append(&c->plain, &c->plain_len, DSN_TEXT_MAX, body, n) == 0)
			dsn_append(&c->plain, &c->plain_len, DSN_TEXT_MAX, "\n", 1);
	} else if (dsn_append(&c->html, &c->html_len, DSN_TEXT_MAX, body, n) == 0)
		dsn_append(&c->html, &c->html_len, DSN_TEXT_MAX, "\n", 1);
	free(body);
}

/* walk - visit part m at depth; an attached message gives its Message-ID, not its text */
static void walk(const struct mailmime *m, struct dsn_ctx *c, int depth)
{
	char t[128];
	clistiter *it;

	if (m == NULL || depth > DSN_MAX_DEPTH || ++c->parts > DSN_MAX_PARTS)
		return;
	ctype(m->mm_content_type, t, sizeof(t));
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		single(m, t, c);
		break;
	case MAILMIME_MULTIPLE:
		for (it = m->mm_data.mm_multipart.mm_mp_list
		                  ? clist_begin(m->mm_data.mm_multipart.mm_mp_list)
		                  : NULL;
		        it; it = clist_next(it))
			walk(clist_content(it), c, depth + 1);
		break;
	case MAILMIME_MESSAGE:
		if (!c->orig_mid[0] &&
		        !fields_mid(m->mm_data.mm_message.mm_fields, c->orig_mid,
		                sizeof(c->orig_mid)) &&
		        m->mm_body && m->mm_body->dt_type == MAILMIME_DATA_TEXT)
			dsn_msgid(m->mm_body->dt_data.dt_text.dt_data,
			        m->mm_body->dt_data.dt_text.dt_length, c->orig_mid,
			        sizeof(c->orig_mid));
		break;
	}
}

/* xtext_copy - an Original-Envelope-Id value, xtext ("+2B") decoded, cleaned, into out */
static void xtext_copy(const char *v, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[512];
	size_t i = 0;
	const char *a, *b;

	for (; *v && i < sizeof(buf) - 1; v++) {
		if (*v == '+' && v[1] && v[2] && (a = strchr(hex, v[1])) &&
		        (b = strchr(hex, v[2]))) {
			buf[i++] = (char)((a - hex) << 4 | (b - hex));
			v += 2;
		} else
			buf[i++] = *v;
	}
	dsn_copy(out, size, buf, i);
}

/* typed_addr - the address of "rfc822; addr" (the type is optional) into out */
static void typed_addr(const char *v, char *out, size_t size)
{
	const char *semi = strchr(v, ';'), *at = strchr(v, '@');

	if (semi && (!at || semi < at))
		v = semi + 1;
	dsn_addr(v, strlen(v), NULL, out, size);
}

/* take_field - one field of a report block into b, or the per-message ones into out */
static void take_field(const char *name, const char *v, struct rblock *b, struct dsn *out)
{
	const char *p;
	size_t k;

	if (!strcasecmp(name, "Original-Envelope-Id") && !out->envid[0])
		xtext_copy(v, out->envid, sizeof(out->envid));
	else if (!strcasecmp(name, "X-Original-Message-ID") && !out->message_id[0])
		dsn_angle(v, strlen(v), out->message_id, sizeof(out->message_id));
	else if (!strcasecmp(name, "Final-Recipient") && !b->final[0])
		typed_addr(v, b->final, sizeof(b->final));
	else if (!strcasecmp(name, "Original-Recipient") && !b->orig[0])
		typed_addr(v, b->orig, sizeof(b->orig));
	else if (!strcasecmp(name, "Action") && !b->action[0]) {
		p = v + strspn(v, " \t\r\n");
		dsn_norm(b->action, sizeof(b->action), p);
		b->action[strcspn(b->action, " ;(")] = '\0';
	} else if (!strcasecmp(name, "Status") && !b->status[0])
		dsn_status(v, strlen(v), b->status, sizeof(b->status));
	else if (!strcasecmp(name, "Diagnostic-Code") && !b->diag[0]) {
		/* "smtp; 550 5.1.1 ...": drop the diagnostic type */
		p = v + strspn(v, " \t\r\n");
		k = strcspn(p, ";");
		if (p[k] == ';' && k <= 20 && strcspn(p, " \t\r\n") >= k)
			p += k + 1;
		dsn_copy(b->diag, sizeof(b->diag), p, strlen(p));
	}
}

/* rank - how much block b matters: failed 4, delayed 3, delivered and the like 2,
 * only a status or a recipient 1, nothing 0 */
static int rank(const struct rblock *b)
{
	if (!strcmp(b->action, "failed") || (!b->action[0] && b->status[0] == '5'))
		return 4;
	if (!strcmp(b->action, "delayed") || (!b->action[0] && b->status[0] == '4'))
		return 3;
	if (b->action[0] || b->status[0])
		return 2;
	return b->final[0] || b->orig[0];
}

/* blank_at - the length of the blank line at s[i..n) (spaces and tabs, then LF), else 0 */
static size_t blank_at(const char *s, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
		j++;
	if (j < n && s[j] == '\n')
		return j + 1 - i;
	return j == n && j > i ? j - i : 0;
}

/* report - the delivery-status part into out; its rank (0: no recipient block) */
static int report(const struct dsn_ctx *c, struct dsn *out)
{
	const char *s = c->report;
	size_t n = c->report_len, i = 0, k;
	struct rblock cur, best;
	int have = 0, best_rank = 0;
	clistiter *it;

	memset(&cur, 0, sizeof(cur));
	memset(&best, 0, sizeof(best));
	while (i < n) {
		size_t i0 = i;
		struct mailimf_fields *f = NULL;

		if ((k = blank_at(s, n, i)) > 0) { /* the end of a block */
			if (have && rank(&cur) > best_rank) {
				best = cur;
				best_rank = rank(&cur);
			}
			memset(&cur, 0, sizeof(cur));
			have = 0;
			i += k;
			continue;
		}
		if (mailimf_optional_fields_parse(s, n, &i, &f) == MAILIMF_NO_ERROR && f) {
			for (it = clist_begin(f->fld_list); it; it = clist_next(it)) {
				const struct mailimf_optional_field *o =
				        ((struct mailimf_field *)clist_content(it))
				                ->fld_data.fld_optional_field;
				if (o && o->fld_name && o->fld_value) {
					take_field(o->fld_name, o->fld_value, &cur, out);
					have = 1;
				}
			}
			mailimf_fields_free(f);
		}
		if (i <= i0) { /* not a field: skip the line */
			const char *nl = memchr(s + i0, '\n', n - i0);
			i = nl ? (size_t)(nl - s) + 1 : n;
		}
	}
	if (have && rank(&cur) > best_rank) {
		best = cur;
		best_rank = rank(&cur);
	}
	if (best_rank < 2)
		return 0;
	snprintf(out->recipient, sizeof(out->recipient), "%s",
	        best.orig[0] ? best.orig : best.final);
	snprintf(out->diagnostic, sizeof(out->diagnostic), "%s", best.diag);
	/* no usable Status: the diagnostic's enhanced code, else its reply code's class */
	if (best.status[0])
		snprintf(out->status, sizeof(out->status), "%s", best.status);
	else if (!dsn_status(best.diag, strlen(best.diag), out->status, sizeof(out->status)) &&
	         dsn_code(best.diag, strlen(best.diag)))
		snprintf(out->status, sizeof(out->status), "%d.0.0",
		        dsn_code(best.diag, strlen(best.diag)) / 100);
	out->kind = best_rank == 4 ? DSN_BOUNCE : best_rank == 3 ? DSN_DELAY : DSN_NONE;
	return best_rank;
}

/* classify - the kind of message from what walk found */
static void classify(struct dsn_ctx *c, struct dsn *out)
{
	char envid[sizeof(out->envid)];

	dsn_text_prepare(c);
	if (c->report && report(c, out)) {
		if (c->orig_mid[0]) /* before Gmail's X-Original-Message-ID */
			snprintf(out->message_id, sizeof(out->message_id), "%s", c->orig_mid);
		if (!out->recipient[0])
			snprintf(out->recipient, sizeof(out->recipient), "%s", c->failed_rcpt);
		if (out->kind != DSN_NONE)
			dsn_text_fill(c, out);
		if (!out->message_id[0] && c->text)
			dsn_msgid(c->text, c->text_len, out->message_id, sizeof(out->message_id));
		return;
	}
	snprintf(envid, sizeof(envid), "%s", out->envid); /* a report without recipients */
	memset(out, 0, sizeof(*out));
	if (dsn_notice(c, out))
		return;
	if (!dsn_text_bounce(c, out)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	snprintf(out->envid, sizeof(out->envid), "%s", envid);
	if (c->orig_mid[0])
		snprintf(out->message_id, sizeof(out->message_id), "%s", c->orig_mid);
	else if (c->text)
		dsn_msgid(c->text, c->text_len, out->message_id, sizeof(out->message_id));
}

/* dsn_parse - classify one raw message; 0 ok, -1 unparseable */
int dsn_parse(const char *msg, size_t len, struct dsn *out)
{
	struct mailmime *mime = NULL;
	struct dsn_ctx c;
	size_t idx = 0;
	char *copy;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (msg == NULL || len == 0)
		return -1;
	/* a NUL-terminated copy: libetpan is not trusted to stop at len */
	len = input_len(msg, len);
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, msg, len);
	copy[len] = '\0';
	if (mailmime_parse(copy, len, &idx, &mime) != MAILIMF_NO_ERROR || mime == NULL) {
		free(copy);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	if (mime->mm_type == MAILMIME_MESSAGE) {
		read_headers(mime->mm_data.mm_message.mm_fields, &c);
		walk(mime->mm_data.mm_message.mm_msg_mime, &c, 0);
	}
	classify(&c, out);
	mailmime_free(mime);
	free(c.plain);
	free(c.html);
	free(c.report);
	free(c.text);
	free(c.ltext);
	free(c.norm);
	free(copy);
	return 0;
}

/* dsn_judge - a bounce or delay as reply_judge sees the same words at RCPT */
int dsn_judge(const struct dsn *d, time_t now, struct verdict *v)
{
	char text[sizeof(d->status) + sizeof(d->diagnostic) + 2];
	const char *p = d->diagnostic;
	int code;

	if (d->kind != DSN_BOUNCE && d->kind != DSN_DELAY)
		return -1;
	code = d->status[0] == '5'     ? 550
	       : d->status[0] == '4'   ? 450
	       : d->kind == DSN_BOUNCE ? 550
	                               : 450;
	/* "550 5.1.1 ..." or "554: ...": the reply code of the diagnostic goes;
	 * the status leads unless an enhanced code already does */
	if (p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	        p[2] <= '9' && (p[3] == ' ' || p[3] == '-' || p[3] == ':' || !p[3]))
		p += 3 + strspn(p + 3, " -:");
	if (d->status[0] && !dsn_status(p, strcspn(p, " ;,"), NULL, 0))
		snprintf(text, sizeof(text), "%s %s", d->status, p);
	else
		snprintf(text, sizeof(text), "%s", p);
	reply_judge(STAGE_RCPT, code, text, now, v);
	return 0;
}
