#!/usr/bin/env bash
# `make bench`: start a fresh stewardd (durable, WAL synced per group
# commit) and drive SubmitTicket with ticket_load on the same machine.
#   scripts/bench.sh BUILD_DIR [--smoke]
set -euo pipefail
BUILD=${1:-build}
MODE=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
# Reuses the integration helpers: temp config, known tokens, free port.
. "$root/tests/integration/lib.sh" "$BUILD/services/server/stewardd" "$BUILD/admin-tools/stewardctl"
# grpc_floor: CheckPlayer answered at once, no work (sets floor, floor_port).
start_floor() {
  "$BUILD/tests/bench/grpc_floor" --listen 127.0.0.1:0 > "$TMP/floor.out" &
  floor=$!
  retry 100 0.1 grep -q "listening on" "$TMP/floor.out" || true
  floor_port=$(sed -n 's/^listening on //p' "$TMP/floor.out")
  [ -n "$floor_port" ] || fail "grpc_floor did not start"
}
# incident_load files its own mass complaint: the spike detector would link
# the tickets before the incident it times does.
printf '[incidents]\nspike_count = 0\n' >> "$TMP/stewardd.toml"
start_stewardd
load="$BUILD/tests/bench/ticket_load"
if [ "$MODE" = "--smoke" ]; then
  for args in "--batch 1" "--batch 8" "--streams 2 --window 16"; do
    # shellcheck disable=SC2086
    out=$("$load" --addr "$ADDR" --token "$GS_TOKEN" --concurrency 32 --channels 2 --seconds 2 $args)
    echo "$out"
    grep -q " 0 failed" <<< "$out" || fail "load smoke saw failed calls"
  done
  "$BUILD/tests/bench/moderation_load" --addr "$ADDR" --gs-token "$GS_TOKEN" \
    --gm-token "$ADMIN_TOKEN" directive --bans 20 --watchers 20 || fail "directive smoke failed"
  "$BUILD/tests/bench/moderation_load" --addr "$ADDR" --gs-token "$GS_TOKEN" \
    --gm-token "$ADMIN_TOKEN" check --seconds 1 --players 500 --channels 2 || fail "CheckPlayer smoke failed"
  start_floor
  "$BUILD/tests/bench/moderation_load" --addr "127.0.0.1:$floor_port" --gs-token x --gm-token x \
    check --seconds 1 --players 500 --channels 2 || fail "CheckPlayer smoke against grpc_floor failed"
  kill "$floor"
  "$BUILD/tests/bench/moderation_load" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" \
    check --client h2 --seconds 1 --players 500 --channels 2 || fail "CheckPlayer smoke from the HTTP/2 client failed"
  # The HTTP/2 client reads each reply's grpc-status: refused calls fail the run.
  if "$BUILD/tests/bench/moderation_load" --addr "$ADDR" --gs-token not-a-token --gm-token "$ADMIN_TOKEN" \
    check --client h2 --seconds 1 --players 10 --rate 200 > "$TMP/h2-refused.out"; then
    fail "the HTTP/2 client counted refused calls as answered"
  fi
  grep -q "grpc-status 16" "$TMP/h2-refused.out" || fail "the HTTP/2 client did not report the refusal: $(cat "$TMP/h2-refused.out")"
  out=$("$BUILD/tests/bench/event_load" --addr "$ADDR" --gs-token "$GS_TOKEN" \
    --gm-token "$ADMIN_TOKEN" --seconds 2 --players 100000)
  echo "$out"
  grep -q "(0 unanswered)" <<< "$out" || fail "event smoke: an alert probe went unanswered"
  grep -q " 0 shed, 0 late" <<< "$out" || fail "event smoke: events were shed"
  "$BUILD/tests/bench/incident_load" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" \
    --players 300 --servers 3 || fail "incident smoke failed"
  echo "load_smoke: 1 passed, 0 failed"
  exit 0
fi
# The machine's speed varies by half from one hour to the next; a fixed
# CPU-bound job before and after says which kind of hour the figures had.
machine_speed() {
  local t0 t1
  t0=$(date +%s%N)
  head -c 1G /dev/zero | sha256sum > /dev/null
  t1=$(date +%s%N)
  echo "== machine speed $1: sha256 of 1 GiB in $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }') s" \
    "(about 4.3 s on a normal day for this 2-core machine; higher is slower)"
}
machine_speed "at the start"
echo "== StreamTickets: one stream per game server, one ticket per message, each acked once durable"
for cfg in ${BENCH_STREAMS:-4x32 8x16}; do
  "$load" --addr "$ADDR" --token "$GS_TOKEN" --streams "${cfg%x*}" --window "${cfg#*x}" \
    --channels 4 --seconds "${BENCH_SECONDS:-10}"
  echo
done
echo "== SubmitTicket (unary), durable, client and server on this machine ($(nproc) cores)"
for c in ${BENCH_CONCURRENCY:-64 256}; do
  "$load" --addr "$ADDR" --token "$GS_TOKEN" --concurrency "$c" --channels 4 \
    --seconds "${BENCH_SECONDS:-10}"
  echo
done
echo "== SubmitTickets: game servers sending their players' tickets in batches"
for c in ${BENCH_BATCH_CONCURRENCY:-8 16}; do
  "$load" --addr "$ADDR" --token "$GS_TOKEN" --concurrency "$c" --channels 4 \
    --batch "${BENCH_BATCH:-16}" --seconds "${BENCH_SECONDS:-10}"
  echo
