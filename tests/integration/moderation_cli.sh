#!/usr/bin/env bash
# Moderation, reports and VIP care end to end with the built binaries:
# stewardctl issues, approves and checks sanctions, announces, works cases
# and VIP tiers against the built stewardd; a ban
# acknowledged just before SIGKILL is still enforced after restart; the
# audit chain verifies.
LOAD=$3  # tests/bench/moderation_load
. "$(dirname "$0")/lib.sh"
start_stewardd
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }
sup() { ctl --token "$SUP_TOKEN" "$@"; }
expect_exit() {  # code command...
  local want=$1; shift
  set +e; "$@" >"$TMP/out" 2>&1; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$TMP/out" >&2; fail "exit $got, wanted $want: $*"; }
}

admin sanctions issue --type temp_ban --subject p-1 --realm eu1 --duration 3d \
  --reason "Speed hack in the arena" --policy cheating --evidence case/1 | grep "in force" >/dev/null \
  || fail "temp ban not in force"
ctl --token "$GS_TOKEN" player check --player p-1 --realm eu1 | grep "login BLOCKED" >/dev/null \
  || fail "temp ban not enforced"
ctl --token "$GS_TOKEN" player check --player p-2 --realm eu1 | grep "login allowed" >/dev/null \
  || fail "clean player blocked"

# Permanent ban: waits for a second GM; the proposer cannot approve it.
out=$(admin sanctions issue --type ban --subject p-3 --reason "Gold selling" --policy rmt)
grep -q "waits for a second GM" <<< "$out" || fail "permanent ban did not wait: $out"
approval=$(echo "$out" | sed -n 's/.*approval \([0-9]*\).*/\1/p')
ctl --token "$GS_TOKEN" player check --player p-3 --realm eu1 | grep "login allowed" >/dev/null \
  || fail "pending ban enforced"
expect_exit 3 admin approvals approve "$approval"
sup approvals list | grep "permanent ban" >/dev/null || fail "approval not listed"
sup approvals approve "$approval" --reason "trade logs confirm" >/dev/null
ctl --token "$GS_TOKEN" player check --player p-3 --realm eu1 | grep "login BLOCKED" >/dev/null \
  || fail "approved ban not enforced"

# Bad input: clear errors, exit 5 (rejected) or 2 (usage).
expect_exit 5 sup sanctions issue --type ip_ban --subject 203.0.113.9 --reason x
expect_exit 2 admin sanctions issue --type nonsense --subject p-1 --reason x
expect_exit 3 ctl --token "$GS_TOKEN" sanctions list

admin sanctions list --active --json | grep '"subject_id": "p-1"' >/dev/null || fail "list misses p-1"
admin sanctions suggest --player p-1 --realm eu1 --policy cheating | grep "suggested:" >/dev/null \
  || fail "no suggestion"
admin announce create --title "Maintenance" --body "Back at 04:20 UTC" --channel banner \
  --realm eu1 | grep "1 showing(s) sent" >/dev/null || fail "announcement not sent"
admin announce list | grep "Maintenance" >/dev/null || fail "announcement not listed"

# Reports: a second of skewed intake from the load tool, then the GM side.
"$LOAD" --addr "$ADDR" --gs-token "$GS_TOKEN" \
  --gm-token "$ADMIN_TOKEN" reports --seconds 1 --concurrency 8 >/dev/null || fail "reports intake"
# (Outputs are captured first: grep -q closing the pipe early would fail
# the pipeline under pipefail.)
cases=$(admin cases list --json)
grep -q '"family"' <<< "$cases" || fail "no cases listed"
case_id=$(echo "$cases" | sed -n 's/.*"id": "\([0-9]*\)".*/\1/p' | head -1)
shown=$(admin cases show "$case_id")
grep -q "report" <<< "$shown" || fail "case shows no reports"
expect_exit 3 ctl --token "$GS_TOKEN" cases list
admin cases resolve "$case_id" --dismiss --resolution "replays show nothing" | grep "reporters notified" >/dev/null \
  || fail "case not resolved"
expect_exit 5 admin cases resolve "$case_id" --dismiss --resolution "again"
admin bugs list | grep "ID" >/dev/null || fail "bugs list failed"

# VIP care: a tier set by hand opens a welcome task in the VIP queue.
admin vip tier --player p-vip --realm eu1 --tier gold --reason "guild leader of the top guild" >/dev/null
shown=$(admin vip show --player p-vip --realm eu1)
grep -q "tier gold" <<< "$shown" || fail "vip tier not shown: $shown"
queue=$(admin vip tasks --queue)
grep -q "welcome" <<< "$queue" || fail "no welcome task: $queue"
report=$(admin vip report)
grep -q "^gold *1 " <<< "$report" || fail "vip report misses the gold VIP: $report"
expect_exit 5 admin vip tier --player p-vip --realm eu1 --tier diamond --reason x

# A ban acknowledged right before SIGKILL is enforced after restart.
admin sanctions issue --type mute --subject p-4 --duration 1d --reason "Spam" >/dev/null
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
start_stewardd
ctl --token "$GS_TOKEN" player check --player p-4 --realm eu1 | grep "chat BLOCKED" >/dev/null \
  || fail "mute lost across kill -9"
ctl --token "$GS_TOKEN" player check --player p-3 --realm eu1 | grep "login BLOCKED" >/dev/null \
  || fail "ban lost across kill -9"
admin audit verify | grep "audit chain intact" >/dev/null || fail "audit chain broken"
echo "moderation_cli: 1 passed, 0 failed"
