/*
 * tlsverify - check the certificate chain of a libetpan TLS stream.
 *
 * libetpan 1.9.4 checks nothing on its own (no CA, no host name), so every
 * TLS connection spoold makes (SMTP now, IMAP later) calls
 * tlsverify_stream right after the handshake and before it sends anything
 * that matters (AUTH, MAIL).  The chain is verified with GnuTLS against the
 * system trust store, or against ca_file alone when one is given, for the
 * host name (or IP address) the caller connected to, and for the TLS server
 * key purpose.  The module keeps no state; each call builds and frees its
 * own trust list.
 */
#ifndef SPOOLD_TLSVERIFY_H
#define SPOOLD_TLSVERIFY_H

#include <stddef.h>

#include <libetpan/libetpan.h>

/* tlsverify_stream - 0 when the peer chain of stream is trusted for host;
 * -1 with a readable reason in err (which names the certificate and host) */
int tlsverify_stream(
        mailstream *stream, const char *host, const char *ca_file, char *err, size_t errlen);

#endif
