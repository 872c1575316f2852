#!/usr/bin/env bash
# Crash testing under a mixed load: each round starts stewardd on the same
# data, runs tests/integration/crash_mixed.mjs's clients (tickets,
# messages, sanctions, approvals, reports, VIP purchases, directive acks,
# rules; each records what was acknowledged), kills stewardd with SIGKILL
# at a random moment, restarts it and checks every operation acknowledged
# in any round so far, and the audit chain.
#   tests/integration/crash_mixed.sh STEWARDD STEWARDCTL   (ROUNDS, default 3)
. "$(dirname "$0")/lib.sh"
ROUNDS=${STEWARD_CRASH_ROUNDS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
export RECORDS=$TMP/acknowledged.jsonl GS_TOKEN ADMIN_TOKEN SUP_TOKEN
for round in $(seq 1 "$ROUNDS"); do
  start_stewardd --console-listen 127.0.0.1:0
  console_url
  ROUND=$round node "$root/tests/integration/crash_mixed.mjs" load 4 &
  loader=$!
  # Somewhere between 0.5 and 2.5 s into the load.
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + (r % 200) / 100 }')"
  kill -9 "$PID"
  wait "$PID" 2>/dev/null || true
  wait "$loader" || true
  start_stewardd --console-listen 127.0.0.1:0
  console_url
  node "$root/tests/integration/crash_mixed.mjs" verify || fail "round $round: an acknowledged operation was lost"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
done
echo "crash_mixed: $ROUNDS rounds, $(wc -l < "$RECORDS") acknowledged operations, none lost"
