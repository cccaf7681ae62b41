/*
 * imap - the only module that speaks IMAP (through libetpan 1.9.4), for
 * delivery checks.  imap_open connects, sets up TLS (implicit or STARTTLS)
 * and verifies the chain and host name with tlsverify before LOGIN.  A
 * command the server refuses (NO, BAD) fails with the server's words and
 * keeps the session; a timeout, a lost connection or an unparsable reply
 * closes it.  Nothing here deletes, expunges or sets \Seen: messages are
 * read with BODY.PEEK[] and marked only with the keyword IMAP_PROCESSED.
 *
 * As in smtp.c, the TCP connection is made here (bounded connect,
 * TCP_NODELAY) and handed to libetpan as a socket or TLS stream (SNI in the
 * callback), and mailstream_low_set_timeout covers plain-socket reads.
 * STARTTLS is mailimap_starttls, then libetpan's TLS switch done here, to
 * refuse plaintext sent after the OK (CVE-2020-15953) and tell a refusal
 * from a failed handshake; PREAUTH before TLS is refused.  The server's
 * words are the last line of imap_stream_buffer, the tagged reply with its
 * response code, which imap_response drops.  UID SEARCH, FETCH and STORE
 * are built here from checked parts and sent with mailimap_custom_command;
 * libetpan parses their replies into imap_response_info.  A dead session's
 * stream is closed before mailimap_free, which would send LOGOUT and wait.
 * Limits: getaddrinfo has no timeout; timeouts are per wait; folder names
 * must be ASCII (no modified UTF-7); SEARCH HEADER matches substrings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

#include "imap.h"
#include "tlsverify.h"

struct imap {
	mailimap *mi;      /* mi->imap_stream is NULL once the session is closed */
	int timeout;       /* seconds per wait */
	char *host, *user; /* copies from the imap_conf */
	char *folder;      /* the selected folder, or NULL */
	char name[300];    /* host:port */
};

/* fail - format err; returns -1 */
__attribute__((format(printf, 3, 4))) static int fail(
        char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* now_ms - a monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* TIMED_OUT - the step begun at t0 used up the timeout (libetpan does not say) */
#define TIMED_OUT(im, t0) (now_ms() - (t0) >= (im)->timeout * 1000LL - 250)

/* drop - close the connection without LOGOUT; the session is dead from now on */
static void drop(struct imap *im)
{
	if (im->mi && im->mi->imap_stream) {
		mailstream_close(im->mi->imap_stream);
		im->mi->imap_stream = NULL;
	}
	free(im->folder);
	im->folder = NULL;
}

/* words - the server's last reply line without its tag (or "*"), printable */
static const char *words(const struct imap *im, char *buf, size_t len)
{
	const MMAPString *b = im->mi->imap_stream_buffer;
	size_t end = b ? b->len : 0, start, i, n = 0;

	while (end > 0 && (b->str[end - 1] == '\n' || b->str[end - 1] == '\r'))
		end--;
	for (start = end; start > 0 && b->str[start - 1] != '\n'; start--)
		;
	if (start < end && b->str[start] != '+') /* the tag, or "*" */
		while (start < end && b->str[start++] != ' ')
			;
	for (i = start; i < end && n + 1 < len; i++)
		buf[n++] = (unsigned char)b->str[i] < ' ' || b->str[i] == 0x7f ? '?' : b->str[i];
	buf[n] = '\0';
	return n ? buf : "(no text)";
}

/* step_failed - err "cannot WHAT: why" for libetpan error r of a step begun
 * at t0; a command the server refused keeps the session, else it is closed */
__attribute__((format(printf, 6, 7))) static int step_failed(
        struct imap *im, int r, long long t0, char *err, size_t errlen, const char *fmt, ...)
{
	char what[600], buf[301];
	const char *w = words(im, buf, sizeof(buf));
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r == MAILIMAP_ERROR_PROTOCOL || r == MAILIMAP_ERROR_CUSTOM_COMMAND ||
	        (r >= MAILIMAP_ERROR_APPEND && r <= MAILIMAP_ERROR_STARTTLS))
		return fail(err, errlen, "cannot %s: %s", what, strncmp(w, "NO ", 3) ? w : w + 3);
	drop(im);
	if (r == MAILIMAP_ERROR_STREAM && TIMED_OUT(im, t0))
		return fail(err, errlen, "cannot %s: timed out after %d s waiting for the reply",
		        what, im->timeout);
	if (strncmp(w, "BYE", 3) == 0)
		return fail(err, errlen, "cannot %s: the server ended the session: %s", what, w);
	if (r == MAILIMAP_ERROR_STREAM)
		return fail(err, errlen, "cannot %s: connection closed by the server", what);
	if (r == MAILIMAP_ERROR_PARSE)
		return fail(err, errlen, "cannot %s: malformed reply: %s", what, w);
	return fail(err, errlen, "cannot %s: libetpan error %d", what, r);
}

