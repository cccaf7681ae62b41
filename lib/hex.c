/*
 * hex - lower-case hexadecimal; see hex.h.
 */
#include "hex.h"

/* hex_lower - b as hex digits */
char *hex_lower(char *out, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}
