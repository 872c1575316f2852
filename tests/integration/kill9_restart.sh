#!/usr/bin/env bash
# Acknowledged tickets survive SIGKILL: file tickets with stewardctl from
# several concurrent callers, SIGKILL stewardd the moment they are
# acknowledged (with more submissions still in flight), restart it on the
# same data, and find every acknowledged ticket intact; retries with the
# same idempotency keys return the same tickets.
. "$(dirname "$0")/lib.sh"
ROUNDS=${STEWARD_CRASH_ROUNDS:-1}
PER_CALLER=${PER_CALLER:-10}
CALLERS=4

submit_loop() {  # caller-id round
  local c=$1 r=$2
  for i in $(seq 1 "$PER_CALLER"); do
    local key="r$r-c$c-$i"
    out=$("$CTL" --addr "$ADDR" --token "$GS_TOKEN" --player "p-$c" --timeout 5 tickets submit \
          --idempotency-key "$key" --category bug --realm eu1 --subject "subject $key" 2>/dev/null) || continue
    # "ticket N filed": acknowledged
    echo "$key p-$c $(echo "$out" | awk '{print $2}')" >> "$TMP/acked.$c"
  done
}

for round in $(seq 1 "$ROUNDS"); do
  start_stewardd
  rm -f "$TMP"/acked.* "$TMP/tail.acked"
  pids=()
  for c in $(seq 1 $CALLERS); do submit_loop "$c" "$round" & pids+=($!); done
  wait "${pids[@]}"
  # More in flight while the process dies.
  (PER_CALLER=50 submit_loop tail "$round") &
  tail_pid=$!
  sleep 0.2
  kill -9 "$PID"
  wait "$PID" 2>/dev/null || true
  wait "$tail_pid" 2>/dev/null || true
  cat "$TMP"/acked.* > "$TMP/all.acked"
  n=$(wc -l < "$TMP/all.acked")
  [ "$n" -ge $((CALLERS * PER_CALLER)) ] || fail "only $n submissions were acknowledged"

  start_stewardd
  dup_ids=$(awk '{print $3}' "$TMP/all.acked" | sort | uniq -d | wc -l)
  [ "$dup_ids" -eq 0 ] || fail "two acknowledged submissions share a ticket id"
  while read -r key player id; do
    json=$("$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --json tickets show "$id") \
      || fail "acknowledged ticket $id ($key) is missing after SIGKILL"
    grep -q "\"subject\": \"subject $key\"" <<< "$json" ||
      fail "ticket $id ($key, acknowledged for $player) has another subject: $json"
    grep -q "\"player_id\": \"$player\"" <<< "$json" ||
      fail "ticket $id ($key, acknowledged for $player) has another player: $json"
    again=$("$CTL" --addr "$ADDR" --token "$GS_TOKEN" --player "$player" tickets submit \
            --idempotency-key "$key" --category bug --realm eu1 --subject "subject $key")
    [ "$again" = "ticket $id (already filed)" ] || fail "retry of $key gave '$again', want ticket $id"
  done < "$TMP/all.acked"
  audit=$("$CTL" --addr "$ADDR" --token "$ADMIN_TOKEN" --json audit list --limit 500 | grep -c '"action": "ticket.submit"' || true)
  [ "$audit" -ge "$n" ] || fail "audit has $audit submit records for $n acknowledged tickets"

  # Graceful stop: SIGTERM exits 0.
  kill -TERM "$PID"
  wait "$PID" || fail "stewardd exited non-zero on SIGTERM"
  PID=""
  echo "round $round: $n acknowledged tickets intact after SIGKILL"
done
echo "kill9_restart: 1 passed, 0 failed"
