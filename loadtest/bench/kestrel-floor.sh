#!/usr/bin/env bash
# The floor under "gateway CPU per status poll" (issue "Scale", target 3): what a bare Kestrel "hello" (the shared
# yardstick's backend, ../shared/bench/Backend) costs per request on one pinned core at the same fixed rates, with the
# runtime's thread-pool defaults and with the gateway's runtimeconfig settings (Gateway.Proxy.csproj). See
# docs/BENCHMARKS.md, "Gateway CPU per status poll: the batch window".
#
#   loadtest/bench/kestrel-floor.sh      # ~6 minutes: 5,000/s and 10,000/s, 2 rounds
#
# The server runs pinned to CPU 0 with DOTNET_PROCESSOR_COUNT=1 (as the gateway in poll-cpu.sh), the load tool's
# `http` scenario on CPU 1. CPU per request = the server's utime+stime over FLOOR_SECONDS after FLOOR_WARM seconds,
# divided by the requests the tool scheduled in them (a run with any error fails the script). Loopback only; every run
# bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source "$ROOT/loadtest/lib.sh"
log() { echo "[kestrel-floor] $*" >&2; }

rates=${FLOOR_RATES:-5000,10000}
rounds=${FLOOR_ROUNDS:-2}
warm=${FLOOR_WARM:-20}
seconds=${FLOOR_SECONDS:-15}
backend_src=${FLOOR_BACKEND:-$ROOT/../shared/bench/Backend}
[ -f "$backend_src/Program.cs" ] || { log "no $backend_src/Program.cs (set FLOOR_BACKEND to the yardstick's Backend project)"; exit 1; }

out=$ROOT/loadtest/results/kestrel-floor-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
# Built from a copy outside this tree: the shared folder may be read-only, and here this repository's
# Directory.Build.props (analyzers as errors) would apply to it.
src=$(mktemp -d)
server='' tool=''
# Nothing left pinned to core 0 when a step fails: a stray server would skew every later benchmark.
trap 'rm -rf "$src"; [ -n "$tool" ] && kill "$tool" 2>/dev/null; [ -n "$server" ] && kill "$server" 2>/dev/null; true' EXIT
cp -r "$backend_src/." "$src/"
log "building; runs go to $out"
dotnet publish "$src" -c Release -o "$out/backend" -nologo -v q >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
build_release "$out" loadtest/LoadTest
python3 - "$out/backend/Backend.runtimeconfig.json" "$out/gateway-settings.runtimeconfig.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
# The three settings Gateway.Proxy.csproj ships (PublishTests checks them there).
config["runtimeOptions"].setdefault("configProperties", {}).update({
    "System.Threading.ThreadPool.HillClimbing.Disable": True,
    "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit": 0,
    "System.Runtime.TieredCompilation.CallCountingDelayMs": 0})
json.dump(config, open(sys.argv[2], "w"), indent=2)
EOF

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "variant,round,rate,us_per_request" >"$out/runs.csv"
for round in $(seq "$rounds"); do
  for variant in runtime-defaults gateway-settings; do
    config=()
    [ "$variant" = gateway-settings ] && config=(exec --runtimeconfig "$out/gateway-settings.runtimeconfig.json")
    for rate in ${rates//,/ }; do
      port=$(free_port)
      (cd "$out/backend" && DOTNET_PROCESSOR_COUNT=1 exec taskset -c 0 dotnet "${config[@]}" Backend.dll --urls "http://127.0.0.1:$port" >"$out/server-$variant-$round-$rate.log" 2>&1) &
      server=$!
      wait_http "http://127.0.0.1:$port/" 60
      taskset -c 1 timeout $((warm + seconds + 60)) dotnet loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll --scenario http \
        --url "http://127.0.0.1:$port/" --rate "$rate" --duration $((warm + seconds + 3)) --out "$out/tool-$variant-$round-$rate" >"$out/tool-$variant-$round-$rate.log" 2>&1 &
      tool=$!
      sleep "$warm"
      before=$(cpu_ticks "$server"); started=$(date +%s.%N)
      sleep "$seconds"
      after=$(cpu_ticks "$server"); ended=$(date +%s.%N)
      wait "$tool" || { log "the tool failed: $out/tool-$variant-$round-$rate.log"; kill "$server"; exit 1; }
      kill "$server"; wait "$server" 2>/dev/null || true
      server='' tool=''
      # CPU per request is divided by the requests scheduled: the open-model tool must have kept its schedule, error-free.
      grep -Eq '^[0-9]+ requests, 0 errors' "$out/tool-$variant-$round-$rate.log" || { log "errors or no summary: $out/tool-$variant-$round-$rate.log"; exit 1; }
      us=$(python3 -c "print(round(($after - $before) / $ticks * 1e6 / ($rate * ($ended - $started)), 1))")
      log "round $round $variant $rate/s: $us us per request"
      echo "$variant,$round,$rate,$us" >>"$out/runs.csv"
    done
  done
done
python3 - "$out/runs.csv" <<'EOF' | tee "$out/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| server | rate /s | CPU per request, us: median (range) |")
print("|---|---|---|")
for variant in dict.fromkeys(r["variant"] for r in rows):
    for rate in dict.fromkeys(r["rate"] for r in rows):
        us = [float(r["us_per_request"]) for r in rows if r["variant"] == variant and r["rate"] == rate]
        print(f"| Kestrel hello, {variant} | {int(rate):,} | **{statistics.median(us):.1f}** ({min(us):.1f}-{max(us):.1f}) |")
EOF
