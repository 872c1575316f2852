#!/usr/bin/env bash
# Installs the Debian packages Steward builds and tests with. Idempotent: when
# everything is present it prints nothing and exits 0.
set -euo pipefail

PKGS=(
  build-essential cmake ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libssl-dev libtomlplusplus-dev
  libconcurrentqueue-dev libre2-dev libcpp-httplib-dev
  libnghttp2-dev  # moderation_load's lean HTTP/2 client (check --client h2)
  openssl procps curl
  prometheus  # integration test: a real Prometheus scrapes /metrics
  chromium    # the console's browser tests (headless)
  fonts-noto-cjk  # Chinese text in the console's screenshots
  clang           # the thread-safety analysis (scripts/thread_safety.sh)
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null; then
    missing+=("$p")
  fi
done
# Node.js and npm build the GM console; a machine may have them from
# elsewhere than Debian's packages, which is as good.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
