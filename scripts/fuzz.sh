#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer harnesses with clang (address and
# undefined-behaviour sanitizers on) and runs each for SECONDS, starting
# from the seed corpus. Findings are written to BUILD/fuzz-findings.
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "installing clang and its fuzzer runtime (Debian packages clang, libclang-rt-14-dev)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSTEWARD_FUZZ=ON -DSTEWARD_SANITIZE=address,undefined >/dev/null
else
  cmake "$BUILD" >/dev/null  # pick up harnesses added since the last run
fi
cmake --build "$BUILD" -j 2 --target fuzz_keys fuzz_requests fuzz_events fuzz_window_state
mkdir -p "$BUILD/fuzz-findings"
status=0
for name in keys requests events window_state; do
  work="$BUILD/fuzz-corpus/$name"
  mkdir -p "$work"
  cp -n "$root/tests/fuzz/corpus/$name/"* "$work/" 2>/dev/null || true
  echo "== fuzz_$name for $SECONDS_EACH s"
  if ! "$BUILD/tests/fuzz/fuzz_$name" "$work" -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 \
      -artifact_prefix="$BUILD/fuzz-findings/$name-" -print_final_stats=1 2>"$BUILD/fuzz-$name.log"; then
    status=1
    tail -40 "$BUILD/fuzz-$name.log"
    echo "fuzz_$name found a problem: see $BUILD/fuzz-findings" >&2
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/fuzz-$name.log" || true
    echo "fuzz_$name: no findings; corpus $(ls "$work" | wc -l) inputs in $work"
  fi
done
exit $status
