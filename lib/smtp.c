/*
 * smtp - the SMTP session (through libetpan 1.9.4): set-up, names, end.
 *
 * One struct smtp is one session to the relay of a relay_conf: smtp_open
 * connects, reads the greeting, says EHLO, sets up TLS (STARTTLS or
 * implicit) and verifies the peer chain and host name with tlsverify before
 * anything else is sent, says EHLO again, and authenticates (AUTH PLAIN, or
 * LOGIN when PLAIN is not offered) inside TLS only.  The session owns its
 * mailsmtp (created per connection) and frees it in smtp_close/smtp_free.
 * With smtp_send.c (the transactions on an open session, and the command
 * and reply primitives) this is the only code that speaks SMTP.  What the
 * two share is in smtp_int.h: struct smtp, and the step helpers defined
 * here (local errors, timeouts, RSET or close after a failed step).
 *
 * How it uses libetpan, and why:
 * - The TCP connection is made here (getaddrinfo, non-blocking connect
 *   bounded by the timeout, TCP_NODELAY) and handed to libetpan with
 *   mailstream_socket_open_timeout or mailstream_ssl_open_with_callback_timeout
 *   (the callback sets SNI), then mailsmtp_connect reads the greeting.
 *   mailsmtp_socket_connect and mailsmtp_ssl_connect_with_callback would do
 *   the same but report every failure as "connection refused" (no refused,
 *   timed out or unknown host), and mailsmtp_socket_connect reads the
 *   greeting before a timeout can be set on the plain socket (so the global
 *   300 s applies).  STARTTLS uses mailsmtp_socket_starttls_with_callback.
 * - EHLO name: libetpan has no public way to choose it (mailesmtp_ehlo
 *   always sends gethostname(); mailsmtp_read_response and
 *   mailesmtp_parse_ehlo are exported by the .so but declared only in the
 *   private mailsmtp_private.h).  So EHLO is written by smtp_command with
 *   mailstream_write/mailstream_flush, its reply read by smtp_read_reply
 *   with the public mailstream_read_line into the session's response_code
 *   and response exactly as libetpan's own reader fills them, and the
 *   extension keywords are parsed into the public fields esmtp, auth and
 *   smtp_max_msg_size that mailesmtp_starttls, mailsmtp_auth_type and
 *   mailsmtp_mail consult.  (No HELO fallback: a relay that refuses EHLO
 *   is reported as such.)
 * - Replies come from response_code/response, copied at once.  Before each
 *   step response_code is set to -1: still -1 afterwards means no reply was
 *   read (a write failed, or a local failure), 0 means the read failed.
 *
 * Limits: getaddrinfo has no timeout.  libetpan's timeouts are per wait,
 * not deadlines: a server trickling a byte per wait can hold a step.
 * libetpan waits with select(), which aborts the process for a descriptor
 * >= FD_SETSIZE: the socket is refused here in that case, but libetpan's
 * own cancel pipe (two descriptors per stream) is beyond our reach.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "smtp.h"
#include "smtp_int.h"
#include "tlsverify.h"

static const char *const stage_names[] = {
        "connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data-end"};
static const char *const stage_what[] = {"the greeting", "the reply to EHLO",
        "the reply to STARTTLS", "the reply to AUTH", "the reply to MAIL FROM",
        "the reply to RCPT TO", "the reply to DATA", "the reply to the end of the message"};
static const char *const stage_cmd[] = {
        "", "EHLO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "DATA", "the message"};

/* smtp_reply_init - an empty reply at stage st */
void smtp_reply_init(struct smtp_reply *r, enum smtp_stage st)
{
	memset(r, 0, sizeof(*r));
	r->stage = st;
}

