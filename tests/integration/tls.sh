#!/usr/bin/env bash
# Server TLS with client-certificate mTLS: a client with a certificate from
# the configured CA gets through; a client without one does not.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=steward-test-ca" \
  -keyout ca.key -out ca.pem
q openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\n" > san.ext
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile san.ext -out server.pem
q openssl req -newkey rsa:2048 -nodes -subj "/CN=gm-console" -keyout client.key -out client.csr
q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem

start_stewardd --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem
ADDR=localhost:${ADDR#127.0.0.1:}
"$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --tls-ca ca.pem --tls-cert client.pem \
  --tls-key client.key tickets list >/dev/null || fail "mTLS client was refused"
if "$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --tls-ca ca.pem --timeout 3 tickets list \
  >/dev/null 2>&1; then fail "client without a certificate got through"; fi
if "$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --timeout 3 tickets list >/dev/null 2>&1; then
  fail "plaintext client got through a TLS port"
fi
kill "$PID"
wait "$PID" 2>/dev/null || true

# Prometheus metrics over HTTPS with the same certificate: curl trusting
# the CA gets them; plain HTTP to the port gets nothing.
{ cat stewardd.toml; printf '[metrics]\ncert_file = "%s"\nkey_file = "%s"\n' "$TMP/server.pem" "$TMP/server.key"; } > metrics.toml
mv metrics.toml stewardd.toml
start_stewardd --metrics-listen 127.0.0.1:0
metrics_port
grep -h "metrics at https://" "$TMP"/stewardd.*.log >/dev/null || fail "metrics address not logged as https"
# (Read whole before grep: with pipefail, grep -q quitting early would fail curl's write.)
page=$(curl -sf --cacert ca.pem "https://localhost:$MPORT/metrics") || fail "metrics over HTTPS with the CA failed"
grep -q "^steward_rules " <<< "$page" || fail "the HTTPS metrics page lacks steward_rules: $page"
if curl -sf --max-time 3 "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1; then
  fail "plain HTTP got metrics from the HTTPS port"
fi
if curl -sf --max-time 3 "https://localhost:$MPORT/metrics" >/dev/null 2>&1; then
  fail "a client that does not trust the CA got metrics"
fi
echo "tls: 2 passed, 0 failed"
