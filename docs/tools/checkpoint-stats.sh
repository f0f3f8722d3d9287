#!/usr/bin/env bash
# Per checkpoint, the slowest subtask's synchronous and asynchronous durations and alignment for
# every vertex of a running job, from Flink's REST API. Used for docs/benchmarks.md, "Checkpoints
# without stalls": run it against a demo shortly before it ends (start the demo with
# -Dweb.checkpoints.history=200 so that every checkpoint is kept).
#   usage: docs/tools/checkpoint-stats.sh http://localhost:PORT   (the demo prints "Flink web UI: ...")
set -euo pipefail
url=${1:?usage: $0 FLINK_REST_URL}
python3 - "$url" <<'PY'
import json, statistics, sys, urllib.request
url = sys.argv[1]
get = lambda path: json.load(urllib.request.urlopen(url + path, timeout=10))
job = [j["id"] for j in get("/jobs")["jobs"] if j["status"] == "RUNNING"][0]
vertices = get(f"/jobs/{job}")["vertices"]
scorer_sync = []
for h in sorted(get(f"/jobs/{job}/checkpoints")["history"], key=lambda h: h["id"]):
    row = []
    for v in vertices:
        d = get(f"/jobs/{job}/checkpoints/details/{h['id']}/subtasks/{v['id']}")
        subtasks = [s for s in d["subtasks"] if "checkpoint" in s]
        if not subtasks:
            continue
        sync = max(s["checkpoint"]["sync"] for s in subtasks)
        row.append(f"{v['name'][:24]}: sync={sync} async={max(s['checkpoint']['async'] for s in subtasks)}"
                   f" align={max(s.get('alignment', {}).get('duration', 0) for s in subtasks)}")
        if "DIEN interest state" in v["name"]:
            scorer_sync.append(sync)
    print(h["id"], h["status"], "e2e", h.get("end_to_end_duration"), " | ".join(row))
if scorer_sync:
    print(f"scorer sync ms: n={len(scorer_sync)} median={statistics.median(scorer_sync)} max={max(scorer_sync)}")
PY
