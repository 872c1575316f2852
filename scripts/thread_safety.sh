#!/usr/bin/env bash
# Clang's thread-safety analysis over the project's own sources: every
# ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotation becomes a
# check, and a violation fails. Syntax only (no code is generated), with
# the compile flags CMake recorded for the GCC build.
#   scripts/thread_safety.sh BUILD_DIR [FILE...]
set -euo pipefail
BUILD=${1:-build}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
db="$BUILD/compile_commands.json"
[ -f "$db" ] || { echo "thread_safety: $db is missing; run make build first" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "thread_safety: clang++ is missing (apt-get install clang)" >&2; exit 2; }
# One line per translation unit: the command with GCC's compiler swapped
# for clang++ and the output dropped.
python3 - "$db" "$root" "$@" > "$BUILD/thread_safety.cmds" <<'PY'
import json, shlex, sys
db, root, only = sys.argv[1], sys.argv[2], set(sys.argv[3:])
for e in json.load(open(db)):
    f = e["file"]
    if not f.startswith(root + "/") or "/build" in f[len(root):] or "/tests/" in f:
        continue
    if only and not any(f.endswith(o) for o in only):
        continue
    args = shlex.split(e["command"])
    out, skip = ["clang++"], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD") or a.startswith("-fno-semantic-interposition"):
            continue
        out.append(a)
    out += ["-fsyntax-only", "-Wno-unknown-warning-option", "-Wthread-safety", "-Werror=thread-safety",
            "-Wno-unused-command-line-argument"]
    print("cd " + shlex.quote(e["directory"]) + " && " + " ".join(shlex.quote(a) for a in out))
PY
n=$(wc -l < "$BUILD/thread_safety.cmds")
if ! xargs -P "${JOBS:-2}" -I{} -d '\n' bash -c '{} 2>&1 | grep -E "error|warning: .*thread-safety|-Wthread-safety" ; exit ${PIPESTATUS[0]}' \
    < "$BUILD/thread_safety.cmds" > "$BUILD/thread_safety.log"; then
  grep -E "error:" "$BUILD/thread_safety.log" | sort -u | head -50
  echo "thread_safety: violations above (full log: $BUILD/thread_safety.log)"
  exit 1
fi
echo "thread_safety: $n translation units clean under clang -Wthread-safety"
