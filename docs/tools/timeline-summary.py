#!/usr/bin/env python3
"""Summary of `demo --timeline` CSV files, as quoted in docs/benchmarks.md ("Checkpoints without
stalls"): seconds with scores after the warm-up, how many have p99 > 30 ms, and the median
per-second p99 of the seconds with a checkpoint and of the others.
usage: docs/tools/timeline-summary.py FILE.csv ..."""
import csv, statistics, sys

for path in sys.argv[1:]:
    rows = [r for r in csv.DictReader(open(path)) if r["phase"] != "warmup" and int(r["scores"]) > 0]
    ck = [int(r["p99_ms"]) for r in rows if r["checkpoint"] == "1"]
    other = [int(r["p99_ms"]) for r in rows if r["checkpoint"] != "1"]
    print(f"{path}: seconds={len(rows)} p99_over_30ms={sum(int(r['p99_ms']) > 30 for r in rows)} "
          f"checkpoint_seconds={len(ck)} median_p99_checkpoint={statistics.median(ck) if ck else '-'} "
          f"median_p99_other={statistics.median(other) if other else '-'} "
          f"max_p99={max(int(r['p99_ms']) for r in rows)} max={max(int(r['max_ms']) for r in rows)}")
