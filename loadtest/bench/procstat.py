#!/usr/bin/env python3
"""Process and Redis probes for loadtest/run-benchmarks.sh (Linux /proc only, standard library only).

  procstat.py snap OUT.json PIDS_FILE [REDIS_PORT]   one snapshot: machine CPU, every process, Redis INFO
  procstat.py threads OUT.json PID                    per-thread CPU of one process (by thread name)
  procstat.py sample OUT.csv PIDS_FILE [SECONDS]      a 1 Hz CPU/RSS sampler, until SIGTERM
  procstat.py quiet PIDS_FILE MAX_SECONDS CORES       waits until other processes use < CORES for a second

PIDS_FILE has one "name pid" per line; the script rewrites it as processes start and stop. A process's
figures include its children (nginx workers, the dotnet under `timeout`).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def read_pids(path):
    pids = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    pids[parts[0]] = int(parts[1])
    except FileNotFoundError:
        pass
    return pids


def stat_fields(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    # comm may contain spaces and parentheses: split after the last ')'.
    start, end = raw.index("("), raw.rindex(")")
    return raw[start + 1:end], raw[end + 2:].split()


def children_of():
    """ppid -> [pid] over every process."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            _, fields = stat_fields(f"/proc/{entry}/stat")
        except (OSError, ValueError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(pid, tree):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def process(pid, tree):
    """CPU seconds (user, system), RSS and peak RSS in KiB, threads: the process plus its descendants."""
    user = system = rss = hwm = threads = 0
    alive = False
    for p in descendants(pid, tree):
        try:
            _, fields = stat_fields(f"/proc/{p}/stat")
        except (OSError, ValueError):
            continue
        alive = True
        # Fields after comm start at index 0 = state (field 3): utime 14, stime 15, threads 20, rss 24.
        user += int(fields[11]) / CLK_TCK
        system += int(fields[12]) / CLK_TCK
        threads += int(fields[17])
        rss += int(fields[21]) * PAGE_KB
        hwm += status_kb(p, "VmHWM")
    return {"pid": pid, "alive": alive, "user_s": user, "sys_s": system, "rss_kb": rss, "hwm_kb": hwm, "threads": threads}


def machine_seconds():
    """(busy, idle, steal) CPU seconds of the whole machine since boot. Busy is its CPUs times the uptime minus their
    idle, iowait and stolen time: /proc/uptime's idle time is exact on a tickless kernel such as Debian's, while the
    busy columns of /proc/stat are counted on the scheduler tick and miss work done in step with it (a gateway batching
    polls on a 2 ms timer read there as half its own CPU). The CPUs are counted from /proc/stat, not from this
    process's affinity (taskset), because /proc/uptime's idle time covers all of them."""
    with open("/proc/stat", encoding="utf-8") as f:
        lines = f.read().splitlines()
    cpus = sum(1 for line in lines if re.match(r"cpu\d+ ", line))
    values = [int(v) for v in lines[0].split()[1:]]
    iowait, steal = (values + [0] * 8)[4] / CLK_TCK, (values + [0] * 8)[7] / CLK_TCK
    with open("/proc/uptime", encoding="utf-8") as f:
        uptime, idle = (float(v) for v in f.read().split()[:2])
    return uptime * cpus - idle - iowait - steal, idle + iowait, steal


def machine_cpu():
    busy, idle, steal = machine_seconds()
    with open("/proc/loadavg", encoding="utf-8") as f:
        load = f.read().split()[:3]
    return {
        "busy_s": busy,
        "idle_s": idle,
        "steal_s": steal,
        "loadavg": [float(v) for v in load],
    }


def redis_info(port):
    try:
        raw = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "INFO", "all"],
            capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    info, commands = {}, {}
    for line in raw.splitlines():
        if ":" not in line or line.startswith("#"):
            continue
        key, value = line.split(":", 1)
        if key.startswith("cmdstat_"):
            fields = dict(kv.split("=", 1) for kv in value.split(","))
            commands[key[len("cmdstat_"):]] = {"calls": int(fields["calls"]), "usec": int(fields["usec"])}
        else:
            info[key] = value.strip()
    return {"info": info, "commands": commands}


def snap(out, pids_file, redis_port=None):
    tree = children_of()
    data = {
        "time": time.time(),
        "machine": machine_cpu(),
        "processes": {name: process(pid, tree) for name, pid in read_pids(pids_file).items()},
        "redis": redis_info(redis_port) if redis_port else None,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(data, f)


def threads(out, pid):
    by_tid = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name, fields = stat_fields(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, ValueError):
            continue
        by_tid[tid] = {"name": name, "cpu_s": (int(fields[11]) + int(fields[12])) / CLK_TCK}
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"time": time.time(), "pid": pid, "by_tid": by_tid}, f)


def sample(out, pids_file, seconds=1.0):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    with open(out, "w", encoding="utf-8") as f:
        f.write("time,name,pid,cpu_s,rss_kb\n")
        while not stop:
            tree = children_of()
            now = time.time()
            for name, pid in read_pids(pids_file).items():
                p = process(pid, tree)
                if p["alive"]:
                    f.write(f"{now:.3f},{name},{pid},{p['user_s'] + p['sys_s']:.2f},{p['rss_kb']}\n")
            f.flush()
            time.sleep(seconds)


def quiet(pids_file, max_seconds, cores):
    """Waits (at most max_seconds) until processes outside PIDS_FILE used less than `cores` CPUs over the
    last second, twice in a row; prints the seconds waited and the last figure."""
    start = time.time()
    calm = 0
    foreign = 0.0

    def ours():
        tree = children_of()
        return sum(p["user_s"] + p["sys_s"] for p in (process(pid, tree) for pid in read_pids(pids_file).values()))

    last_machine, last_ours, last_time = machine_cpu(), ours(), time.time()
    while time.time() - start < max_seconds:
        time.sleep(0.5)
        machine, mine, now = machine_cpu(), ours(), time.time()
        dt = now - last_time
        foreign = max(0.0, (machine["busy_s"] - last_machine["busy_s"]) - (mine - last_ours)) / dt
        last_machine, last_ours, last_time = machine, mine, now
        calm = calm + 1 if foreign < cores else 0
        if calm >= 2:
            break
    print(f"{time.time() - start:.1f} {foreign:.2f}")


def main(argv):
    if len(argv) >= 3 and argv[0] == "snap":
        snap(argv[1], argv[2], argv[3] if len(argv) > 3 else None)
    elif len(argv) == 3 and argv[0] == "threads":
        threads(argv[1], int(argv[2]))
    elif len(argv) == 4 and argv[0] == "quiet":
        quiet(argv[1], float(argv[2]), float(argv[3]))
    elif len(argv) >= 3 and argv[0] == "sample":
        sample(argv[1], argv[2], float(argv[3]) if len(argv) > 3 else 1.0)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