/* usable - 0 when the session can take a command, with a folder selected
 * when need_folder, and folder (when not NULL) is a name we can send */
static int usable(
        const struct imap *im, int need_folder, const char *folder, char *err, size_t errlen)
{
	size_t i, n = folder ? strlen(folder) : 0;

	for (i = 0; i < n && (unsigned char)folder[i] >= ' ' && (unsigned char)folder[i] < 0x7f;)
		i++;
	if (!im || !im->mi || !im->mi->imap_stream)
		return fail(err, errlen, "the IMAP session to %s was closed after an earlier error",
		        im ? im->name : "(none)");
	if (need_folder && !im->folder)
		return fail(err, errlen, "no folder is selected on %s", im->name);
	if (folder && (n == 0 || n > 255 || i < n))
		return fail(err, errlen,
		        "bad IMAP folder name \"%.64s\" (1 to 255 ASCII characters)", folder);
	return 0;
}

/* tcp_connect - a connected blocking socket with TCP_NODELAY, or -1 with err */
static int tcp_connect(struct imap *im, int port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	struct pollfd pfd = {.events = POLLOUT};
	socklen_t len = sizeof(int);
	int fd = -1, e = 0, n, one = 1;
	char serv[16];

	snprintf(serv, sizeof(serv), "%d", port);
	if ((n = getaddrinfo(im->host, serv, &hints, &res)) != 0)
		return fail(err, errlen, "cannot find the address of %s: %s", im->host,
		        n == EAI_SYSTEM ? strerror(errno) : gai_strerror(n));
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		        ai->ai_protocol);
		e = fd < 0 ? errno : fd >= FD_SETSIZE ? EMFILE : 0; /* libetpan's select() limit */
		if (e == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			e = errno;
		if (e == EINPROGRESS) {
			pfd.fd = fd;
			while ((n = poll(&pfd, 1, im->timeout * 1000)) < 0 && errno == EINTR)
				;
			if (n <= 0)
				e = n == 0 ? ETIMEDOUT : errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
				e = errno;
		}
		if (e != 0 && fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0 && e == ETIMEDOUT)
		return fail(err, errlen, "timed out after %d s connecting to %s", im->timeout,
		        im->name);
	if (fd < 0)
		return fail(err, errlen, "cannot connect to %s: %s", im->name, strerror(e));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* tls_setup - the libetpan TLS callback: send SNI unless the host is an address */
static void tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	const struct imap *im = data;
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, im->host, buf) != 1 && inet_pton(AF_INET6, im->host, buf) != 1)
		mailstream_ssl_set_server_name(ctx, im->host);
}

/* handshake_failed - err for a TLS handshake begun at t0; closes */
static int handshake_failed(
        struct imap *im, long long t0, const char *hint, char *err, size_t errlen)
{
	drop(im);
	if (TIMED_OUT(im, t0))
		return fail(err, errlen, "TLS handshake with %s timed out after %d s", im->name,
		        im->timeout);
	return fail(err, errlen, "TLS handshake with %s failed%s", im->name, hint);
}

/* greet - connect, wrap the socket (implicit TLS verified first), read the
 * greeting; 0 ok, -1 with err and the session closed */
