/*
 * fuzz_rfc2047 - libFuzzer target for rfc2047_text and rfc2047_phrase.
 *
 * The first byte picks the starting column (0..63), the rest is the value:
 * any bytes up to the first NUL, invalid UTF-8 included.  Checked for both
 * functions: only printable ASCII, CRLF only as a fold (CRLF SP), no line
 * over 998 characters, every encoded word well formed, at most 75
 * characters and whole UTF-8 characters, lines with encoded words within
 * 76 characters when the value starts by column 56, and the meaning kept:
 * the encoded words decode (or the plain text unfolds, or the quoted
 * string unquotes) to exactly rfc2047_clean of the input, which itself is
 * valid UTF-8 without controls or doubled, leading or trailing spaces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s: %s\n", fn, what);                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* utf8_ok - the whole of s[0, n) is valid UTF-8 */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 0;
		if (len == 0 || s[i] > 0xf4 || i + len > n)
			return 0;
		cp = s[i] & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		        (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		        (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* b64_val - the value of a base64 digit, -1 if it is not one */
static int b64_val(char c)
{
	const char *d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(d, c) : NULL;

	return p ? (int)(p - d) : -1;
}

/* b64_decode - append the bytes of n base64 characters to out; -1 if bad */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t *o)
{
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if ((v[k] = b64_val(s[i + k])) < 0 || pad) {
				return -1;
			}
		}
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
		                  (unsigned long)v[2] << 6 | (unsigned long)v[3];
		out[(*o)++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[(*o)++] = (unsigned char)(w >> 8);
		if (pad < 1)
			out[(*o)++] = (unsigned char)w;
	}
	return n % 4 == 0 ? 0 : -1;
}

/* check - one encoded header value against the cleaned input */
static void check(const char *fn, const char *out, size_t col, const char *clean, int phrase)
{
	size_t n = strlen(out), i, line = col, o = 0, start;
	unsigned char *dec = malloc(n + 1);
	int encoded = strncmp(out, "=?", 2) == 0, has_word = 0;

	CHECK(dec != NULL, "out of memory");
	/* characters, folds, line lengths */
	for (i = 0; i < n; i++) {
		if (out[i] == '\r') {
			CHECK(out[i + 1] == '\n' && out[i + 2] == ' ', "CR not part of CRLF SP");
			CHECK(!has_word || col > 56 || line <= 76, "encoded line over 76");
			line = 0;
			has_word = 0;
			i++;
			continue;
		}
		CHECK(out[i] >= 0x20 && out[i] <= 0x7e, "not printable ASCII");
		if (out[i] == '=' && out[i + 1] == '?')
			has_word = 1;
		CHECK(++line <= 998, "line over 998");
	}
	CHECK(!has_word || col > 56 || line <= 76, "encoded line over 76");
	if (encoded) {
		/* encoded words separated by folds only */
		for (i = 0; i < n;) {
			CHECK(strncmp(out + i, "=?UTF-8?B?", 10) == 0, "not an encoded word");
			start = i;
			i += 10;
			const char *end = out + i; /* not strstr: ASan's is quadratic here */
			while (*end && !(end[0] == '?' && end[1] == '='))
				end++;
			CHECK(*end != '\0', "unterminated encoded word");
			size_t before = o;
			CHECK(b64_decode(out + i, (size_t)(end - (out + i)), dec, &o) == 0,
			        "bad base64");
			CHECK(utf8_ok(dec + before, o - before), "word not whole UTF-8 characters");
			i = (size_t)(end - out) + 2;
			CHECK(i - start <= 75, "encoded word over 75");
			if (i < n) {
				CHECK(strncmp(out + i, "\r\n ", 3) == 0,
				        "words not separated by a fold");
				i += 3;
			}
		}
	} else if (phrase) {
		CHECK(n >= 2 && out[0] == '"' && out[n - 1] == '"', "phrase not quoted");
		for (i = 1; i + 1 < n; i++) {
			if (out[i] == '\\')
				i++;
			else
				CHECK(out[i] != '"', "unescaped quote");
			dec[o++] = (unsigned char)out[i];
		}
	} else {
		for (i = 0; i < n; i++)
			if (out[i] != '\r' && out[i] != '\n')
				dec[o++] = (unsigned char)out[i];
	}
	CHECK(o == strlen(clean) && memcmp(dec, clean, o) == 0, "decodes to something else");
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fn = "rfc2047_clean";
	size_t col, n, i;
	char *s, *clean, *text, *phrase;

	if (size < 1)
		return 0;
	col = data[0] % 64;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	clean = rfc2047_clean(s);
	CHECK(clean != NULL, "NULL");
	n = strlen(clean);
	CHECK(utf8_ok((const unsigned char *)clean, n), "invalid UTF-8");
	CHECK(n == 0 || (clean[0] != ' ' && clean[n - 1] != ' '), "space at an end");
	for (i = 0; i < n; i++) {
		CHECK((unsigned char)clean[i] >= 0x20 && clean[i] != 0x7f, "control character");
		CHECK(!(clean[i] == ' ' && clean[i + 1] == ' '), "doubled space");
	}
	fn = "rfc2047_text";
	text = rfc2047_text(s, col);
	CHECK(text != NULL, "NULL");
	check(fn, text, col, clean, 0);
	fn = "rfc2047_phrase";
	phrase = rfc2047_phrase(s, col);
	CHECK(phrase != NULL, "NULL");
	check(fn, phrase, col, clean, 1);
	free(text);
	free(phrase);
	free(clean);
	free(s);
	return 0;
}
