#!/usr/bin/env python3
"""CPU time per thread name of running JVMs over an interval, from /proc/<pid>/task/*/stat (user +
system), grouped by thread name with subtask indices and numbers stripped. Used for
docs/benchmarks.md, "Where the TaskManagers' CPU goes".
usage: docs/tools/thread-cpu.py PID[,PID...] SECONDS
       e.g. docs/tools/thread-cpu.py $(cat target/local-cluster/pids/tm-*.pid | paste -sd,) 90"""
import os, sys, time, re, collections
pids = [int(p) for p in sys.argv[1].split(',')]
dur = float(sys.argv[2])
def snap():
    out = {}
    for pid in pids:
        for tid in os.listdir(f'/proc/{pid}/task'):
            try:
                st = open(f'/proc/{pid}/task/{tid}/stat').read()
                comm = st[st.index('(')+1:st.rindex(')')]
                f = st[st.rindex(')')+2:].split()
                out[(pid, tid)] = (comm, int(f[11]) + int(f[12]))
            except Exception:
                pass
    return out
a = snap(); time.sleep(dur); b = snap()
hz = os.sysconf('SC_CLK_TCK')
groups = collections.Counter()
for k, (comm, t) in b.items():
    d = t - a.get(k, (comm, t))[1]
    name = re.sub(r'[ -]?\(?\d+/\d+\)?#?\d*', '', comm)
    name = re.sub(r'\d+$', '', name)
    groups[name] += d
total = sum(groups.values())
print(f"total {total/hz/dur:.2f} cores over {dur:.0f} s")
for n, d in groups.most_common(25):
    print(f"{d/hz/dur*100:6.1f}% core  {d/total*100:5.1f}%  {n}")
