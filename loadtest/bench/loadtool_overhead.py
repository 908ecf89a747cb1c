#!/usr/bin/env python3
"""Driver of loadtest/bench/loadtool-overhead.sh: the load tool's own CPU per request beside wrk.

  loadtool_overhead.py --work DIR --tool NAME=DLL[,VAR=VALUE...] [--tool ...] [--rounds N] [--rates R,R,...]
                       [--no-max] [--no-wrk] [--seconds S] [--wrk-seconds S] [--users N]
                       [--server-cpu C] [--generator-cpu C]

A tool's VAR=VALUE pairs are set in its environment (to try a runtime knob side by side, e.g.
--tool spin0=bin/LoadTest.dll,DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0).

Starts nginx (one process, `return 200 "ok"`, stub_status) on a free 127.0.0.1 port pinned to the server
CPU, then per round, interleaved: wrk (closed loop, -t1 -cUSERS), and every tool at every fixed rate and
closed-loop with USERS users (its max), each pinned to the generator CPU. For each run it reads utime+stime
of the generator and of nginx from /proc/<pid>/stat and nginx's request counter (stub_status) at the start
and the end of a steady window (after the tool's warm-up and its first seconds), so start-up, JIT, warm-up
and report writing are outside it. Prints a Markdown table of the medians over the rounds; per-run rows go
to DIR/runs.csv. Standard library only; loopback only; every run has a timeout.
"""

