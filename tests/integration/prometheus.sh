#!/usr/bin/env bash
# /metrics scraped by a real Prometheus (Debian's package): stewardd serves
# the endpoint behind a bearer token, Prometheus scrapes it every second
# with the token (and a second job with a wrong one), and its query API
# then holds Steward's figures: the scrape parsed, the counters moved with
# the calls made, and the wrong token was refused.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/setup.sh installs it)"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup.sh installs it)"

SCRAPE_TOKEN=scrape-$RANDOM$RANDOM
cat >> "$TMP/stewardd.toml" <<TOML
[metrics]
token_sha256 = "$("$CTL" hash-token "$SCRAPE_TOKEN")"
TOML
start_stewardd --metrics-listen 127.0.0.1:0
metrics_port
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
[ "$code" = 401 ] || fail "a scrape without the token got HTTP $code"

ctl() { "$CTL" --addr "$ADDR" "$@"; }
cat > "$TMP/events.json" <<'JSON'
{"realmId": "eu1", "serverId": "eu1-s1", "events": [
 {"type": "login", "playerId": "p-secret-1"}, {"type": "login", "playerId": "p-secret-2"},
 {"type": "chat", "playerId": "p-secret-1", "text": "hi"}, {"type": "logout", "playerId": "p-secret-2"},
 {"type": "chat", "playerId": "p-secret-2", "text": "bye"}]}
JSON
ctl --token "$GS_TOKEN" events publish --file "$TMP/events.json" | grep "5 accepted" >/dev/null \
  || fail "events not accepted"
ctl --token "$GS_TOKEN" player check --player p-secret-1 --realm eu1 >/dev/null
ctl --token "$GS_TOKEN" player check --player p-secret-2 --realm eu1 >/dev/null

printf '%s' "$SCRAPE_TOKEN" > "$TMP/scrape.token"
printf 'wrong' > "$TMP/wrong.token"
cat > "$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: steward
    authorization: {type: Bearer, credentials_file: $TMP/scrape.token}
    static_configs: [{targets: ["127.0.0.1:$MPORT"]}]
  - job_name: steward-wrong-token
    authorization: {type: Bearer, credentials_file: $TMP/wrong.token}
    static_configs: [{targets: ["127.0.0.1:$MPORT"]}]
YAML

# Prometheus on a free port: try a few at random.
PROM=""
PROM_PID=""
stop_prometheus() {
  if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null || true; wait "$PROM_PID" 2>/dev/null || true; fi
}
trap 'stop_prometheus; cleanup' EXIT
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
  PROM_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then PROM=127.0.0.1:$port; break; fi
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PROM" ] && break
  stop_prometheus
  PROM_PID=""
done
[ -n "$PROM" ] || { cat "$TMP/prometheus.log" >&2; fail "prometheus did not start"; }

# query EXPR: the single value of an instant query, or "" when it has none.
query() {
  curl -s --get "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
    sed -n 's/.*"value":\[[0-9.e+]*,"\([^"]*\)"\].*/\1/p'
}
# await EXPR VALUE: until Prometheus holds VALUE for EXPR (20 s at most).
await() {
  local got=""
  for _ in $(seq 1 200); do
    got=$(query "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "Prometheus has $1 = '${got}', expected $2"
}
await 'up{job="steward"}' 1
await 'up{job="steward-wrong-token"}' 0
await 'steward_events_accepted_total{job="steward"}' 5
await 'steward_grpc_server_handled_total{job="steward",method="steward.v1.ModerationService/CheckPlayer",code="OK"}' 2
await 'steward_grpc_server_handling_seconds_count{job="steward",method="steward.v1.ModerationService/CheckPlayer"}' 2
await 'steward_pipeline_workers{job="steward"}' 2
# A histogram Prometheus can compute with: the p99 of two CheckPlayer calls
# is a bucket top, a positive number of seconds.
p99=$(query 'histogram_quantile(0.99, steward_grpc_server_handling_seconds_bucket{job="steward",method="steward.v1.ModerationService/CheckPlayer"})')
awk -v v="$p99" 'BEGIN { exit !(v > 0 && v < 60) }' || fail "CheckPlayer p99 from Prometheus: '$p99'"
# No player ids in what Prometheus stored.
series=$(curl -s --get "http://$PROM/api/v1/series" --data-urlencode 'match[]={job="steward"}')
grep -q "p-secret" <<< "$series" && fail "a player id reached Prometheus"
grep -q "steward_window_memory_bytes" <<< "$series" || fail "series listing incomplete"
echo "prometheus: ok (scraped at $PROM)"
