/*
 * tlsverify - check the certificate chain of a libetpan TLS stream.
 *
 * The peer chain comes from mailstream_get_certificate_chain (DER, leaf
 * first), is imported into GnuTLS and verified with
 * gnutls_x509_trust_list_verify_crt2 for the DNS host name (GnuTLS matches
 * an IP address against the iPAddress names) and the TLS server key
 * purpose.  Everything allocated here is freed before returning.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlsverify.h"

#define MAX_CHAIN 16

/* leaf_name - the first DNS name, IP address or CN of crt, for messages */
static void leaf_name(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	unsigned char raw[256];
	size_t size;
	unsigned i;
	int type;

	for (i = 0; i < 64; i++) {
		size = sizeof(raw) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, raw, &size, NULL);
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			raw[size] = '\0';
			snprintf(buf, len, "%s", (char *)raw);
			return;
		}
		if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
			char ip[INET6_ADDRSTRLEN];
			if (inet_ntop(size == 4 ? AF_INET : AF_INET6, raw, ip, sizeof(ip))) {
				snprintf(buf, len, "%s", ip);
				return;
			}
		}
	}
	size = len;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) < 0)
		snprintf(buf, len, "(no name)");
}

/* load_trust - the system trust store, or ca_file alone; 0 ok, -1 with err */
static int load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, char *err, size_t errlen)
{
	int n;

	if (ca_file) {
		n = gnutls_x509_trust_list_add_trust_file(
		        tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (n <= 0) {
			snprintf(err, errlen, "no CA certificate could be read from %s%s%s",
			        ca_file, n < 0 ? ": " : "", n < 0 ? gnutls_strerror(n) : "");
			return -1;
		}
	} else {
		n = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (n <= 0) {
			snprintf(err, errlen,
			        "the system trust store is empty or unreadable "
			        "(is ca-certificates installed?)");
			return -1;
		}
	}
	return 0;
}

/* verify - verify crts[0..n) for host against the trust list; 0 ok, -1 with err */
static int verify(gnutls_x509_crt_t *crts, unsigned n, const char *host, const char *ca_file,
        char *err, size_t errlen)
{
	gnutls_x509_trust_list_t tl;
	gnutls_typed_vdata_st vdata[2];
	gnutls_datum_t out = {NULL, 0};
	unsigned status = 0;
	char name[256];
	int ret;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		snprintf(err, errlen, "cannot create a GnuTLS trust list");
		return -1;
	}
	if (load_trust(tl, ca_file, err, errlen) < 0) {
		gnutls_x509_trust_list_deinit(tl, 1);
		return -1;
	}
	memset(vdata, 0, sizeof(vdata));
	vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vdata[0].data = (unsigned char *)host;
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	ret = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vdata, 2, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 1);
	leaf_name(crts[0], name, sizeof(name));
	if (ret < 0) {
		snprintf(err, errlen, "cannot verify the certificate for %s (host %s): %s", name,
		        host, gnutls_strerror(ret));
		return -1;
	}
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0)
		out.data = NULL;
	while (out.data && out.size > 0 && out.data[out.size - 1] == ' ')
		out.data[--out.size] = '\0';
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		snprintf(err, errlen, "certificate for %s does not match host %s: %s", name, host,
		        out.data ? (char *)out.data : "name mismatch");
	else
		snprintf(err, errlen, "certificate for %s (host %s) is not trusted%s: %s", name,
		        host, ca_file ? " by the configured CA file" : "",
		        out.data ? (char *)out.data : "verification failed");
	gnutls_free(out.data);
	return -1;
}

/* tlsverify_stream - verify the peer chain of a TLS stream for host */
int tlsverify_stream(
        mailstream *stream, const char *host, const char *ca_file, char *err, size_t errlen)
{
	gnutls_x509_crt_t crts[MAX_CHAIN];
	carray *chain;
	unsigned i, n = 0;
	int ret = -1;

	chain = mailstream_get_certificate_chain(stream);
	if (chain == NULL || carray_count(chain) == 0) {
		snprintf(err, errlen, "the server %s sent no certificate", host);
		goto out;
	}
	for (i = 0; i < carray_count(chain) && i < MAX_CHAIN; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = {(unsigned char *)der->str, (unsigned)der->len};

		if (gnutls_x509_crt_init(&crts[n]) < 0) {
			snprintf(err, errlen, "out of memory importing certificates");
			goto out;
		}
		n++;
		if (gnutls_x509_crt_import(crts[n - 1], &d, GNUTLS_X509_FMT_DER) < 0) {
			snprintf(err, errlen, "the server %s sent an unreadable certificate", host);
			goto out;
		}
	}
	ret = verify(crts, n, host, ca_file, err, errlen);
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return ret;
}
