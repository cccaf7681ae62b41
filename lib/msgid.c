/*
 * msgid - a job's Message-ID and RFC 3461 ENVID, and the job's name back
 * from either (for bounces read by spoold/verify_inbox.c).  Pure; see
 * msgid.h.  Both encodings are injective, so two jobs never share one.
 */
#include <stdio.h>
#include <string.h>

#include "msgid.h"
#include "spooldir.h"

/* msg_message_id - stable, unique, dot-atom-safe */
char *msg_message_id(const char *name, const char *from, char *buf, size_t len)
{
	const char *dom = from ? strrchr(from, '@') : NULL;
	char left[3 * 256];
	size_t o = 0;

	for (const char *p = name; *p && o + 4 < sizeof left; p++) {
		int last_dot = o > 0 && left[o - 1] == '.';
		if (*p == ':' || *p == ',' || *p == '=' || (*p == '.' && (last_dot || !p[1])))
			o += (size_t)snprintf(
			        left + o, sizeof left - o, "=%02X", (unsigned char)*p);
		else
			left[o++] = *p;
	}
	left[o] = '\0';
	snprintf(buf, len, "<spoold.%s@%s>", left, dom ? dom + 1 : "localhost");
	return buf;
}

/* hexval - one hex digit's value, or -1 */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* unescape - in[0..n) with ESC XX decoded into buf; NULL when malformed,
 * too long or not a valid job name */
static char *unescape(const char *in, size_t n, int esc, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)in[i];
		if (c == esc) {
			int hi, lo;
			if (i + 2 >= n)
				return NULL;
			if ((hi = hexval(in[i + 1])) < 0 || (lo = hexval(in[i + 2])) < 0)
				return NULL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= len || c == 0)
			return NULL;
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return spooldir_name_valid(buf) ? buf : NULL;
}

/* msg_message_id_name - "<spoold.LEFT@domain>" back to the job name */
char *msg_message_id_name(const char *msgid, char *buf, size_t len)
{
	const char *at;

	if (!msgid || strncmp(msgid, "<spoold.", 8) || !(at = strrchr(msgid, '@')) ||
	        at < msgid + 8)
		return NULL;
	if (!strchr(at, '>'))
		return NULL;
	return unescape(msgid + 8, (size_t)(at - (msgid + 8)), '=', buf, len);
}

/* msg_envid - ENVID for a job name */
char *msg_envid(const char *name, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "spoold.");

	for (const char *p = name; *p && o + 4 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '-')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "_%02X", c);
	}
	buf[o] = '\0';
	return buf;
}

/* msg_envid_name - an ENVID back to the job name */
char *msg_envid_name(const char *envid, char *buf, size_t len)
{
	if (!envid || strncmp(envid, "spoold.", 7))
		return NULL;
	return unescape(envid + 7, strlen(envid + 7), '_', buf, len);
}
