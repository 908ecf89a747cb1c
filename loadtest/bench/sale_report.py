#!/usr/bin/env python3
"""The summary of loadtest/sale.sh (standard library only): per-process CPU per request over the measured window,
Redis CPU and memory per person, the requests the gateway answered by kind, and the tool's latency by step."""

import argparse
import csv
import json
import os
import re

METRIC = re.compile(r'^http_requests_received_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def requests_by_label(path):
    """(code, route) -> count, from the gateway's /metrics text."""
    counts = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                match = METRIC.match(line.strip())
                if match:
                    labels = dict(LABEL.findall(match["labels"]))
                    key = (labels.get("code", "?"), labels.get("route", "?"))
                    counts[key] = counts.get(key, 0) + float(match["value"])
    except FileNotFoundError:
        pass
    return counts


def kind(route):
    for needle, name in (("queue/status", "status"), ("queue/join", "join"), ("queue/enter", "enter")):
        if needle in route:
            return name
    return "other" if route.startswith("/") or route == "unmatched" else "gated (proxied)"


def env_file(path):
    with open(path, encoding="utf-8") as f:
        return {k: int(v) if v.strip().isdigit() else 0 for k, _, v in (line.strip().partition("=") for line in f) if k}


def redis_cpu(snap):
    info = snap["redis"]["info"]
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", required=True)
    parser.add_argument("--used-before", type=int, default=0)
    parser.add_argument("--arrivals", type=float, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--refill", type=float, required=True)
    args = parser.parse_args()
    run = args.run

    with open(os.path.join(run, "snap-start.json"), encoding="utf-8") as f:
        start = json.load(f)
    with open(os.path.join(run, "snap-end.json"), encoding="utf-8") as f:
        end = json.load(f)
    seconds = end["time"] - start["time"]
    before, after = requests_by_label(os.path.join(run, "metrics-start.txt")), requests_by_label(os.path.join(run, "metrics-end.txt"))
    delta = {key: after[key] - before.get(key, 0) for key in after if after[key] - before.get(key, 0) > 0}
    by_kind, failed = {}, {}
    for (code, route), count in delta.items():
        by_kind[kind(route)] = by_kind.get(kind(route), 0) + count
        if not code.startswith("2"):
            failed[(code, kind(route))] = failed.get((code, kind(route)), 0) + count
    total = sum(by_kind.values())
    room_start, room_end = env_file(os.path.join(run, "room-start.env")), env_file(os.path.join(run, "room-end.env"))
    # A snapshot that could not read the gateway or Redis would turn every figure below into nonsense: say so and stop.
    missing = [what for what, bad in (("the gateway's request counts (metrics-*.txt)", total == 0),
                                      ("Redis INFO (snap-*.json)", not start.get("redis") or not end.get("redis")),
                                      ("the room's places (room-end.env)", room_end.get("places", 0) == 0)) if bad]
    if missing:
        raise SystemExit(f"{run}: no figures: could not read {', '.join(missing)}")

    print(f"# The sale on this machine\n")
    print(f"{args.arrivals:,.0f} people/s arriving for {args.seconds} s, the room letting {args.refill:,.0f}/s in. "
          f"Window: {seconds:.1f} s up to 3 s before the arrivals end; the line {room_start.get('waiting', 0):,} -> "
          f"{room_end.get('waiting', 0):,} waiting, {room_end.get('active', 0):,} admitted holding a token, "
          f"{room_end.get('places', 0):,} places in all at its end. "
          f"Machine load average {start['machine']['loadavg'][0]:.2f} -> {end['machine']['loadavg'][0]:.2f}.\n")

    print("| requests the gateway answered in the window | count | per second | not 2xx |")
    print("|---|---|---|---|")
    for name in sorted(by_kind, key=lambda n: -by_kind[n]):
        bad = sum(v for (code, k), v in failed.items() if k == name)
        codes = ", ".join(f"{code}: {v:,.0f}" for (code, k), v in sorted(failed.items()) if k == name)
        print(f"| {name} | {by_kind[name]:,.0f} | {by_kind[name] / seconds:,.0f} | {bad:,.0f}{f' ({codes})' if codes else ''} |")
    print(f"| **all** | {total:,.0f} | **{total / seconds:,.0f}** | {sum(failed.values()):,.0f} |\n")

    machine = (end["machine"]["busy_s"] - start["machine"]["busy_s"]) / seconds
    print(f"| process | cores (of {os.cpu_count()}) | CPU per gateway request, us | RSS at the end, MiB |")
    print("|---|---|---|---|")
    ours = 0.0
    for name, p in end["processes"].items():
        q = start["processes"].get(name)
        if not q or not p["alive"]:
            continue
        cpu = (p["user_s"] + p["sys_s"]) - (q["user_s"] + q["sys_s"])
        ours += cpu
        print(f"| {name} | {cpu / seconds:.2f} | {cpu * 1e6 / max(total, 1):.1f} | {p['rss_kb'] / 1024:,.0f} |")
    print(f"| the machine (everything, others included) | {machine:.2f} | {machine * seconds * 1e6 / max(total, 1):.1f} | |\n")

    redis_s = redis_cpu(end) - redis_cpu(start)
    status = by_kind.get("status", 0)
    used = int(end["redis"]["info"]["used_memory"])
    places = room_end["places"]
    print(f"- Redis: {redis_s / seconds:.2f} cores (`INFO cpu`), **{redis_s * 1e6 / max(status, 1):.1f} us per status poll** "
          f"if it all went to them ({redis_s * 1e6 / max(total, 1):.1f} us per request); used_memory {used / 1048576:,.0f} MiB, "
          f"**{(used - args.used_before) / places:,.0f} bytes per place** ({places:,} places).")

    pace = os.path.join(run, "tool", "pace.csv")
    if os.path.exists(pace):
        with open(pace, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if rows:
            last = rows[-1]
            print(f"- The people (the tool, whole run): admitted {int(float(last['admitted_total'])):,}, gated calls ok "
                  f"{int(float(last['gated_ok_total'])):,}, turned away by a backend {int(float(last['gated_backend_503_total'])):,}, "
                  f"by the gateway {int(float(last['gated_gateway_503_total'])):,}, joins failed {int(float(last['join_failed_total'])):,}, "
                  f"**lost places {int(float(last['lost_places_total'])):,}**.")

    report = os.path.join(run, "tool", "report.md")
    if os.path.exists(report):
        # Read before the latencies: a tool that fell behind its schedule (or paused for GC) is in every figure below.
        with open(report, encoding="utf-8") as f:
            for line in f:
                if "The tool's own cost" in line or "SCHEDULE" in line or "schedule kept" in line.lower():
                    print(line.rstrip())

    percentiles = os.path.join(run, "tool", "percentiles.csv")
    if os.path.exists(percentiles):
        with open(percentiles, encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["status"] == "all"]
        print("\n| step (the tool, whole run) | requests | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['step']} | {int(float(r['count'])):,} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |")
        with open(percentiles, encoding="utf-8") as f:
            errors = [r for r in csv.DictReader(f) if r["error_kind"]]
        print("\nErrors (the tool): " + (", ".join(f"{r['step']} {r['error_kind']} {r['count']}" for r in errors) or "none") + ".")


if __name__ == "__main__":
    main()