static int greet(struct imap *im, const struct imap_conf *ic, int port, char *err, size_t errlen)
{
	mailstream *stream;
	long long t0;
	size_t n;
	int fd, r;

	if ((fd = tcp_connect(im, port, err, errlen)) < 0)
		return -1;
	t0 = now_ms();
	if (ic->tls != TLS_IMPLICIT)
		stream = mailstream_socket_open_timeout(fd, im->timeout);
	else if (!(stream = mailstream_ssl_open_with_callback_timeout(
	                   fd, im->timeout, tls_setup, im))) {
		close(fd);
		return handshake_failed(im, t0,
		        " (is it an implicit-TLS port? 143 wants tls = starttls)", err, errlen);
	} else if (tlsverify_stream(stream, im->host, ic->ca_file, err, errlen) < 0) {
		mailstream_close(stream);
		return -1;
	}
	if (stream == NULL) {
		close(fd);
		return fail(err, errlen, "out of memory");
	}
	mailstream_low_set_timeout(mailstream_get_low(stream), im->timeout);
	t0 = now_ms();
	r = mailimap_connect(im->mi, stream); /* the stream is the session's from here */
	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED && ic->tls != TLS_IMPLICIT) {
		drop(im);
		return fail(err, errlen,
		        "%s logged us in before TLS (PREAUTH); refusing an unencrypted session",
		        im->name);
	}
	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED || r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return 0;
	step_failed(im, r, t0, err, errlen, "read the greeting of %s", im->name);
	if (r == MAILIMAP_ERROR_STREAM && ic->tls != TLS_IMPLICIT && (n = strlen(err)) + 1 < errlen)
		snprintf(err + n, errlen - n,
		        " (a port that wants TLS from the start, like 993, needs tls = implicit)");
	return -1;
}

/* starttls - STARTTLS, then TLS on the same descriptor, verified; 0 ok, -1
 * with err and the session closed */
static int starttls(struct imap *im, const struct imap_conf *ic, char *err, size_t errlen)
{
	mailstream_low *low = mailstream_get_low(im->mi->imap_stream), *tls;
	long long t0 = now_ms();
	int r = mailimap_starttls(im->mi); /* (1.9.4-3: ERROR_STARTTLS for data after OK) */

	if (im->mi->imap_stream && im->mi->imap_stream->read_buffer_len > 0) {
		drop(im);
		return fail(err, errlen,
		        "%s sent unencrypted data after its reply to STARTTLS (a command "
		        "injection attempt); refusing",
		        im->name);
	}
	if (r != MAILIMAP_NO_ERROR) {
		step_failed(im, r, t0, err, errlen, "start TLS (STARTTLS) with %s", im->name);
		drop(im);
		return -1;
	}
	t0 = now_ms();
	tls = mailstream_low_tls_open_with_callback_timeout(
	        mailstream_low_get_fd(low), im->timeout, tls_setup, im);
	if (tls == NULL)
		return handshake_failed(im, t0, " after STARTTLS", err, errlen);
	mailstream_low_free(low); /* as libetpan does: frees, keeps the descriptor */
	mailstream_set_low(im->mi->imap_stream, tls);
	mailstream_low_set_timeout(tls, im->timeout);
	if (tlsverify_stream(im->mi->imap_stream, im->host, ic->ca_file, err, errlen) < 0) {
		drop(im);
		return -1;
	}
	return 0;
}

/* imap_open - connect, TLS, verify, LOGIN */
struct imap *imap_open(const struct imap_conf *ic, char *err, size_t errlen)
{
	int port = ic->port > 0 ? ic->port : ic->tls == TLS_IMPLICIT ? 993 : 143, r;
	const char *h = ic->host ? ic->host : "";
	struct imap *im = NULL;
	long long t0;

	if (h[0] == '\0')
		return fail(err, errlen, "no IMAP host is configured"), NULL;
	if (!ic->user || !ic->user[0] || !ic->password)
		return fail(err, errlen, "no IMAP user or password is configured for %s", h), NULL;
	if (ic->tls == TLS_NONE && strncmp(h, "127.", 4) && strcmp(h, "::1") &&
	        strcasecmp(h, "localhost"))
		return fail(err, errlen, "tls = none for %s would send the password in clear", h),
		       NULL;
	if ((im = calloc(1, sizeof(*im))) == NULL || (im->host = strdup(h)) == NULL ||
	        (im->user = strdup(ic->user)) == NULL || (im->mi = mailimap_new(0, NULL)) == NULL) {
		imap_free(im);
		return fail(err, errlen, "out of memory"), NULL;
	}
	im->timeout = ic->timeout > 0 ? ic->timeout : 30;
	snprintf(im->name, sizeof(im->name), strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, port);
	mailimap_set_timeout(im->mi, im->timeout);
	if (greet(im, ic, port, err, errlen) < 0 ||
	        (ic->tls == TLS_STARTTLS && starttls(im, ic, err, errlen) < 0)) {
		imap_free(im);
		return NULL;
	}
	if (im->mi->imap_state == MAILIMAP_STATE_AUTHENTICATED) /* PREAUTH over TLS */
		return im;
	t0 = now_ms();
	if ((r = mailimap_login(im->mi, im->user, ic->password)) == MAILIMAP_NO_ERROR)
		return im;
	step_failed(im, r, t0, err, errlen, "sign in to %s as %s", im->name, im->user);
	imap_free(im);
	return NULL;
}

