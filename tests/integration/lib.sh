# Helpers shared by the integration scripts: a throwaway stewardd with known
# tokens on a free loopback port.
set -euo pipefail
STEWARDD=$1
CTL=$2
TMP=$(mktemp -d /tmp/steward-it.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

GS_TOKEN=gs-token-$RANDOM$RANDOM
ADMIN_TOKEN=admin-token-$RANDOM$RANDOM
SUP_TOKEN=sup-token-$RANDOM$RANDOM
AGENT_TOKEN=agent-token-$RANDOM$RANDOM
cat > "$TMP/stewardd.toml" <<TOML
data_dir = "$TMP/data"
[[principals]]
name = "gm-admin"
kind = "gm"
role = "admin"
token_sha256 = "$("$CTL" hash-token "$ADMIN_TOKEN")"
[[principals]]
name = "gm-sup"
kind = "gm"
role = "supervisor"
token_sha256 = "$("$CTL" hash-token "$SUP_TOKEN")"
[[principals]]
name = "gm-agent"
kind = "gm"
role = "agent"
token_sha256 = "$("$CTL" hash-token "$AGENT_TOKEN")"
[[principals]]
name = "gs-eu1"
kind = "game_server"
realm = "eu1"
token_sha256 = "$("$CTL" hash-token "$GS_TOKEN")"
# Load generators call as fast as they can; the limits have their own tests.
[limits]
agent = 0
lead = 0
supervisor = 0
admin = 0
TOML

fail() { echo "FAIL: $*" >&2; exit 1; }

# retry TRIES SECONDS COMMAND...: runs COMMAND until it succeeds, at most
# TRIES times, SECONDS apart; fails if it never did.
retry() {
  local tries=$1 pause=$2 i
  shift 2
  for ((i = 1; i <= tries; i++)); do
    "$@" && return 0
    [ "$i" -lt "$tries" ] && sleep "$pause"
  done
  return 1
}

# start_stewardd [extra flags...]: starts it on a free port, sets PID/ADDR
# and LOG (its log file).
start_stewardd() {
  local log="$TMP/stewardd.$RANDOM.log"
  LOG=$log
  "$STEWARDD" --config "$TMP/stewardd.toml" --listen 127.0.0.1:0 "$@" 2>"$log" &
  PID=$!
  for _ in $(seq 1 100); do
    if grep -q "serving on port" "$log" 2>/dev/null; then
      ADDR=127.0.0.1:$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$log" | head -1)
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; fail "stewardd exited at start"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "stewardd did not start"
}

# console_url: the console's address the latest stewardd logged (started
# with --console-listen); sets and exports CONSOLE_URL.
console_url() {
  local port=""
  for _ in $(seq 1 50); do
    port=$(sed -n 's|.*console at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$LOG")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "stewardd did not print its console address"
  export CONSOLE_URL=http://127.0.0.1:$port
}

# metrics_port: the /metrics port the latest stewardd logged (it must have
# been started with --metrics-listen); sets MPORT.
metrics_port() {
  MPORT=""
  for _ in $(seq 1 50); do
    MPORT=$(sed -n 's|.*metrics at https\{0,1\}://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$LOG")
    [ -n "$MPORT" ] && return 0
    sleep 0.1
  done
  fail "stewardd did not print its metrics address"
}
