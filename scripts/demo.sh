#!/usr/bin/env bash
# `make demo`: a pretend game server (plugin/examples/demo_server.cc) on the
# plugin, against the stewardd that `make run` started, with the
# credentials `make run` made.
set -euo pipefail
BUILD=${1:-build}
ADDR=${2:-127.0.0.1:50051}
creds="${VAR:-var}/credentials.env"
[ -f "$creds" ] || { echo "demo: no $creds; start 'make run' first (in another terminal)" >&2; exit 1; }
# shellcheck disable=SC1090
. "$creds"
exec "$BUILD/plugin/steward_demo" --addr "$ADDR" --token "$STEWARD_GAMESERVER_TOKEN" \
  --gm-token "$STEWARD_ADMIN_TOKEN" --realm dev --server demo-1 --seconds "${DEMO_SECONDS:-60}"