import argparse
import csv
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procstat import machine_seconds  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
        raw = f.read()
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def machine_busy_seconds():
    """CPU seconds the machine was busy since boot (procstat.machine_seconds: from /proc/uptime, exact on a tickless
    kernel; the tick-counted busy columns of /proc/stat miss timer-paced work)."""
    return machine_seconds()[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, work, cpu):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"""
# One process (no master): its pid is the one measured.
daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    location = /nginx_status {{ stub_status; }}
    location / {{ default_type text/plain; return 200 "ok"; }}
  }}
}}
""")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(cpu), "nginx", "-e", f"{self.dir}/error.log", "-p", self.dir, "-c", conf],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr.log"), "w", encoding="utf-8"))
        deadline = time.monotonic() + 10
        while True:
            try:
                self.requests(attempts=1)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {self.dir}/error.log")
                time.sleep(0.1)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def requests(self, attempts=3):
        for attempt in range(attempts):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/nginx_status", timeout=10) as r:
                    text = r.read().decode()
                return int(text.splitlines()[2].split()[2])
            except OSError:
                # A machine busy with other work can leave one read unanswered for seconds.
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wrk_ms(text):
    value = float(re.match(r"[\d.]+", text).group(0))
    unit = text[len(re.match(r"[\d.]+", text).group(0)):]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_one(args, nginx, generator, load, argv, ready, delay, window, timeout, log_path, env=None):
    """Runs one generator; measures a window of `window` s starting `delay` s after `ready` is printed."""
    lines = []
    seen = threading.Event()
    log = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen(["taskset", "-c", str(args.generator_cpu)] + argv,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})

    def pump():
        for line in proc.stdout:
            lines.append(line)
            log.write(line)
            if ready is None or ready in line:
                seen.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    started = time.monotonic()
    if ready is None:
        seen.set()
    row = {"generator": generator, "load": load, "ok": False}
    try:
        if not seen.wait(timeout):
            raise RuntimeError("never became ready")
        time.sleep(delay)
        if proc.poll() is not None:
            raise RuntimeError("exited before the window")
        t0, c0, n0, r0, b0 = time.monotonic(), proc_cpu_seconds(proc.pid), proc_cpu_seconds(nginx.proc.pid), nginx.requests(), machine_busy_seconds()
        time.sleep(window)
        if proc.poll() is not None:
            raise RuntimeError("exited inside the window: make the run longer")
        t1, c1, n1, r1, b1 = time.monotonic(), proc_cpu_seconds(proc.pid), proc_cpu_seconds(nginx.proc.pid), nginx.requests(), machine_busy_seconds()
        proc.wait(max(1, timeout - (time.monotonic() - started)))
        reader.join(5)
        requests = max(r1 - r0 - 1, 1)  # minus the stub_status read itself
        seconds = t1 - t0
        row.update(
            ok=True,
            rate=requests / seconds,
            gen_us=(c1 - c0) * 1e6 / requests,
            gen_core=(c1 - c0) / seconds,
            nginx_us=(n1 - n0) * 1e6 / requests,
            others_core=max(0.0, (b1 - b0) - (c1 - c0) - (n1 - n0)) / seconds,
        )
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        row["error"] = str(error)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        log.close()

    text = "".join(lines)
    if generator == "wrk":
        p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
        p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
        row.update(p50=wrk_ms(p50.group(1)) if p50 else None, p99=wrk_ms(p99.group(1)) if p99 else None, kept=None)
    else:
        latency = re.search(r"latency ms p50 ([\d.]+) p99 ([\d.]+)", text)
        row.update(p50=float(latency.group(1)) if latency else None, p99=float(latency.group(2)) if latency else None)
        if "SCHEDULE NOT KEPT" in text:
            row["kept"] = False
        elif "schedule kept" in text:
            row["kept"] = True
        else:
            row["kept"] = None  # closed model: no schedule
        lag = re.search(r"start lag p99 ([\d.]+) ms", text)
        row["lag_p99"] = float(lag.group(1)) if lag else None
        gc = re.search(r"GC: (\d+) collections.*?([\d.]+) ms paused", text)
        row["gc"] = f"{gc.group(1)} GCs, {gc.group(2)} ms" if gc else None
        allocated = re.search(r"([\d.]+) bytes allocated per request", text)
        row["alloc"] = float(allocated.group(1)) if allocated else None
    if not row["ok"] or (generator != "wrk" and row["p50"] is None):
        row["ok"] = False
        row.setdefault("error", "no summary in the output")
        print(f"  {generator} {load}: FAILED ({row['error']}); log {log_path}", file=sys.stderr)
    else:
        print(f"  {generator:>7} {load:>11}: {row['rate']:8.0f}/s  gen {row['gen_us']:6.1f} us/req ({row['gen_core'] * 100:3.0f}% core)"
              f"  nginx {row['nginx_us']:5.1f} us/req  p50 {row['p50']} p99 {row['p99']} ms"
              f"  kept {row.get('kept')}  others {row['others_core'] * 100:3.0f}%", file=sys.stderr, flush=True)
    return row


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, pattern="{:,.0f}"):
    return "-" if value is None else pattern.format(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--tool", action="append", default=[], help="NAME=path/to/LoadTest.dll[,VAR=VALUE...]")
    parser.add_argument("--no-max", action="store_true", help="skip the tools' closed-loop max runs")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rates", default="5000,10000,20000")
    parser.add_argument("--seconds", type=int, default=8, help="the tool's measured run")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--generator-cpu", type=int, default=1)
    args = parser.parse_args()
    tools = []
    for spec in args.tool:
        name, rest = spec.split("=", 1)
        dll, *pairs = rest.split(",")
        tools.append((name, dll, dict(pair.split("=", 1) for pair in pairs)))
    rates = [int(r) for r in args.rates.split(",") if r]
    if args.seconds < 6 or args.wrk_seconds < 6:
        sys.exit("runs must be at least 6 s: the window starts 2 s in and lasts 3 s or more")

    nginx = Nginx(args.work, args.server_cpu)
    rows = []
    try:
        loads = [f"{r}/s" for r in rates] + ([] if args.no_max else [f"max ({args.users} users)"])
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}/{args.rounds}", file=sys.stderr, flush=True)
            log = os.path.join(args.work, f"r{round_number}-wrk.log")
            rows.append(None if args.no_wrk else run_one(
                args, nginx, "wrk", f"max ({args.users} conns)",
                ["wrk", "-t1", f"-c{args.users}", f"-d{args.wrk_seconds}s", "--latency", nginx.url],
                None, 2, args.wrk_seconds - 4, args.wrk_seconds + 20, log))
            for load_index, load in enumerate(loads):
                # Alternate which tool goes first so a slow spell of the machine does not always hit the same one.
                order = tools if (round_number + load_index) % 2 else list(reversed(tools))
                for name, dll, env in order:
                    out = os.path.join(args.work, f"r{round_number}-{name}-{load_index}")
                    model = (["--concurrency", str(args.users)] if load.startswith("max")
                             else ["--rate", str(rates[load_index])])
                    argv = ["dotnet", dll, "--scenario", "http", "--url", nginx.url, *model,
                            "--duration", str(args.seconds), "--warmup", "2", "--out", out]
                    # The window: from 2 s after the warm-up to 1 s before the measured run ends.
                    rows.append(run_one(args, nginx, name, load, argv, "[warm-up]", 2, args.seconds - 3,
                                        args.seconds + 60, out + ".log", env))
    finally:
        nginx.stop()
    rows = [row for row in rows if row is not None]

    with open(os.path.join(args.work, "runs.csv"), "w", newline="", encoding="utf-8") as f:
        fields = ["generator", "load", "ok", "rate", "gen_us", "gen_core", "nginx_us", "p50", "p99", "kept", "lag_p99", "gc", "alloc", "others_core", "error"]
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    print("| generator | load | runs | achieved /s | generator CPU us/req (min-max) | generator CPU (% of a core) "
          "| nginx CPU us/req | p50 ms | p99 ms | schedule kept | others (% of a core) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    keys = []
    for row in rows:
        key = (row["generator"], row["load"])
        if key not in keys:
            keys.append(key)
    for key in keys:
        runs = [r for r in rows if (r["generator"], r["load"]) == key and r["ok"]]
        failed = len([r for r in rows if (r["generator"], r["load"]) == key]) - len(runs)
        if not runs:
            print(f"| {key[0]} | {key[1]} | 0 ({failed} failed) | - | - | - | - | - | - | - | - |")
            continue
        kept = [r["kept"] for r in runs if r.get("kept") is not None]
        kept_text = f"{sum(kept)}/{len(kept)}" if kept else "n/a (closed loop)"
        gen = [r["gen_us"] for r in runs]
        print(f"| {key[0]} | {key[1]} | {len(runs)}{f' ({failed} failed)' if failed else ''} | {fmt(median([r['rate'] for r in runs]))} "
              f"| **{fmt(median(gen), '{:.1f}')}** ({min(gen):.1f}-{max(gen):.1f}) | {fmt(median([r['gen_core'] * 100 for r in runs]))}% "
              f"| {fmt(median([r['nginx_us'] for r in runs]), '{:.1f}')} | {fmt(median([r['p50'] for r in runs]), '{:.2f}')} "
              f"| {fmt(median([r['p99'] for r in runs]), '{:.2f}')} | {kept_text} | {fmt(median([r['others_core'] * 100 for r in runs]))}% |")


if __name__ == "__main__":
    main()
