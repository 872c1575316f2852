#!/usr/bin/env bash
# Backups from the command line: one taken while tickets stream in is
# restored into a new data dir by `stewardd --restore-from`; the restored
# stewardd has every ticket acknowledged before the backup began and its
# audit chain verifies. A damaged backup file is found by verify, and a
# restore never overwrites a live data dir.
. "$(dirname "$0")/lib.sh"
printf '[backup]\ndir = "%s"\n' "$TMP/backups" >> "$TMP/stewardd.toml"
start_stewardd
ctl() { "$CTL" --addr "$ADDR" "$@"; }
admin() { ctl --token "$ADMIN_TOKEN" "$@"; }

# Tickets one after another; each acknowledged id goes to a file.
: > "$TMP/acked"
(
  for i in $(seq 1 100000); do
    out=$(ctl --token "$GS_TOKEN" --player "p-$i" tickets submit --idempotency-key "k$i" --category question \
          --subject "Where is the bank?" --realm eu1 2>/dev/null) || exit 0
    echo "$out" | sed -n 's/^ticket *\([0-9][0-9]*\).*/\1/p' | head -1 >> "$TMP/acked"
  done
) &
writer=$!
enough() { [ "$(wc -l < "$TMP/acked")" -ge 20 ]; }
retry 200 0.1 enough || fail "no tickets acknowledged"
before=$(wc -l < "$TMP/acked")
out=$(admin admin backup create) || fail "backup create: $out"
bid=$(echo "$out" | awk 'NR == 2 { print $1 }')
[ -n "$bid" ] || fail "no backup id in: $out"
sleep 0.5
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
admin admin backup list | grep -q "^$bid " || fail "backup $bid not listed"
admin admin backup verify "$bid" | grep -q "is intact" || fail "verify"
set +e; "$CTL" --addr "$ADDR" --token "$AGENT_TOKEN" admin backup list >/dev/null 2>&1; code=$?; set -e
[ "$code" = 3 ] || fail "an agent listed backups (exit $code)"

# A restore refuses the live data dir.
set +e; "$STEWARDD" --config "$TMP/stewardd.toml" --restore-from "$TMP/backups" >/dev/null 2>"$TMP/err"; code=$?; set -e
[ "$code" != 0 ] && grep -q "not empty" "$TMP/err" || fail "restore over live data: exit $code $(cat "$TMP/err")"
"$STEWARDD" --config "$TMP/stewardd.toml" --data-dir "$TMP/restored" --restore-from "$TMP/backups" \
  --backup-id "$bid" | grep -q "restored backup $bid" || fail "restore"

kill "$PID"; wait "$PID" 2>/dev/null || true
sed -i "s|^data_dir = .*|data_dir = \"$TMP/restored\"|" "$TMP/stewardd.toml"
start_stewardd
head -n "$before" "$TMP/acked" | while read -r id; do
  admin tickets show "$id" >/dev/null 2>&1 || fail "ticket $id, acknowledged before the backup, is missing"
done
admin audit verify | grep -qi "intact" || fail "audit chain of the restored store: $(admin audit verify)"

# Damage one table file of the backup: verify names it.
victim=$(find "$TMP/backups" -name '*.sst' -size +1k | head -1)
[ -n "$victim" ] || fail "no table file in the backup"
printf 'XXXXXXXX' | dd of="$victim" bs=1 seek=100 conv=notrunc status=none
set +e; out=$(admin admin backup verify "$bid" 2>&1); code=$?; set -e
[ "$code" != 0 ] && grep -q "DATA_LOSS" <<< "$out" || fail "a damaged backup verified (exit $code): $out"
echo "backup_restore: ok ($before tickets acknowledged before backup $bid, all restored)"
