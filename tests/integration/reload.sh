#!/usr/bin/env bash
# SIGHUP re-reads the config file's principals and metrics token: a removed
# token is refused and a new one accepted at once, without a restart; a
# broken file changes nothing and says why.
. "$(dirname "$0")/lib.sh"
OLD_SCRAPE=scrape-old-$RANDOM
NEW_SCRAPE=scrape-new-$RANDOM
OLD_SCRAPE_HASH=$("$CTL" hash-token "$OLD_SCRAPE")
printf '[metrics]\ntoken_sha256 = "%s"\n' "$OLD_SCRAPE_HASH" >> "$TMP/stewardd.toml"
start_stewardd --metrics-listen 127.0.0.1:0
metrics_port
scrape() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$MPORT/metrics"; }
[ "$(scrape "$OLD_SCRAPE")" = 200 ] || fail "the metrics token was refused before the reload"
ctl() { "$CTL" --addr "$ADDR" --timeout 5 --token "$@"; }
logged() { [ "$(cat "$TMP"/stewardd.*.log | grep -c "$1")" -ge "$2" ]; }
wait_log() {
  retry 50 0.1 logged "$1" "$2" && return 0
  cat "$TMP"/stewardd.*.log >&2
  fail "stewardd did not log '$1' ($2 times)"
}
ctl "$SUP_TOKEN" audit list >/dev/null || fail "the supervisor was refused before the reload"

# Revoke the supervisor's token; add a new supervisor.
NEW_TOKEN=new-token-$RANDOM$RANDOM
python3 - "$TMP/stewardd.toml" "$("$CTL" hash-token "$NEW_TOKEN")" <<'PY'
import re, sys
path, new_hash = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r'\[\[principals\]\]\nname = "gm-sup"\n.*?(?=\[\[principals\]\])', '', text, flags=re.S)
text += '[[principals]]\nname = "gm-new"\nkind = "gm"\nrole = "supervisor"\ntoken_sha256 = "%s"\n' % new_hash
open(path, "w").write(text)
PY
grep -q gm-sup "$TMP/stewardd.toml" && fail "test setup: gm-sup still in the config"
sed -i "s/$OLD_SCRAPE_HASH/$("$CTL" hash-token "$NEW_SCRAPE")/" "$TMP/stewardd.toml"
kill -HUP "$PID"
wait_log "principals reloaded" 1
out=$(ctl "$SUP_TOKEN" audit list 2>&1) && fail "the revoked token still got through"
grep -q "revoked" <<< "$out" || fail "revoked token: unexpected answer: $out"
ctl "$NEW_TOKEN" audit list >/dev/null || fail "the new supervisor was refused after the reload"
ctl "$ADMIN_TOKEN" tickets list >/dev/null || fail "the admin was refused after the reload"
[ "$(scrape "$OLD_SCRAPE")" = 401 ] || fail "the old metrics token still got through"
[ "$(scrape "$NEW_SCRAPE")" = 200 ] || fail "the new metrics token was refused after the reload"

# A broken file: nothing changes, the log says why, the daemon runs on.
echo "this is = = not toml" >> "$TMP/stewardd.toml"
kill -HUP "$PID"
wait_log "not reloaded" 1
kill -0 "$PID" || fail "stewardd exited on a broken config"
ctl "$NEW_TOKEN" audit list >/dev/null || fail "a broken reload changed the principals"
echo "reload: 1 passed, 0 failed"
