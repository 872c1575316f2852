#!/usr/bin/env bash
# Makes a development config for stewardd under $VAR (default ./var) unless
# one exists: random tokens for an admin GM, a supervisor GM (the second GM
# that approves permanent bans), an agent GM and a game server of realm "dev". Tokens go to $VAR/credentials.env (mode 600); the config holds
# only their SHA-256 hashes.
set -euo pipefail
VAR=${VAR:-var}
ADDR=${1:-127.0.0.1:50051}
mkdir -p "$VAR"
conf="$VAR/stewardd.toml"
creds="$VAR/credentials.env"
[ -f "$conf" ] && [ -f "$creds" ] && exit 0

umask 077
tok() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
admin=$(tok); sup=$(tok); agent=$(tok); gs=$(tok)
cat > "$conf" <<TOML
# stewardd development config, made by scripts/dev-config.sh
listen = "$ADDR"
data_dir = "$VAR/data"

[[principals]]
name = "gm-admin"
kind = "gm"
role = "admin"
token_sha256 = "$(hash "$admin")"

[[principals]]
name = "gm-supervisor"
kind = "gm"
role = "supervisor"
token_sha256 = "$(hash "$sup")"

[[principals]]
name = "gm-agent"
kind = "gm"
role = "agent"
token_sha256 = "$(hash "$agent")"

[[principals]]
name = "gs-dev-1"
kind = "game_server"
realm = "dev"
token_sha256 = "$(hash "$gs")"
TOML
cat > "$creds" <<ENV
# Tokens for the development stewardd (keep private).
STEWARD_ADDR=$ADDR
STEWARD_ADMIN_TOKEN=$admin
STEWARD_SUPERVISOR_TOKEN=$sup
STEWARD_AGENT_TOKEN=$agent
STEWARD_GAMESERVER_TOKEN=$gs
ENV
