/*
 * utf8 - the one UTF-8 validator every module uses: what is a valid
 * character (no overlong form, no surrogate, nothing above U+10FFFF).
 * Policy on top (C1 controls, bidi marks, what replaces a bad byte) stays
 * with the caller.  Pure.
 */
#ifndef SPOOLD_UTF8_H
#define SPOOLD_UTF8_H

#include <stddef.h>

/* utf8_char - the length (1 to 4) of the valid UTF-8 character at p, of
 * which n bytes may be read; 0 when it is not one (n 0 included) */
size_t utf8_char(const unsigned char *p, size_t n);

#endif
