# The two set-up commands (see README): `make run` and `make test`.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
ADDR ?= 127.0.0.1:50051
# Lets ccache reuse objects across clones of the repo (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
# Progress lines only: no "Entering directory" from the sub-makes CMake runs.
MAKEFLAGS += --no-print-directory
export MAKEFLAGS

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: setup build console thread-safety tsan package run test bench crash fuzz clean format demo install docs

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/console.sh $(BUILD)

# The GM console's app alone (npm packages from the lockfile, then esbuild).
console: setup
	@bash scripts/console.sh $(BUILD)

run: build
	@bash scripts/run.sh $(BUILD) $(ADDR)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -LE "crash|bench"

# A pretend game server on the plugin against `make run`'s stewardd.
demo: build
	@bash scripts/demo.sh $(BUILD) $(ADDR)

# Headers, libsteward.so, the static archives and the CMake package
# config under PREFIX (default /usr/local).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@bash scripts/bench.sh $(BUILD)

crash: build
	@cd $(BUILD) && ctest --output-on-failure -L crash

# Clang's thread-safety analysis alone (make test runs it too).
thread-safety: build
	@bash scripts/thread_safety.sh $(BUILD)

# Debian packages in BUILD: steward-server and libsteward-dev (CPack).
package: build
	@cd $(BUILD) && cpack -G DEB | grep "generated"

# ThreadSanitizer build in build-tsan (Abseil rebuilt instrumented from
# Debian's source package on first use) and the test suite under it.
TSAN_BUILD ?= build-tsan
tsan: setup
	@bash scripts/tsan.sh $(TSAN_BUILD)

# libFuzzer runs (clang; installed on first use), FUZZ_SECONDS per harness.
# A replay of the seed corpus runs inside `make test`.
fuzz: setup
	@bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)

# Redraws docs/architecture.svg from its Graphviz source.
docs:
	@command -v dot >/dev/null || apt-get install -y -qq --no-install-recommends graphviz >/dev/null
	@dot -Tsvg docs/architecture.dot -o docs/architecture.svg

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')
