#!/usr/bin/env bash
# Window state survives SIGKILL through the rolling checkpoint: a rule
# counts gold-selling chat over ten minutes; one line is published, the
# checkpoint (every second here) writes it, stewardd is killed with -9,
# and after the restart a second line from the same player raises the
# alert with a count of 2, which only the restored window can give. With
# the checkpoint off, the same crash forgets the first line.
. "$(dirname "$0")/lib.sh"
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }
gs() { ctl --token "$GS_TOKEN" "$@"; }
cp "$TMP/stewardd.toml" "$TMP/base.toml"

cat > "$TMP/rule.json" <<'JSON'
{"name": "gold sellers", "kind": "RULE_KIND_PATTERN", "enabled": true,
 "severity": "SEVERITY_WARNING", "eventTypes": ["chat"], "groupBy": ["player"],
 "pattern": "cheap\\s+gold", "caseInsensitive": true, "threshold": 2,
 "windowSeconds": 600, "slideSeconds": 60}
JSON
line() {  # player text
  printf '{"realmId": "eu1", "serverId": "eu1-s1", "events": [{"type": "chat", "playerId": "%s", "text": "%s"}]}' \
    "$1" "$2" > "$TMP/chat.json"
  gs events publish --file "$TMP/chat.json" | grep "1 accepted" >/dev/null || fail "event not accepted"
}
alerts_for() { admin alerts list --state open | grep -c "player=$1" || true; }

run() {  # checkpoint_seconds player -> prints the alerts for the player after crash and second line
  local secs=$1 player=$2
  { cat "$TMP/base.toml"; printf '[monitoring]\ncheckpoint_seconds = %s\n' "$secs"; } > "$TMP/stewardd.toml"
  start_stewardd
  rules=$(admin rules list)
  grep -q "gold sellers" <<< "$rules" || admin rules save --file "$TMP/rule.json" >/dev/null
  line "$player" "cheap gold, fast delivery"
  sleep 2.5  # more than one whole checkpoint cycle
  kill -9 "$PID"
  wait "$PID" 2>/dev/null || true
  start_stewardd
  line "$player" "CHEAP gold again"
  has_alert() { [ "$(alerts_for "$1")" -gt 0 ]; }
  retry 50 0.1 has_alert "$player" || true
  alerts_for "$player"
  kill -9 "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

n=$(run 1 p-kept)
[ "$n" = 1 ] || fail "with the checkpoint, the crash lost the first line ($n alerts for p-kept)"
grep -h "window state of the last run restored" "$TMP"/stewardd.*.log >/dev/null || fail "no restore logged"
n=$(run 0 p-lost)
[ "$n" = 0 ] || fail "without the checkpoint an alert was raised ($n): the test cannot tell"
echo "windows_kill9: ok"