/* smtp_fail - fill r with a local error at stage st and flags F_*; returns -1 */
int smtp_fail(struct smtp_reply *r, enum smtp_stage st, int flags, const char *fmt, ...)
{
	va_list ap;

	smtp_reply_init(r, st);
	r->tls_error = !!(flags & F_TLS);
	r->timeout = !!(flags & F_TIMEOUT);
	r->refused = !!(flags & F_REFUSED);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* smtp_copy_reply - the session's last reply (code and text) into r at stage st */
void smtp_copy_reply(const struct smtp *s, struct smtp_reply *r, enum smtp_stage st)
{
	size_t n;

	smtp_reply_init(r, st);
	r->code = s->ms->response_code > 0 ? s->ms->response_code : 0;
	snprintf(r->text, sizeof(r->text), "%s", s->ms->response ? s->ms->response : "");
	n = strlen(r->text);
	while (n > 0 && r->text[n - 1] == '\n')
		r->text[--n] = '\0';
}

/* smtp_now_ms - a monotonic clock in milliseconds */
long long smtp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* smtp_begin - start a step: mark "no reply read yet" and return the start time */
long long smtp_begin(struct smtp *s)
{
	s->ms->response_code = -1;
	return smtp_now_ms();
}

/* smtp_expired - 1 when the step begun at t0 used up the timeout (libetpan does not say) */
int smtp_expired(const struct smtp *s, long long t0)
{
	return smtp_now_ms() - t0 >= (long long)s->timeout * 1000 - 250;
}

/* smtp_drop - close the connection without QUIT and free the libetpan session */
void smtp_drop(struct smtp *s)
{
	if (s->ms) {
		if (s->ms->stream) {
			mailstream_close(s->ms->stream);
			s->ms->stream = NULL;
		}
		mailsmtp_free(s->ms);
		s->ms = NULL;
	}
	s->ready = 0;
	s->pending = 0;
}

/* smtp_reset_or_drop - after a refused transaction step: RSET and keep the
 * session, or close it (421, a failed RSET, or before the session was ready) */
void smtp_reset_or_drop(struct smtp *s, int code, enum smtp_stage st)
{
	if (st >= STAGE_MAIL && code != 421 && s->ready) {
		s->ms->response_code = -1;
		if (mailsmtp_reset(s->ms) == MAILSMTP_NO_ERROR && s->ms->response_code == 250)
			return;
	}
	smtp_drop(s);
}

/* smtp_step_failed - fill r for step st begun at t0; RSET or close the session */
int smtp_step_failed(struct smtp *s, struct smtp_reply *r, enum smtp_stage st, long long t0)
{
	const char *what = stage_what[st], *cmd = stage_cmd[st];
	int code = s->ms ? s->ms->response_code : 0;
	int sent = code != -1; /* the command went out and a read was tried */
	int timed = smtp_expired(s, t0);
	const char *maybe = st == STAGE_DATA_END ? "; the server may have accepted the message"
	                    : st == STAGE_CONNECT && s->rc->tls != TLS_IMPLICIT
	                            ? " (a port that wants TLS from the start, like 465, needs "
	                              "tls = implicit)"
	                            : "";
	const char *text = s->ms && s->ms->response ? s->ms->response : "";

	if (code > 0) {
		smtp_copy_reply(s, r, st);
		smtp_reset_or_drop(s, code, st);
		return -1;
	}
	if (timed && sent)
		smtp_fail(r, st, F_TIMEOUT, "timed out after %d s waiting for %s%s", s->timeout,
		        what, maybe);
	else if (timed)
		smtp_fail(r, st, F_TIMEOUT, "timed out after %d s sending %s to %s", s->timeout,
		        cmd, s->name);
	else if (sent && text[strspn(text, "\n")] != '\0')
		smtp_fail(r, st, 0, "incomplete or malformed reply from %s instead of %s%s: %s",
		        s->name, what, maybe, text);
	else if (sent)
		smtp_fail(r, st, 0, "connection closed by %s while waiting for %s%s", s->name, what,
		        maybe);
	else
		smtp_fail(r, st, 0, "connection to %s lost while sending %s", s->name, cmd);
	smtp_drop(s);
	return -1;
}

/* keyword - 1 when the n bytes at p are the keyword kw (any case) */
static int keyword(const char *p, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(p, kw, n) == 0;
}

/* parse_ehlo - extension keywords of the EHLO reply into the session's flags */
static void parse_ehlo(mailsmtp *ms)
{
	static const struct {
		const char *kw;
		int flag;
	} ext[] = {{"STARTTLS", MAILSMTP_ESMTP_STARTTLS}, {"SIZE", MAILSMTP_ESMTP_SIZE},
	        {"DSN", MAILSMTP_ESMTP_DSN}, {"8BITMIME", MAILSMTP_ESMTP_8BITMIME},
	        {"PIPELINING", MAILSMTP_ESMTP_PIPELINING}, {"EXPN", MAILSMTP_ESMTP_EXPN},
	        {"ETRN", MAILSMTP_ESMTP_ETRN}, {"CLIENTID", MAILSMTP_ESMTP_CLIENTID}},
	  mech[] = {{"PLAIN", MAILSMTP_AUTH_PLAIN}, {"LOGIN", MAILSMTP_AUTH_LOGIN},
	          {"CRAM-MD5", MAILSMTP_AUTH_CRAM_MD5}, {"DIGEST-MD5", MAILSMTP_AUTH_DIGEST_MD5},
	          {"GSSAPI", MAILSMTP_AUTH_GSSAPI}, {"SRP", MAILSMTP_AUTH_SRP},
	          {"NTLM", MAILSMTP_AUTH_NTLM}, {"KERBEROS_V4", MAILSMTP_AUTH_KERBEROS_V4}};
	const char *p = ms->response, *q;
	size_t i, n, m;

	ms->esmtp = MAILSMTP_ESMTP;
	ms->auth = MAILSMTP_AUTH_CHECKED;
	ms->smtp_max_msg_size = 0;
	/* the first line is the server's name and greeting, not a keyword */
	while (p && (p = strchr(p, '\n')) != NULL && *++p) {
		n = strcspn(p, " =\n");
		if (keyword(p, n, "AUTH")) {
			for (q = p + n; *q && *q != '\n'; q += m) {
				q += strspn(q, " =");
				m = strcspn(q, " \n");
				for (i = 0; i < sizeof(mech) / sizeof(mech[0]); i++)
					if (keyword(q, m, mech[i].kw))
						ms->auth |= mech[i].flag;
			}
			continue;
		}
		for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
			if (keyword(p, n, ext[i].kw))
				ms->esmtp |= ext[i].flag;
		if (keyword(p, n, "SIZE") && p[n] == ' ')
			ms->smtp_max_msg_size = strtoul(p + n + 1, NULL, 10);
	}
}

/* helo_name - relay_conf.helo, else the host name; 0 ok, -1 with r filled */
static int helo_name(const struct smtp *s, char *buf, size_t len, struct smtp_reply *r)
{
	size_t i;

	if (s->rc->helo && s->rc->helo[0])
		snprintf(buf, len, "%s", s->rc->helo);
	else if (gethostname(buf, len) != 0 || buf[0] == '\0')
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	for (i = 0; buf[i] && (unsigned char)buf[i] > ' ' && (unsigned char)buf[i] < 0x7f; i++)
		;
	if (buf[i] == '\0')
		return 0;
	return smtp_fail(r, STAGE_EHLO, F_REFUSED,
	        "the EHLO name \"%.64s\" is not a host name (set helo)", buf);
}

/* ehlo - say EHLO name; 0 ok, -1 with r filled and the session closed */
static int ehlo(struct smtp *s, const char *name, struct smtp_reply *r)
{
	char line[300];
	long long t0 = smtp_begin(s);

	snprintf(line, sizeof(line), "EHLO %s\r\n", name);
	if (smtp_command(s->ms, line) != 250)
		return smtp_step_failed(s, r, STAGE_EHLO, t0);
	parse_ehlo(s->ms);
	return 0;
}

/* tls_setup - the libetpan TLS callback: send SNI unless the host is an address */
static void tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	const struct smtp *s = data;
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s->rc->host, buf) == 1 || inet_pton(AF_INET6, s->rc->host, buf) == 1)
		return;
	mailstream_ssl_set_server_name(ctx, s->rc->host);
}

