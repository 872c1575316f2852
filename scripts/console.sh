#!/usr/bin/env bash
# Builds the GM console into BUILD/console: npm packages exactly as the
# lockfile pins them (installed again only when the lockfile changed),
# then esbuild. Quiet when nothing changed.
#   scripts/console.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
app="$root/admin-tools/console"
out=$(cd "$root" && mkdir -p "$BUILD" && cd "$BUILD" && pwd)/console
stamp="$app/node_modules/.lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$app/package-lock.json" "$stamp"; then
  echo "console: installing npm packages from the lockfile"
  (cd "$app" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$app/package-lock.json" "$stamp"
fi
# Rebuild only when a source is newer than the built app.
if [ -f "$out/assets/app.js" ] && [ -z "$(find "$app/src" "$app/build.mjs" -newer "$out/assets/app.js" -print -quit)" ]; then
  exit 0
fi
(cd "$app" && node build.mjs "$out")
