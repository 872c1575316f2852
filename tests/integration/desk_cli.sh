#!/usr/bin/env bash
# The support desk from the command line: priority reasons, reply delivery
# and read state, a shift handover and the brief, a desk report exported as
# CSV, and a quality sample scored and trended.
. "$(dirname "$0")/lib.sh"
start_stewardd
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }
sup() { ctl --token "$SUP_TOKEN" "$@"; }
player() { ctl --token "$GS_TOKEN" --player p-1 "$@"; }

out=$(player tickets submit --idempotency-key k1 --category complaint --subject "Scammed in trade" --realm eu1)
id=$(echo "$out" | sed -n 's/^ticket *\([0-9][0-9]*\).*/\1/p' | head -1)
[ -n "$id" ] || fail "no ticket id in: $out"
admin tickets show "$id" | grep "because.*complaint.*high" >/dev/null || fail "priority reason not shown"

admin tickets reply "$id" "We are checking the trade logs." >/dev/null
player tickets show "$id" | grep "\[queued\]" >/dev/null || fail "reply not shown as queued"
player tickets read "$id" | grep "0 unread for the player" >/dev/null || fail "player read"
player tickets show "$id" | grep "\[read\]" >/dev/null || fail "reply not shown as read"

sup handover write --state "eu1 trade logs delayed" --issue "ticket $id: scam claim" >/dev/null
out=$(admin brief)
grep -q "unread handovers: 1" <<< "$out" || fail "brief: $out"
grep -q "ticket $id: scam claim" <<< "$out" || fail "handover issue not in the brief"
hid=$(echo "$out" | sed -n 's/^handover \([0-9]*\) by.*/\1/p')
admin handover read "$hid" >/dev/null
admin brief | grep "unread handovers: 0" >/dev/null || fail "handover still unread"

admin tickets status "$id" resolved --reason "items returned" >/dev/null
day=$(date -u +%Y-%m-%dT00:00:00Z)
admin reports desk --from "$day" --by day --csv "$TMP/desk.csv" 2>"$TMP/progress" || fail "report export"
grep -q "rows written" "$TMP/progress" || fail "no export summary"
head -1 "$TMP/desk.csv" | grep "^period_start,period_end,received,resolved" >/dev/null || fail "csv header"
row=$(sed -n 2p "$TMP/desk.csv")
echo "$row" | cut -d, -f3,4 | grep "^1,1$" >/dev/null || fail "csv row: $row"
grep -q "complaint=1" <<< "$row" || fail "category count: $row"
admin reports desk --from "$day" --by day | grep "backlog now: 0 open" >/dev/null || fail "report table"
set +e; sup quality draw --period 2026-13 >/dev/null 2>&1; code=$?; set -e
[ "$code" = 5 ] || fail "bad period accepted (exit $code)"

month=$(date -u +%Y-%m)
out=$(sup quality draw --period "$month")
grep -q "gm-admin *ticket $id" <<< "$out" || fail "sample: $out"
sid=$(echo "$out" | sed -n 's/^sample \([0-9]*\) for.*/\1/p')
sup quality score "$sid" "$id" --score wording=5 --score attitude=4 --score understanding=4 \
    --score handling=3 --comment "clear and kind" | grep "scored for gm-admin" >/dev/null || fail "score"
sup quality trends --from "$month" --to "$month" | grep "gm-admin .* 4.00" >/dev/null || fail "trend"
# Times in the GM's zone when asked: --tz, or TZ; UTC otherwise.
utc=$(admin tickets list | sed -n 2p | grep -o '20[0-9-]* [0-9:]*' | head -1)
admin tickets list | head -1 | grep -q "CREATED (UTC)" || fail "tickets list heading without its zone"
sh_row=$(admin tickets list --tz Asia/Shanghai)
grep -q "CREATED (Asia/Shanghai)" <<< "$sh_row" || fail "--tz heading: $sh_row"
want=$(TZ=Asia/Shanghai date -d "$utc UTC" '+%Y-%m-%d %H:%M:%S')
grep -q "$want" <<< "$sh_row" || fail "--tz time: want $want in $sh_row"
TZ=Asia/Shanghai admin tickets list | grep -q "$want" || fail "TZ did not set the zone"
set +e; admin tickets list --tz Mars/Olympus >/dev/null 2>&1; code=$?; set -e
[ "$code" != 0 ] || fail "an unknown zone was accepted"
echo "desk_cli: ok"
