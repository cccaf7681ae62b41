/*
 * dsn_util - the text helpers of dsn: clean copies of header and report
 * values, and finding addresses, status codes, reply codes and
 * Message-IDs in text (see dsn_int.h).  Every scan is linear in its input
 * and never reads past the n bytes it is given, except dsn_text_prepare
 * and html_text, which work on NUL-terminated buffers of their own.
 */
#include <stdlib.h>
#include <string.h>

#include "dsn_int.h"
#include "utf8.h"

/* lower - ASCII lower case */
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* utf8_len - the length of the valid UTF-8 character at s[0..n) that is
 * not a C1 control, 0 otherwise */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k = utf8_char(s, n);

	/* C1 controls (U+0080..U+009F) are 0xc2 0x80..0x9f */
	return k == 2 && s[0] == 0xc2 && s[1] <= 0x9f ? 0 : k;
}

/* dsn_valid - 1 when s[0..n) is all printable: ASCII above space (no DEL)
 * or valid UTF-8 outside C1 */
int dsn_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] <= ' ' || u[i] == 0x7f || (k = utf8_len(u + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* dsn_copy - n bytes of src into dst as one clean line */
void dsn_copy(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, k;
	int space = 0;

	if (size == 0)
		return;
	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == 0) {
			space = o > 0;
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			i++;
			continue;
		}
		k = utf8_len(s + i, n - i);
		if (o + (size_t)space + (k ? k : 1) + 1 > size)
			break;
		if (space)
			dst[o++] = ' ';
		space = 0;
		if (k)
			memcpy(dst + o, s + i, k);
		else
			dst[o] = '?';
		o += k ? k : 1;
		i += k ? k : 1;
	}
	dst[o] = '\0';
}

/* dsn_norm - src lower-cased, white space runs one space, controls dropped */
void dsn_norm(char *dst, size_t size, const char *src)
{
	size_t o = 0;
	int space = 0;

	for (; *src && o + 2 < size; src++) {
		unsigned char ch = (unsigned char)*src;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			space = o > 0;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f)
			continue;
		if (space)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = (char)lower(ch);
	}
	if (size)
		dst[o] = '\0';
}

/* local_ch, domain_ch - the characters of an address's two sides */
static int local_ch(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch >= 0x80 || (ch && strchr("!#$%&'*+-/=?^_`{|}~.", ch));
}
static int domain_ch(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch >= 0x80 || ch == '-' || ch == '.';
}

/* addr_at - the next address in s[*pos..n): 1 with [*b, *e), *pos after it; 0 */
static int addr_at(const char *s, size_t n, size_t *pos, size_t *b, size_t *e)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *at;
	size_t a, l, r, dot;

	while (*pos < n && (at = memchr(s + *pos, '@', n - *pos)) != NULL) {
		a = (size_t)(at - s);
		*pos = a + 1;
		for (l = a; l > 0 && a - l < 64 && local_ch(u[l - 1]);)
			l--;
		while (l < a && (u[l] == '.' || u[l] == '\''))
			l++;
		for (r = a + 1, dot = 0; r < n && r - a < 254 && domain_ch(u[r]); r++)
			dot |= u[r] == '.';
		while (r > a + 1 && (u[r - 1] == '.' || u[r - 1] == '-'))
			r--;
		if (l == a || !dot || r == a + 1 || u[a + 1] == '.' ||
		        !memchr(s + a + 1, '.', r - a - 1))
			continue;
		*b = l;
		*e = r;
		*pos = r;
		return 1;
	}
	return 0;
}

/* same_ci - a[0..n) equals the string b, ignoring ASCII case */
static int same_ci(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!b[i] || lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return b[n] == '\0';
}

/* dsn_addr - the first address in s[0..n) other than skip */
int dsn_addr(const char *s, size_t n, const char *skip, char *out, size_t size)
{
	size_t pos = 0, b, e;

	while (addr_at(s, n, &pos, &b, &e))
		if (e - b < size && !(skip && same_ci(s + b, e - b, skip)) &&
		        dsn_valid(s + b, e - b)) {
			memcpy(out, s + b, e - b);
			out[e - b] = '\0';
			return 1;
		}
	return 0;
}

/* dsn_addr_last - the last address in s[0..n) other than skip */
int dsn_addr_last(const char *s, size_t n, const char *skip, char *out, size_t size)
{
	size_t pos = 0, b, e;
	int found = 0;

	while (addr_at(s, n, &pos, &b, &e))
		if (e - b < size && !(skip && same_ci(s + b, e - b, skip)) &&
		        dsn_valid(s + b, e - b)) {
			memcpy(out, s + b, e - b);
			out[e - b] = '\0';
			found = 1;
		}
	return found;
}

