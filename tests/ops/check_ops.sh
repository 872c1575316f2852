#!/usr/bin/env bash
# What ops/ ships: the alerting rules parse and pass their unit tests
# (promtool, from Debian's prometheus package), and every rule and
# dashboard panel queries a metric stewardd exports.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/ops/prometheus"
promtool check rules steward.rules.yml
promtool test rules steward.rules.test.yml
python3 "$root/tests/ops/check_ops.py" "$root"
