#!/usr/bin/env bash
# Adaptive admission, measured (docs/ADAPTIVE.md): the sample backends take PACE_CAPACITY requests/s each,
# the room is configured to admit five times that, users arrive faster than the backends can take them and,
# once admitted, browse (one gated call to each backend). Mid-run the backends' capacity drops to
# PACE_DROP/s and comes back. The run is made twice on the same processes' builds, adaptation off then on,
# both with the same circuit breakers, on loopback only:
#
#   loadtest/adaptive-bench.sh             # ~8 minutes; reports under loadtest/results/adaptive-<UTC time>/
#   loadtest/adaptive-bench.sh --publish   # also copies the two charts to docs/img/adaptive-{off,on}.png
#
# Knobs (environment, defaults in brackets): PACE_CAPACITY [200] per backend, PACE_DROP [CAP/2],
# PACE_ARRIVALS [1.5 x CAP] users/s, PACE_DURATION [160] s, PACE_SCHEDULE [0:CAP,60:DROP,100:CAP],
# PACE_MODES ["off on"]; the room's adaptive settings PACE_FLOOR [CAP/5], PACE_STEP [CAP/50], PACE_FACTOR [0.95],
# PACE_PERIOD [00:00:02], PACE_ERROR_RATIO [0.01].
# Needs the .NET SDK, redis-server, redis-cli, python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$PWD/loadtest/lib.sh"

parse_publish "$@"

CAPACITY=${PACE_CAPACITY:-200}
DROP=${PACE_DROP:-$((CAPACITY / 2))}
ARRIVALS=${PACE_ARRIVALS:-$((CAPACITY * 3 / 2))}
DURATION=${PACE_DURATION:-160}
SCHEDULE=${PACE_SCHEDULE:-0:$CAPACITY,60:$DROP,100:$CAPACITY}
MODES=${PACE_MODES:-off on}
REFILL=$((CAPACITY * 5))   # the room admits five times too fast
FLOOR=${PACE_FLOOR:-$(python3 -c "print($CAPACITY / 5)")}
STEP=${PACE_STEP:-$(python3 -c "print($CAPACITY / 50)")}
FACTOR=${PACE_FACTOR:-0.95}
PERIOD=${PACE_PERIOD:-00:00:02}
ERROR_RATIO=${PACE_ERROR_RATIO:-0.01}