/* digits - the count of ASCII digits at s[0..n), at most max */
static size_t digits(const char *s, size_t n, size_t max)
{
	size_t i = 0;

	while (i < n && i <= max && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* dsn_status - the first enhanced status code in s[0..n) */
int dsn_status(const char *s, size_t n, char *out, size_t size)
{
	size_t i, a, b, end;

	for (i = 0; i + 5 <= n; i++) {
		if ((s[i] != '2' && s[i] != '4' && s[i] != '5') || s[i + 1] != '.' ||
		        (i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.')))
			continue;
		a = digits(s + i + 2, n - i - 2, 3);
		if (a == 0 || a > 3 || i + 2 + a >= n || s[i + 2 + a] != '.')
			continue;
		b = digits(s + i + 3 + a, n - i - 3 - a, 3);
		end = i + 3 + a + b;
		if (b == 0 || b > 3 || (end < n && s[end] >= '0' && s[end] <= '9') ||
		        (end + 1 < n && s[end] == '.' && s[end + 1] >= '0' && s[end + 1] <= '9'))
			continue;
		if (out && end - i < size) {
			memcpy(out, s + i, end - i);
			out[end - i] = '\0';
		}
		return 1;
	}
	return 0;
}

/* dsn_code - the first 4xx or 5xx reply code standing as a word in s[0..n) */
int dsn_code(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if ((s[i] != '4' && s[i] != '5') || digits(s + i, n - i, 3) != 3)
			continue;
		if (i > 0 && (!s[i - 1] || !strchr(" \t\n#'(;:<\"=", s[i - 1])))
			continue;
		if (i + 3 < n && (!s[i + 3] || !strchr(" \t\r\n-:;,)", s[i + 3])))
			continue;
		return (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	}
	return 0;
}

/* dsn_angle - the first "<...>" in s[0..n) */
int dsn_angle(const char *s, size_t n, char *out, size_t size)
{
	const char *lt = memchr(s, '<', n), *p;

	for (; lt; lt = memchr(p, '<', n - (size_t)(p - s))) {
		for (p = lt + 1; p < s + n && *p != '>' && *p != '<' && (unsigned char)*p > ' ';
		        p++)
			;
		if (p < s + n && *p == '>' && p > lt + 1 && (size_t)(p - lt) + 1 < size &&
		        dsn_valid(lt, (size_t)(p - lt) + 1)) {
			memcpy(out, lt, (size_t)(p - lt) + 1);
			out[p - lt + 1] = '\0';
			return 1;
		}
		if (p >= s + n)
			break;
	}
	return 0;
}

/* dsn_msgid - the "<...>" after the first "Message-ID:" at a line start */
int dsn_msgid(const char *s, size_t n, char *out, size_t size)
{
	size_t i = 0, j;
	const char *nl;

	while (i < n) {
		for (j = i; j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '>'); j++)
			;
		if (n - j > 11 && same_ci(s + j, 10, "message-id")) {
			for (j += 10; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
				;
			if (j < n && s[j] == ':' &&
			        dsn_angle(s + j, n - j < 600 ? n - j : 600, out, size))
				return 1;
		}
		nl = memchr(s + i, '\n', n - i);
		i = nl ? (size_t)(nl - s) + 1 : n;
	}
	return 0;
}

/* dsn_append - n bytes to *buf, NULs as spaces, up to max */
int dsn_append(char **buf, size_t *len, size_t max, const char *s, size_t n)
{
	char *p;
	size_t i;

	if (*len >= max)
		return 0;
	if (n > max - *len)
		n = max - *len;
	if ((p = realloc(*buf, *len + n + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		p[*len + i] = s[i] ? s[i] : ' ';
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return 0;
}

/* html_text - html as text: tags dropped (block ends a newline), style
 * and script skipped, the common entities decoded; malloc'ed */
static char *html_text(const char *h, size_t n, size_t *len)
{
	static const char *const ent[][2] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"},
	        {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}, {"&#160;", " "}};
	char *out = malloc(n + 1);
	size_t i = 0, o = 0, k;

	if (out == NULL)
		return NULL;
	while (i < n) {
		if (h[i] == '<') {
			const char *gt = memchr(h + i, '>', n - i);
			size_t end = gt ? (size_t)(gt - h) + 1 : n;
			const char *close = NULL;
			if (n - i > 6 &&
			        (same_ci(h + i, 6, "<style") || same_ci(h + i, 7, "<script")))
				close = same_ci(h + i, 6, "<style") ? "</style" : "</script";
			if (close) { /* skip to the closing tag */
				size_t m = strlen(close);
				for (end = i + 1; end + m <= n && !same_ci(h + end, m, close);
				        end++)
					;
			}
			if (n - i > 2 && strchr("bpdtlh/", lower((unsigned char)h[i + 1])))
				out[o++] = '\n';
			i = end;
			continue;
		}
		for (k = 0; h[i] == '&' && k < sizeof(ent) / sizeof(ent[0]); k++)
			if (n - i >= strlen(ent[k][0]) &&
			        same_ci(h + i, strlen(ent[k][0]), ent[k][0]))
				break;
		if (h[i] == '&' && k < sizeof(ent) / sizeof(ent[0])) {
			out[o++] = ent[k][1][0];
			i += strlen(ent[k][0]);
		} else
			out[o++] = h[i++];
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* dsn_text_prepare - text, ltext and norm from plain (else html) */
int dsn_text_prepare(struct dsn_ctx *c)
{
	size_t i, n = 0;

	if (c->plain && c->plain[strspn(c->plain, " \t\r\n")]) {
		n = c->plain_len;
		if ((c->text = malloc(n + 1)) != NULL)
			memcpy(c->text, c->plain, n + 1);
	} else if (c->html)
		c->text = html_text(c->html, c->html_len, &n);
	if (c->text == NULL)
		return -1;
	c->text_len = n;
	c->ltext = malloc(n + 1);
	c->norm = malloc(n + 1);
	if (!c->ltext || !c->norm) {
		free(c->text);
		c->text = NULL;
		c->text_len = 0;
		return -1;
	}
	for (i = 0; i <= n; i++)
		c->ltext[i] = (char)lower((unsigned char)c->text[i]);
	dsn_norm(c->norm, n + 1, c->text);
	return 0;
}