/* imap_free - LOGOUT when the session is healthy, else just close; release */
void imap_free(struct imap *im)
{
	if (im == NULL)
		return;
	if (im->mi)
		mailimap_free(im->mi); /* sends LOGOUT on a live stream, then closes */
	free(im->folder);
	free(im->host);
	free(im->user);
	free(im);
}

/* imap_select - open a folder read-write */
int imap_select(struct imap *im, const char *folder, char *err, size_t errlen)
{
	long long t0 = now_ms();
	int r;

	if (usable(im, 0, folder ? folder : "", err, errlen) < 0)
		return -1;
	free(im->folder);
	im->folder = NULL;
	if ((r = mailimap_select(im->mi, folder)) != MAILIMAP_NO_ERROR)
		return step_failed(
		        im, r, t0, err, errlen, "open folder \"%s\" on %s", folder, im->name);
	return (im->folder = strdup(folder)) ? 0 : fail(err, errlen, "out of memory");
}

/* imap_uidvalidity - the selected folder's UIDVALIDITY, or 0 */
uint32_t imap_uidvalidity(const struct imap *im)
{
	if (!im->folder || !im->mi || !im->mi->imap_selection_info)
		return 0;
	return im->mi->imap_selection_info->sel_uidvalidity;
}

/* imap_special_folder - the folder LIST marks with a special-use flag */
int imap_special_folder(
        struct imap *im, const char *use, char *out, size_t outlen, char *err, size_t errlen)
{
	clist *list = NULL;
	long long t0 = now_ms();
	int r, found = 0;

	if (usable(im, 0, NULL, err, errlen) < 0)
		return -1;
	if ((r = mailimap_list(im->mi, "", "*", &list)) != MAILIMAP_NO_ERROR)
		return step_failed(im, r, t0, err, errlen, "list the folders on %s", im->name);
	for (clistiter *it = clist_begin(list); it && !found; it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		if (!mb->mb_flag || !mb->mb_flag->mbf_oflags || !mb->mb_name ||
		        strlen(mb->mb_name) >= outlen)
			continue;
		for (clistiter *f = clist_begin(mb->mb_flag->mbf_oflags); f; f = clist_next(f)) {
			struct mailimap_mbx_list_oflag *o = clist_content(f);
			const char *x = o->of_flag_ext;
			if (o->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT || !x)
				continue;
			if (!strcasecmp(x + (*x == '\\'), use)) {
				snprintf(out, outlen, "%s", mb->mb_name);
				found = 1;
				break;
			}
		}
	}
	mailimap_list_result_free(list);
	return found;
}

/* search - UID SEARCH criteria (checked or made here) in the selected
 * folder; *found is libetpan's clist of uint32_t *, or NULL for none */
static int search(struct imap *im, const char *criteria, clist **found, char *err, size_t errlen)
{
	char cmd[1100];
	long long t0 = now_ms();
	int r;

	*found = NULL;
	snprintf(cmd, sizeof(cmd), "UID SEARCH %s", criteria);
	if ((r = mailimap_custom_command(im->mi, cmd)) != MAILIMAP_NO_ERROR)
		return step_failed(
		        im, r, t0, err, errlen, "search folder \"%s\" on %s", im->folder, im->name);
	if (im->mi->imap_response_info) { /* taken over, as mailimap_uid_search does */
		*found = im->mi->imap_response_info->rsp_search_result;
		im->mi->imap_response_info->rsp_search_result = NULL;
	}
	return 0;
}

/* imap_find_message_id - 1 when the selected folder holds Message-ID msgid */
int imap_find_message_id(struct imap *im, const char *msgid, char *err, size_t errlen)
{
	size_t i, n = msgid ? strlen(msgid) : 0;
	char criteria[1100];
	clist *found;
	int hit;

	for (i = 0; i < n && (unsigned char)msgid[i] > ' ' && (unsigned char)msgid[i] < 0x7f &&
	            !strchr("\"\\", msgid[i]);)
		i++;
	if (usable(im, 1, NULL, err, errlen) < 0)
		return -1;
	if (n < 3 || n > 998 || i < n || msgid[0] != '<' || msgid[n - 1] != '>')
		return fail(err, errlen, "bad Message-ID \"%.64s\" (want <...>, printable ASCII)",
		        msgid ? msgid : "");
	snprintf(criteria, sizeof(criteria), "HEADER Message-ID \"%s\"", msgid);
	if ((hit = search(im, criteria, &found, err, errlen)) < 0 || found == NULL)
		return hit;
	hit = clist_count(found) > 0;
	mailimap_search_result_free(found);
	return hit;
}

