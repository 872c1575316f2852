#!/usr/bin/env bash
# Generic clients can discover the API: server reflection lists the Steward
# services (without a token: it carries only the public contract) and
# serves their schema.
PROBE=$3
. "$(dirname "$0")/lib.sh"
start_stewardd
out=$("$PROBE" "$ADDR" steward.v1.TicketService) || fail "reflection call failed"
echo "$out"
for s in steward.v1.TicketService steward.v1.AuditService grpc.health.v1.Health; do
  grep -qx "service $s" <<< "$out" || fail "reflection does not list $s"
done
grep -q "file steward/v1/ticket.proto package steward.v1" <<< "$out" \
  || fail "reflection did not serve ticket.proto"
echo "reflection: 1 passed, 0 failed"
