/*
 * mime - headers written by hand, parts by libetpan; see mime.h.
 *
 * libetpan facts this relies on (checked against 1.9.4): mailmime_new_empty
 * gives a multipart a boundary of its own (we replace its value);
 * mailmime_write_mem writes a root part's body but not its Content-Type
 * (mailmime_content_write_mem and mailmime_fields_write_mem do); a part's
 * data marked encoded is written as it is, and libetpan never frees a
 * part's text.  Text parts are encoded by qp.h, not by libetpan's encoder
 * (slow, and it encodes most punctuation and every "F").
 */
#include <libetpan/libetpan.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "hex.h"
#include "mime.h"
#include "pid.h"
#include "qp.h"
#include "rfc2047.h"

#define LINE_MAX_SOFT 78
#define LINE_MAX_HARD 998

struct hbuf {
	char *s;
	size_t len, cap;
	int oom;
};

/* hb_add - append n bytes */
static void hb_add(struct hbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* hb_printf - append formatted text */
__attribute__((format(printf, 2, 3))) static void hb_printf(struct hbuf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		hb_add(b, small, (size_t)n);
		return;
	}
	if (!(big = malloc((size_t)n + 1))) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hb_add(b, big, (size_t)n);
	free(big);
}

/* header_token - 1 when s is printable ASCII without spaces (and not empty) */
static int header_token(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

/* add_address - "Hdr: phrase <addr>", the address on a line of its own
 * when the phrase is folded or the line would be too long */
static int add_address(struct hbuf *b, const char *hdr, const char *name, const char *addr,
        char *err, size_t errlen)
{
	char why[128], *phrase = NULL;

	if (!addr_valid(addr, why, sizeof why)) {
		snprintf(err, errlen, "%s: not a valid address: %s", hdr, why);
		return -1;
	}
	if (name && *name && !(phrase = rfc2047_phrase(name, strlen(hdr) + 2))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (phrase && *phrase && !strchr(phrase, '\n') &&
	        strlen(hdr) + strlen(phrase) + strlen(addr) + 5 <= LINE_MAX_SOFT)
		hb_printf(b, "%s: %s <%s>\r\n", hdr, phrase, addr);
	else if (phrase && *phrase)
		hb_printf(b, "%s: %s\r\n <%s>\r\n", hdr, phrase, addr);
	else
		hb_printf(b, "%s: %s\r\n", hdr, addr);
	free(phrase);
	return 0;
}

/* add_unsubscribe - List-Unsubscribe, and List-Unsubscribe-Post for https;
 * folded between the URIs, never inside one and never right after the
 * colon (readers then keep a leading space in the value): a long mailto:
 * URI makes a line longer than 78 characters, within the limit of 998 */
static void add_unsubscribe(struct hbuf *b, const char *mailto, const char *url)
{
	size_t n = strlen("List-Unsubscribe: <>,") + (mailto ? strlen(mailto) : 0);

	if (mailto && url)
		hb_printf(b, "List-Unsubscribe: <%s>,%s<%s>\r\n", mailto,
		        n + strlen(url) + 3 <= LINE_MAX_SOFT ? " " : "\r\n ", url);
	else
		hb_printf(b, "List-Unsubscribe: <%s>\r\n", mailto ? mailto : url);
	if (url && !strncmp(url, "https://", 8))
		hb_printf(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
}

/* add_param - NAME="VALUE" on a content type; -1 out of memory */
static int add_param(struct mailmime_content *ct, const char *name, const char *value)
{
	struct mailmime_parameter *p;
	char *n = strdup(name), *v = strdup(value);

	if (!n || !v || !(p = mailmime_parameter_new(n, v))) {
		free(n);
		free(v);
		return -1;
	}
	if (clist_append(ct->ct_parameters, p) < 0) {
		mailmime_parameter_free(p);
		return -1;
	}
	return 0;
}

/* random_bytes - n (at most 64) random bytes, from a pool that getrandom
 * refills; a counter and the clock when the kernel has none to give */
static void random_bytes(unsigned char *r, size_t n)
{
	static unsigned char pool[256];
	static size_t left;
	static unsigned long count;

	if (left < n) {
		left = getrandom(pool, sizeof pool, GRND_NONBLOCK) == (ssize_t)sizeof pool
		               ? sizeof pool
		               : 0;
		if (!left) {
			unsigned long x = (unsigned long)time(NULL) ^
			                  ((unsigned long)pid_self() << 16) ^ ++count;
			for (size_t i = 0; i < n; i++, x = x * 6364136223846793005UL + 1)
				r[i] = (unsigned char)(x >> 33);
			return;
		}
	}
	memcpy(r, pool + sizeof pool - left, n);
	left -= n;
}

/* boundary - "=_spoold_" and 32 random hex digits; "=_" keeps it out of
 * quoted-printable and base64 text whatever the randomness */
static char *boundary(void)
{
	unsigned char r[16];
	char *s = malloc(9 + 2 * sizeof r + 1);

	if (!s)
		return NULL;
	random_bytes(r, sizeof r);
	memcpy(s, "=_spoold_", 9);
	hex_lower(s + 9, r, sizeof r);
	return s;
}

/* multipart - an empty multipart/SUBTYPE with our boundary; made with
 * mailmime_new, as mailmime_new_empty would make a boundary of its own
 * (from gethostname, getpid and random) only for us to replace it */
static struct mailmime *multipart(const char *type)
{
	struct mailmime_content *ct = mailmime_content_new_with_str(type);
	struct mailmime_fields *f = ct ? mailmime_fields_new_empty() : NULL;
	clist *parts = f ? clist_new() : NULL;
	char *b = parts ? boundary() : NULL;
	struct mailmime *m = NULL;

	if (b && add_param(ct, "boundary", b) == 0)
		m = mailmime_new(
		        MAILMIME_MULTIPLE, NULL, 0, f, ct, NULL, NULL, NULL, parts, NULL, NULL);
	free(b);
	if (!m) {
		if (parts)
			clist_free(parts);
		if (f)
			mailmime_fields_free(f);
		if (ct)
			mailmime_content_free(ct);
	}
	return m;
}

/* leaf - a text/SUBTYPE part over text (not copied), charset utf-8; text
 * is encoded already for quoted-printable, raw for base64 */
static struct mailmime *leaf(const char *type, const char *text, int encoding, const char *filename)
{
	struct mailmime_content *ct = mailmime_content_new_with_str(type);
	struct mailmime_fields *f = NULL;
	struct mailmime *m = NULL;
	char *fn = NULL;

	if (!ct || add_param(ct, "charset", "utf-8") < 0)
		goto fail;
	if (filename) {
		if (add_param(ct, "method", "PUBLISH") < 0 || add_param(ct, "name", filename) < 0 ||
		        !(fn = strdup(filename)))
			goto fail;
		f = mailmime_fields_new_filename(
		        MAILMIME_DISPOSITION_TYPE_ATTACHMENT, fn, encoding);
		if (!f)
			free(fn);
	} else {
		f = mailmime_fields_new_encoding(encoding);
	}
	if (!f || !(m = mailmime_new_empty(ct, f)))
		goto fail;
	m->mm_data.mm_single = mailmime_data_new(MAILMIME_DATA_TEXT, encoding,
	        encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE, (char *)text, strlen(text), NULL);
	if (!m->mm_data.mm_single) {
		mailmime_free(m);
		return NULL;
	}
	return m;
fail:
	if (f)
		mailmime_fields_free(f);
	if (ct)
		mailmime_content_free(ct);
	return NULL;
}

/* canon_text - a copy of s with every line end (CRLF, CR, LF) as LF, no
 * space or tab before a line end, and a final LF: the canonical form of
 * text, which a reader shows the same whatever the mail software between. */
static char *canon_text(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *t = malloc(n + 2);

	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			while (o > 0 && (t[o - 1] == ' ' || t[o - 1] == '\t'))
				o--;
			t[o++] = '\n';
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			t[o++] = s[i];
		}
	}
	while (o > 0 && (t[o - 1] == ' ' || t[o - 1] == '\t'))
		o--;
	if (o == 0 || t[o - 1] != '\n')
		t[o++] = '\n';
	t[o] = '\0';
	return t;
}

/* qp_canon - s made canonical and quoted-printable (malloc'ed), or NULL */
static char *qp_canon(const char *s)
{
	char *t = canon_text(s), *q;
	size_t n;

	if (!t)
		return NULL;
	q = qp_encode(t, strlen(t), &n);
	free(t);
	return q;
}

/* body_tree - the root part: text, alternative, or mixed with the event */
static struct mailmime *body_tree(const struct mime_msg *m, const char *text, const char *html)
{
	struct mailmime *root, *alt, *part;

	/* alt: the text, or the text and its HTML alternative */
	if (!html) {
		if (!(alt = leaf("text/plain", text, MAILMIME_MECHANISM_QUOTED_PRINTABLE, NULL)))
			return NULL;
	} else {
		if (!(alt = multipart("multipart/alternative")))
			return NULL;
		if (!(part = leaf("text/plain", text, MAILMIME_MECHANISM_QUOTED_PRINTABLE, NULL)) ||
		        mailmime_smart_add_part(alt, part) != MAILIMF_NO_ERROR)
			goto fail_part;
		if (!(part = leaf("text/html", html, MAILMIME_MECHANISM_QUOTED_PRINTABLE, NULL)) ||
		        mailmime_smart_add_part(alt, part) != MAILIMF_NO_ERROR)
			goto fail_part;
	}
	if (!m->ics)
		return alt;
	if (!(root = multipart("multipart/mixed"))) {
		mailmime_free(alt);
		return NULL;
	}
	if (mailmime_smart_add_part(root, alt) != MAILIMF_NO_ERROR) {
		mailmime_free(alt);
		mailmime_free(root);
		return NULL;
	}
	part = leaf("text/calendar", m->ics, MAILMIME_MECHANISM_BASE64, "appointment.ics");
	if (!part || mailmime_smart_add_part(root, part) != MAILIMF_NO_ERROR) {
		if (part)
			mailmime_free(part);
		mailmime_free(root);
		return NULL;
	}
	return root;
fail_part:
	if (part)
		mailmime_free(part);
	mailmime_free(alt);
	return NULL;
}

/* write_body - Content-Type (and -Transfer-Encoding), blank line, body */
static int write_body(struct hbuf *b, struct mailmime *root)
{
	MMAPString *s = mmap_string_new("");
	int col = 0, ok;

	if (!s)
		return -1;
	ok = mailmime_content_write_mem(s, &col, root->mm_content_type) == MAILIMF_NO_ERROR &&
	     (!root->mm_mime_fields || mailmime_fields_write_mem(s, &col, root->mm_mime_fields) ==
	                                       MAILIMF_NO_ERROR) &&
	     mmap_string_append(s, "\r\n") != NULL;
	col = 0;
	ok = ok && mailmime_write_mem(s, &col, root) == MAILIMF_NO_ERROR;
	if (ok)
		hb_add(b, s->str, s->len);
	mmap_string_free(s);
	return ok ? 0 : -1;
}

/* headers - everything above MIME-Version's Content-Type */
static int headers(struct hbuf *b, const struct mime_msg *m, char *err, size_t errlen)
{
	size_t idlen = m->msgid ? strlen(m->msgid) : 0;
	char *subj;

	/* One <...> with no other angle brackets (a job may carry its own). */
	if (!header_token(m->msgid) || idlen < 3 || idlen > 900 || m->msgid[0] != '<' ||
	        strcspn(m->msgid + 1, "<>") != idlen - 2 || m->msgid[idlen - 1] != '>') {
		snprintf(err, errlen, "Message-ID: not a message id (spool.message_id)");
		return -1;
	}
	if (!header_token(m->job) || strlen(m->job) > 200) {
		snprintf(err, errlen, "X-Spool-Job: not a job name");
		return -1;
	}
	if (!m->date || !*m->date || strpbrk(m->date, "\r\n")) {
		snprintf(err, errlen, "Date: no date");
		return -1;
	}
	if (add_address(b, "From", m->from_name, m->from, err, errlen) < 0 ||
	        add_address(b, "To", m->to_name, m->to, err, errlen) < 0)
		return -1;
	if (!(subj = rfc2047_text(m->subject ? m->subject : "", 9))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	hb_printf(b, "Subject:%s%s\r\n", *subj ? " " : "", subj);
	free(subj);
	hb_printf(b, "Date: %s\r\n", m->date);
	hb_printf(b, "Message-ID: %s\r\n", m->msgid);
	hb_printf(b, "X-Spool-Job: %s\r\n", m->job);
	hb_printf(b, "Auto-Submitted: auto-generated\r\n");
	if ((m->unsub_mailto && *m->unsub_mailto) || (m->unsub_url && *m->unsub_url)) {
		const char *mt = m->unsub_mailto && *m->unsub_mailto ? m->unsub_mailto : NULL;
		const char *u = m->unsub_url && *m->unsub_url ? m->unsub_url : NULL;
		if ((mt && !header_token(mt)) || (u && !header_token(u)) ||
		        (mt && strpbrk(mt, "<>")) || (u && strpbrk(u, "<>"))) {
			snprintf(err, errlen, "List-Unsubscribe: not a URI");
			return -1;
		}
		add_unsubscribe(b, mt, u);
	}
	hb_printf(b, "MIME-Version: 1.0\r\n");
	return 0;
}

/* mime_build - the whole message */
char *mime_build(const struct mime_msg *m, size_t *len, char *err, size_t errlen)
{
	struct hbuf b = {0};
	struct mailmime *root = NULL;
	char *text = NULL, *html = NULL;

	*len = 0;
	if (headers(&b, m, err, errlen) < 0)
		goto fail;
	text = qp_canon(m->text ? m->text : "");
	html = m->html ? qp_canon(m->html) : NULL;
	if (!text || (m->html && !html) || !(root = body_tree(m, text, html)) ||
	        write_body(&b, root) < 0 || b.oom) {
		snprintf(err, errlen, "the MIME structure could not be written (out of memory)");
		goto fail;
	}
	if (b.len < 2 || memcmp(b.s + b.len - 2, "\r\n", 2))
		hb_add(&b, "\r\n", 2);
	if (b.oom || mime_header_check(b.s, b.len, err, errlen) < 0)
		goto fail;
	mailmime_free(root);
	free(text);
	free(html);
	*len = b.len;
	return b.s;
fail:
	if (b.oom)
		snprintf(err, errlen, "out of memory");
	if (root)
		mailmime_free(root);
	free(text);
	free(html);
	free(b.s);
	return NULL;
}

/* mime_header_check - printable ASCII, CRLF, folded lines start with WSP */
int mime_header_check(const char *msg, size_t len, char *err, size_t errlen)
{
	size_t i = 0, line = 1;

	while (i < len) {
		size_t start = i, k = i;
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			if (line == 1)
				break; /* no header at all */
			return 0;      /* the blank line ends the header section */
		}
		if (msg[i] == ' ' || msg[i] == '\t') {
			if (line == 1)
				break; /* a continuation needs a field to continue */
		} else {
			while (k < len && msg[k] > ' ' && msg[k] <= '~' && msg[k] != ':')
				k++;
			if (k == i || k >= len || msg[k] != ':')
				break;
		}
		while (i < len && msg[i] != '\r' && msg[i] != '\n') {
			unsigned char c = (unsigned char)msg[i];
			if ((c < ' ' && c != '\t') || c > '~')
				goto bad;
			i++;
		}
		if (i + 1 >= len || msg[i] != '\r' || msg[i + 1] != '\n' ||
		        i - start > LINE_MAX_HARD)
			break;
		i += 2;
		line++;
	}
bad:
	snprintf(err, errlen,
	        "header line %zu is not clean (8-bit, a bare CR or LF, too long, or not a field)",
	        line);
	return -1;
}
