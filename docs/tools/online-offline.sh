#!/bin/bash
# Online = offline (docs/evaluation-report.md): on the local cluster, the scoring job with the serving
# log at share 1.0, the evaluate job, synthetic traffic with responses; then, per full minute, the
# evaluate job's champion line against export-samples + evaluate on the same requests.
# Run from the repository root after `./mvnw -q -B package -DskipTests`. Usage: docs/tools/online-offline.sh [WORK_DIR]
set -euo pipefail
W=${1:-/tmp/online-offline-lc}
rm -rf "$W"
up=$(bin/dien-flink local-cluster up --work-dir "$W" --taskmanagers 1 --rest-port 18391 2>/dev/null)
KAFKA=$(echo "$up" | grep -o 'kafka=[0-9.:]*' | head -1 | cut -d= -f2)
trap 'bin/dien-flink local-cluster down --work-dir "$W" >/dev/null 2>&1' EXIT
JAR="$PWD/target/dien-flink-job.jar"
bin/dien-flink flink --work-dir "$W" run -d "$JAR" run --bootstrap-servers "$KAFKA" --model "$PWD/bundles/demo" \
    -Ddien.parallelism=1 -Ddien.log.share=1.0
bin/dien-flink flink --work-dir "$W" run -d "$JAR" evaluate --bootstrap-servers "$KAFKA" -Ddien.parallelism=1 \
    -Ddien.eval.attribution-window=20s -Ddien.eval.source-idleness=10s -Ddien.checkpoint.interval=5s \
    -Ddien.eval.serving-log=true
# 100,000 users over 200 s: each keeps at most T = 30 clicks, where streaming and windowed scores agree
bin/dien-flink generate --bootstrap-servers "$KAFKA" --users 100000 --clicks-per-second 200 \
    --requests-per-second 50 --malformed 0 --responses --duration 200s
sleep 15
report=$(bin/dien-flink eval-report --bootstrap-servers "$KAFKA" --minutes 2>/dev/null)
echo "$report" | grep '^minute '
# every minute but the first (partial: traffic started within it)
for m in $(echo "$report" | grep '^minute ' | tail -n +2 | sed 's/.*time=\([^ ]*\).*/\1/'); do
    to=$(date -u -d "$m + 1 minute" +%Y-%m-%dT%H:%M:%SZ)
    bin/dien-flink export-samples --bootstrap-servers "$KAFKA" --from "$m" --to "$to" \
        --output "$W/samples-$m.txt" --scores "$W/scores-$m.txt" 2>/dev/null
    bin/dien-flink evaluate --model bundles/demo --data "$W/samples-$m.txt" --served-scores "$W/scores-$m.txt" 2>/dev/null
done
