#!/usr/bin/env bash
# ThreadSanitizer build and test run (`make tsan`).
#
# Debian's Abseil is not instrumented, so TSAN cannot see absl::Mutex and
# would report every access it guards. This script therefore rebuilds the
# very same Abseil (Debian's source package, Debian's patches, the same
# options) with -fsanitize=thread as shared libraries under BUILD/deps, and
# runs everything with them first on the library path: Steward's own code
# and Debian's gRPC (whose mutexes are absl::Mutex) both lock through the
# instrumented copy. RocksDB stays uninstrumented (its own locks are
# pthread mutexes, which TSAN intercepts).
#
# gRPC is the limit. Debian's gRPC core is not instrumented and hands calls
# between its threads through lock-free queues TSAN cannot see, so every
# test that runs a gRPC server in process reports races inside gRPC's own
# hand-offs (interceptor batches, status payloads, endpoint buffers), and
# no suppression can tell those from Steward's without also hiding races
# in Steward's reactors. The default selection is therefore every test
# whose threads are all Steward's: the store and its fault injection, the
# commit and sync threads, the directive hub's fan-out, the event pipeline
# and its workers, periodic tasks, the slow lane, the time-limit and desk
# logic. Checking the gRPC-facing code too needs gRPC rebuilt with TSAN
# (Debian's source package builds the same way as Abseil's, but takes an
# hour on two cores).
#
#   scripts/tsan.sh [BUILD_DIR] [ctest args...]
set -euo pipefail
BUILD=${1:-build-tsan}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
deps="$BUILD/deps"
absl_prefix="$deps/absl"
JOBS=${JOBS:-2}
absl_version=$(dpkg-query -W -f='${Version}' libabsl-dev)

if [ ! -f "$absl_prefix/.version" ] || [ "$(cat "$absl_prefix/.version")" != "$absl_version" ]; then
  echo "tsan: building Abseil $absl_version with -fsanitize=thread (once; a few minutes)"
  command -v dpkg-source >/dev/null || apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
  rm -rf "$deps/src" "$absl_prefix"
  mkdir -p "$deps/src/lists/partial"
  # A private source list: the machine's own apt configuration is untouched.
  cat > "$deps/src/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm-updates main
EOF
  apt_opts=(-o "Dir::Etc::sourcelist=$deps/src/sources.list" -o "Dir::Etc::sourceparts=-"
            -o "Dir::State::Lists=$deps/src/lists" -o "APT::Get::List-Cleanup=0")
  apt-get "${apt_opts[@]}" -qq update >/dev/null
  (cd "$deps/src" && apt-get "${apt_opts[@]}" -qq source --download-only "abseil=$absl_version" >/dev/null 2>&1)
  (cd "$deps/src" && dpkg-source -x abseil_*.dsc abseil >/dev/null)
  cmake -S "$deps/src/abseil" -B "$deps/src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$absl_prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$deps/src/build" -j "$JOBS" >/dev/null
  cmake --install "$deps/src/build" >/dev/null
  echo "$absl_version" > "$absl_prefix/.version"
fi

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEWARD_SANITIZE=thread \
    -DCMAKE_PREFIX_PATH="$absl_prefix" >/dev/null
fi
if [ $# -eq 0 ]; then
  # Only the test programs the default selection runs.
  cmake --build "$BUILD" -j "$JOBS" --target storage_test services_common_test services_desk_test \
    services_gameservers_test services_monitoring_test services_server_test services_tickets_test
else
  cmake --build "$BUILD" -j "$JOBS"
  bash "$root/scripts/console.sh" "$BUILD" >/dev/null  # for tests that open the console
fi

# The instrumented Abseil wins over Debian's for every library loaded,
# gRPC's included (RUNPATH would only cover the executables themselves).
export LD_LIBRARY_PATH="$absl_prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$root/tests/sanitizer/tsan.supp ${TSAN_OPTIONS:-}"
cd "$BUILD"
if [ $# -eq 0 ]; then
  suites="EventBatch|PeriodicTask|RoundFailures|LogLimiter|SlowLane|StatusMacros|Validation|BusinessCalendar"
  suites+="|DeskTest|QualitySample|SlaPolicy|Directive|HashStr|PatternSet|Pipeline|RuleValidation|Config"
  suites+="|QueueTest|SlaTest|TicketRating"
  set -- -R "^(storage\.|services\.($suites))"
fi
ctest --output-on-failure -j "$JOBS" --timeout 1500 "$@"
