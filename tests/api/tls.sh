#!/bin/sh
# leakgated over TLS (--tls-cert, --tls-key) with a self-signed certificate.
. "$(dirname "$0")/lib.sh"

command -v certtool >/dev/null 2>&1 || command -v openssl >/dev/null 2>&1 ||
	bail "neither certtool (gnutls-bin) nor openssl is installed"

ADMIN=$(make_token admin) || bail "token create failed"
READ=$(make_token read) || bail "token create failed"

# A self-signed certificate for 127.0.0.1.
CERT=$T/cert.pem
KEY=$T/key.pem
if command -v certtool >/dev/null 2>&1; then
	cat >"$T/cert.cfg" <<'EOF'
cn = "127.0.0.1"
ip_address = "127.0.0.1"
dns_name = "localhost"
expiration_days = 2
tls_www_server
signing_key
encryption_key
EOF
	certtool --generate-privkey --key-type=ecdsa --outfile "$KEY" >/dev/null 2>&1 &&
		certtool --generate-self-signed --load-privkey "$KEY" --template "$T/cert.cfg" \
			--outfile "$CERT" >/dev/null 2>&1
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" -out "$CERT" \
		-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1
fi
[ -s "$CERT" ] && [ -s "$KEY" ]
ok $? "a self-signed certificate was made" || bail "no certificate"

SCHEME=https
start_daemon --tls-cert "$CERT" --tls-key "$KEY" || bail "leakgated did not start with TLS"

code=$(curl -s -k -m 5 -o "$RESP" -w '%{http_code}' "https://127.0.0.1:$PORT/healthz")
is "$code" 200 "curl -k https://127.0.0.1:$PORT/healthz: 200"
jis .status ok "status ok over TLS"
code=$(curl -s -m 5 --cacert "$CERT" -o "$RESP" -w '%{http_code}' "https://127.0.0.1:$PORT/healthz")
is "$code" 200 "verified against our certificate (--cacert): 200, so it serves that certificate"
curl -s -m 5 -o /dev/null "https://127.0.0.1:$PORT/healthz" 2>/dev/null
isnt "$?" 0 "without -k or --cacert, curl refuses the self-signed certificate"
code=$(curl -s -m 5 -o "$T/plain" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null)
[ "$code" != 200 ] && ! grep -q '"status"' "$T/plain" 2>/dev/null
ok $? "plain http to the TLS port gets no answer (status ${code:-none})"
rget /api/v1/rules
status_is 200 "an authenticated GET over TLS: 200"
req POST /api/v1/scan "$READ" "$(jq -cn --arg t "id = $(fake_aws_key)" '{text: $t}')"
jtrue 'any(.findings[]; .rule_id == "aws-access-key-id")' "POST /api/v1/scan over TLS finds the key"
req GET /api/v1/events ""
error_is 401 unauthorized "no token over TLS: 401"
apost /api/v1/exemptions '{"rule_id": "aws-access-key-id", "path": "fixtures/*", "reason": "tls"}'
status_is 201 "an admin change over TLS: 201"
stop_daemon TERM
is "$stop_rc" 0 "SIGTERM: exits 0"

# Bad TLS options.
SCHEME=http
refuses "$T/o1" "--tls-cert without --tls-key is refused" \
	--listen "127.0.0.1:$(random_port)" --db "$DB" --cache-dir "$LEAKGATE_CACHE_DIR" \
	--key-file "$LEAKGATE_KEY_FILE" --tls-cert "$CERT"
refuses "$T/o2" "a missing certificate file is refused" \
	--listen "127.0.0.1:$(random_port)" --db "$DB" --cache-dir "$LEAKGATE_CACHE_DIR" \
	--key-file "$LEAKGATE_KEY_FILE" --tls-cert "$T/none.pem" --tls-key "$KEY"

api_done
