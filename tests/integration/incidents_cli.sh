#!/usr/bin/env bash
# Incidents and compensation from the command line, across a kill -9: an
# incident linking complaints by filter, one reply to all, a grant that
# needs a second GM, acknowledged once per player by the game after the
# crash, resolution of every ticket; and rule 13 on a sensitive question.
. "$(dirname "$0")/lib.sh"
start_stewardd
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }
sup() { ctl --token "$SUP_TOKEN" "$@"; }
agent() { ctl --token "$AGENT_TOKEN" "$@"; }
gs() { ctl --token "$GS_TOKEN" "$@"; }
expect_exit() {  # CODE COMMAND...: the command must fail with that exit code
  local want=$1 code
  shift
  set +e; "$@" >"$TMP/out" 2>&1; code=$?; set -e
  [ "$code" = "$want" ] || { cat "$TMP/out" >&2; fail "exit $code, not $want: $*"; }
}

tickets=()
for i in 1 2 3; do
  out=$(gs --player "p-$i" tickets submit --idempotency-key "k$i" --category complaint \
        --subject "Cannot login since the patch" --realm eu1)
  tickets+=("$(echo "$out" | sed -n 's/^ticket *\([0-9][0-9]*\).*/\1/p' | head -1)")
done
out=$(admin incidents open --title "Login outage" --cause outage --realm eu1 --word login --link-existing)
iid=$(echo "$out" | sed -n 's/^incident \([0-9]*\) .*/\1/p')
[ -n "$iid" ] || fail "no incident id in: $out"
grep -q "tickets linked 3" <<< "$out" || fail "open: $out"
admin brief | grep -q "incident $iid .*open .* 3 tickets" || fail "brief does not list the incident"
admin incidents reply "$iid" --body "We are fixing the login service." | grep -q "tickets changed: 3" || fail "reply"
admin incidents show "$iid" | grep -q "last reply: 3 queued, 0 delivered" || fail "replies not shown queued"

out=$(sup grants propose --key g1 --item gems --payload '{"gems":20000}' --value 20000 --reason "login outage" \
      --incident "$iid")
gid=$(echo "$out" | sed -n 's/^grant \([0-9]*\) .*/\1/p')
grep -q "pending_approval" <<< "$out" || fail "a grant above the limit was not held: $out"
grep -q "needs approval: 20000 credits per player is above the supervisor limit" <<< "$out" || fail "why: $out"
expect_exit 3 sup grants decide "$gid" --reason "my own"
admin grants decide "$gid" --reason "outage confirmed" | grep -q "approved" || fail "approve"

# The process dies; the approved grant and its directives are durable.
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
start_stewardd
keys=$(admin grants show "$gid" | grep -o 'g[0-9]*-[0-9]*' | sort -u)
[ "$(echo "$keys" | wc -l)" = 3 ] || fail "keys after restart: $keys"
gs grants ack --server eu1-s1 $keys | grep -q "^3 newly acknowledged" || fail "ack"
gs grants ack --server eu1-s1 $keys | grep -q "^0 newly acknowledged" || fail "a repeated ack counted again"
admin grants show "$gid" | grep -q "acknowledged by the game 3 of 3" || fail "grant state"
expect_exit 5 sup grants propose --key g2 --item gems --value 10 --reason again --incident "$iid"
grep -q "already has a grant for incident $iid" "$TMP/out" || fail "second grant message: $(cat "$TMP/out")"
admin incidents resolve "$iid" --resolution "login service restored" | grep -q "tickets changed: 3" || fail "resolve"
admin tickets show "${tickets[0]}" | grep -qi "resolved" || fail "ticket not resolved"
admin grants report | grep -q "total 60000 credits" || fail "report: $(admin grants report)"

# Rule 13: a refund question is sensitive; an agent's free answer is refused.
out=$(gs --player p-9 tickets submit --idempotency-key k9 --category question --subject "Can I get a refund?" --realm eu1)
sid=$(echo "$out" | sed -n 's/^ticket *\([0-9][0-9]*\).*/\1/p' | head -1)
expect_exit 5 agent tickets reply "$sid" "Sure, here is a refund."
grep -q "rule 13" "$TMP/out" || fail "refusal does not name the rule: $(cat "$TMP/out")"
echo "incidents_cli: ok"