/* cmp_uid - qsort order of uint32_t (and of struct imap_msg, uid first) */
static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* flag_seen - note \Seen or IMAP_PROCESSED in m (f is NULL for \Recent) */
static void flag_seen(const struct mailimap_flag *f, struct imap_msg *m)
{
	m->seen |= f && f->fl_type == MAILIMAP_FLAG_SEEN;
	m->flagged |= f && f->fl_type == MAILIMAP_FLAG_KEYWORD && f->fl_data.fl_keyword &&
	              strcasecmp(f->fl_data.fl_keyword, IMAP_PROCESSED) == 0;
}

/* take_att - UID, \Seen, the keyword and the body of one FETCH response into m */
static int take_att(struct mailimap_msg_att *att, struct imap_msg *m)
{
	clistiter *i, *j;

	for (i = clist_begin(att->att_list); i; i = clist_next(i)) {
		struct mailimap_msg_att_item *it = clist_content(i);
		struct mailimap_msg_att_static *st = it->att_data.att_static;
		struct mailimap_msg_att_body_section *b;

		if (it->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC && it->att_data.att_dyn)
			for (j = clist_begin(it->att_data.att_dyn->att_list); j; j = clist_next(j))
				flag_seen(((struct mailimap_flag_fetch *)clist_content(j))->fl_flag,
				        m);
		if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || st == NULL)
			continue;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			m->uid = st->att_data.att_uid;
		b = st->att_data.att_body_section;
		if (st->att_type != MAILIMAP_MSG_ATT_BODY_SECTION || b == NULL || m->data)
			continue;
		if ((m->data = malloc(b->sec_length + 1)) == NULL)
			return -1;
		memcpy(m->data, b->sec_body_part ? b->sec_body_part : "", b->sec_length);
		m->data[b->sec_length] = '\0';
		m->len = b->sec_length;
	}
	return 0;
}

/* imap_fetch_unprocessed - new messages without the keyword, oldest first:
 * UID SEARCH, then UID FETCH (UID FLAGS BODY.PEEK[]<0.IMAP_FETCH_MAX>) of
 * the lowest max UIDs */
int imap_fetch_unprocessed(struct imap *im, uint32_t after_uid, size_t max, struct imap_msg **out,
        size_t *n, char *err, size_t errlen)
{
	char criteria[100], *cmd = NULL;
	int r;
	size_t i, k = 0, len = 0;
	clist *found, *res = NULL;
	uint32_t *uids;
	clistiter *it;
	long long t0;

	*out = NULL;
	*n = 0;
	snprintf(criteria, sizeof(criteria), "UID %lu:* NOT KEYWORD %s",
	        (unsigned long)after_uid + 1, IMAP_PROCESSED);
	if (usable(im, 1, NULL, err, errlen) < 0)
		return -1;
	if (after_uid == UINT32_MAX || max == 0)
		return 0;
	if ((r = search(im, criteria, &found, err, errlen)) < 0 || found == NULL)
		return r;
	r = MAILIMAP_ERROR_MEMORY;
	if ((uids = malloc((clist_count(found) + 1) * sizeof(*uids))) != NULL)
		for (it = clist_begin(found); it; it = clist_next(it)) /* N:* has the top UID < N */
			if (*(uint32_t *)clist_content(it) > after_uid)
				uids[k++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(found);
	if (k > 1)
		qsort(uids, k, sizeof(*uids), cmp_uid);
	if ((k = k < max ? k : max) == 0 && uids)
		r = MAILIMAP_NO_ERROR;
	else if (uids && (cmd = malloc(k * 11 + 40)) && (*out = calloc(k, sizeof(**out)))) {
		for (i = 0; i < k; i++)
			len += sprintf(
			        cmd + len, "%s%lu", i ? "," : "UID FETCH ", (unsigned long)uids[i]);
		sprintf(cmd + len, " (UID FLAGS BODY.PEEK[]<0.%d>)", IMAP_FETCH_MAX);
		t0 = now_ms();
		if ((r = mailimap_custom_command(im->mi, cmd)) != MAILIMAP_NO_ERROR)
			step_failed(im, r, t0, err, errlen,
			        "fetch messages from folder \"%s\" on %s", im->folder, im->name);
		else if (im->mi->imap_response_info) { /* taken over, as mailimap_uid_fetch does */
			res = im->mi->imap_response_info->rsp_fetch_list;
			im->mi->imap_response_info->rsp_fetch_list = NULL;
		}
	}
	free(uids);
	free(cmd);
	for (it = res ? clist_begin(res) : NULL; it && *n < k; it = clist_next(it)) {
		struct imap_msg m = {0};

		if (take_att(clist_content(it), &m) < 0)
			r = MAILIMAP_ERROR_MEMORY;
		if (m.uid && m.data) /* (an unasked FETCH, e.g. flag news, has no body) */
			(*out)[(*n)++] = m;
		else
			free(m.data);
	}
	if (res)
		mailimap_fetch_list_free(res);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_uid);
	if (r == MAILIMAP_NO_ERROR)
		return 0;
	imap_msgs_free(*out, *n);
	*out = NULL;
	*n = 0;
	return r == MAILIMAP_ERROR_MEMORY ? fail(err, errlen, "out of memory") : -1;
}

