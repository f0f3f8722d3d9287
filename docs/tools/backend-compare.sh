#!/usr/bin/env bash
# The two state-backend configurations side by side on the local cluster (issue 17 part 2), as
# quoted in docs/benchmarks.md ("One state-backend configuration"): plain RocksDB (incremental
# checkpoints, the job's 2 MB write buffers) and the changelog state backend, each at the demo's
# rates (5,000 clicks/s, 200 requests/s of 10 candidates) after every window of N users was filled,
# 60 s warm-up then 5 minutes measured. The changelog materializes every 4 minutes here (Flink's
# default is 10) so that the measured 5 minutes hold one materialization.
#   usage: docs/tools/backend-compare.sh OUT_DIR [USERS ...]     (default users: 10000 100000)
# Writes OUT_DIR/<config>-<users>.csv (per-second rows, plot with plot-timeline) and prints the
# `cluster-bench ...` summary lines (also in OUT_DIR/summary.txt). About 7-9 minutes per run.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR [USERS ...]}
shift
users=("$@")
[ ${#users[@]} -gt 0 ] || users=(10000 100000)
mkdir -p "$out"
cd "$(dirname "$0")/../.."
for n in "${users[@]}"; do
  for config in rocksdb changelog; do
    work="target/backend-compare/$config-$n"
    rm -rf "$work"
    # the local cluster runs the changelog (the shipped configuration); plain RocksDB turns it off
    extra=(-D state.changelog.enabled=false)
    if [ "$config" = changelog ]; then
      extra=(-D state.changelog.periodic-materialize.interval=4min)
    fi
    bin/dien-flink cluster-bench --work-dir "$work" --label "$config" --users "$n" \
        --timeline "$out/$config-$n.csv" "${extra[@]}" 2> "$out/$config-$n.log" | tee -a "$out/summary.txt"
  done
done
