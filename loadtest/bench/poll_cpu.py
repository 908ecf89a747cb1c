#!/usr/bin/env python3
"""Driver of loadtest/bench/poll-cpu.sh: the gateway's CPU per status poll at fixed rates, variants side by side.

  poll_cpu.py --work DIR --gateway DLL --tool DLL --redis-port P --variant NAME=[VAR=VALUE,...] [--variant ...]
              [--rates R,R,...] [--rounds N] [--seconds S] [--warm S] [--prewarm S] [--sample N]
              [--gateway-cpu C] [--aux-cpu C]

Per round, per variant (interleaved, so every variant sees the same minutes of a shared machine): Redis is
emptied, a gateway starts pinned to the gateway CPU with one core's worth of threads (DOTNET_PROCESSOR_COUNT=1,
as in the shared yardstick) and the variant's settings, and for every rate the load tool (pinned to the aux CPU,
beside Redis) joins --sample people into a room that admits nobody and polls their status at that rate, open
model; with --prewarm, the fresh gateway is first driven at the highest rate for that long (its own --sample
people join too, so the measured rates see that many more in line). A sampler reads the gateway's utime+stime (/proc/<pid>/stat) four times a second; the tool's timeline
(one row per second, with its Unix time) says which seconds were at the rate. The gateway's CPU over those
seconds, after --warm seconds, divided by the polls completed in them is its CPU per poll; the joins, the start-up
and the JIT are outside the window. Prints a Markdown table of the medians over the rounds (and their spread);
per-run rows go to DIR/runs.csv. Standard library only; loopback only; every run has a timeout.
"""

import argparse
import base64
import csv
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtool_overhead import free_port, machine_busy_seconds, proc_cpu_seconds  # noqa: E402


def log(message):
    print(f"[poll-cpu] {message}", file=sys.stderr, flush=True)


RUNTIMECONFIG = "runtimeconfig:"
# build=DIR: the variant runs the Release build of another checkout (an A/B of two commits in the same rounds).
BUILD = "build"
GATEWAY_IN_CHECKOUT = os.path.join("Gateway.Proxy", "bin", "Release", "net10.0", "Gateway.Proxy.dll")


