/*
 * rfc2047 - encoded words and safe header phrases; see rfc2047.h.
 *
 * Robust to any bytes: invalid UTF-8 (stray continuation bytes, overlong
 * forms, surrogates, truncated sequences) becomes U+FFFD, and C1 controls
 * (U+0080..U+009F) become spaces like the C0 ones, so encoded words always
 * carry whole, valid UTF-8 characters.  Spaces are trimmed at both ends and
 * runs of them folded to one.  Lines holding encoded words stay within 76
 * characters (RFC 2047, section 2) unless the value starts past column 56.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2047.h"
#include "utf8.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* utf8_len - the length of the UTF-8 sequence starting with byte c */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1; /* invalid lead byte: treated as one unit */
}

/* utf8_valid - the length of the valid UTF-8 character at p (n bytes
 * left), 0 when it is not one */
static size_t utf8_valid(const unsigned char *p, size_t n)
{
	return utf8_char(p, n);
}

/* is_bidi - U+202A..U+202E and U+2066..U+2069, UTF-8 encoded at p */
static int is_bidi(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 1;
	return p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
}

/* rfc2047_clean - controls to spaces, bidi controls out, invalid UTF-8 to
 * U+FFFD, spaces trimmed and runs of them folded */
char *rfc2047_clean(const char *utf8)
{
	size_t n = strlen(utf8);
	char *out = malloc(3 * n + 1), *o = out; /* one invalid byte: 3 bytes */
	const unsigned char *p = (const unsigned char *)utf8, *end = p + n;

	if (!out)
		return NULL;
	while (*p) {
		size_t l = utf8_valid(p, (size_t)(end - p));
		if (l == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		if (l == 3 && is_bidi(p)) {
			p += 3;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f || *p == ' ' || (p[0] == 0xc2 && p[1] < 0xa0)) {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			p += l;
			continue;
		}
		memcpy(o, p, l);
		o += l;
		p += l;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

/* all_ascii - 1 when every byte is printable ASCII or space */
static int all_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

/* sb_add - append n bytes */
static void sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s)
			abort();
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* encode_words - the whole string as B encoded words, folded; col is
 * the column where it starts */
static char *encode_words(const char *s, size_t col)
{
	/* "=?UTF-8?B?" + "?=" is 12; a folded line holds " " and 63 more
	 * characters within 76: 15 quads, 45 bytes of text per word */
	struct sbuf b = {0};
	const unsigned char *p = (const unsigned char *)s;
	size_t line = col;

	sb_add(&b, "", 0);
	while (*p) {
		unsigned char chunk[48];
		/* Every word after the first starts a folded line (" " + word). */
		size_t start = b.len > 0 ? 1 : line;
		size_t n = 0, room = start + 12 + 4 <= 76 ? (76 - start - 12) / 4 * 3 : 3;
		if (room > 45)
			room = 45;
		while (*p) {
			size_t l = utf8_len(*p);
			if (n + l > room && n > 0)
				break;
			for (size_t i = 0; i < l && *p; i++)
				chunk[n++] = *p++;
		}
		char word[80];
		size_t w = (size_t)snprintf(word, sizeof word, "=?UTF-8?B?");
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned)chunk[i] << 16;
			if (i + 1 < n)
				v |= (unsigned)chunk[i + 1] << 8;
			if (i + 2 < n)
				v |= chunk[i + 2];
			word[w++] = b64[(v >> 18) & 63];
			word[w++] = b64[(v >> 12) & 63];
			word[w++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
			word[w++] = i + 2 < n ? b64[v & 63] : '=';
		}
		word[w++] = '?';
		word[w++] = '=';
		if (b.len > 0) {
			sb_add(&b, "\r\n ", 3);
			line = 1;
		}
		sb_add(&b, word, w);
	}
	return b.s;
}

/* fold_ascii - printable ASCII folded at spaces to stay under 78 columns */
static char *fold_ascii(const char *s, size_t col)
{
	struct sbuf b = {0};
	size_t line = col;

	sb_add(&b, "", 0);
	while (*s) {
		size_t w = strcspn(s, " ");
		if (line + w > 76 && b.len > 0) {
			sb_add(&b, "\r\n", 2);
			line = 0;
		}
		if (b.len > 0 && s[-1] == ' ') {
			sb_add(&b, " ", 1);
			line++;
		}
		sb_add(&b, s, w);
		line += w;
		s += w;
		while (*s == ' ')
			s++;
	}
	return b.s;
}

/* rfc2047_text - an unstructured header value */
char *rfc2047_text(const char *utf8, size_t col)
{
	char *clean = rfc2047_clean(utf8), *out;
	int long_word = 0;

	if (!clean)
		return NULL;
	for (const char *p = clean; *p;) {
		size_t w = strcspn(p, " ");
		if (w > 70)
			long_word = 1;
		p += w;
		while (*p == ' ')
			p++;
	}
	/* "=?" inside plain text would be read as an encoded word: encode it too. */
	if (all_ascii(clean) && !long_word && !strstr(clean, "=?"))
		out = fold_ascii(clean, col);
	else
		out = encode_words(clean, col);
	free(clean);
	return out;
}

/* rfc2047_phrase - a display name safe for From: and To: */
char *rfc2047_phrase(const char *utf8, size_t col)
{
	char *clean = rfc2047_clean(utf8), *out;
	size_t n;

	if (!clean)
		return NULL;
	n = strlen(clean);
	if (!all_ascii(clean) || n > 60 || strstr(clean, "=?")) {
		out = encode_words(clean, col);
		free(clean);
		return out;
	}
	/* A quoted string: escape '"' and '\'. */
	out = malloc(2 * n + 3);
	if (out) {
		char *o = out;
		*o++ = '"';
		for (const char *p = clean; *p; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
		*o = '\0';
	}
	free(clean);
	return out;
}
