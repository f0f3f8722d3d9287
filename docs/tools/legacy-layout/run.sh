#!/usr/bin/env bash
# The per-user layout before issue 18 (release 619fd5e: a header value plus one map entry per
# click, each with its extractor state) at a million users, beside the compact layout, on the
# local cluster: docs/capacity.md's side-by-side table and docs/benchmarks.md's "The layout before,
# at a million users". Also runs this release's `migrate` on that savepoint (the conversion).
#
# 619fd5e has no `bootstrap`: bootstrap.patch (next to this script) adds one to it that writes its
# own layout, each click applied as its InterestScorer applied it (LegacyUsers.build), through the
# same State Processor API writer as today's bootstrap. ScaleITCase checks such a savepoint with
# the old job jar: -Dscale.savepoint=DIR -Dscale.job-jar=JAR (every score right, see its javadoc).
#
# Usage: docs/tools/legacy-layout/run.sh [USERS]   (from the repository's top; build it first)
# Needs: the T = 100 bundles of docs/benchmarks.md ("The job at millions of users") in $SCALE,
# about 45 GB of free disk at a million users (measured peak: 19 GB of savepoint, 21 GB more while
# the old job restored it and took its first materialization; the bootstrap alone peaks near 40 GB).
set -euo pipefail
users=${1:-1000000}
repo=$(pwd)
scale=${SCALE:-/work/scale}
wt=${WT:-$repo/../wt-legacy}
out=$scale/legacy
mkdir -p "$out"

if [ ! -d "$wt" ]; then
  git worktree add --detach "$wt" 619fd5e
  git -C "$wt" am "$repo/docs/tools/legacy-layout/bootstrap.patch"
fi
(cd "$wt" && ./mvnw -q -B package -DskipTests)

savepoint=$out/bs-$users-t100
[ -d "$savepoint" ] || "$wt/bin/dien-flink" bootstrap --users "$users" --model "$scale/bundle-t100" --output "$savepoint" \
  | tee "$out/bootstrap-$users.out"

# this release's migrate converts the old layout (same bundle: no rebuild); before the run below,
# which claims the savepoint (Flink deletes it once a checkpoint subsumes it)
rm -rf "$out/migrated-$users"
/usr/bin/time -v bin/dien-flink migrate --savepoint "$savepoint" --model "$scale/bundle-t100" \
  --output "$out/migrated-$users" 2> "$out/migrate-$users.time" | tee "$out/migrate-$users.out"

# the old job from its own layout; then this job from the converted savepoint, same settings
bin/dien-flink cluster-bench --label "before-$users" --users "$users" --from-savepoint "$savepoint" \
  --model "$scale/bundle-t100" --warmup 30s --measure 120s --idle 10s \
  --job-jar "$wt/target/dien-flink-job.jar" --work-dir "$out/cb-before" --timeline "$out/before-$users.csv" | tee "$out/cluster-before-$users.out"
bin/dien-flink cluster-bench --label "compact-$users" --users "$users" --from-savepoint "$out/migrated-$users" \
  --keep-savepoint --work-dir "$out/cb-compact" --timeline "$out/compact-$users.csv" --model "$scale/bundle-t100" --warmup 30s --measure 120s --idle 10s \
  --rescale-to-taskmanagers 4 --upgrade-to "$scale/bundle-t100-b" | tee "$out/cluster-compact-$users.out"