def parse_variant(text):
    """NAME=VAR=VALUE,... where VAR is an environment variable, runtimeconfig:PROPERTY for a runtimeconfig.json
    property (the runtime reads some knobs only there: the thread pool's spin limit is one), or build=DIR for the
    gateway built in another checkout (poll-cpu.sh builds it)."""
    name, _, pairs = text.partition("=")
    env = {}
    for pair in filter(None, pairs.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key or key == RUNTIMECONFIG:
            raise SystemExit(f"--variant {text}: '{pair}' is not VAR=VALUE or runtimeconfig:PROPERTY=VALUE")
        env[key] = value
    if not name:
        raise SystemExit(f"--variant {text}: a name is needed (e.g. spin0=DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)")
    return name, env


class Gateway:
    def __init__(self, args, env_extra, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "ASPNETCORE_ENVIRONMENT": "Production",
            "DOTNET_PROCESSOR_COUNT": "1",
            "ConnectionStrings__Redis": f"127.0.0.1:{args.redis_port}",
            "WaitingRoom__SigningKeys__0__Id": "k1",
            "WaitingRoom__SigningKeys__0__Secret": base64.b64encode(os.urandom(32)).decode(),
            # Nobody is let in: every poll is a waiting person's, with a rank to compute.
            "WaitingRoom__Rooms__storm__Capacity": "1",
            "WaitingRoom__Rooms__storm__RefillPerSecond": "0.001",
            "WaitingRoom__Rooms__storm__AbandonAfter": "01:00:00",
            "WaitingRoom__Rooms__storm__MaxQueueLength": "2000000",
            # Everything comes from 127.0.0.1: per-client limits off, as in every benchmark of the project.
            "WaitingRoom__MaxPlacesPerClient": "0",
            "WaitingRoom__PollsPerClientPerMinute": "0",
            "WaitingRoom__JoinsPerClientPerMinute": "0",
        })
        env.update({k: v for k, v in env_extra.items() if not k.startswith(RUNTIMECONFIG) and k != BUILD})
        if BUILD in env_extra and not env_extra[BUILD]:
            raise SystemExit("build= needs a checkout directory (build=/path/to/checkout)")
        dll = os.path.join(env_extra[BUILD], GATEWAY_IN_CHECKOUT) if BUILD in env_extra else args.gateway
        if not os.path.isfile(dll):
            raise SystemExit(f"{dll} does not exist: build it (dotnet build Gateway.Proxy -c Release)")
        command = ["taskset", "-c", str(args.gateway_cpu), "dotnet"]
        properties = {k[len(RUNTIMECONFIG):]: v for k, v in env_extra.items() if k.startswith(RUNTIMECONFIG)}
        if properties:
            command += ["exec", "--runtimeconfig", runtimeconfig_with(dll, properties, log_path + ".runtimeconfig.json")]
        self.log = open(log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            command + [os.path.basename(dll), "--urls", self.url],
            cwd=os.path.dirname(dll), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the gateway exited with {self.process.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the gateway did not answer /healthz in 90 s; see {log_path}")

    @property
    def pid(self):
        # taskset execs dotnet: the same process.
        return self.process.pid

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def runtimeconfig_with(dll, properties, path):
    """A copy of the gateway's runtimeconfig.json with PROPERTIES set (numbers and booleans as JSON values)."""
    with open(os.path.splitext(dll)[0] + ".runtimeconfig.json", encoding="utf-8") as f:
        config = json.load(f)
    target = config["runtimeOptions"].setdefault("configProperties", {})
    for key, value in properties.items():
        target[key] = json.loads(value) if value in ("true", "false") or value.lstrip("-").isdigit() else value
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return path


class Sampler(threading.Thread):
    """(unix time, gateway CPU seconds, machine busy seconds) four times a second."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.samples.append((time.time(), proc_cpu_seconds(self.pid), machine_busy_seconds()))
            except OSError:
                return
            self.done.wait(0.25)

    def at(self, when, column):
        """A column linearly interpolated at a Unix time inside the sampled span."""
        points = self.samples
        for (t0, *v0), (t1, *v1) in zip(points, points[1:]):
            if t0 <= when <= t1:
                share = (when - t0) / (t1 - t0) if t1 > t0 else 0
                return v0[column] + (v1[column] - v0[column]) * share
        raise ValueError(f"{when} is outside the samples ({points[0][0]}-{points[-1][0]})")


def run_rate(args, gateway, variant, round_no, rate):
    out = os.path.join(args.work, f"{variant}-{round_no}-{rate}")
    seconds = args.warm + args.seconds
    command = ["taskset", "-c", str(args.aux_cpu), "dotnet", args.tool, "--scenario", "status-storm",
               "--target", gateway.url, "--event", "storm", "--sample", str(args.sample),
               "--user-prefix", f"{variant}{round_no}r{rate}-", "--rate", str(rate), "--duration", str(seconds),
               "--out", out]
    sampler = Sampler(gateway.pid)
    sampler.start()
    with open(out + ".log", "w", encoding="utf-8") as tool_log:
        code = subprocess.run(command, stdout=tool_log, stderr=subprocess.STDOUT, timeout=seconds + 240).returncode
    sampler.done.set()
    sampler.join()
    with open(os.path.join(out, "timeline.csv"), encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["target_rate"] and float(r["target_rate"]) == rate]
    # The seconds after the warm-up, the last one left out (the run's end cuts it).
    window = [r for r in rows if float(r["run_elapsed_s"]) > args.warm][:-1]
    if len(window) < 2:
        raise SystemExit(f"{out}: only {len(window)} measured seconds (tool exit code {code})")
    start = float(window[0]["unix_s"]) - float(window[0]["interval_s"])
    end = float(window[-1]["unix_s"])
    polls = sum(int(r["completed"]) for r in window)
    cpu = sampler.at(end, 0) - sampler.at(start, 0)
    busy = sampler.at(end, 1) - sampler.at(start, 1)
    return {
        "variant": variant, "round": round_no, "rate": rate, "tool_exit": code,
        "seconds": round(end - start, 2), "polls": polls, "achieved_per_s": round(polls / (end - start)),
        "errors": sum(int(r["errors"]) for r in window), "late": sum(int(r["late"]) for r in window),
        "gateway_cores": round(cpu / (end - start), 3), "gateway_us_per_poll": round(cpu * 1e6 / polls, 1),
        "rest_of_machine_cores": round((busy - cpu) / (end - start), 3),
        "p50_ms_median_second": statistics.median(float(r["p50_ms"]) for r in window),
        "p99_ms_median_second": statistics.median(float(r["p99_ms"]) for r in window),
        "p99_ms_worst_second": max(float(r["p99_ms"]) for r in window),
    }


def prewarm(args, gateway, variant, round_no, rate):
    """Drives the fresh gateway for --prewarm seconds so that the measured seconds find its code tiered up."""
    out = os.path.join(args.work, f"{variant}-{round_no}-prewarm")
    command = ["taskset", "-c", str(args.aux_cpu), "dotnet", args.tool, "--scenario", "status-storm",
               "--target", gateway.url, "--event", "storm", "--sample", str(args.sample),
               "--user-prefix", f"{variant}{round_no}w-", "--rate", str(rate), "--duration", str(args.prewarm),
               "--out", out]
    with open(out + ".log", "w", encoding="utf-8") as tool_log:
        code = subprocess.run(command, stdout=tool_log, stderr=subprocess.STDOUT, timeout=args.prewarm + 240).returncode
    if code != 0:
        # A failed warm-up would pass a cold gateway off as a warm one.
        raise SystemExit(f"{out}: the warm-up run failed (tool exit code {code}); see {out}.log")


def flush_redis(port):
    subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], check=True, stdout=subprocess.DEVNULL, timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True)
    parser.add_argument("--gateway", required=True, help="Gateway.Proxy.dll of a Release build")
    parser.add_argument("--tool", required=True, help="LoadTest.dll of a Release build")
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--variant", action="append", type=parse_variant, required=True)
    parser.add_argument("--rates", default="5000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warm", type=int, default=10, help="seconds at each rate before its measured seconds")
    parser.add_argument("--prewarm", type=int, default=0,
                        help="seconds at the highest rate right after each gateway starts, not measured (tiering, PGO)")
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--gateway-cpu", type=int, default=0)
    parser.add_argument("--aux-cpu", type=int, default=1)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    if not all(0 < r <= 50000 for r in rates) or not 1 <= args.rounds <= 20 or not 5 <= args.seconds <= 300 \
            or not 0 <= args.prewarm <= 600:
        raise SystemExit("rates in (0, 50000], rounds 1-20, seconds 5-300, prewarm 0-600")

    rows = []
    for round_no in range(1, args.rounds + 1):
        for name, env in args.variant:
            flush_redis(args.redis_port)
            gateway = Gateway(args, env, os.path.join(args.work, f"gateway-{name}-{round_no}.log"))
            try:
                if args.prewarm:
                    prewarm(args, gateway, name, round_no, max(rates))
                for rate in rates:
                    row = run_rate(args, gateway, name, round_no, rate)
                    rows.append(row)
                    log(f"round {round_no} {name} {rate}/s: {row['gateway_us_per_poll']} us per poll, "
                        f"{row['achieved_per_s']}/s, {row['errors']} errors, p99 {row['p99_ms_median_second']} ms, "
                        f"rest of machine {row['rest_of_machine_cores']} cores")
            finally:
                gateway.stop()

    with open(os.path.join(args.work, "runs.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    print("| variant | rate /s | gateway CPU per poll, us: median (range) | achieved /s | errors | p99 ms (median second) | gateway cores | rest of machine, cores |")
    print("|---|---|---|---|---|---|---|---|")
    for name, env in args.variant:
        for rate in rates:
            runs = [r for r in rows if r["variant"] == name and r["rate"] == rate]
            us = [r["gateway_us_per_poll"] for r in runs]
            label = name + (f" ({', '.join(f'{k}={v}' for k, v in env.items())})" if env else " (as shipped)")
            print(f"| {label} | {rate:,} | **{statistics.median(us):.1f}** ({min(us):.1f}-{max(us):.1f}) "
                  f"| {statistics.median(r['achieved_per_s'] for r in runs):,.0f} | {sum(r['errors'] for r in runs)} "
                  f"| {statistics.median(r['p99_ms_median_second'] for r in runs):.1f} "
                  f"| {statistics.median(r['gateway_cores'] for r in runs):.2f} "
                  f"| {statistics.median(r['rest_of_machine_cores'] for r in runs):.2f} |")


if __name__ == "__main__":
    main()
