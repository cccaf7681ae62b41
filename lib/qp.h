/*
 * qp - quoted-printable encoding of text (RFC 2045 6.7), for message bodies.
 *
 * Only what the RFC requires is encoded: "=", control characters, bytes
 * above 126, and a space or tab that ends a line.  Two more, for mail
 * that passes through old software: a "." opening a line (nothing for an
 * SMTP end-of-data to see) and the "F" of a "From " opening a line (no
 * mbox ">From" mangling).  Lines end in CRLF and are at most 76
 * characters, soft line breaks included; an "=XX" is never split.
 * libetpan's own encoder also encodes "!\"#$@[\\]^`{|}~?_" and every "F",
 * which made an HTML part a third longer and its writing slow.
 *
 * Ownership: qp_encode returns a malloc'ed string; the caller frees it.
 */
#ifndef SPOOLD_QP_H
#define SPOOLD_QP_H

#include <stddef.h>

/* qp_encode - the n bytes at s as quoted-printable, NUL-terminated, *outlen
 * its length; LF and CRLF are line ends (CRLF out), a lone CR is "=0D", and a
 * last line without a line end gets one.  NULL when out of memory. */
char *qp_encode(const char *s, size_t n, size_t *outlen);

#endif
