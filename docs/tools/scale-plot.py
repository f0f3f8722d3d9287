#!/usr/bin/env python3
"""Plots p99 latency and TaskManager CPU per event against users from `cluster-bench` summary lines.

Usage: scale-plot.py OUT.svg FILE...   (each FILE holds a `cluster-bench config=... users=...` line)

Writes a two-panel SVG (log-scaled users on x): per-second p99 median (ms) and TaskManager CPU per
event (µs), idle included. Plain SVG, no plotting library: the machine has none.
"""
import math
import sys


def parse(path):
    for line in open(path, encoding="utf-8"):
        if line.startswith("cluster-bench config="):
            return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    raise SystemExit(f"{path}: no cluster-bench summary line")


def panel(x0, y0, w, h, points, ylabel, key):
    ys = [p[key] for p in points]
    ymax = max(ys) * 1.2
    xs = [math.log10(p["users"]) for p in points]
    xmin, xmax = math.floor(min(xs)), math.ceil(max(xs))
    if xmax == xmin:
        xmax += 1
    sx = lambda v: x0 + (math.log10(v) - xmin) / (xmax - xmin) * w
    sy = lambda v: y0 + h - v / ymax * h
    out = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#444"/>',
           f'<text x="{x0 - 45}" y="{y0 + h / 2}" transform="rotate(-90 {x0 - 45} {y0 + h / 2})" '
           f'text-anchor="middle" font-size="12">{ylabel}</text>']
    for e in range(xmin, xmax + 1):
        x = x0 + (e - xmin) / (xmax - xmin) * w
        out.append(f'<line x1="{x}" y1="{y0 + h}" x2="{x}" y2="{y0 + h + 4}" stroke="#444"/>')
        out.append(f'<text x="{x}" y="{y0 + h + 16}" text-anchor="middle" font-size="11">1e{e}</text>')
    for i in range(5):
        v = ymax * i / 4
        out.append(f'<text x="{x0 - 6}" y="{sy(v) + 4}" text-anchor="end" font-size="10">{v:.0f}</text>')
    for layout, color in (("compact", "#1f77b4"), ("before", "#d62728")):
        pts = sorted((p for p in points if p["layout"] == layout), key=lambda p: p["users"])
        if len(pts) > 1:
            path = " ".join(f"{sx(p['users']):.1f},{sy(p[key]):.1f}" for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}"/>')
        for p in pts:
            out.append(f'<circle cx="{sx(p["users"]):.1f}" cy="{sy(p[key]):.1f}" r="4" fill="{color}"/>')
            out.append(f'<text x="{sx(p["users"]) + 6:.1f}" y="{sy(p[key]) - 6:.1f}" font-size="10">'
                       f'{p[key]:.0f} (T={p["window"]})</text>')
    return out


def main():
    out_path, files = sys.argv[1], sys.argv[2:]
    points = []
    for f in files:
        s = parse(f)
        points.append({"users": int(s["users"]), "layout": "before" if s["config"].startswith("before") else "compact",
                       "p99": float(s["p99_ms_median"]), "cpu": float(s["tm_cpu_us_per_event"]),
                       "window": s.get("model_window", "30")})
    w, h = 420, 260
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 170}" height="{h + 90}" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="20" y="18" font-size="13">cluster-bench on the local cluster: demo traffic (5,000 clicks/s, '
           f'200 requests/s of 10), users on x (log); blue compact layout, red the layout before</text>']
    svg += panel(70, 40, w, h, points, "per-second p99, median (ms)", "p99")
    svg += panel(w + 150, 40, w, h, points, "TaskManager CPU per event (µs)", "cpu")
    svg.append(f'<text x="{70 + w / 2}" y="{h + 80}" text-anchor="middle" font-size="12">users</text>')
    svg.append(f'<text x="{w + 150 + w / 2}" y="{h + 80}" text-anchor="middle" font-size="12">users</text>')
    svg.append("</svg>")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