STAMP=$(date -u +%Y%m%d-%H%M%S)
RUN=$ROOT/loadtest/results/adaptive-$STAMP
mkdir -p "$RUN/logs"
T0=$(date +%s)
log() { printf '[adaptive %4ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RUN/bench.log"; }

# Only the processes this script starts are ever stopped, by their own pid.
declare -A PROC=()
stop_proc() {
  local pid=${PROC[$1]:-}
  [ -z "$pid" ] && return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PROC[$1]"
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for name in "${!PROC[@]}"; do stop_proc "$name"; done
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
start_proc() { local name=$1; shift; "$@" >"$RUN/logs/$name.log" 2>&1 & PROC[$name]=$!; }

for cmd in dotnet redis-server redis-cli python3 curl; do
  command -v "$cmd" >/dev/null || { echo "$0: needs $cmd" >&2; exit 1; }
done

build_release "$RUN/logs" Gateway.Proxy samples/Gateway.SampleBackends loadtest/LoadTest || exit 1
GW_BIN=$ROOT/Gateway.Proxy/bin/Release/net10.0
BE_DLL=$ROOT/samples/Gateway.SampleBackends/bin/Release/net10.0/Gateway.SampleBackends.dll
TOOL=$ROOT/loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll

{
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
  echo "machine=$(nproc) vCPU $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024)) MiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
  echo "dotnet=$(dotnet --version) redis=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
  echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings=capacity $CAPACITY/s per backend, schedule $SCHEDULE, room refill $REFILL/s, arrivals $ARRIVALS users/s for $DURATION s"
  echo "adaptive=floor $FLOOR/s, step $STEP/s, factor $FACTOR, period $PERIOD, error ratio $ERROR_RATIO, target latency 1 s"
} >"$RUN/meta.env"
cat "$RUN/meta.env" | while read -r line; do log "$line"; done

REDIS_PORT=$(free_port)
start_proc redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --protected-mode yes --dir "$RUN" --logfile ""
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
SECRET=$(head -c 32 /dev/urandom | base64)

for mode in $MODES; do
  enabled=false
  [ "$mode" = on ] && enabled=true
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  RES_PORT=$(free_port); INV_PORT=$(free_port); PAY_PORT=$(free_port); GW_PORT=$(free_port)
  GW=http://127.0.0.1:$GW_PORT
  start_proc "backends-$mode" dotnet "$BE_DLL" --Backends:CapacityPerSecond="$CAPACITY" \
    --Backends:ReservationPort="$RES_PORT" --Backends:InventoryPort="$INV_PORT" --Backends:PaymentPort="$PAY_PORT"
  wait_http "http://127.0.0.1:$INV_PORT/"

  # The shipped appsettings.json routes the three clusters, gated by room concert; this run's settings on top.
  settings=(
    ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
    WaitingRoom__SigningKeys__0__Id=bench WaitingRoom__SigningKeys__0__Secret="$SECRET"
    WaitingRoom__JoinsPerClientPerMinute=0 WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0
    Logging__LogLevel__Default=Warning
    # A burst of a fifth of a second at the backends' pace: enough for the 200 ms maintenance tick.
    WaitingRoom__Rooms__concert__Capacity="$((CAPACITY / 5))" WaitingRoom__Rooms__concert__RefillPerSecond="$REFILL"
    WaitingRoom__Rooms__concert__Adaptive__Enabled="$enabled"
    WaitingRoom__Rooms__concert__Adaptive__Floor="$FLOOR"
    WaitingRoom__Rooms__concert__Adaptive__IncreaseStep="$STEP"
    WaitingRoom__Rooms__concert__Adaptive__DecreaseFactor="$FACTOR"
    WaitingRoom__Rooms__concert__Adaptive__ErrorRatio="$ERROR_RATIO"
    WaitingRoom__Rooms__concert__Adaptive__TargetLatency=00:00:01
    WaitingRoom__Rooms__concert__Adaptive__ControlPeriod="$PERIOD"
  )
  for cluster in reservation inventory payment; do
    settings+=(
      "Resilience__Clusters__${cluster}__FailureRatio=0.5" "Resilience__Clusters__${cluster}__MinimumThroughput=100"
      "Resilience__Clusters__${cluster}__SamplingDuration=00:00:10" "Resilience__Clusters__${cluster}__BreakDuration=00:00:05"
      "Resilience__Clusters__${cluster}__AttemptTimeout=00:00:05"
    )
  done
  settings+=(
    "ReverseProxy__Clusters__reservation__Destinations__reservation-1__Address=http://127.0.0.1:$RES_PORT/"
    "ReverseProxy__Clusters__inventory__Destinations__inventory-1__Address=http://127.0.0.1:$INV_PORT/"
    "ReverseProxy__Clusters__payment__Destinations__payment-1__Address=http://127.0.0.1:$PAY_PORT/"
  )
  start_proc "gateway-$mode" env "${settings[@]}" dotnet "$GW_BIN/Gateway.Proxy.dll" --urls "$GW" --environment Production --contentRoot "$GW_BIN"
  wait_http "$GW/readyz"

  log "adaptation $mode: $ARRIVALS users/s for $DURATION s, capacity schedule $SCHEDULE"
  timeout --signal=INT $((DURATION + 120)) dotnet "$TOOL" --scenario backend-pace --target "$GW" --event concert \
    --arrivals "$ARRIVALS" --duration "$DURATION" --capacity-schedule "$SCHEDULE" \
    --backend-stats "http://127.0.0.1:$RES_PORT,http://127.0.0.1:$INV_PORT,http://127.0.0.1:$PAY_PORT" \
    --label "adaptation $mode" --user-prefix "$mode-" --out "$RUN/$mode" >"$RUN/logs/loadtest-$mode.log" 2>&1 \
    || log "the load tool ended with $? (see $RUN/logs/loadtest-$mode.log)"
  grep -A 8 '^## Backend pace' "$RUN/$mode/report.md" | tee -a "$RUN/bench.log" || true
  stop_proc "gateway-$mode"
  stop_proc "backends-$mode"
done
log "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

if ((PUBLISH)); then
  for mode in $MODES; do cp "$RUN/$mode/pace.png" "docs/img/adaptive-$mode.png"; done
  log "charts copied to docs/img/adaptive-{$(echo "$MODES" | tr ' ' ,)}.png"
fi
log "reports: $RUN/{$(echo "$MODES" | tr ' ' ,)}/report.md"