/* verify - check the peer chain of stream for the relay host; 0 ok, -1 with r filled */
static int verify(struct smtp *s, mailstream *stream, enum smtp_stage st, struct smtp_reply *r)
{
	smtp_reply_init(r, st);
	if (tlsverify_stream(stream, s->rc->host, s->rc->ca_file, r->text, sizeof(r->text)) == 0)
		return 0;
	r->tls_error = 1;
	return -1;
}

/* wait_connect - finish a non-blocking connect within the timeout; 0 or an errno */
static int wait_connect(int fd, int timeout)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int n, err = 0;

	do
		n = poll(&pfd, 1, timeout * 1000);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return ETIMEDOUT;
	if (n < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* tcp_connect - a connected blocking socket with TCP_NODELAY, or -1 with r filled */
static int tcp_connect(struct smtp *s, struct smtp_reply *r)
{
	struct addrinfo hints, *res, *ai;
	char port[16], addr[INET6_ADDRSTRLEN] = "", where[400];
	int fd = -1, err = 0, gai, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", s->rc->port);
	gai = getaddrinfo(s->rc->host, port, &hints, &res);
	if (gai != 0)
		return smtp_fail(r, STAGE_CONNECT, 0, "cannot find the address of %s: %s",
		        s->rc->host, gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next) {
		getnameinfo(
		        ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		        ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (fd >= FD_SETSIZE) {
			close(fd);
			freeaddrinfo(res);
			return smtp_fail(r, STAGE_CONNECT, 0,
			        "too many open files: descriptor %d is over libetpan's limit of %d",
			        fd, FD_SETSIZE);
		}
		err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
		if (err == EINPROGRESS)
			err = wait_connect(fd, s->timeout);
		if (err == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (strcmp(addr, s->rc->host) == 0 || addr[0] == '\0')
		snprintf(where, sizeof(where), "%s", s->name);
	else
		snprintf(where, sizeof(where), "%s (%s)", s->name, addr);
	if (fd >= 0)
		;
	else if (err == ECONNREFUSED)
		return smtp_fail(r, STAGE_CONNECT, 0, "connection refused by %s", where);
	else if (err == ETIMEDOUT)
		return smtp_fail(r, STAGE_CONNECT, F_TIMEOUT,
		        "timed out after %d s connecting to %s", s->timeout, where);
	else
		return smtp_fail(
		        r, STAGE_CONNECT, 0, "cannot connect to %s: %s", where, strerror(err));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* handshake_failed - r for a TLS handshake at st begun at t0 that failed; closes */
static int handshake_failed(
        struct smtp *s, struct smtp_reply *r, enum smtp_stage st, long long t0, const char *hint)
{
	int timed = smtp_expired(s, t0);

	smtp_drop(s);
	if (timed)
		return smtp_fail(r, st, F_TLS | F_TIMEOUT,
		        "TLS handshake with %s timed out after %d s", s->name, s->timeout);
	return smtp_fail(r, st, F_TLS, "TLS handshake with %s failed%s", s->name, hint);
}

/* greet - connect, wrap the socket for libetpan (implicit TLS verified first)
 * and read the greeting; 0 ok, -1 with r filled and the session closed */
static int greet(struct smtp *s, struct smtp_reply *r)
{
	mailstream *stream;
	long long t0;
	int fd;

	if ((fd = tcp_connect(s, r)) < 0)
		return -1;
	if ((s->ms = mailsmtp_new(0, NULL)) == NULL) {
		close(fd);
		return smtp_fail(r, STAGE_CONNECT, 0, "out of memory");
	}
	mailsmtp_set_timeout(s->ms, s->timeout);
	t0 = smtp_now_ms();
	if (s->rc->tls == TLS_IMPLICIT) {
		stream = mailstream_ssl_open_with_callback_timeout(fd, s->timeout, tls_setup, s);
		if (stream == NULL) {
			close(fd);
			return handshake_failed(s, r, STAGE_CONNECT, t0,
			        " (is it an implicit-TLS port? 587 wants tls = starttls)");
		}
		if (verify(s, stream, STAGE_CONNECT, r) < 0) {
			mailstream_close(stream);
			smtp_drop(s);
			return -1;
		}
	} else if ((stream = mailstream_socket_open_timeout(fd, s->timeout)) == NULL) {
		close(fd);
		smtp_drop(s);
		return smtp_fail(r, STAGE_CONNECT, 0, "out of memory");
	}
	mailstream_low_set_timeout(mailstream_get_low(stream), s->timeout);
	t0 = smtp_begin(s);
	if (mailsmtp_connect(s->ms, stream) != MAILSMTP_NO_ERROR)
		return smtp_step_failed(s, r, STAGE_CONNECT, t0); /* libetpan closed the stream */
	return 0;
}

/* starttls - STARTTLS, verify, EHLO again; 0 ok, -1 with r filled and the session closed */
static int starttls(struct smtp *s, const char *name, struct smtp_reply *r)
{
	long long t0;
	int ret;

	if (!(s->ms->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
		smtp_drop(s);
		return smtp_fail(r, STAGE_STARTTLS, F_TLS,
		        "STARTTLS not offered by the server; refusing to send without TLS");
	}
	t0 = smtp_begin(s);
	ret = mailsmtp_socket_starttls_with_callback(s->ms, tls_setup, s);
	/* (Debian's fix for CVE-2020-15953 reports this one as MAILSMTP_ERROR_SSL) */
	if ((ret == MAILSMTP_NO_ERROR || ret == MAILSMTP_ERROR_SSL) && s->ms->stream &&
	        s->ms->stream->read_buffer_len > 0) {
		smtp_drop(s);
		return smtp_fail(r, STAGE_STARTTLS, F_TLS,
		        "the server sent unencrypted data after agreeing to STARTTLS (a command "
		        "injection attempt); refusing");
	}
	if (ret == MAILSMTP_ERROR_SSL)
		return handshake_failed(s, r, STAGE_STARTTLS, t0, " after STARTTLS");
	if (ret != MAILSMTP_NO_ERROR) {
		smtp_step_failed(s, r, STAGE_STARTTLS, t0);
		r->tls_error = 1;
		return -1;
	}
	mailstream_low_set_timeout(mailstream_get_low(s->ms->stream), s->timeout);
	if (verify(s, s->ms->stream, STAGE_STARTTLS, r) < 0) {
		smtp_drop(s);
		return -1;
	}
	return ehlo(s, name, r);
}

/* auth - AUTH PLAIN (LOGIN when PLAIN is not offered) through SASL; 0 ok, -1 with r filled */
static int auth(struct smtp *s, struct smtp_reply *r)
{
	int type = (s->ms->auth & MAILSMTP_AUTH_PLAIN) ? MAILSMTP_AUTH_PLAIN : MAILSMTP_AUTH_LOGIN;
	const char *mech = type == MAILSMTP_AUTH_PLAIN ? "PLAIN" : "LOGIN";
	long long t0;
	int ret;

	if (!(s->ms->auth & type) || s->rc->password == NULL) {
		smtp_drop(s);
		return smtp_fail(r, STAGE_AUTH, F_REFUSED, "%s",
		        s->rc->password ? "the server offers neither AUTH PLAIN nor AUTH LOGIN"
		                        : "no password is configured");
	}
	t0 = smtp_begin(s);
	ret = mailsmtp_auth_type(s->ms, s->rc->user, s->rc->password, type);
	if (ret == MAILSMTP_NO_ERROR)
		return 0;
	if (ret != MAILSMTP_ERROR_STREAM && s->ms->response_code == -1) {
		smtp_drop(s);
		return smtp_fail(r, STAGE_AUTH, F_REFUSED,
		        "AUTH %s could not start on this side (%s); is libsasl2-modules installed?",
		        mech, mailsmtp_strerror(ret));
	}
	return smtp_step_failed(s, r, STAGE_AUTH, t0);
}

/* smtp_new - a session for relay rc */
struct smtp *smtp_new(const struct relay_conf *rc)
{
	struct smtp *s = calloc(1, sizeof(*s));
	const char *host = rc->host ? rc->host : "(no host)";

	if (s == NULL)
		return NULL;
	s->rc = rc;
	s->timeout = rc->timeout > 0 ? rc->timeout : 30;
	snprintf(s->name, sizeof(s->name), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, rc->port);
	return s;
}

/* smtp_open - connect, EHLO, TLS and verification, AUTH */
int smtp_open(struct smtp *s, struct smtp_reply *r)
{
	char name[256];

	smtp_close(s);
	if (s->rc->host == NULL || s->rc->host[0] == '\0')
		return smtp_fail(r, STAGE_CONNECT, F_REFUSED, "no relay host is configured");
	if (s->rc->user && s->rc->tls == TLS_NONE)
		return smtp_fail(r, STAGE_AUTH, F_REFUSED,
		        "a user is configured for AUTH but tls = none: refusing to send the "
		        "password without TLS");
	if (helo_name(s, name, sizeof(name), r) < 0 || greet(s, r) < 0 || ehlo(s, name, r) < 0)
		return -1;
	if (s->rc->tls == TLS_STARTTLS && starttls(s, name, r) < 0)
		return -1;
	if (s->rc->user && auth(s, r) < 0)
		return -1;
	s->ready = 1;
	smtp_copy_reply(s, r, s->rc->user ? STAGE_AUTH : STAGE_EHLO);
	return 0;
}

/* smtp_is_open - 1 when the session is connected and usable */
int smtp_is_open(const struct smtp *s)
{
	return s && s->ready && s->ms && s->ms->stream;
}

/* smtp_close - QUIT when the session is healthy, else just drop it */
void smtp_close(struct smtp *s)
{
	if (s == NULL)
		return;
	if (smtp_is_open(s) && !s->pending)
		mailsmtp_quit(s->ms); /* sends QUIT, does not wait for 221, closes */
	smtp_drop(s);
}

/* smtp_free - close and release */
void smtp_free(struct smtp *s)
{
	smtp_close(s);
	free(s);
}

/* smtp_relay_name - "host:port" */
const char *smtp_relay_name(const struct smtp *s)
{
	return s->name;
}

/* smtp_stage_name - "connect", "ehlo", ..., "data-end" */
const char *smtp_stage_name(enum smtp_stage st)
{
	if ((unsigned)st >= sizeof(stage_names) / sizeof(stage_names[0]))
		return "unknown";
	return stage_names[st];
}
