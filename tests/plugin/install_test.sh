#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then a separate project finds
# it with find_package(Steward), builds a C++ and a C program against it
# and runs them.
set -euo pipefail
BUILD=$1
SRC=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
test -f "$TMP/prefix/include/steward/plugin.h"
test -f "$TMP/prefix/include/steward/steward_c.h"
ls "$TMP"/prefix/lib*/libsteward.so* >/dev/null
cmake -S "$SRC/consumer" -B "$TMP/build" -DCMAKE_PREFIX_PATH="$TMP/prefix" >/dev/null
cmake --build "$TMP/build" -j 2 >/dev/null
libdir=$(dirname "$(ls "$TMP"/prefix/lib*/libsteward.so | head -1)")
LD_LIBRARY_PATH="$libdir" "$TMP/build/consumer"
LD_LIBRARY_PATH="$libdir" "$TMP/build/consumer_c"
"$TMP/build/consumer_static"
echo "install: ok"
