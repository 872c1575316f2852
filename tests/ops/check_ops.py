#!/usr/bin/env python3
"""Checks what ops/ ships against what stewardd exports.

Every metric an alerting rule or a Grafana panel queries must be one
stewardd exports (a family declared in services/, or the process_ metrics),
and every panel must have a query. Exit 1 naming each problem.
  tests/ops/check_ops.py REPO_ROOT
"""
import json
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
exported = set()
for f in (root / "services").rglob("*.cc"):
    # Family("name", T::kGauge, ...) and helpers taking the same arguments.
    exported.update(re.findall(r'\(\s*"(steward_[a-z0-9_]+)",\s*(?:T|MetricsText::Type)::k', f.read_text()))
exported.update({"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                 "process_open_fds", "process_start_time_seconds"})
histograms = {m for m in exported}
problems = []


def check(expr, where):
    for name in set(re.findall(r"\b((?:steward|process)_[a-z0-9_]+)\b", expr)):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in exported and base not in histograms:
            problems.append(f"{where}: {name} is not a metric stewardd exports")


rules = (root / "ops/prometheus/steward.rules.yml").read_text()
for i, expr in enumerate(re.findall(r"expr:\s*(>\s*\n(?:\s{10,}.*\n)+|.*)", rules)):
    check(expr, f"steward.rules.yml rule {i + 1}")
dash = json.loads((root / "ops/grafana/steward.json").read_text())
for p in dash["panels"]:
    exprs = [t.get("expr", "") for t in p.get("targets", [])]
    if not any(e.strip() for e in exprs):
        problems.append(f"steward.json panel '{p.get('title')}' has no query")
    for e in exprs:
        check(e, f"steward.json panel '{p.get('title')}'")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"ops: {len(dash['panels'])} panels and the rules query only the {len(exported)} metrics stewardd exports")
