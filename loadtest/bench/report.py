#!/usr/bin/env python3
"""Writes docs/BENCHMARKS.md from one loadtest/run-benchmarks.sh results directory.

  report.py RESULTS_DIR OUT.md

Reads meta.env, runs.tsv, the load tool's report directories, the process / Redis snapshots (snaps/) and
the profile (profile/). A hand-written block between the ANALYSIS markers of an existing OUT.md is kept.
"""

import csv
import glob
import json
import os
import re
import statistics
import sys

ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"
TARGET_NAMES = {
    "direct": "sample backend directly",
    "bare-yarp": "bare YARP",
    "nginx": "nginx",
    "gateway": "gateway, admitted (gated route)",
    "status": "gateway, status polls",
}
SUT = {"direct": "backends", "bare-yarp": "bare-yarp", "nginx": "nginx", "gateway": "gateway", "status": "gateway"}


def read_meta(run):
    meta = {}
    with open(os.path.join(run, "meta.env"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    return meta


def read_runs(run):
    with open(os.path.join(run, "runs.tsv"), encoding="utf-8") as f:
        return [dict(zip(["kind", "target", "label", "rate", "dir", "rc", "quiet"], line.rstrip("\n").split("\t"))) for line in f if line.strip()]


class Report:
    """The parts of one load-tool report directory the summary needs."""

    RAN = re.compile(r"^- Ran ([\d.]+) s .*: (\d+) requests, (\d+) errors, ([\d.]+) completed/s")

    def __init__(self, directory):
        self.dir = directory
        self.ok = os.path.exists(os.path.join(directory, "report.md"))
        self.text = open(os.path.join(directory, "report.md"), encoding="utf-8").read() if self.ok else ""
        self.sections = {}
        current = None
        for line in self.text.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                self.sections[current] = []
            elif current:
                self.sections[current].append(line)
        self.percentiles = self._csv("percentiles.csv")
        self.findmax = self._csv("findmax.csv")

    def _csv(self, name):
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return list(csv.DictReader(f))

    def run(self, label="main", kind="Results"):
        """(seconds, requests, errors, completed/s, schedule kept) of a run section."""
        for line in self.sections.get(f"{kind}: {label}", []):
            m = self.RAN.match(line)
            if m:
                kept = not any("SCHEDULE NOT KEPT" in l for l in self.sections[f"{kind}: {label}"])
                return float(m[1]), int(m[2]), int(m[3]), float(m[4]), kept
        return None

    def latency(self, run="main", step=None):
        rows = [r for r in self.percentiles if r["run"] == run and r["status"] == "all" and (step is None or r["step"] == step)]
        return rows[-1] if rows else None

    def knee(self):
        passed = [r for r in self.findmax if r["passed"] == "true"]
        return passed[-1] if passed else None

    def first_failure(self):
        failed = [r for r in self.findmax if r["passed"] != "true"]
        return failed[0] if failed else None

    def section(self, name):
        return self.sections.get(name)


def load_snap(run, name):
    path = os.path.join(run, "snaps", name + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def window(run, label):
    """CPU (in cores) per process and of the machine between snaps LABEL.a and LABEL.b."""
    a, b = load_snap(run, label + ".a"), load_snap(run, label + ".b")
    if not a or not b:
        return None
    dt = b["time"] - a["time"]
    cores, lost = {}, []
    for name, pa in a["processes"].items():
        pb = b["processes"].get(name)
        if pa["alive"] and (not pb or not pb["alive"] or pb["pid"] != pa["pid"]):
            lost.append(name)
    for name, pb in b["processes"].items():
        pa = a["processes"].get(name)
        if pa and pa["pid"] == pb["pid"] and pa["alive"] and pb["alive"]:
            cores[name] = max(0.0, pb["user_s"] + pb["sys_s"] - pa["user_s"] - pa["sys_s"]) / dt
    busy = (b["machine"]["busy_s"] - a["machine"]["busy_s"]) / dt
    steal = (b["machine"]["steal_s"] - a["machine"]["steal_s"]) / dt
    return {
        "dt": dt, "cores": cores, "busy": busy, "steal": steal,
        "foreign": max(0.0, busy - sum(cores.values())),
        "load": b["machine"]["loadavg"][0], "a": a, "b": b, "lost": lost,
    }


def script_commands(root):
    names = set()
    for path in glob.glob(os.path.join(root, "Gateway.Admission", "Queue", "Scripts", "*.lua")):
        with open(path, encoding="utf-8") as f:
            names.update(n.lower() for n in re.findall(r"redis\.call\('([A-Za-z]+)'", f.read()))
    return names


# Where a perf sample's time went, from its module and symbol.
KERNEL_SCHED = re.compile(r"sched|switch|futex|schedule|hrtimer|nanosleep|rseq|idle|tick|exit_to_user|irqentry|clock")
KERNEL_NET = re.compile(r"tcp|ip_|ipv|skb|sock|net|inet|sendto|recvfrom|sendmsg|recvmsg|epoll|poll|loopback|xmit|napi|dev_|sk_|copy_|csum|__x64_sys_(read|write)")
MANAGED = [
    ("Microsoft.AspNetCore.Server.Kestrel", "managed: Kestrel (HTTP server)"),
    ("Microsoft.AspNetCore.Routing", "managed: ASP.NET Core routing"),
    ("Microsoft.AspNetCore", "managed: ASP.NET Core (hosting, middleware)"),
    ("Yarp.", "managed: YARP (forwarder)"),
    ("StackExchange.Redis", "managed: Redis client"),
    ("Pipelines.Sockets.Unofficial", "managed: Redis client"),
    ("Prometheus", "managed: Prometheus metrics"),
    ("OpenTelemetry", "managed: OpenTelemetry tracing"),
    ("System.Diagnostics.DiagnosticSource", "managed: Activity / metrics (System.Diagnostics)"),
    ("Microsoft.Extensions.Logging", "managed: logging"),
    ("Gateway.", "managed: waiting room (Gateway.*)"),
    ("System.Text.Json", "managed: JSON"),
    ("System.Net.Http", "managed: HttpClient (YARP's outbound)"),
    ("System.Net.Sockets", "managed: sockets"),
    ("System.IO.Pipelines", "managed: pipelines"),
    ("System.Security.Cryptography", "managed: crypto"),
]


def component(dso, sym):
    if dso == "[kernel.kallsyms]":
        name = sym[4:] if sym.startswith("[k] ") else sym
        if KERNEL_SCHED.search(name):
            return "kernel: scheduling, futex, timers"
        if KERNEL_NET.search(name):
            return "kernel: TCP/loopback and sockets"
        return "kernel: other (syscall entry, memory)"
    if dso.startswith("[JIT]") or dso.startswith("perf-") or "doublemapper" in dso:
        body = sym[4:] if sym.startswith("[.] ") else sym
        if body.startswith("0x"):
            return "managed: unresolved"
        if body.startswith("stub "):
            return "runtime: stubs"
        owner = " ".join(declaring_type(body))
        for prefix, name in MANAGED:
            if prefix in owner:
                return name
        return "managed: base library (CoreLib, collections, tasks)"
    if "libcoreclr" in dso:
        return "runtime: GC and VM (libcoreclr)"
    if "libclrjit" in dso:
        return "runtime: JIT compiler"
    if "libSystem.Native" in dso:
        return "runtime: System.Native shims"
    if "libcrypto" in dso or "libssl" in dso:
        return "OpenSSL (HMAC)"
    if "libc.so" in dso or "libpthread" in dso or "ld-linux" in dso:
        return "libc (syscall wrappers, locks, sched_yield)"
    return dso


def declaring_type(body):
    """(assembly, type without generic arguments) of a perf-map symbol like
    'instance void [Asm] Ns.Type`1[Arg]::Method(args)[OptimizedTier1]'."""
    head = body.split("::", 1)[0]
    m = re.search(r"\[([A-Za-z0-9_.]+)\] (\S+)$", head)
    if not m:
        return "", head.split(" ")[-1]
    return m[1], re.sub(r"\[.*\]$", "", m[2])


def short_symbol(sym):
    body = sym[4:] if sym[:4] in ("[k] ", "[.] ") else sym
    body = re.sub(r"\[(OptimizedTier1|Optimized|Tier0|Tier1|PreJIT|QuickJitted|Instrumented[A-Za-z0-9]*|OptimizedTier1OSR)\]$", "", body)
    if "::" in body:
        owner = declaring_type(body)[1]
        method = body.split("::", 1)[1].split("(", 1)[0]
        body = f"{owner}::{method}"
    return body if len(body) <= 140 else body[:137] + "..."


def read_perf(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or "^" not in line:
                continue
            parts = [p.strip() for p in line.rstrip("\n").split("^")]
            if len(parts) >= 3 and parts[0].endswith("%"):
                out.append((float(parts[0][:-1]), parts[1], "^".join(parts[2:])))
    return out


def fmt(value, digits=0):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def pct(part, whole):
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, run, root):
        self.run, self.root = run, root
        self.meta = read_meta(run)
        self.runs = read_runs(run)
        self.reports = {r["label"]: Report(r["dir"]) for r in self.runs}
        self.script_cmds = script_commands(root)
        self.pinned = self.meta.get("pin") == "1"

    def of(self, kind, target=None):
        return [r for r in self.runs if r["kind"] == kind and (target is None or r["target"] == target)]

    def targets(self):
        seen = []
        for r in self.of("equal"):
            if r["target"] not in seen:
                seen.append(r["target"])
        return seen

    def knee(self, target):
        value = self.meta.get(f"knee_{target}")
        return int(value) if value and value.isdigit() else None

    def equal_stats(self, kind, target):
        """Medians over the equal-rate runs: p50, p99, achieved, errors, CPU us per request by process."""
        p50s, p99s, rates, errors, kept, cpu, foreign, loads = [], [], [], 0, True, {}, [], []
        for r in self.of(kind, target):
            rep = self.reports[r["label"]]
            ran = rep.run()
            lat = rep.latency()
            if not ran or not lat:
                continue
            p50s.append(float(lat["p50_ms"]))
            p99s.append(float(lat["p99_ms"]))
            rates.append(ran[3])
            errors += ran[2]
            kept &= ran[4]
            w = window(self.run, r["label"])
            if w:
                for name, cores in w["cores"].items():
                    cpu.setdefault(name, []).append(cores * 1e6 / ran[3] if ran[3] else None)
                foreign.append(w["foreign"])
                loads.append(w["load"])
        return {
            "n": len(p99s), "p50": median(p50s), "p99": median(p99s), "p99_all": p99s, "rate": median(rates),
            "errors": errors, "kept": kept, "us": {k: median(v) for k, v in cpu.items()},
            "foreign": median(foreign), "load": median(loads),
        }

    def searches(self, target):
        out = []
        for kind in ("scout", "findmax"):
            for r in self.of(kind, target):
                rep = self.reports[r["label"]]
                knee, fail = rep.knee(), rep.first_failure()
                out.append((r["label"], kind, knee, fail))
        return out

    # ------------------------------------------------------------------ sections
    def header(self):
        m = self.meta
        lines = [
            "# Benchmarks",
            "",
            "Generated by `loadtest/run-benchmarks.sh` (`loadtest/bench/report.py`); the numbers below are from one run on the",
            "machine described, which other sessions shared (see *Noise*). Re-run to refresh: the hand-written analysis",
            "between the markers is kept, everything else is rewritten.",
            "",
            "## Reproduce",
            "",
            "```bash",
            (m.get("settings", "").strip() + " " if m.get("settings", "").strip() else "") + m.get("command", "loadtest/run-benchmarks.sh"),
            "```",
            "",
            f"- Run: {m.get('date')}, {int(m.get('elapsed_s', '0')) // 60} min {int(m.get('elapsed_s', '0')) % 60} s, commit {m.get('commit')}.",
            f"- Machine: {m.get('nproc')} vCPU {m.get('cpu')} ({m.get('hypervisor') or 'bare metal'} guest), {m.get('memory')}, {m.get('os')}, {m.get('kernel')}.",
            f"- Versions: .NET SDK {m.get('dotnet_sdk')} (ASP.NET Core runtime {m.get('dotnet_runtime')}), YARP {m.get('yarp')}, "
            f"StackExchange.Redis {m.get('seredis')}, redis-server {m.get('redis')}, nginx {m.get('nginx')}.",
            f"- Load average (1/5/15 min) at start {m.get('load_start')}, at end {m.get('load_end')}.",
        ]
        if m.get("quick") == "1":
            lines.append("- **Quick mode**: low rates and short runs, a check that the benchmark works, not figures to quote.")
        lines.append("")
        return "\n".join(lines)

    def setup(self):
        m = self.meta
        pin = ("Pinned with `taskset`: the system under test (the gateway, bare YARP, nginx with one worker, or the backends "
               "for the direct baseline) on CPU 0; the load tool, redis-server and the backends (when behind a proxy) on CPU 1. "
               "So a knee is what *one core* of the proxy sustains, and `status polls per gateway core` is read directly. "
               "The mixed (moonshot) run unpins everything: the whole machine." if self.pinned else
               "Not pinned (the default): the proxy, Redis, the backends and the load tool share both cores, like one small "
               "node. A knee is then the machine's throughput with the tool's own cost included; per-core figures divide a "
               "rate by the CPU the process used at it. (`BENCH_PIN=1` pins the system under test to CPU 0 and the rest to "
               "CPU 1; tried first, it measured the tool: held to one core next to the backends, the tool could not keep a "
               "2,000/s schedule.)")
        return "\n".join([
            "## Setup",
            "",
            "- Everything on loopback: redis-server (`--save '' --appendonly no`), the three sample backends in one process "
            "(`Gateway.SampleBackends`, capacity 10^9/s for throughput, "
            f"{m.get('CROWD_BACKEND_CAPACITY')}/s for the flash crowd), the gateway (`Gateway.Proxy`, Release, `--environment Production`, "
            "Redis store, Warning logs, tracing on with no exporter, Prometheus metrics on), `loadtest/BareYarp` (the same "
            "`ReverseProxy` routes and clusters, nothing else), nginx (`nginx-light`, one worker, keep-alive upstreams, no access log).",
            "- Every proxied request is `GET /api/inventory/events/concert/seats` (a ~0.5 KB JSON seat map from the inventory "
            "backend); the gateway's carries an admission token in `X-Admission-Token` (scenario `admitted`).",
            f"- {pin}",
            f"- Equal-rate runs: each target at {m.get('EQUAL_RATE')}/s for {m.get('FIXED_SECONDS')} s, {m.get('REPEATS')} rounds "
            "interleaved (direct, bare YARP, nginx, gateway, direct, ...); medians. CPU is read from /proc over the steady "
            "window (1 s after the warm-up to 3 s before the end) for every process, and per request.",
            f"- Status polls run at {m.get('STATUS_RATE')}/s in the fixed-rate runs (Redis figures, profile).",
            f"- Find-max: a scout search from {m.get('FM_START')}/s in steps of {m.get('FM_SCOUT_STEP')}/s, then "
            f"{m.get('FM_REPEATS')} searches from two fine steps below its knee in fine steps of about 1/16 of the knee "
            f"(at least {m.get('FM_STEP')}/s; a search failing its first step counts as one step below it), "
            f"{m.get('STEP_SECONDS')} s per step. A step passes with p99 <= {m.get('P99_MS')} ms, no error, and the tool keeping its "
            "arrival schedule (open model, latency from the scheduled send time: coordinated omission corrected). "
            "Knee = last passing rate; the median over the scout and the searches. Searches are interleaved across targets (every "
            "scout, then every first search, ...) so a noisy minute hits one search of each target, not all of one. The sustained "
            "rate is then checked with full-length fixed-rate runs, at 100%, 85% and 70% of the knee.",
            "- Rooms: `concert` gates the routes (admitted runs, flash crowd); `storm` gates nothing and holds the status-storm "
            "queue, so admitted runs never wait behind it. Both have the default bucket (capacity 100, 10/s); `storm` has "
            "AbandonAfter 40 min so the 300k unpolled people stay in line during the benchmark. Status polls go to a random "
            f"sample of {m.get('SAMPLE')} queued tokens; the queue holds the prefill (see *Memory*) while they run. "
            "The gateway and bare YARP run with `DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0` so perf can name JIT-compiled code.",
            "",
        ])

    def targets_summary(self):
        rows = []
        (sg, _), (sy, _) = self.sustained("gateway"), self.sustained("bare-yarp")
        kg, ky = self.knee("gateway"), self.knee("bare-yarp")
        eg, ey = self.equal_stats("equal", "gateway"), self.equal_stats("equal", "bare-yarp")
        ratio = sg / sy if sg and sy else None
        cpu_ratio = ey["us"].get("bare-yarp") / eg["us"].get("gateway") if ey["us"].get("bare-yarp") and eg["us"].get("gateway") else None
        noise = {t: self.search_noise(t) for t in ("gateway", "bare-yarp")}
        noisy = {t: n for t, n in noise.items() if n is not None and n > 0.5}
        verdict_text = ("met" if ratio and ratio >= 0.95 else "not met") + (", not by CPU cost" if ratio and ratio >= 0.95 and cpu_ratio and cpu_ratio < 0.95 else "")
        if noisy:
            verdict_text = (f"{'met' if cpu_ratio and cpu_ratio >= 0.95 else 'not met'} by CPU cost; the knee ratio is void: other sessions used "
                            + ", ".join(f"{fmt(100 * n)}% of a core during {TARGET_NAMES[t]}'s searches" for t, n in noisy.items()))
        rows.append([
            "gated traffic >= 0.95x bare YARP's throughput at equal p99",
            f"sustained {fmt(sg)}/s vs {fmt(sy)}/s = **{fmt(ratio, 2)}x** (median knees {fmt(kg)} vs {fmt(ky)}); CPU per request at "
            f"{self.meta.get('EQUAL_RATE')}/s says **{fmt(cpu_ratio, 2)}x** (bare YARP's / the gateway's); p99 there {fmt(eg['p99'], 1)} vs {fmt(ey['p99'], 1)} ms",
            verdict_text,
        ])
        ss, label = self.sustained("status")
        ws = window(self.run, label) if label else None
        gw_cores = ws["cores"].get("gateway") if ws else None
        sr = self.reports.get(label) if label else None
        achieved = sr.run()[3] if sr and sr.run() else None
        per_core = achieved / gw_cores if achieved and gw_cores else None
        es = self.equal_stats("status-equal", "status")
        where = "with the gateway pinned to one core" if self.pinned else "on the whole machine (gateway, Redis and the tool on 2 cores)"
        rows.append([
            "status polls >= 15,000/s per gateway core",
            f"sustained **{fmt(ss)}/s** {where} (median knee {fmt(self.knee('status'))}); the gateway used {fmt(gw_cores, 2)} cores in that run = "
            f"**{fmt(per_core)}/s per gateway core**; at {self.meta.get('STATUS_RATE')}/s a poll cost {fmt(es['us'].get('gateway'))} us of gateway CPU",
            "met" if per_core and per_core >= 15000 and ss else "not met",
        ])
        mem = self.memory()
        rows.append([
            "gateway memory < 512 MiB at 300k waiting",
            f"RSS **{fmt(mem['rss'] / 1024 if mem else None)} MiB** with {fmt(mem['queued'] if mem else None)} waiting (peak {fmt(mem['hwm'] / 1024 if mem else None)} MiB)",
            ("met" if mem and mem["rss"] / 1024 < 512 else "not met") + (" (fewer than 300k waiting)" if mem and mem["queued"] < 0.99 * 300000 else ""),
        ])
        mixed = self.mixed()
        if mixed:
            rows.append([
                f"moonshot: mixed {fmt(mixed['target'])} RPS sustained on this 2-core machine",
                f"achieved {fmt(mixed['achieved'])}/s, p99 status {fmt(mixed['p99_status'], 0)} ms / admitted {fmt(mixed['p99_admitted'], 0)} ms, "
                f"{fmt(mixed['errors'])} errors, schedule {'kept' if mixed['kept'] else 'not kept'}",
                "met" if mixed["met"] else "not met",
            ])
        crowd = self.crowd()
        if crowd:
            rows.append([
                "flash crowd: backends never above the admission bound, zero 5xx from the gateway",
                f"backends within bound: {crowd['within']}; gateway 5xx: {crowd['fivexx']}",
                "met" if crowd["within"] == "yes" and crowd["fivexx"] == "0" else "not met",
            ])
        return "## Targets\n\n" + table(["target", "this run", "verdict"], rows) + "\n"

    def search_noise(self, target):
        """Mean CPU (cores) other sessions used during a target's searches, when they were measured."""
        values = [w["foreign"] for r in self.of("scout", target) + self.of("findmax", target)
                  if (w := window(self.run, r["label"]))]
        return statistics.mean(values) if values else None

    def sustained(self, target):
        """(rate or None, label of the last fixed-rate try) from the step-down runs at the knee."""
        value = self.meta.get(f"sustained_{target}")
        return (int(value) if value and value.isdigit() else None), self.meta.get(f"sustain_label_{target}")

    def maxrate(self):
        rows = []
        sustained, knees_by = {}, {}
        for target in self.targets() + ["status"]:
            searches = self.searches(target)
            if not searches:
                continue
            def other(label):
                w = window(self.run, label)
                return f" ({fmt(100 * w['foreign'])}%)" if w else ""
            knees = [(fmt(float(k["target_rate"])) if k else f"< {fmt(float(f['target_rate']))}" if f else "none") + other(label)
                     for label, kind, k, f in searches if kind == "findmax"]
            scout = [(fmt(float(k["target_rate"])) if k else "none") + other(label) for label, kind, k, _ in searches if kind == "scout"]
            fails = [f"{fmt(float(f['target_rate']))}: {f['verdict']}" for _, _, _, f in searches if f]
            rate, label = self.sustained(target)
            sustained[target], knees_by[target] = rate, self.knee(target)
            w = window(self.run, label) if label else None
            rep = self.reports.get(label) if label else None
            lat = rep.latency() if rep else None
            st = steady(rep.dir) if rep else None
            share = ""
            if w:
                c = w["cores"]
                sut = SUT[target]
                shown = [sut, "tool"] + (["redis"] if target == "status" else []) + (["backends"] if target not in ("status", "direct") else [])
                share = ", ".join(f"{n} {fmt(100 * c.get(n, 0))}%" for n in shown) + f", other sessions {fmt(100 * w['foreign'])}%"
                rest = sum(v for n, v in c.items() if n not in shown)
                if rest >= 0.01:
                    share += f", idle proxies {fmt(100 * rest)}%"
                if w["lost"]:
                    share += " (" + ", ".join(w["lost"]) + " ended inside the window)"
            rows.append([
                TARGET_NAMES[target], ", ".join(scout), ", ".join(knees), f"{fmt(knees_by[target])}",
                f"**{fmt(rate)}**" if rate else f"none (last try {label.rsplit('-', 1)[-1] if label else '-'} failed)",
                (f"{fmt(float(lat['p99_ms']), 1)} / {fmt(st[0], 1)}" if lat and st else "n/a"), share, "; ".join(fails),
            ])
        text = ["## Max sustainable rate (p99 < 50 ms, no errors)", "",
                f"Knee: the last passing {self.meta.get('STEP_SECONDS')}-second step of a find-max search; the figure is the median over the "
                f"scout and the searches. Sustained: the highest of the knee, 85% and 70% of it that also passes a "
                f"{self.meta.get('FIXED_SECONDS')}-second run (queues that build slowly at the edge show up only in longer runs), judged "
                "with the find-max rules, or, when only its first second fails them (the jump from the tool's 1,000/s warm-up while "
                "its connection pool grows), on its steady state: every later second with p99 <= 50 ms and at most 1% late starts. "
                "*p99 there*: the whole run's / the worst steady second's. In brackets after a knee: CPU that other sessions used "
                "during that search, in % of one core. CPU is from the last of those runs, in % of one core (the machine has "
                + self.meta.get("nproc", "?") + "); *other sessions* is CPU used by processes that are not part of the benchmark.", "",
                table(["target", "scout knee /s", "search knees /s", "median knee /s", "sustained /s", "p99 there (ms): run / steady", "CPU there",
                       "failing steps (rate/s: why)"], rows)]
        ratios = []
        for name, values in (("sustained", sustained), ("median knees", knees_by)):
            g = values.get("gateway")
            parts = [f"{TARGET_NAMES[b]} **{g / values[b]:.2f}x**" for b in ("bare-yarp", "nginx", "direct") if g and values.get(b)]
            if parts:
                ratios.append(f"{name}: " + ", ".join(parts))
        if ratios:
            text.append("Gateway (admitted) against the baselines, same run: " + "; ".join(ratios) + ".\n")
        return "\n".join(text) + "\n"

    def equal(self):
        rate = self.meta.get("EQUAL_RATE")
        rows = []
        stats = {}
        for target in self.targets() + ["status"]:
            kind = "status-equal" if target == "status" else "equal"
            s = self.equal_stats(kind, target)
            if not s["n"]:
                continue
            stats[target] = s
            us = s["us"]
            sut = SUT[target]
            rows.append([
                TARGET_NAMES[target], s["n"], fmt(s["rate"]), fmt(s["p50"], 2), fmt(s["p99"], 2),
                " / ".join(fmt(v, 1) for v in s["p99_all"]), fmt(s["errors"]),
                fmt(us.get(sut)), fmt(us.get("backends")) if target not in ("direct", "status") else "-",
                fmt(us.get("redis")) if target == "status" else "-", fmt(us.get("tool")),
                fmt(100 * s["foreign"]) + "%" if s["foreign"] is not None else "n/a",
            ])
        text = [f"## Side by side at {rate}/s", "",
                f"Medians of the interleaved rounds (status polls: their own runs at {self.meta.get('STATUS_RATE')}/s). CPU is microseconds of CPU time per request (user + system, from /proc) of "
                "each process; the system under test is the proxy (or the backend for the direct run).", "",
                table(["target", "runs", "achieved /s", "p50 ms", "p99 ms", "p99 per run", "errors", "CPU us/req: system under test",
                       "backends", "redis", "load tool", "other sessions (% of a core)"], rows)]
        g, y, n = stats.get("gateway"), stats.get("bare-yarp"), stats.get("nginx")
        notes = []
        if g and y and g["us"].get("gateway") and y["us"].get("bare-yarp"):
            notes.append(f"gateway / bare YARP CPU per request: **{g['us']['gateway'] / y['us']['bare-yarp']:.2f}x**")
        if g and n and g["us"].get("gateway") and n["us"].get("nginx"):
            notes.append(f"gateway / nginx: **{g['us']['gateway'] / n['us']['nginx']:.2f}x**")
        if y and n and y["us"].get("bare-yarp") and n["us"].get("nginx"):
            notes.append(f"bare YARP / nginx: {y['us']['bare-yarp'] / n['us']['nginx']:.2f}x")
        if g and y and g["p99"] and y["p99"]:
            notes.append(f"p99 gateway / bare YARP: {g['p99'] / y['p99']:.2f}x")
        if notes:
            text.append("Ratios at equal rate: " + "; ".join(notes) + ".\n")
        return "\n".join(text) + "\n"

    def redis_per_polls(self):
        per_run = []
        for r in self.of("status-equal", "status"):
            rep = self.reports[r["label"]]
            ran = rep.run()
            w = window(self.run, r["label"])
            if not ran or not w or not w["a"].get("redis") or not w["b"].get("redis"):
                continue
            polls = ran[3] * w["dt"]
            ca, cb = w["a"]["redis"]["commands"], w["b"]["redis"]["commands"]
            deltas = {k: cb[k]["calls"] - ca.get(k, {"calls": 0})["calls"] for k in cb}
            usec = {k: cb[k]["usec"] - ca.get(k, {"usec": 0})["usec"] for k in cb}
            ia, ib = w["a"]["redis"]["info"], w["b"]["redis"]["info"]
            cpu = sum(float(ib[k]) - float(ia[k]) for k in ("used_cpu_sys", "used_cpu_user"))
            trips = sum(v for k, v in deltas.items() if k not in self.script_cmds and k != "info")
            per_run.append({"polls": polls, "deltas": deltas, "usec": usec, "cpu": cpu, "trips": trips,
                            "proc_cpu": w["cores"].get("redis", 0) * w["dt"]})
        if not per_run:
            return "## Redis per 10,000 status polls\n\nNo status runs with Redis snapshots.\n\n"
        k = 10000
        trips = median([p["trips"] / p["polls"] * k for p in per_run])
        cpu = median([p["cpu"] / p["polls"] * k for p in per_run])
        proc = median([p["proc_cpu"] / p["polls"] * k for p in per_run])
        cmds = sorted({c for p in per_run for c in p["deltas"] if p["deltas"][c] > 0 and c != "info"})
        rows = []
        for c in sorted(cmds, key=lambda c: -median([p["deltas"].get(c, 0) for p in per_run])):
            rows.append([c, "inside scripts" if c in self.script_cmds else "client round trip",
                         fmt(median([p["deltas"].get(c, 0) / p["polls"] * k for p in per_run])),
                         fmt(median([p["usec"].get(c, 0) / max(1, p["deltas"].get(c, 0)) for p in per_run]), 2)])
        return "\n".join([
            "## Redis per 10,000 status polls", "",
            f"From `INFO commandstats` / `INFO cpu` before and after the steady window of each equal-rate status run "
            f"({len(per_run)} runs, medians), with the maintenance tick (one script per room per second) included as it runs in production.", "",
            f"- Round trips (commands sent by the gateway): **{fmt(trips)}** per 10k polls, i.e. {fmt(trips / k, 3)} per poll.",
            f"- Redis CPU (`used_cpu_user + used_cpu_sys`): **{fmt(cpu, 3)} s** per 10k polls ({fmt(cpu / k * 1e6)} us per poll); "
            f"from /proc: {fmt(proc, 3)} s.", "",
            table(["command", "kind", "calls per 10k polls", "us per call (inside Redis)"], rows),
        ]) + "\n"

    def memory(self):
        s = load_snap(self.run, "queue")
        if not s:
            return None
        gw = s["processes"].get("gateway", {})
        info = (s.get("redis") or {}).get("info", {})
        return {
            "rss": gw.get("rss_kb", 0), "hwm": gw.get("hwm_kb", 0),
            "redis_used": int(info.get("used_memory", 0)), "redis_rss": int(info.get("used_memory_rss", 0)),
            "queued": int(self.meta.get("queued", "0") or 0),
        }

    def memory_section(self):
        mem = self.memory()
        if not mem:
            return ""
        rep = self.reports.get("status-prefill")
        pre = rep.run("prefill", "Setup") if rep else None
        cal = self.reports.get("status-calibrate")
        a, b = load_snap(self.run, "prefill.a"), load_snap(self.run, "queue")
        joins_cpu = ""
        if a and b and pre:
            dt = b["time"] - a["time"]
            def cpu(name):
                pa, pb = a["processes"].get(name), b["processes"].get(name)
                return (pb["user_s"] + pb["sys_s"] - pa["user_s"] - pa["sys_s"]) if pa and pb else 0
            joins_cpu = (f" CPU over the prefill step ({fmt(dt)} s, joins plus a {self.meta.get('FIXED_SECONDS')} s poll run): "
                         f"gateway {fmt(cpu('gateway') * 1e6 / max(1, pre[1]))} us, redis {fmt(cpu('redis') * 1e6 / max(1, pre[1]))} us per join.")
        note = self.meta.get("prefill_note")
        lines = ["## Memory with the queue full", "",
                 f"- People waiting in `storm` (ZCARD of the queue): **{fmt(mem['queued'])}**" + (f" ({note})" if note else "") + ".",
                 f"- Gateway RSS **{fmt(mem['rss'] / 1024)} MiB** (peak since start {fmt(mem['hwm'] / 1024)} MiB): the queue lives in Redis, "
                 "the gateway holds no per-person state.",
                 f"- Redis `used_memory` {fmt(mem['redis_used'] / 2**20)} MiB (RSS {fmt(mem['redis_rss'] / 2**20)} MiB), "
                 f"{fmt(mem['redis_used'] / max(1, mem['queued']))} bytes per waiting person."]
        if pre:
            lines.append(f"- Joins: {fmt(pre[1])} in {fmt(pre[0])} s = **{fmt(pre[3])}/s** (256 concurrent joiners, closed model), "
                         f"{fmt(pre[2])} errors.{joins_cpu}")
        if cal:
            c = cal.run("prefill", "Setup")
            if c:
                lines.append(f"- Calibration prefill: {fmt(c[1])} joins at {fmt(c[3])}/s.")
        peaks = self.peaks()
        if peaks:
            lines.append("- Peak RSS over the whole benchmark (1 Hz samples): " + ", ".join(f"{n} {fmt(v / 1024)} MiB" for n, v in peaks) + ".")
        return "\n".join(lines) + "\n\n"

    def peaks(self):
        path = os.path.join(self.run, "samples.csv")
        if not os.path.exists(path):
            return []
        peak = {}
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                name = "load tool" if row["name"].startswith("tool") else row["name"]
                peak[name] = max(peak.get(name, 0), int(row["rss_kb"]))
        return sorted(peak.items())

    def mixed(self, kind="mixed"):
        s, a = self.reports.get(f"{kind}-status"), self.reports.get(f"{kind}-admitted")
        if not s or not a or not s.ok or not a.ok:
            return None
        rs, ra = s.run(), a.run()
        ls, la = s.latency(), a.latency()
        if not rs or not ra or not ls or not la:
            return None
        target = sum(float(r["rate"]) for r in self.of(kind))
        achieved = rs[3] + ra[3]
        p99s, p99a = float(ls["p99_ms"]), float(la["p99_ms"])
        kept = rs[4] and ra[4]
        errors = rs[2] + ra[2]
        w = window(self.run, f"{kind}-status")
        return {"target": target, "achieved": achieved, "p99_status": p99s, "p99_admitted": p99a, "kept": kept,
                "errors": errors, "w": w, "met": kept and errors == 0 and max(p99s, p99a) < 50 and achieved >= 0.99 * target}

    def mixed_section(self):
        runs = [(kind, self.mixed(kind)) for kind in ("mixed", "mixed-fit")]
        runs = [(kind, m) for kind, m in runs if m]
        if not runs:
            return ""
        lines = ["## The moonshot: mixed load on the whole machine", "",
                 f"90% status polls and 10% admitted gated GETs for {self.meta.get('FIXED_SECONDS')} s, two load-tool processes, nothing "
                 "pinned (gateway, Redis, backends and the tools share both cores): first the moonshot's rate, then the mix the "
                 "sustained rates above predict, 1 / (0.9 / polls + 0.1 / admitted), rounded down to a thousand.", ""]
        for kind, m in runs:
            lines.append(f"- **{fmt(m['target'])}/s**: achieved {fmt(m['achieved'])}/s, errors {fmt(m['errors'])}, status p99 "
                         f"{fmt(m['p99_status'], 1)} ms, admitted p99 {fmt(m['p99_admitted'], 1)} ms; arrival schedule "
                         f"{'kept' if m['kept'] else '**not kept** (the machine, tools included, could not keep up)'}: "
                         f"**{'sustained' if m['met'] else 'not sustained'}**.")
            if m["w"]:
                c = m["w"]["cores"]
                lines.append("  CPU in the window (% of one core): " + ", ".join(
                    f"{n} {fmt(100 * v)}%" for n, v in sorted(c.items(), key=lambda kv: -kv[1]) if v >= 0.005) +
                    f", other sessions {fmt(100 * m['w']['foreign'])}%; machine busy {fmt(100 * m['w']['busy'])}% of "
                    f"{100 * int(self.meta.get('nproc', '2'))}%.")
        return "\n".join(lines) + "\n\n"

    def crowd(self):
        rep = self.reports.get("flash-crowd")
        if not rep or not rep.ok:
            return None
        sec = rep.section("Flash crowd") or []
        text = "\n".join(sec)
        fivexx = re.search(r"5xx answers from the gateway: \*\*(\d+)\*\*", text)
        rows = [l for l in sec if l.startswith("| http://")]
        within = "n/a"
        if rows:
            within = "yes" if all(l.rstrip(" |").endswith("yes") for l in rows) else "no"
        return {"fivexx": fivexx[1] if fivexx else "n/a", "within": within, "section": sec, "report": rep}

    def crowd_section(self):
        c = self.crowd()
        if not c:
            return ""
        m = self.meta
        lines = ["## Flash crowd", "",
                 f"{m.get('CROWD_USERS')} users join over {m.get('CROWD_JOIN')} s, each polls every 2-4 s, enters when ready and "
                 f"calls the three gated backends once. Room bucket capacity {m.get('CROWD_CAPACITY')}, refill "
                 f"{m.get('CROWD_REFILL')}/s (raised from the default 10/s so the crowd drains within the run); backends restarted "
                 f"with capacity {m.get('CROWD_BACKEND_CAPACITY')}/s each; gateway restarted on an empty Redis. From the load tool's report:", ""]
        body = [re.sub(r"^## ", "### ", l) for l in c["section"]]
        while body and not body[0].strip():
            body.pop(0)
        lines += body
        ran = c["report"].run()
        if ran:
            lines.append(f"Run: {fmt(ran[0], 1)} s, {fmt(ran[1])} requests, {fmt(ran[2])} errors.")
        return "\n".join(lines).rstrip() + "\n\n"

    def profile_section(self):
        lines = ["## Where the gateway's time goes", ""]
        any_profile = False
        for label, what in (("profile-status", "status polls"), ("profile-admitted", "admitted gated GETs")):
            a = os.path.join(self.run, "profile", f"{label}.threads.a.json")
            b = os.path.join(self.run, "profile", f"{label}.threads.b.json")
            if not os.path.exists(a) or not os.path.exists(b):
                continue
            any_profile = True
            ta, tb = json.load(open(a)), json.load(open(b))
            dt = tb["time"] - ta["time"]
            # Per thread id: a thread born in the window counts from zero; one that ended in it is lost (rare).
            deltas, counts = {}, {}
            for tid, t in tb["by_tid"].items():
                before = ta["by_tid"].get(tid)
                d = t["cpu_s"] - (before["cpu_s"] if before and before["name"] == t["name"] else 0)
                deltas[t["name"]] = deltas.get(t["name"], 0) + d
                counts[t["name"]] = counts.get(t["name"], 0) + 1
            total = sum(deltas.values())
            w = window(self.run, label)
            rate = self.meta.get("STATUS_RATE" if label == "profile-status" else "EQUAL_RATE")
            lines.append(f"### {what} at {rate}/s")
            lines.append("")
            if w:
                c = w["cores"]
                lines.append("CPU in the window (% of one core): " + ", ".join(
                    f"{n} {fmt(100 * v)}%" for n, v in sorted(c.items(), key=lambda kv: -kv[1])) + f", other sessions {fmt(100 * w['foreign'])}%.")
                lines.append("")
            rows = [[n, counts[n], fmt(100 * d / dt), pct(d, total)]
                    for n, d in sorted(deltas.items(), key=lambda kv: -kv[1]) if d > 0]
            lines.append(f"Gateway threads by name (/proc/PID/task, {fmt(dt, 1)} s):")
            lines.append("")
            lines.append(table(["thread name", "threads", "% of a core", "share"], rows))
            samples = read_perf(os.path.join(self.run, "profile", f"{label}.dsosym.txt"))
            if samples:
                lines.append(f"`perf record -e cpu-clock -F 499` on the gateway ({fmt(len(samples))} symbols), by component:")
                lines.append("")
                by_component = {}
                for p, dso, sym in samples:
                    key = component(dso, sym)
                    by_component[key] = by_component.get(key, 0) + p
                lines.append(table(["component", "% of samples"],
                                   [[k, f"{v:.1f}"] for k, v in sorted(by_component.items(), key=lambda kv: -kv[1]) if v >= 0.5]))
                lines.append("Hottest functions:")
                lines.append("")
                top = sorted(samples, key=lambda e: -e[0])[:20]
                lines.append(table(["% of samples", "component", "function"],
                                   [[f"{p:.1f}", component(dso, sym), "`" + short_symbol(sym).replace("|", "\\|") + "`"] for p, dso, sym in top]))
        if not any_profile:
            lines.append("No profile was taken in this run.\n")
        if self.meta.get("perf") != "1":
            lines.append("perf was not usable here: only the per-thread CPU split is shown.\n")
        return "\n".join(lines) + "\n"

    def spin_section(self):
        runs = self.of("spin-equal") + self.of("spin-findmax")
        if not runs:
            return ""
        rows = []
        for target, kind in (("status", "status-equal"), ("gateway", "equal")):
            base = self.equal_stats(kind, target)
            spin = self.equal_stats("spin-equal", target)
            scout = self.reports.get(f"scout-{target}")
            k0 = int(float(scout.knee()["target_rate"])) if scout and scout.knee() else None
            k1 = self.meta.get(f"spin_knee_{target}")
            k1 = int(k1) if k1 and k1.isdigit() else None
            rows.append([
                TARGET_NAMES[target],
                f"{fmt(base['us'].get('gateway'))} -> **{fmt(spin['us'].get('gateway'))}**",
                f"{fmt(base['p99'], 1)} -> {fmt(spin['p99'], 1)}",
                f"{fmt(k0)} -> **{fmt(k1)}**",
            ])
        return "\n".join([
            "## A runtime knob: the thread pool's spin-wait", "",
            "Idle .NET thread-pool workers spin before they sleep, so a half-loaded server burns CPU waiting for work; with "
            "four busy processes on two cores that CPU is taken from the others. The same gateway restarted with "
            "`DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0` (same Redis and queue; one run and one scout search each, so compare "
            "with the default gateway's scout, and expect the noise of single runs):", "",
            table(["gateway", f"CPU us/req (status at {self.meta.get('STATUS_RATE')}/s, admitted at {self.meta.get('EQUAL_RATE')}/s): default -> no spin",
                   "p99 ms", "scout knee /s: default -> no spin"], rows),
        ]) + "\n"

    def noise(self):
        rows = []
        for r in self.runs:
            w = window(self.run, r["label"])
            if w:
                waited = (r.get("quiet") or "0 -").split()[0]
                rows.append([r["label"], waited, fmt(100 * w["busy"]), fmt(100 * w["foreign"]), fmt(100 * w["steal"]), f"{w['load']:.2f}"])
        if not rows:
            return ""
        return "\n".join([
            "## Noise", "",
            "The machine is shared with other sessions (builds, test suites). Before each run the script waits (at most "
            f"{self.meta.get('QUIET_MAX')} s, {self.meta.get('QUIET_BUDGET')} s in all; {self.quiet_spent()} s spent) until other processes use less "
            f"than {self.meta.get('QUIET_CORES')} of a core. For every measured window: the seconds waited, the whole machine's busy "
            "CPU, the part used by processes that are not the benchmark's, hypervisor steal (all in % of one core), and the "
            "1-minute load average at its end. Windows with high *other* CPU are the ones to distrust.", "",
            "<details><summary>per-window figures</summary>", "",
            table(["run", "waited s", "busy %", "other sessions %", "steal %", "load avg"], rows),
            "</details>", "",
        ]) + "\n"

    def quiet_spent(self):
        return fmt(sum(float((r.get("quiet") or "0").split()[0]) for r in self.runs), 0)

    def files(self):
        return "\n".join([
            "## Raw data", "",
            f"Per-run reports (Markdown, CSV, PNG), `samples.csv` (1 Hz CPU and RSS of every process), Redis INFO snapshots and the "
            f"profiles were written to `loadtest/results/{os.path.basename(self.run)}/` (git-ignored); this page is the summary.", "",
        ])


def steady(directory):
    """A fixed-rate run without its first second (the jump from the tool's 1,000/s warm-up, while its connection
    pool grows): (worst per-second p99 ms, errors, late starts, started) over the remaining seconds."""
    path = os.path.join(directory, "timeline.csv")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if float(r["run_elapsed_s"]) > 1.5 and int(r["completed"]) > 0]
    if not rows:
        return None
    return (max(float(r["p99_ms"]) for r in rows), sum(int(r["errors"]) for r in rows),
            sum(int(r["late"]) for r in rows), sum(int(r["started"]) for r in rows))


def verdict(directory, p99_limit):
    """'pass', or 'fail: why', for a fixed-rate run: no error, and either the find-max rules over the whole run
    (p99 within the limit, schedule kept) or the same over its steady state (every second after the first
    within the limit, at most 1% late starts), so the first second's warm-up jump alone does not fail it."""
    rep = Report(directory)
    ran, st, lat = rep.run(), steady(directory), rep.latency()
    if not ran or not st or not lat:
        return "fail: no report"
    worst, errors, late, started = st
    if ran[2] or errors:
        return f"fail: {ran[2]} errors"
    if ran[4] and float(lat["p99_ms"]) <= p99_limit:
        return "pass"
    if late > 0.01 * max(1, started):
        return f"fail: schedule not kept ({late} late starts after the first second)"
    if worst > p99_limit:
        return f"fail: p99 {float(lat['p99_ms']):.1f} ms, and a steady second at {worst:.1f} ms"
    return "pass"


def main(argv):
    if len(argv) == 3 and argv[0] == "verdict":
        print(verdict(argv[1], float(argv[2])))
        return 0
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    run, out = argv
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    bench = Bench(run, root)
    analysis = f"{ANALYSIS_START}\n## What limited it\n\n(Not written yet for this run.)\n{ANALYSIS_END}\n"
    if os.path.exists(out):
        old = open(out, encoding="utf-8").read()
        if ANALYSIS_START in old and ANALYSIS_END in old:
            analysis = old[old.index(ANALYSIS_START):old.index(ANALYSIS_END) + len(ANALYSIS_END)] + "\n"
    parts = [
        bench.header(), bench.targets_summary(), analysis, bench.setup(), bench.maxrate(), bench.equal(),
        bench.redis_per_polls(), bench.memory_section(), bench.mixed_section(), bench.crowd_section(),
        bench.profile_section(), bench.spin_section(), bench.noise(), bench.files(),
    ]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(p.rstrip("\n") + "\n" for p in parts if p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
