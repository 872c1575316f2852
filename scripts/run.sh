#!/usr/bin/env bash
# `make run`: start stewardd in the foreground with a development config.
set -euo pipefail
BUILD=${1:-build}
ADDR=${2:-127.0.0.1:50051}
METRICS=${METRICS:-127.0.0.1:9464}
CONSOLE=${CONSOLE:-127.0.0.1:8080}
VAR=${VAR:-var} bash scripts/dev-config.sh "$ADDR"
# shellcheck disable=SC1091
. "${VAR:-var}/credentials.env"
ctl="$BUILD/admin-tools/stewardctl"
cat <<MSG

stewardd on $ADDR, RocksDB in ${VAR:-var}/data, config ${VAR:-var}/stewardd.toml
Credentials made for this checkout (also in ${VAR:-var}/credentials.env):
  admin GM     gm-admin   $STEWARD_ADMIN_TOKEN
  supervisor   gm-supervisor ${STEWARD_SUPERVISOR_TOKEN:-(not in this older config; remove ${VAR:-var}/ to remake it)}
  agent GM     gm-agent   $STEWARD_AGENT_TOKEN
  game server  gs-dev-1   $STEWARD_GAMESERVER_TOKEN   (realm "dev")

In another terminal:
  export STEWARD_ADDR=$ADDR
  # file a ticket as the game server, for player p-1001
  $ctl --token $STEWARD_GAMESERVER_TOKEN --player p-1001 tickets submit \\
      --idempotency-key demo-1 --category bug --realm dev --subject "Stuck in a wall"
  # work it as a GM
  export STEWARD_TOKEN=$STEWARD_ADMIN_TOKEN
  $ctl tickets list
  $ctl tickets assign 1 gm-admin
  $ctl tickets reply 1 "Thanks, we moved you out; the wall is fixed next patch." --await-player
  $ctl tickets show 1
  $ctl audit list
  # moderate: a temp ban, enforced at once; a permanent ban waits for the supervisor
  $ctl sanctions issue --type temp_ban --subject p-1001 --realm dev --duration 3d --reason "Speed hack"
  $ctl --token $STEWARD_GAMESERVER_TOKEN player check --player p-1001 --realm dev
  $ctl sanctions issue --type ban --subject p-2002 --reason "Gold selling"
  $ctl --token ${STEWARD_SUPERVISOR_TOKEN:-<supervisor token>} approvals list
  $ctl announce create --title "Maintenance" --body "Back at 04:20 UTC" --channel banner
The GM console: http://$CONSOLE/  (sign in with a GM token above; CONSOLE=host:port to move it)
The same services as JSON, for scripts:
  curl -s -H "Authorization: Bearer \$STEWARD_ADMIN_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"pageSize": 5}' http://$CONSOLE/steward.v1.TicketService/ListTickets
Health: grpc.health.v1.Health/Check (no token); reflection is on for grpcurl.
Metrics for Prometheus: curl http://$METRICS/metrics  (METRICS=host:port to move it)
Stop with Ctrl-C (finishes in-flight calls).

MSG
exec "$BUILD/services/server/stewardd" --config "${VAR:-var}/stewardd.toml" --listen "$ADDR" --metrics-listen "$METRICS" \
  --console-listen "$CONSOLE"
