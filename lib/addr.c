/*
 * addr - validation of one RFC 5321 mailbox (local-part@domain).
 *
 * Owns the only definition of "a valid recipient" in spoold.  The rules
 * are deliberately narrower than RFC 5321: a dot-atom local part (no
 * quoted strings), a domain of at least two LDH labels or an [IPv4]
 * literal, no SMTPUTF8.  Whatever passes is safe to put into an SMTP
 * command and a header as it is.  Every refusal says exactly why.
 * Pure: no allocation, no global state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define ADDR_MAX 254
#define LABEL_MAX 63

/* fail - format the reason into err (when given) and return 0 */
__attribute__((format(printf, 3, 4))) static int fail(
        char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* is_atext - RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~ */
static int is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ldh - letter, digit or hyphen */
static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* check_chars - refuse characters that never belong in an address */
static int check_chars(const char *s, char *err, size_t errlen)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r')
			return fail(err, errlen, "contains CR");
		if (*p == '\n')
			return fail(err, errlen, "contains LF");
		if (*p == '\t')
			return fail(err, errlen, "contains a tab");
		if (*p < 0x20 || *p == 0x7f)
			return fail(err, errlen, "contains a control character (0x%02x)", *p);
		if (*p >= 0x80)
			return fail(
			        err, errlen, "non-ASCII characters are not supported (SMTPUTF8)");
		if (*p == ' ')
			return fail(err, errlen, "contains a space");
		if (strchr("<>,\"();:\\", *p) != NULL)
			return fail(err, errlen, "contains '%c'", *p);
	}
	return 1;
}

/* check_local - dot-atom local part of at most 64 octets */
static int check_local(const char *s, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (len == 0)
		return fail(err, errlen, "empty local part");
	if (len > LOCAL_MAX)
		return fail(err, errlen, "local part longer than %d characters", LOCAL_MAX);
	if (s[0] == '.')
		return fail(err, errlen, "local part starts with '.'");
	if (s[len - 1] == '.')
		return fail(err, errlen, "local part ends with '.'");
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return fail(err, errlen, "local part contains '..'");
		} else if (!is_atext((unsigned char)s[i])) {
			return fail(err, errlen, "local part contains '%c'", s[i]);
		}
	}
	return 1;
}

/* check_literal - "[d.d.d.d]" with four decimal octets 0..255, no leading zeros */
static int check_literal(const char *d, size_t len, char *err, size_t errlen)
{
	size_t i = 1, first;
	int part, val;

	if (len < 2 || d[len - 1] != ']')
		return fail(err, errlen, "address literal does not end with ']'");
	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (d[i] != '.')
				goto bad;
			i++;
		}
		first = i;
		val = 0;
		while (i < len - 1 && d[i] >= '0' && d[i] <= '9' && i - first < 3)
			val = val * 10 + (d[i++] - '0');
		if (i == first || val > 255 || (i - first > 1 && d[first] == '0'))
			goto bad;
	}
	if (i == len - 1)
		return 1;
bad:
	return fail(err, errlen, "address literal %.*s is not a valid IPv4 address", (int)len, d);
}

/* check_label - one LDH label of 1..63 characters */
static int check_label(const char *l, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (len > LABEL_MAX)
		return fail(err, errlen, "domain label \"%.*s...\" longer than %d characters", 20,
		        l, LABEL_MAX);
	for (i = 0; i < len; i++)
		if (!is_ldh((unsigned char)l[i]))
			return fail(err, errlen, "domain contains '%c'", l[i]);
	if (l[0] == '-')
		return fail(err, errlen, "domain label \"%.*s\" starts with '-'", (int)len, l);
	if (l[len - 1] == '-')
		return fail(err, errlen, "domain label \"%.*s\" ends with '-'", (int)len, l);
	return 1;
}

/* check_domain - dot-separated LDH labels (two or more) or an IPv4 literal */
static int check_domain(const char *d, size_t len, char *err, size_t errlen)
{
	const char *label, *dot, *end = d + len;
	size_t i, n, labels = 0;

	if (len == 0)
		return fail(err, errlen, "empty domain");
	if (len > DOMAIN_MAX)
		return fail(err, errlen, "domain longer than %d characters", DOMAIN_MAX);
	if (d[0] == '[')
		return check_literal(d, len, err, errlen);
	if (d[0] == '.')
		return fail(err, errlen, "domain starts with '.'");
	if (d[len - 1] == '.')
		return fail(err, errlen, "domain ends with '.'");
	for (label = d; label < end; label = dot + 1) {
		dot = memchr(label, '.', (size_t)(end - label));
		if (dot == NULL)
			dot = end;
		n = (size_t)(dot - label);
		if (n == 0)
			return fail(err, errlen, "domain contains '..'");
		if (!check_label(label, n, err, errlen))
			return 0;
		labels++;
		if (dot == end) {
			/* A numeric top-level label means an IP address without brackets. */
			for (i = 0; i < n && label[i] >= '0' && label[i] <= '9'; i++)
				;
			if (i == n)
				return fail(err, errlen,
				        "top-level domain \"%.*s\" is all digits (an IP address "
				        "must be written [d.d.d.d])",
				        (int)n, label);
			break;
		}
	}
	if (labels < 2)
		return fail(err, errlen, "domain \"%.*s\" has no '.'", (int)len, d);
	return 1;
}

/* addr_valid - 1 when s is one valid mailbox; else 0 with the reason in err */
int addr_valid(const char *s, char *err, size_t errlen)
{
	const char *at;
	size_t len;

	if (s == NULL || *s == '\0')
		return fail(err, errlen, "empty address");
	at = strrchr(s, '@');
	if (at != NULL && strncasecmp(at + 1, "[IPv6:", 6) == 0)
		return fail(err, errlen, "IPv6 address literals are not supported");
	if (!check_chars(s, err, errlen))
		return 0;
	at = strchr(s, '@');
	if (at == NULL)
		return fail(err, errlen, "no '@'");
	if (strchr(at + 1, '@') != NULL)
		return fail(err, errlen, "more than one '@'");
	len = strlen(s);
	if (len > ADDR_MAX)
		return fail(err, errlen, "longer than %d characters", ADDR_MAX);
	if (!check_local(s, (size_t)(at - s), err, errlen))
		return 0;
	return check_domain(at + 1, len - (size_t)(at - s) - 1, err, errlen);
}

/* addr_domain - pointer to the domain part of a valid address */
const char *addr_domain(const char *s)
{
	const char *at = s != NULL ? strrchr(s, '@') : NULL;

	return at != NULL ? at + 1 : NULL;
}
