#!/usr/bin/env bash
# Event monitoring (and the knowledge base) end to end with the built binaries: a lead saves a rule
# from JSON, a GM watches alerts live, a game server publishes chat, the
# alert arrives on the watch and in the list, is acknowledged, and the
# rule is still in force after a restart.
. "$(dirname "$0")/lib.sh"
start_stewardd
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }
gs() { ctl --token "$GS_TOKEN" "$@"; }

cat > "$TMP/rule.json" <<'JSON'
{"name": "gold sellers", "kind": "RULE_KIND_PATTERN", "enabled": true,
 "severity": "SEVERITY_CRITICAL", "eventTypes": ["chat"], "groupBy": ["player"],
 "pattern": "cheap\\s+gold", "caseInsensitive": true, "threshold": 2,
 "action": {"kind": "ACTION_KIND_PAGE"}}
JSON
admin rules save --file "$TMP/rule.json" | grep "saved" >/dev/null || fail "rule not saved"
echo '{"name": "bad", "kind": "RULE_KIND_PATTERN", "pattern": "cheap("}' > "$TMP/bad.json"
set +e; out=$(admin rules save --file "$TMP/bad.json" 2>&1); code=$?; set -e
[ "$code" = 5 ] && grep -q "rule.pattern" <<< "$out" || fail "bad rule: exit $code: $out"
set +e; gs rules save --file "$TMP/rule.json" >/dev/null 2>&1; code=$?; set -e
[ "$code" = 3 ] || fail "a game server saved a rule (exit $code)"

admin alerts watch > "$TMP/watch.out" 2>&1 &
WATCH=$!
sleep 0.5
cat > "$TMP/chat.json" <<'JSON'
{"realmId": "eu1", "serverId": "eu1-s1", "events": [
 {"type": "chat", "playerId": "p-9", "text": "Cheap gold at example.com"},
 {"type": "chat", "playerId": "p-9", "text": "hello all"},
 {"type": "chat", "playerId": "p-9", "text": "cheap  GOLD, fast"}]}
JSON
gs events publish --file "$TMP/chat.json" | grep "3 accepted" >/dev/null || fail "events not accepted"
retry 50 0.1 grep -q "gold sellers" "$TMP/watch.out" || true
kill "$WATCH" 2>/dev/null || true
grep -q "player=p-9" "$TMP/watch.out" || { cat "$TMP/watch.out" >&2; fail "alert not watched"; }
grep -q "PAGE" "$TMP/watch.out" || fail "page flag not shown"
id=$(admin alerts list --state open | awk '/gold sellers/ {print $1; exit}')
[ -n "$id" ] || fail "alert not listed"
admin alerts ack "$id" --note "muted by hand" | grep acknowledged >/dev/null || fail "ack failed"
admin alerts list --state open | grep "gold sellers" >/dev/null && fail "acked alert still open"
admin metrics pipeline | grep "3 accepted" >/dev/null || fail "pipeline stats"

# The knowledge base from the command line.
echo '{"title": "Talent reset", "body": "Visit the trainer in the capital.", "locale": "en", "tags": ["talents"]}' > "$TMP/kb.json"
admin kb save --file "$TMP/kb.json" | grep "version 1" >/dev/null || fail "kb entry not saved"
admin kb search "talent trainer" | grep "Talent reset" >/dev/null || fail "kb search by words"
out=$(admin kb search "talent dragon")
grep -q "Talent reset" <<< "$out" && fail "search matched a word not in the entry"
admin kb search trainer --tag talents | grep "Talent reset" >/dev/null || fail "kb search by tag"
admin kb show 1 | grep "capital" >/dev/null || fail "kb show"

kill "$PID"; wait "$PID" 2>/dev/null || true
start_stewardd
admin rules list | grep "gold sellers" >/dev/null || fail "rule lost on restart"
echo "monitoring_cli: ok"
