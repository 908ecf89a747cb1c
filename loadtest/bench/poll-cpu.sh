#!/usr/bin/env bash
# The gateway's CPU per status poll at fixed rates (issue "Scale", target 3), as shipped beside variants given as
# runtime or gateway settings, interleaved in rounds. See docs/BENCHMARKS.md, "Gateway CPU per status poll".
#
#   loadtest/bench/poll-cpu.sh       # ~10 minutes: 3 rounds, 5,000/s and 10,000/s, as shipped vs the runtime's
#                                    # thread-pool defaults (hill climbing on, spin limit 70), which it ships without
#   POLLCPU_VARIANTS="shipped= wks=runtimeconfig:System.GC.Server=false" POLLCPU_RATES=2000,5000 loadtest/bench/poll-cpu.sh
#   POLLCPU_VARIANTS="shipped= before=build=/work/before" loadtest/bench/poll-cpu.sh   # beside another checkout's build
#
# The gateway runs pinned to POLLCPU_GATEWAY_CPU (0) with DOTNET_PROCESSOR_COUNT=1 (one core's worth of threads,
# as in ../shared/bench/run.sh); redis-server and the load tool share POLLCPU_AUX_CPU (1). Installs redis-server with
# apt-get when missing; builds the working tree (Release). Loopback only; bounded by POLLCPU_MAX_MINUTES (30).
# Prints a Markdown table; the runs (runs.csv, the tool's reports, gateway logs) stay in loadtest/results/poll-cpu-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source "$ROOT/loadtest/lib.sh"
log() { echo "[poll-cpu] $*" >&2; }

variants=${POLLCPU_VARIANTS:-"shipped= runtime-defaults=runtimeconfig:System.Threading.ThreadPool.HillClimbing.Disable=false,runtimeconfig:System.Threading.ThreadPool.UnfairSemaphoreSpinLimit=70"}
rates=${POLLCPU_RATES:-5000,10000}
rounds=${POLLCPU_ROUNDS:-3}
seconds=${POLLCPU_SECONDS:-15}
prewarm=${POLLCPU_PREWARM:-30}
gateway_cpu=${POLLCPU_GATEWAY_CPU:-0}
aux_cpu=${POLLCPU_AUX_CPU:-1}
max_minutes=${POLLCPU_MAX_MINUTES:-30}

command -v redis-server >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
out=$ROOT/loadtest/results/poll-cpu-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
log "building (Release); runs go to $out"
dotnet build Proxy.sln -c Release -nologo -v q -clp:ErrorsOnly >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
dotnet build loadtest/LoadTest -c Release -nologo -v q -clp:ErrorsOnly >>"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
for v in $variants; do
  IFS=, read -ra pairs <<<"${v#*=}"
  for pair in "${pairs[@]}"; do
    if [[ $pair == build=* ]]; then
      log "building ${pair#build=} (Release)"
      dotnet build "${pair#build=}/Gateway.Proxy" -c Release -nologo -v q -clp:ErrorsOnly >>"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
    fi
  done
done

redis_port=$(free_port)
taskset -c "$aux_cpu" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$out/redis.log" 2>&1 &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done

variant_args=()
for v in $variants; do variant_args+=(--variant "$v"); done
log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "gateway on CPU $gateway_cpu, redis and the tool on CPU $aux_cpu; $rounds rounds at $rates/s, $seconds s measured each, after ${prewarm} s of warm-up per gateway start"
timeout --kill-after=10 "$((max_minutes * 60))" python3 loadtest/bench/poll_cpu.py --work "$out" \
  --gateway "$ROOT/Gateway.Proxy/bin/Release/net10.0/Gateway.Proxy.dll" --tool "$ROOT/loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll" \
  --redis-port "$redis_port" "${variant_args[@]}" --rates "$rates" --rounds "$rounds" --seconds "$seconds" --prewarm "$prewarm" \
  --gateway-cpu "$gateway_cpu" --aux-cpu "$aux_cpu" | tee "$out/table.md"
log "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
