#!/usr/bin/env bash
# The GM console in headless Chromium against a real stewardd on loopback
# (admin-tools/console/tests/browser_test.mjs). Screenshots go to
# BUILD/console-shots for a reviewer.
#   tests/console/browser.sh STEWARDD STEWARDCTL
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/integration/lib.sh" "$1" "$2"
build=$(cd "$(dirname "$1")/../.." && pwd)
shots=$build/console-shots
mkdir -p "$shots"
# The app and the test's npm packages, if make build has not made them.
bash "$root/scripts/console.sh" "$build"
start_stewardd --console-listen 127.0.0.1:0
console_url
AGENT_TOKEN=$AGENT_TOKEN SUP_TOKEN=$SUP_TOKEN ADMIN_TOKEN=$ADMIN_TOKEN \
  GS_TOKEN=$GS_TOKEN SHOTS=$shots node "$root/admin-tools/console/tests/browser_test.mjs"
