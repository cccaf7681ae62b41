/*
 * qp_check - what every qp_encode output must be, for test_qp and fuzz_qp.
 *
 * qp_check(s, n) encodes s and returns NULL when the result is sound, else
 * what is wrong: only printable ASCII and CRLF line ends; no line over 76
 * characters; "=" only before two upper-case hex digits or a line end; no
 * space or tab before a line end; no "." or "From " opening a line; and
 * libetpan's decoder, not ours, reading back the input with LF and CRLF as
 * CRLF and a line end after a last line without one.
 */
#ifndef SPOOLD_QP_CHECK_H
#define SPOOLD_QP_CHECK_H

#include <libetpan/libetpan.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

/* qp_expect - what decoding must give back for s (malloc'ed, *len) */
static char *qp_expect(const char *s, size_t n, size_t *len)
{
	char *e = malloc(2 * n + 3);
	size_t o = 0;

	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		if (s[i] == '\n')
			e[o++] = '\r';
		e[o++] = s[i];
	}
	if (n > 0 && s[n - 1] != '\n') {
		e[o++] = '\r';
		e[o++] = '\n';
	}
	*len = o;
	return e;
}

/* qp_lines_ok - the encoded text's form; NULL or what is wrong */
static const char *qp_lines_ok(const char *q, size_t qlen)
{
	size_t col = 0;

	for (size_t i = 0; i < qlen; i++) {
		unsigned char c = (unsigned char)q[i];
		if (c == '\r') {
			if (i + 1 >= qlen || q[i + 1] != '\n')
				return "a CR that is not a line end";
			if (col > 0 && (q[i - 1] == ' ' || q[i - 1] == '\t'))
				return "white space before a line end";
			col = 0;
			i++;
			continue;
		}
		if ((c < 32 && c != '\t') || c > 126)
			return "a byte that is not printable ASCII";
		if (++col > 76)
			return "a line over 76 characters";
		if (col == 1 && (c == '.' || (qlen - i >= 5 && !memcmp(q + i, "From ", 5))))
			return "a line opening with \".\" or \"From \"";
		if (c == '=') {
			int soft = i + 2 < qlen && q[i + 1] == '\r' && q[i + 2] == '\n';
			int hex = i + 2 < qlen && strchr("0123456789ABCDEF", q[i + 1]) &&
			          strchr("0123456789ABCDEF", q[i + 2]) && q[i + 1] && q[i + 2];
			if (!soft && !hex)
				return "an \"=\" that is neither a soft break nor =XX";
		}
	}
	if (qlen > 0 && (qlen < 2 || memcmp(q + qlen - 2, "\r\n", 2)))
		return "no line end at the end";
	return NULL;
}

/* qp_check - encode s and check the result; NULL when sound */
static const char *qp_check(const char *s, size_t n)
{
	const char *bad;
	char *q, *want, *dec = NULL;
	size_t qlen, wlen, dlen = 0, idx = 0;

	if (!(q = qp_encode(s, n, &qlen)))
		return "qp_encode failed";
	if (strlen(q) != qlen)
		bad = "the length is not the string's";
	else
		bad = qp_lines_ok(q, qlen);
	if (!bad && !(want = qp_expect(s, n, &wlen)))
		bad = "out of memory";
	else if (!bad) {
		if (qlen > 0 && mailmime_part_parse(q, qlen, &idx, MAILMIME_MECHANISM_QUOTED_PRINTABLE,
		                        &dec, &dlen) != MAILIMF_NO_ERROR)
			bad = "libetpan could not decode it";
		else if (dlen != wlen || (wlen && memcmp(dec, want, wlen)))
			bad = "it does not decode to the input";
		if (dec)
			mailmime_decoded_part_free(dec);
		free(want);
	}
	free(q);
	return bad;
}

#endif
