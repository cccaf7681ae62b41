/*
 * smtp_try - a manual driver for lib/smtp.c and smtp_send.c (not part of make check).
 *
 * Opens one session to a relay and runs one transaction per -r, in order,
 * on that session, printing each smtp_reply and its category.  Used to
 * check them against tests/smtpserver.py by hand and under valgrind.
 *
 *   cc -std=c11 -D_GNU_SOURCE -Ilib -o smtp_try tests/smtp_try.c lib/smtp.c \
 *      lib/smtp_send.c lib/tlsverify.c lib/reply.c -letpan -lgnutls
 *   smtp_try -s HOST -p PORT [-t starttls|implicit|none] [-c CAFILE]
 *            [-u USER -w PASSWORD] [-H HELO] [-T TIMEOUT] [-f FROM]
 *            [-m MESSAGE-FILE] -r [FROM,]RCPT [-r [FROM,]RCPT ...]
 *
 * Without -m the message is a small fixed one (ending in CRLF) with a
 * Message-ID of <try-N@smtp-try.test>.  Exit status 0 when every
 * transaction was accepted, 1 otherwise.
 *
 * Under valgrind (--leak-check=full): no leak; what remains reachable is
 * Cyrus SASL's one-time plugin loading (sasl_client_init via libetpan's
 * mailsasl_ref) and dlopen.  One invalid read must be suppressed, with
 * this justification: libetpan 1.9.4's remove_trailing_eol reads
 * str[len - 1] without checking len, so when the server closes the
 * connection while libetpan waits for a reply, it reads the byte before its
 * buffer (on glibc the top byte of the chunk size, always 0: nothing is
 * written).  smtp_send.c's own reader avoids it; libetpan's cannot be.
 *   { libetpan-1.9.4-remove_trailing_eol-at-eof
 *     Memcheck:Addr1
 *     fun:mailstream_read_line_remove_eol
 *     ...
 *     obj:* /libetpan.so* }       (no space after the '*' in the real file)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "reply.h"
#include "smtp.h"

/* read_file - the whole of path in a malloc'd buffer */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL ||
	        fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* print_reply - one line describing r */
static void print_reply(const char *what, int ok, const struct smtp_reply *r)
{
	printf("%s: %s stage=%s code=%d tls_error=%d timeout=%d refused=%d category=%s\n"
	       "  text: %s\n",
	        what, ok ? "OK" : "FAIL", smtp_stage_name(r->stage), r->code, r->tls_error,
	        r->timeout, r->refused, ok ? "sent" : reply_category_name(reply_classify(r)),
	        r->text);
}

int main(int argc, char **argv)
{
	struct relay_conf rc;
	struct smtp_reply r;
	struct smtp *s;
	const char *rcpt[64], *msgfile = NULL;
	char *msg = NULL, buf[1024];
	int nrcpt = 0, c, i, failed = 0;
	size_t len = 0;

	memset(&rc, 0, sizeof(rc));
	rc.port = 587;
	rc.timeout = 10;
	rc.from = "sender@smtp-try.test";
	while ((c = getopt(argc, argv, "s:p:t:c:u:w:H:T:f:m:r:")) != -1) {
		switch (c) {
		case 's':
			rc.host = optarg;
			break;
		case 'p':
			rc.port = atoi(optarg);
			break;
		case 't':
			rc.tls = strcmp(optarg, "implicit") == 0 ? TLS_IMPLICIT
			         : strcmp(optarg, "none") == 0   ? TLS_NONE
			                                         : TLS_STARTTLS;
			break;
		case 'c':
			rc.ca_file = optarg;
			break;
		case 'u':
			rc.user = optarg;
			break;
		case 'w':
			rc.password = optarg;
			break;
		case 'H':
			rc.helo = optarg;
			break;
		case 'T':
			rc.timeout = atoi(optarg);
			break;
		case 'f':
			rc.from = optarg;
			break;
		case 'm':
			msgfile = optarg;
			break;
		case 'r':
			if (nrcpt < 64)
				rcpt[nrcpt++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of smtp_try.c\n");
			return 2;
		}
	}
	if (rc.host == NULL || nrcpt == 0) {
		fprintf(stderr, "smtp_try: -s HOST and at least one -r RCPT are needed\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (msgfile)
		msg = read_file(msgfile, &len);
	if ((s = smtp_new(&rc)) == NULL)
		return 2;
	printf("relay %s\n", smtp_relay_name(s));
	for (i = 0; i < nrcpt; i++) {
		const char *m = msg, *from = rc.from, *to = rcpt[i], *comma = strchr(to, ',');
		char who[512];
		size_t n = len;
		int ok;

		if (comma) { /* -r FROM,RCPT: another sender for this one */
			snprintf(who, sizeof(who), "%.*s", (int)(comma - to), to);
			from = who;
			to = comma + 1;
		}

		if (msg == NULL) {
			n = (size_t)snprintf(buf, sizeof(buf),
			        "From: <%s>\r\nTo: <%s>\r\nSubject: try %d\r\n"
			        "Message-ID: <try-%d@smtp-try.test>\r\n\r\n"
			        "Hello %d.\r\n.leading dot\r\nlast line\r\n",
			        from, to, i + 1, i + 1, i + 1);
			m = buf;
		}
		ok = smtp_send(s, from, to, m, n, &r) == 0;
		print_reply(rcpt[i], ok, &r);
		printf("  session open: %d\n", smtp_is_open(s));
		failed |= !ok;
	}
	smtp_free(s);
	free(msg);
	return failed;
}