/* imap_msgs_free - free what imap_fetch_unprocessed returned */
void imap_msgs_free(struct imap_msg *m, size_t n)
{
	while (m && n > 0)
		free(m[--n].data);
	free(m);
}

/* imap_mark - UID STORE uid +FLAGS.SILENT (IMAP_PROCESSED), when the folder
 * is read-write and its PERMANENTFLAGS (when sent) have \* or the keyword */
int imap_mark(struct imap *im, uint32_t uid, char *err, size_t errlen)
{
	const struct mailimap_selection_info *si;
	long long t0 = now_ms();
	clistiter *it = NULL;
	char cmd[100];
	int r;

	if (usable(im, 1, NULL, err, errlen) < 0)
		return -1;
	if ((si = im->mi->imap_selection_info) && si->sel_perm == MAILIMAP_MAILBOX_READONLY)
		return fail(err, errlen, "folder \"%s\" on %s is read-only", im->folder, im->name);
	for (it = si && si->sel_perm_flags ? clist_begin(si->sel_perm_flags) : NULL; it;
	        it = clist_next(it)) {
		const struct mailimap_flag_perm *p = clist_content(it);
		const struct mailimap_flag *f = p->fl_flag;

		if (p->fl_type == MAILIMAP_FLAG_PERM_ALL ||
		        (f && f->fl_type == MAILIMAP_FLAG_KEYWORD && f->fl_data.fl_keyword &&
		                strcasecmp(f->fl_data.fl_keyword, IMAP_PROCESSED) == 0))
			break;
	}
	if (si && si->sel_perm_flags && it == NULL)
		return fail(err, errlen, "folder \"%s\" on %s cannot keep the keyword %s",
		        im->folder, im->name, IMAP_PROCESSED);
	if (uid == 0)
		return fail(err, errlen, "UID 0 names no message");
	snprintf(cmd, sizeof(cmd), "UID STORE %lu +FLAGS.SILENT (%s)", (unsigned long)uid,
	        IMAP_PROCESSED);
	if ((r = mailimap_custom_command(im->mi, cmd)) == MAILIMAP_NO_ERROR)
		return 0;
	return step_failed(im, r, t0, err, errlen, "mark UID %lu in folder \"%s\" on %s",
	        (unsigned long)uid, im->folder, im->name);
}

/* imap_append - APPEND the message (bare LF made CRLF) to folder */
int imap_append(
        struct imap *im, const char *folder, const char *msg, size_t len, char *err, size_t errlen)
{
	long long t0 = now_ms();
	size_t i, n = 0;
	char *crlf;
	int r;

	if (usable(im, 0, folder ? folder : "", err, errlen) < 0)
		return -1;
	if ((crlf = malloc(2 * len + 1)) == NULL)
		return fail(err, errlen, "out of memory");
	for (i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			crlf[n++] = '\r';
		crlf[n++] = msg[i];
	}
	r = mailimap_append(im->mi, folder, NULL, NULL, crlf, n);
	free(crlf);
	if (r == MAILIMAP_NO_ERROR)
		return 0;
	return step_failed(
	        im, r, t0, err, errlen, "store a message in folder \"%s\" on %s", folder, im->name);
}
