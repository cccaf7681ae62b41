/*
 * rfc2047 - header text that is safe to write: encoded words for
 * non-ASCII, quoted strings for ASCII phrases, never a raw control byte.
 *
 * Input is UTF-8 (jansson guarantees valid UTF-8; anything invalid becomes
 * U+FFFD).  CR, LF, TAB and other controls (C0 and C1) become spaces; bidirectional controls
 * (U+202A..U+202E, U+2066..U+2069) are dropped.  Encoded words are "=?UTF-8?B?...?=", each at most
 * 75 characters, split on character boundaries, separated by CRLF SP folding.  Results are
 * malloc'ed; free() them.
 */
#ifndef SPOOLD_RFC2047_H
#define SPOOLD_RFC2047_H

#include <stddef.h>

/* rfc2047_text - an unstructured header value (Subject); col is the
 * column where the value starts ("Subject: " = 9) */
char *rfc2047_text(const char *utf8, size_t col);
/* rfc2047_phrase - a display name: atoms, a quoted string or encoded words */
char *rfc2047_phrase(const char *utf8, size_t col);
/* rfc2047_clean - the input with controls spaced and bidi controls removed */
char *rfc2047_clean(const char *utf8);

#endif
