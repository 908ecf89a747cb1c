#!/usr/bin/env bash
# The opening stampede: a room with a large pre-queue opens. For each run: a fresh redis-server on a free
# loopback port; the pre-queue filled by loadtest/OpeningStampede (a bulk Lua loader writing what the join
# script writes, checked against the real scripts); the room opened through its control hash; the real RoomMaintenance shuffles it, either
#   store: on N in-process gateway instances (no HTTP, no polls): what the shuffle alone costs; or
#   http:  in N real gateway processes (Gateway.Proxy, Release), while every pre-queued page polls status at the
#          cadence the gateway gives it (first poll after the opening spread over 30 s) until it sees a position.
# Reports Redis CPU and the longest script calls (SLOWLOG, calls of 1 ms or more), the gateways' CPU, when the pre-queue
# was empty and when every person first saw a position; medians over the runs. Bounded and loopback only:
#
#   loadtest/opening-stampede.sh                                   # 300,000 people, store and http, 1 and 2 instances, 3 runs each
#   OPENING_PEOPLE=20000 OPENING_RUNS=1 loadtest/opening-stampede.sh   # a quick check
#
# Knobs (environment): OPENING_PEOPLE (300000), OPENING_RUNS (3), OPENING_MODES ("store http"), OPENING_INSTANCES
# ("1 2"), OPENING_TIMEOUT (seconds per run after the load, 300), OPENING_MAX_MINUTES (no run starts later, 150).
# Results: loadtest/results/opening-<UTC time>/ (git-ignored): one JSON and one log per run, summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$PWD/loadtest/lib.sh"
PEOPLE=${OPENING_PEOPLE:-300000}
RUNS=${OPENING_RUNS:-3}
MODES=${OPENING_MODES:-"store http"}
INSTANCES=${OPENING_INSTANCES:-"1 2"}
TIMEOUT=${OPENING_TIMEOUT:-300}
MAX_MINUTES=${OPENING_MAX_MINUTES:-150}
OUT=$ROOT/loadtest/results/opening-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
T0=$(date +%s)
log() { printf '[opening %4ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$OUT/opening.log"; }

# ---------------------------------------------------------------- processes we start, and only those
PIDS=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  exit "$status"
}
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

log "building (Release)"
dotnet build Gateway.Proxy -c Release -v quiet -nologo >"$OUT/build.log" 2>&1
dotnet build loadtest/OpeningStampede -c Release -v quiet -nologo >>"$OUT/build.log" 2>&1
GATEWAY_DLL=$ROOT/Gateway.Proxy/bin/Release/net10.0/Gateway.Proxy.dll
TOOL_DLL=$ROOT/loadtest/OpeningStampede/bin/Release/net10.0/OpeningStampede.dll

run_once() { # MODE INSTANCES RUN
  local mode=$1 n=$2 run=$3 name="$1-$2-$3"
  local dir redis_port now
  dir=$(mktemp -d "$OUT/redis-XXXX")
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --protected-mode yes >"$OUT/$name.redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

  # The gateways and the tool read the same configuration: the room is in its pre-queue, opening in a day
  # (the tool opens it through the control hash); every other value is the production default.
  now=$(date +%s)
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  export ConnectionStrings__Redis="127.0.0.1:$redis_port"
  export WaitingRoom__SigningKeys__0__Id=stampede WaitingRoom__SigningKeys__0__Secret="$(head -c 32 /dev/urandom | base64)"
  export WaitingRoom__JoinsPerClientPerMinute=0 WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0
  export WaitingRoom__Rooms__opening__PrequeueFrom="$(iso $((now - 3600)))" WaitingRoom__Rooms__opening__OpensAt="$(iso $((now + 86400)))"
  export WaitingRoom__Rooms__opening__ShuffleAtOpen=true
  export Logging__LogLevel__Default=Warning

  local args=(--people "$PEOPLE" --timeout-seconds "$TIMEOUT" --out "$OUT/$name.json")
  if [ "$mode" = http ]; then
    local urls=() pids=() i port
    for i in $(seq "$n"); do
      port=$(free_port)
      dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:$port" >"$OUT/$name.gateway$i.log" 2>&1 &
      PIDS+=($!)
      pids+=($!)
      urls+=("http://127.0.0.1:$port")
    done
    for url in "${urls[@]}"; do
      for _ in $(seq 300); do curl -fs -o /dev/null --max-time 2 "$url/readyz" && break; sleep 0.2; done
    done
    args+=(--gateways "$(IFS=,; echo "${urls[*]}")" --gateway-pids "$(IFS=,; echo "${pids[*]}")")
  else
    args+=(--instances "$n")
  fi

  log "run $name: load average before $(cut -d' ' -f1-3 /proc/loadavg)"
  local status=0
  # The tool's own store calls (loader, in-process instances) may wait longer than a gateway's on this shared machine.
  Store__OperationTimeout=00:00:10 timeout $((TIMEOUT + 600)) dotnet "$TOOL_DLL" "${args[@]}" 2>&1 | tee "$OUT/$name.log" || status=$?
  log "run $name: exit $status, load average after $(cut -d' ' -f1-3 /proc/loadavg)"
  stop_all
  rm -rf "$dir"
}

