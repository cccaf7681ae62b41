/*
 * qp - quoted-printable encoding; see qp.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

#define QP_LINE_MAX 76 /* RFC 2045 6.7 (5), a soft break's "=" included */

/* qp_opens_badly - 1 when byte i of the line may not open an encoded line
 * as it is: "." (SMTP's end of data) or the "F" of "From " (mbox) */
static int qp_opens_badly(const unsigned char *line, size_t len, size_t i)
{
	return line[i] == '.' || (line[i] == 'F' && len - i >= 5 && !memcmp(line + i, "From ", 5));
}

/* qp_line - append one line (no line end) and its CRLF at o; the new end */
static char *qp_line(char *o, const unsigned char *line, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = line[i];
		int more = i + 1 < len;
		/* white space ending a line is lost in transit: encoded */
		int plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && more);
		if (plain && col == 0)
			plain = !qp_opens_badly(line, len, i);
		/* room for this and, unless it ends the line, a soft break's "=" */
		if (col + (plain ? 1 : 3) > QP_LINE_MAX - (size_t)more) {
			memcpy(o, "=\r\n", 3);
			o += 3;
			col = 0;
			if (plain)
				plain = !qp_opens_badly(line, len, i);
		}
		if (plain) {
			*o++ = (char)c;
			col++;
		} else {
			*o++ = '=';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			col += 3;
		}
	}
	memcpy(o, "\r\n", 2);
	return o + 2;
}

/* qp_encode - s as quoted-printable */
char *qp_encode(const char *s, size_t n, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *out, *o;

	/* Each byte takes at most 3, a soft break 3 per 25 bytes at least,
	 * a line end 2 for its LF: 4 per byte and the last line end cover it. */
	if (n > (SIZE_MAX - 8) / 4 || !(out = malloc(4 * n + 8)))
		return NULL;
	o = out;
	while (p < end) {
		const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf ? lf : end) - p);
		if (lf && len > 0 && p[len - 1] == '\r')
			len--; /* CRLF: a line end; a CR anywhere else is =0D */
		o = qp_line(o, p, len);
		p = lf ? lf + 1 : end;
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}