done
echo "store: $(du -sh "$TMP/data" | cut -f1) on disk after the runs"
# A fresh daemon for what follows: the ticket runs leave RocksDB compacting
# gigabytes for a while, which would be measured instead of moderation.
kill "$PID"
wait "$PID" 2>/dev/null || true
rm -rf "$TMP/data"
start_stewardd
echo
echo "== Moderation over gRPC: CheckPlayer at 50% of saturation; ban -> directive to a connected server"
mod="$BUILD/tests/bench/moderation_load"
for ch in 2 4; do  # two game servers' connections, then four
  out=$("$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" check \
    --seconds "${BENCH_SECONDS:-10}" --channels "$ch")
  echo "$out"
  if [ "$ch" = 2 ]; then rate2=$(sed -n 's/.*of saturation (\([0-9]*\) calls\/s.*/\1/p' <<< "$out"); fi
done
echo "-- the floor: the same load against grpc_floor, a server with stewardd's transport settings that"
echo "   answers CheckPlayer at once and does no work (what the gRPC stack and this machine cost by themselves)"
start_floor
for ch in 2 4; do
  # (its "seeded" line is the load generator's; the floor keeps nothing)
  "$mod" --addr "127.0.0.1:$floor_port" --gs-token x --gm-token x check \
    --seconds "${BENCH_SECONDS:-10}" --channels "$ch" | grep -v "^seeded"
done
if [ -n "${rate2:-}" ]; then
  echo "-- the floor at stewardd's own 50% rate over 2 connections (the same load, like for like)"
  "$mod" --addr "127.0.0.1:$floor_port" --gs-token x --gm-token x check \
    --seconds "${BENCH_SECONDS:-10}" --channels 2 --rate "$rate2" | grep -v "^seeded"
fi
kill "$floor"
wait "$floor" 2>/dev/null || true
echo "-- stewardd from a lean HTTP/2 client (moderation_load --client h2: nghttp2 on one thread, the same"
echo "   wire protocol). gRPC's C++ client above takes about a core at these rates, which the server lacks."
if [ -n "${rate2:-}" ]; then
  "$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" check --client h2 \
    --seconds "${BENCH_SECONDS:-10}" --channels 2 --rate "$rate2" | grep -v "^seeded"
fi
echo "   ... and at 50% of the saturation this client reaches (it batches less, so the server works harder per call)"
"$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" check --client h2 \
  --seconds "${BENCH_SECONDS:-10}" --channels 2 | grep -v "^seeded" || true
"$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" directive --bans 1000
echo "-- the same with 500 more game servers of the realm watching (every ban goes to all of them)"
"$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" directive --bans 600 --watchers 500
echo "-- a large game's fleet: 10,000 game servers watching, a realm-wide ban a second, and a player"
echo "   filing tickets throughout (acknowledgement p99 with the fleet against without, same run)"
"$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" directive --bans 40 \
  --ban-interval-ms 1000 --watchers 10000 --ack-probe
echo
echo "== A mass-complaint day: 10,000 complaints on 10 servers; one incident links them, one reply"
echo "   answers them, one grant compensates them; each until every server has its directives,"
echo "   against the same count of single bans (the yardstick, same run)"
"$BUILD/tests/bench/incident_load" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" \
  --players "${BENCH_INCIDENT_PLAYERS:-10000}" --servers 10
echo
echo "== Player reports intake (half of them about 20 notorious players)"
for c in ${BENCH_REPORT_CONCURRENCY:-64}; do
  "$mod" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" reports \
    --concurrency "$c" --seconds "${BENCH_SECONDS:-10}"
done
echo
echo "== The GM console: its JSON face against gRPC for the same reads, and its first load"
kill "$PID"
wait "$PID" 2>/dev/null || true
start_stewardd --console-listen 127.0.0.1:0
console_url
"$BUILD/tests/bench/console_load" --addr "$ADDR" --console "${CONSOLE_URL#http://}" --gs-token "$GS_TOKEN" \
  --gm-token "$ADMIN_TOKEN"
node "$root/admin-tools/console/tests/first_load.mjs" 5
echo
echo "== Event pipeline: 20 rules, 1,000,000 players, generator on the same machine"
kill "$PID"
wait "$PID" 2>/dev/null || true
rm -rf "$TMP/data"
start_stewardd
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(cpu_ticks "$PID")
"$BUILD/tests/bench/event_load" --addr "$ADDR" --gs-token "$GS_TOKEN" --gm-token "$ADMIN_TOKEN" \
  --seconds "${BENCH_EVENT_SECONDS:-30}"
echo "stewardd: $(( ($(cpu_ticks "$PID") - before) / $(getconf CLK_TCK) )) CPU-seconds over the run (the machine has $(nproc) cores)"
echo "stewardd peak memory (whole process: pipeline, RocksDB, gRPC): $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$PID/status)"
echo
echo "== Event pipeline alone, in process (same workload, no gRPC or generator on the clock)"
"$BUILD/tests/bench/pipeline_bench" --rounds 3
echo
echo "== One 1,000-event batch of that workload: read by protobuf on an arena vs EventBatchView (stewardd),
   written as a message vs with EventBatchEncoder (game servers) (median of 5)"
"$BUILD/tests/bench/event_parse_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>&1 | grep -E "_median|Benchmark|^-" || true
echo
echo "== Plugin, on the game thread (Google Benchmark, median of 5; embedded mode)"
"$BUILD/tests/bench/plugin_bench" 2>&1 | grep -E "_median|Benchmark|^-" || true
echo
echo "== CheckPlayer in-process lookup, 1,000,000 active sanctions (Google Benchmark)"
"$BUILD/tests/bench/check_player_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>&1 | grep -Ev "_(mean|stddev|cv) "
echo
machine_speed "at the end"
