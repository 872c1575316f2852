#!/usr/bin/env bash
# The Debian packages: build them with CPack, install steward-server on this
# machine, start the service as its own user with the packaged config (as
# systemd would; directly when the machine has no systemd), call it, then
# remove and purge it. libsteward-dev installs its CMake package.
#   tests/integration/package.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
[ "$(id -u)" = 0 ] || { echo "package: needs root to install packages; skipped"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
log=$(mktemp)
pid=""
stop_service() {  # the service's processes, as systemd's stop would
  pkill -TERM -u steward -x stewardd 2>/dev/null || true
  for _ in $(seq 1 100); do pgrep -u steward -x stewardd >/dev/null || break; sleep 0.1; done
  [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  pid=""
}
cleanup() {
  stop_service
  dpkg -P steward-server libsteward-dev >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT
dpkg -P steward-server libsteward-dev >/dev/null 2>&1 || true

cd "$BUILD"
rm -f steward-server_*.deb libsteward-dev_*.deb
cpack -G DEB >/dev/null
dpkg -i steward-server_*.deb >/dev/null || fail "steward-server did not install"
[ -x /usr/bin/stewardd ] && [ -x /usr/bin/stewardctl ] || fail "binaries missing"
getent passwd steward >/dev/null || fail "no steward user"
[ "$(stat -c '%U:%G %a' /etc/steward/stewardd.toml)" = "root:steward 640" ] || fail "config ownership: $(stat -c '%U:%G %a' /etc/steward/stewardd.toml)"
[ "$(stat -c '%U %a' /var/lib/steward)" = "steward 750" ] || fail "state dir: $(stat -c '%U %a' /var/lib/steward)"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/steward.service 2>&1 | grep -v "network-online\|Failed to prepare" | grep . \
    && fail "systemd-analyze finds fault with the unit" || true
fi
# The unit's command, as the unit's user, in the unit's working directory.
cmd=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/steward.service)
cd /var/lib/steward
runuser -u steward -- $cmd --listen 127.0.0.1:0 --console-listen 127.0.0.1:0 2>"$log" &
pid=$!
cd "$BUILD"
for _ in $(seq 1 100); do grep -q "serving on port" "$log" && break; sleep 0.1; done
port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$log" | head -1)
[ -n "$port" ] || { cat "$log"; fail "the packaged stewardd did not start"; }
# No principals in the default config: a call is answered, and refused.
set +e; out=$(/usr/bin/stewardctl --addr "127.0.0.1:$port" --token nobody tickets list 2>&1); code=$?; set -e
[ "$code" = 3 ] && grep -q UNAUTHENTICATED <<< "$out" || fail "call: exit $code $out"
cport=$(sed -n 's|.*console at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log")
curl -sf "http://127.0.0.1:$cport/" | grep -q "<div id=\"app\"" || fail "the packaged console is not served"
[ -d /var/lib/steward/data ] && [ "$(stat -c %U /var/lib/steward/data)" = steward ] || fail "data dir not the service's"
stop_service
grep -q "window state saved" "$log" || fail "the service did not stop gracefully: $(tail -3 "$log")"
dpkg -i libsteward-dev_*.deb >/dev/null || fail "libsteward-dev did not install"
[ -f /usr/lib/x86_64-linux-gnu/cmake/Steward/StewardConfig.cmake ] || [ -f /usr/lib/cmake/Steward/StewardConfig.cmake ] \
  || fail "no CMake package"
dpkg -r steward-server libsteward-dev >/dev/null
[ ! -e /usr/bin/stewardd ] || fail "stewardd left after removal"
[ -d /var/lib/steward ] || fail "removal (not purge) deleted the data"
dpkg -P steward-server >/dev/null
[ ! -d /var/lib/steward ] || fail "purge kept the data"
! getent passwd steward >/dev/null || fail "purge kept the user"
echo "package: ok ($(ls steward-server_*.deb libsteward-dev_*.deb | tr '\n' ' '))"