# Bounded: every tool run has a timeout, and no run starts after OPENING_MAX_MINUTES.
for mode in $MODES; do
  for n in $INSTANCES; do
    for run in $(seq "$RUNS"); do
      if (($(date +%s) - T0 > MAX_MINUTES * 60)); then log "OPENING_MAX_MINUTES reached: run $mode-$n-$run and later skipped"; break 3; fi
      run_once "$mode" "$n" "$run"
    done
  done
done

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import glob, json, os, statistics, sys
out = sys.argv[1]
rows = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    r = json.load(open(path))
    rows.setdefault((r["mode"], r["instances"]), []).append(r)
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")
def script(r, name, field):
    for s in (r.get("scripts") or {}).get("by_script", []):
        if s["script"] == name:
            return s[field]
    return None
print("| mode | instances | runs | pre-queue empty (s) | every person saw a position (s) | Redis CPU (s) | Redis CPU per shuffle call of 500 (ms) | EVALSHA time in Redis (s) | longest tick (ms) | median / shortest tick of 1 ms+ (ms) | longest status (ms) | gateways CPU (s) | polls | answered 'prequeue' | busiest second | poll p99 (ms) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (mode, n), rs in sorted(rows.items()):
    polls = [r.get("polls") or {} for r in rs]
    http = mode == "http"
    print("| %s | %d | %d | %.2f | %s | %.2f | %s | %.2f | %.1f | %.1f / %.1f | %s | %s | %s | %s | %s | %s |" % (
        mode, n, len(rs), med([r["prequeue_empty_after_seconds"] for r in rs]),
        "%.1f" % med([p.get("seen_all") for p in polls]) if http else "= pre-queue empty",
        med([r["redis_cpu_seconds"] for r in rs]),
        "-" if http else "%.2f" % med([r["redis_cpu_seconds"] * 1000 / -(-r["people"] // 500) for r in rs]),
        med([(r.get("scripts") or {}).get("eval_sha_seconds") for r in rs]),
        med([script(r, "tick", "max_ms") for r in rs]),
        med([script(r, "tick", "median_ms") for r in rs]), med([script(r, "tick", "min_ms") for r in rs]),
        "%.1f" % med([script(r, "status", "max_ms") for r in rs]) if http else "-",
        "%.2f" % med([sum(r["gateway_cpu_seconds"]) for r in rs]) if http else "in-process: %.2f" % med([r["tool_cpu_seconds"] for r in rs]),
        "%d" % med([p.get("polls") for p in polls]) if http else "-",
        "%d" % med([p.get("prequeue_answers") for p in polls]) if http else "-",
        "%d" % med([p.get("busiest_second_polls") for p in polls]) if http else "-",
        "%.0f" % med([p.get("latency_p99_ms") for p in polls]) if http else "-"))
PY
log "done: $OUT"
