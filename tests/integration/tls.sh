#!/usr/bin/env bash
# Server TLS with client-certificate mTLS: a client with a certificate from
# the configured CA gets through; a client without one does not. Renewed
# certificate files are taken without a restart, on the gRPC port within
# tls.refresh_seconds and on /metrics at SIGHUP; a broken renewal leaves
# the certificate in use serving.
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
# The renewal: a server certificate from another CA (and a later expiry),
# so a client and the expiry metric can tell which one is in use.
q openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=steward-test-ca-2" \
  -keyout ca2.key -out ca2.pem
q openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout renewed.key -out renewed.csr
q openssl x509 -req -in renewed.csr -CA ca2.pem -CAkey ca2.key -CAcreateserial -days 3 \
  -extfile san.ext -out renewed.pem
cp server.pem live.pem
cp server.key live.key
# renew CERT KEY: puts a pair in place of live.pem/live.key the way an
# operator should, each file renamed over the old one.
renew() {
  cp "$1" live.pem.new && cp "$2" live.key.new
  mv live.key.new live.key && mv live.pem.new live.pem
}

printf '[tls]\nrefresh_seconds = 1\n' >> stewardd.toml
# expiry_is LISTENER CERT PAGE: the page gives CERT's expiry for LISTENER.
expiry_is() {
  local want
  want=$(date -d "$(openssl x509 -enddate -noout -in "$2" | cut -d= -f2)" +%s)
  grep -q "^steward_tls_certificate_expiry_timestamp_seconds{listener=\"$1\"} $want\$" <<< "$3" ||
    fail "$1 certificate expiry is not $want (that of $2): $(grep tls_certificate <<< "$3")"
}

start_stewardd --tls-cert live.pem --tls-key live.key --tls-client-ca ca.pem --metrics-listen 127.0.0.1:0
metrics_port
expiry_is grpc server.pem "$(curl -sf "http://127.0.0.1:$MPORT/metrics")"
ADDR=localhost:${ADDR#127.0.0.1:}
grpc_with_ca() {
  "$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --tls-ca "$1" --tls-cert client.pem \
    --tls-key client.key --timeout 3 tickets list >/dev/null 2>&1
}
grpc_with_ca ca.pem || fail "mTLS client was refused"
grpc_with_ca ca2.pem && fail "a client trusting only the renewal's CA got through before the renewal"
# A stream open across the renewal keeps going: a GM's alert watch,
# connected trusting only the old CA, still gets an alert raised after it.
ctl_ca() {
  local ca=$1 token=$2
  shift 2
  "$CTL" --addr "$ADDR" --token "$token" --tls-ca "$ca" --tls-cert client.pem --tls-key client.key "$@"
}
printf '%s' '{"name": "gold sellers", "kind": "RULE_KIND_PATTERN", "enabled": true,
 "eventTypes": ["chat"], "groupBy": ["player"], "pattern": "cheap gold", "threshold": 1}' > rule.json
ctl_ca ca.pem "$ADMIN_TOKEN" rules save --file rule.json >/dev/null || fail "rule not saved"
ctl_ca ca.pem "$ADMIN_TOKEN" alerts watch > watch.out 2>&1 &
WATCH=$!
sleep 0.5
renew renewed.pem renewed.key
retry 50 0.2 grpc_with_ca ca2.pem || fail "the gRPC port did not take the renewed certificate within 10 s"
grpc_with_ca ca.pem && fail "the gRPC port still showed the old certificate after the renewal"
printf '%s' '{"realmId": "eu1", "serverId": "eu1-s1", "events": [
 {"type": "chat", "playerId": "p-9", "text": "cheap gold here"}]}' > chat.json
out=$(ctl_ca ca2.pem "$GS_TOKEN" events publish --file chat.json) || fail "chat not published"
grep -q "1 accepted" <<< "$out" || fail "chat not accepted: $out"
retry 50 0.1 grep -q "player=p-9" watch.out || true
kill "$WATCH" 2>/dev/null || true
grep -q "player=p-9" watch.out || fail "the alert watch open across the renewal did not get the alert: $(cat watch.out)"
expiry_is grpc renewed.pem "$(curl -sf "http://127.0.0.1:$MPORT/metrics")"
# Half a renewal (a certificate beside another's key) is refused; the
# certificate in use keeps serving new connections.
renew server.pem renewed.key
sleep 2.5
grpc_with_ca ca2.pem || fail "a mismatched renewal broke the gRPC port's handshakes"
grep -q "gRPC port not renewed.*is not the key of the certificate" "$LOG" ||
  fail "the refused renewal was not logged with its reason"
if "$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --tls-ca ca.pem --timeout 3 tickets list \
  >/dev/null 2>&1; then fail "client without a certificate got through"; fi
if "$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --timeout 3 tickets list >/dev/null 2>&1; then
  fail "plaintext client got through a TLS port"
fi
kill "$PID"
wait "$PID" 2>/dev/null || true

# Prometheus metrics over HTTPS with the same certificate: curl trusting
# the CA gets them; plain HTTP to the port gets nothing.
renew server.pem server.key
# Files looked at hourly here: the renewal below can only come from SIGHUP.
sed -i 's/^refresh_seconds = 1$/refresh_seconds = 3600/' stewardd.toml
{ cat stewardd.toml; printf '[metrics]\ncert_file = "%s"\nkey_file = "%s"\n' "$TMP/live.pem" "$TMP/live.key"; } > metrics.toml
mv metrics.toml stewardd.toml
start_stewardd --metrics-listen 127.0.0.1:0
metrics_port
grep -h "metrics at https://" "$LOG" >/dev/null || fail "metrics address not logged as https"
# (Read whole before grep: with pipefail, grep -q quitting early would fail curl's write.)
page=$(curl -sf --cacert ca.pem "https://localhost:$MPORT/metrics") || fail "metrics over HTTPS with the CA failed"
grep -q "^steward_rules " <<< "$page" || fail "the HTTPS metrics page lacks steward_rules: $page"
expiry_is metrics server.pem "$page"
if curl -sf --max-time 3 "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1; then
  fail "plain HTTP got metrics from the HTTPS port"
fi
if curl -sf --max-time 3 "https://localhost:$MPORT/metrics" >/dev/null 2>&1; then
  fail "a client that does not trust the CA got metrics"
fi
# A broken renewal (a key of another certificate) is refused at SIGHUP and
# the certificate in use keeps serving; a good one is taken at once.
renew renewed.pem server.key
kill -HUP "$PID"
retry 50 0.1 grep -q "metrics certificate was not renewed" "$LOG" || true
grep -q "metrics certificate was not renewed.*is not the key of the certificate" "$LOG" ||
  fail "a mismatched renewal was not refused with its reason: $(cat "$LOG")"
curl -sf --cacert ca.pem "https://localhost:$MPORT/metrics" >/dev/null ||
  fail "after a refused renewal the old certificate stopped serving"
renew renewed.pem renewed.key
kill -HUP "$PID"
retry 50 0.1 curl -sf --max-time 3 --cacert ca2.pem -o /dev/null "https://localhost:$MPORT/metrics" 2>/dev/null ||
  fail "/metrics did not take the renewed certificate at SIGHUP"
expiry_is metrics renewed.pem "$(curl -sf --cacert ca2.pem "https://localhost:$MPORT/metrics")"
if curl -sf --max-time 3 --cacert ca.pem "https://localhost:$MPORT/metrics" >/dev/null 2>&1; then
  fail "/metrics still showed the old certificate after the renewal"
fi
echo "tls: 6 passed, 0 failed"
