#!/bin/sh
# mkcerts.sh - make throw-away TLS certificates for the SMTP tests.
#
# Usage: tests/mkcerts.sh OUTDIR
#
# Writes into OUTDIR (created if needed), all EC P-256, valid for 30 days:
#   ca.crt, ca.key          a test CA
#   server.crt, server.key  for DNS:localhost, IP:127.0.0.1, IP:::1 (signed by the CA)
#   wrong.crt, wrong.key    for DNS:wrong.example only (signed by the same CA)
# Fast and non-interactive; needs only the openssl command.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 64
fi
out=$1
mkdir -p "$out"
cd "$out"

ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

# shellcheck disable=SC2086
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 30 -subj "/CN=spoold test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# leaf NAME SAN - NAME.key and NAME.crt for the subjectAltName SAN, signed by the CA
leaf() {
	cat >"$1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$2
EOF
	# shellcheck disable=SC2086
	openssl req -new $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 30 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

leaf server "DNS:localhost,IP:127.0.0.1,IP:::1" localhost
leaf wrong "DNS:wrong.example" wrong.example
rm -f ca.srl
chmod 600 ./*.key
