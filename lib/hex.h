/*
 * hex - bytes written as lower-case hexadecimal, two digits each, for
 * names that must be unique and safe anywhere (ids/ markers, MIME
 * boundaries).  Escapes that put hex after a sign (=XX, %XX, +XX) keep
 * their own loops: each has its own rules for which bytes to escape.
 */
#ifndef SPOOLD_HEX_H
#define SPOOLD_HEX_H

#include <stddef.h>

/* hex_lower - the n bytes at b as 2n hex digits and a NUL at out; out */
char *hex_lower(char *out, const unsigned char *b, size_t n);

#endif
