#!/usr/bin/env bash
# The benchmark: starts redis-server, the sample backends, the gateway and the baselines (bare YARP, nginx)
# on loopback, runs the load tool's scenarios against them, samples CPU and memory of every process, and
# writes docs/BENCHMARKS.md. One bounded command (about 15-20 minutes on 2 cores):
#
#   loadtest/run-benchmarks.sh            # the full run, writes docs/BENCHMARKS.md
#   loadtest/run-benchmarks.sh --quick    # ~3 minutes at low rates; report under loadtest/results/ only
#
# Every knob is an environment variable (BENCH_*, listed below with its default). Reports of the single runs,
# process samples, Redis INFO snapshots and profiles go to loadtest/results/bench-<UTC time>/ (git-ignored).
# Needs: the .NET SDK, redis-server/redis-cli, python3, curl; nginx (nginx-light) is installed with
# apt-get when missing and BENCH_NGINX_INSTALL=1 (the default), else the nginx baseline is skipped.
# perf is used for the profile when present.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$PWD/loadtest/lib.sh"
COMMAND_LINE="loadtest/run-benchmarks.sh${*:+ $*}"

QUICK=0
OUT_MD=docs/BENCHMARKS.md
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT_MD=$2; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE.md]" >&2; exit 2 ;;
  esac
  shift
done

if ((QUICK)); then
  : "${BENCH_REPEATS:=1}" "${BENCH_FM_REPEATS:=1}" "${BENCH_FIXED_SECONDS:=3}" "${BENCH_STEP_SECONDS:=2}"
  : "${BENCH_EQUAL_RATE:=200}" "${BENCH_STATUS_RATE:=200}" "${BENCH_FM_START:=200}" "${BENCH_FM_SCOUT_STEP:=400}" "${BENCH_FM_STEP:=200}"
  : "${BENCH_FM_MAX:=1000}" "${BENCH_PREFILL:=3000}" "${BENCH_SAMPLE:=500}" "${BENCH_MIXED_RATE:=1000}"
  : "${BENCH_CROWD_USERS:=200}" "${BENCH_CROWD_JOIN:=3}" "${BENCH_MAX_MINUTES:=8}"
fi
REPEATS=${BENCH_REPEATS:-3}                 # equal-rate runs per target (medians reported)
FM_REPEATS=${BENCH_FM_REPEATS:-2}           # fine find-max searches per target after the scout (median knee)
FIXED_SECONDS=${BENCH_FIXED_SECONDS:-10}    # measured seconds of every fixed-rate run
STEP_SECONDS=${BENCH_STEP_SECONDS:-4}       # seconds per find-max step
EQUAL_RATE=${BENCH_EQUAL_RATE:-5000}        # the one rate every proxy target is run at side by side
STATUS_RATE=${BENCH_STATUS_RATE:-2000}      # status polls' fixed rate (Redis figures, profile)
FM_START=${BENCH_FM_START:-1000}            # scout search: from here in BENCH_FM_SCOUT_STEP steps ...
FM_SCOUT_STEP=${BENCH_FM_SCOUT_STEP:-3000}
FM_STEP=${BENCH_FM_STEP:-500}               # ... then searches in steps of max(this, knee/16) from 2 steps below
FM_MAX=${BENCH_FM_MAX:-60000}
P99_MS=${BENCH_P99_MS:-50}
PREFILL=${BENCH_PREFILL:-300000}            # people waiting for the memory figure
PREFILL_MAX_SECONDS=${BENCH_PREFILL_MAX_SECONDS:-240}  # the prefill is cut to what the join rate fills in this
SAMPLE=${BENCH_SAMPLE:-5000}                # tokens polled by status-storm
MIXED_RATE=${BENCH_MIXED_RATE:-30000}       # the moonshot: 90% status polls + 10% admitted traffic
CROWD_USERS=${BENCH_CROWD_USERS:-5000}
CROWD_JOIN=${BENCH_CROWD_JOIN:-10}
CROWD_CAPACITY=${BENCH_CROWD_CAPACITY:-100}
CROWD_REFILL=${BENCH_CROWD_REFILL:-100}
CROWD_BACKEND_CAPACITY=${BENCH_CROWD_BACKEND_CAPACITY:-500}
# 1: system under test on CPU 0, everything else on CPU 1. Off by default: on 2 cores the load tool alone needs
# more than the one core left to it (its scheduler thread spins ~0.5 core), so pinned runs measure the tool.
PIN=${BENCH_PIN:-0}
SPIN_EXPERIMENT=${BENCH_SPIN_EXPERIMENT:-1}  # also run the gateway with the thread pool's spin-wait off
QUIET_CORES=${BENCH_QUIET_CORES:-0.3}       # before each run, wait until other processes use less than this ...
QUIET_MAX=${BENCH_QUIET_MAX:-15}            # ... for at most this many seconds per run ...
QUIET_BUDGET=${BENCH_QUIET_BUDGET:-150}     # ... and this many in total
MAX_MINUTES=${BENCH_MAX_MINUTES:-30}        # hard stop for the whole script
NGINX_INSTALL=${BENCH_NGINX_INSTALL:-1}

STAMP=$(date -u +%Y%m%d-%H%M%S)
RUN=$ROOT/loadtest/results/bench-$STAMP
((QUICK)) && [ "$OUT_MD" = docs/BENCHMARKS.md ] && OUT_MD=$RUN/BENCHMARKS.md
mkdir -p "$RUN/logs" "$RUN/snaps" "$RUN/profile"
PIDS=$RUN/pids
RUNS=$RUN/runs.tsv
: >"$PIDS"
: >"$RUNS"
PROCSTAT=(python3 "$ROOT/loadtest/bench/procstat.py")
T0=$(date +%s)

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RUN/bench.log"; }

# ---------------------------------------------------------------- processes we start, and only those
declare -A PROC=()
SAMPLER=""
WATCHDOG=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for name in "${!PROC[@]}"; do stop_proc "$name"; done
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
  # DOTNET_PerfMapEnabled leaves /tmp/perf-PID.map files behind; remove ours.
  for map in "${PERF_MAPS[@]}"; do rm -f "$map"; done
  exit "$status"
}
PERF_MAPS=()
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

register() { grep -v "^$1 " "$PIDS" >"$PIDS.tmp" || true; [ -n "${2:-}" ] && echo "$1 $2" >>"$PIDS.tmp"; mv "$PIDS.tmp" "$PIDS"; }

pin() { if ((PIN)); then echo taskset -c "$1"; fi; }

# start_proc NAME CPU COMMAND...: background process, output to logs/NAME.log.
start_proc() {
  local name=$1 cpu=$2
  shift 2
  # shellcheck disable=SC2046
  $(pin "$cpu") "$@" >"$RUN/logs/$name.log" 2>&1 &
  PROC[$name]=$!
  register "$name" "$!"
}

stop_proc() {
  local name=$1 pid=${PROC[$1]:-}
  [ -z "$pid" ] && return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PROC[$name]"
  register "$name"
}

# Moves a running process (all threads) to CPUs, e.g. the backends onto the system-under-test core.
repin() { ((PIN)) && taskset -a -p -c "$2" "${PROC[$1]}" >/dev/null; return 0; }

snap() { "${PROCSTAT[@]}" snap "$RUN/snaps/$1.json" "$PIDS" "$REDIS_PORT"; }

# The machine is shared: before a measured run, wait (bounded) for other processes to calm down. Sets QUIET
# to "seconds-waited other-cores" for the run's row.
QUIET_SPENT=0
QUIET="0 -"
wait_quiet() {
  local left=$((QUIET_BUDGET - QUIET_SPENT)) max=$QUIET_MAX
  ((left < max)) && max=$left
  QUIET="0 -"
  ((max > 0)) || return 0
  QUIET=$("${PROCSTAT[@]}" quiet "$PIDS" "$max" "$QUIET_CORES")
  QUIET_SPENT=$((QUIET_SPENT + ${QUIET%%.*}))
}

# tool LABEL KIND TARGET RATE SNAP SECONDS -- LoadTest args...
# Runs the load tool on the load core. With SNAP=1, snapshots every process and Redis one second into the
# measured run (after the warm-up line) and 3 s before its end, so the window is steady state; with SNAP=2,
# around the whole invocation (find-max searches: how busy the machine and other sessions were).
# Appends one row to runs.tsv: kind, target, label, rate, report dir, exit code.
tool() {
  local label=$1 kind=$2 target=$3 rate=$4 snap_it=$5 seconds=$6
  shift 7
  local out=$RUN/$label limit=${TOOL_LIMIT:-$((seconds + 240))}
  if [ -z "${NO_QUIET:-}" ]; then wait_quiet; else QUIET="0 -"; fi
  ((snap_it == 2)) && snap "$label.a"
  # shellcheck disable=SC2046
  timeout -k 10 "$limit" $(pin "$AUX_CPU") dotnet "$TOOL" "$@" --out "$out" >"$RUN/logs/$label.log" 2>&1 &
  local pid=$!
  register "tool" "$pid"
  PROC[tool]=$pid
  if ((snap_it == 1)); then
    until grep -q '^\[warm-up\]' "$RUN/logs/$label.log" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      sleep 1
      snap "$label.a"
      # Ends 3 s before the run does: on a saturated machine the snapshot itself can be late.
      sleep "$(python3 -c "print(max(0.5, $seconds - 4))")"
      snap "$label.b"
    fi
  fi
  local rc=0
  wait "$pid" || rc=$?
  ((snap_it == 2)) && snap "$label.b"
  unset "PROC[tool]"
  register "tool"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$target" "$label" "$rate" "$out" "$rc" "$QUIET" >>"$RUNS"
  log "$label: exit $rc$(grep -E '^(knee|no knee|[0-9]+ requests)' "$RUN/logs/$label.log" | head -2 | sed 's/^/; /' | tr -d '\n')"
  return 0
}

knee_of() { # REPORT_DIR -> the last passing rate of findmax.csv, or 0
  python3 - "$1/findmax.csv" <<'EOF'
import csv, sys
try:
    rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["passed"] == "true"]
    print(int(float(rows[-1]["target_rate"])) if rows else 0)
except FileNotFoundError:
    print(0)
EOF
}

# The lower median: always a rate that was measured to pass.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- machine, versions, build
SUT_CPU=0
AUX_CPU=1
if ((PIN)) && { [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; }; then PIN=0; fi
((PIN)) || { SUT_CPU=""; AUX_CPU=""; }

(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  sleep $((MAX_MINUTES * 60)) &
  nap=$!
  wait "$nap"
  echo "[bench] over the ${MAX_MINUTES}-minute budget: stopping" >&2
  kill -TERM $$
) &
WATCHDOG=$!

log "results: $RUN"
for cmd in dotnet redis-server redis-cli python3 curl; do
  command -v "$cmd" >/dev/null || { log "missing: $cmd"; exit 1; }
done
if ! command -v nginx >/dev/null && ((NGINX_INSTALL)); then
  log "installing nginx-light for the nginx baseline"
  apt=(apt-get)
  [ "$(id -u)" = 0 ] || apt=(sudo apt-get)
  { "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends nginx-light; } >"$RUN/logs/apt.log" 2>&1 \
    || log "could not install nginx-light: the nginx baseline is skipped"
fi
HAVE_NGINX=0
command -v nginx >/dev/null && HAVE_NGINX=1
HAVE_PERF=0
command -v perf >/dev/null && perf stat -e cpu-clock true >/dev/null 2>&1 && HAVE_PERF=1

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command=$COMMAND_LINE"
  echo "settings=$(env | grep -E '^BENCH_' | sort | tr '\n' ' ')"
  echo "nproc=$(nproc)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)"
  echo "memory=$(free -m | awk '/^Mem:/ { print $2 " MiB" }')"
  echo "kernel=$(uname -sr)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "dotnet_sdk=$(dotnet --version)"
  echo "dotnet_runtime=$(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ { v = $2 } END { print v }')"
  echo "redis=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
  echo "nginx=$( ((HAVE_NGINX)) && nginx -v 2>&1 | sed 's/.*nginx\///' || echo "not installed")"
  echo "yarp=$(sed -n 's/.*Include="Yarp.ReverseProxy" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)"
  echo "seredis=$(sed -n 's/.*Include="StackExchange.Redis" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "pin=$PIN"
  echo "perf=$HAVE_PERF"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "quick=$QUICK"
  for v in REPEATS FM_REPEATS FIXED_SECONDS STEP_SECONDS EQUAL_RATE STATUS_RATE FM_START FM_SCOUT_STEP FM_STEP FM_MAX P99_MS PREFILL SAMPLE MIXED_RATE CROWD_USERS CROWD_JOIN CROWD_CAPACITY CROWD_REFILL CROWD_BACKEND_CAPACITY QUIET_CORES QUIET_MAX QUIET_BUDGET; do
    echo "$v=${!v}"
  done
} >"$RUN/meta.env"

log "building Release"
for project in Gateway.Proxy samples/Gateway.SampleBackends loadtest/LoadTest loadtest/BareYarp; do
  dotnet build "$project" -c Release -nologo -v q >"$RUN/logs/build-$(basename "$project").log" 2>&1 \
    || { log "build failed: $project (see $RUN/logs)"; exit 1; }
done
GW_BIN=$ROOT/Gateway.Proxy/bin/Release/net10.0
BE_DLL=$ROOT/samples/Gateway.SampleBackends/bin/Release/net10.0/Gateway.SampleBackends.dll
YARP_BIN=$ROOT/loadtest/BareYarp/bin/Release/net10.0
TOOL=$ROOT/loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll

# ---------------------------------------------------------------- the processes
REDIS_PORT=$(free_port)
RES_PORT=$(free_port); INV_PORT=$(free_port); PAY_PORT=$(free_port)
GW_PORT=$(free_port); YARP_PORT=$(free_port); NGINX_PORT=$(free_port)
GW=http://127.0.0.1:$GW_PORT
SEATS=/api/inventory/events/concert/seats

start_redis() {
  start_proc redis "$AUX_CPU" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --protected-mode yes --dir "$RUN" --logfile ""
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "redis-server did not start"; return 1
}

start_backends() { # CAPACITY_PER_SECOND
  start_proc backends "$AUX_CPU" dotnet "$BE_DLL" --Backends:CapacityPerSecond="$1" \
    --Backends:ReservationPort="$RES_PORT" --Backends:InventoryPort="$INV_PORT" --Backends:PaymentPort="$PAY_PORT"
  wait_http "http://127.0.0.1:$INV_PORT/"
}

destinations() {
  echo "ReverseProxy__Clusters__reservation__Destinations__reservation-1__Address=http://127.0.0.1:$RES_PORT/"
  echo "ReverseProxy__Clusters__inventory__Destinations__inventory-1__Address=http://127.0.0.1:$INV_PORT/"
  echo "ReverseProxy__Clusters__payment__Destinations__payment-1__Address=http://127.0.0.1:$PAY_PORT/"
}

SECRET=$(head -c 32 /dev/urandom | base64)
# perf resolves JIT-compiled frames through /tmp/perf-PID.map; with W^X on, JIT code lives in a memfd mapping
# perf cannot match to that map. Both .NET proxies get the same settings so they stay comparable.
PROFILE_ENV=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
GATEWAY_EXTRA_ENV=()
# Room concert gates the three routes (admitted runs, the flash crowd); room storm gates nothing and holds the
# status-storm queue, so the admitted runs never wait behind 300k people. Every request comes from 127.0.0.1, so
# the per-client limits (joins, places, polls per address) are off: they would refuse the load tool as one client.
start_gateway() { # CAPACITY REFILL ADMISSION_TTL ABANDON_AFTER (of room concert)
  local env_vars
  mapfile -t env_vars < <(destinations)
  start_proc gateway "$SUT_CPU" env "${env_vars[@]}" \
    ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT" \
    WaitingRoom__SigningKeys__0__Id=bench WaitingRoom__SigningKeys__0__Secret="$SECRET" \
    WaitingRoom__JoinsPerClientPerMinute=0 WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0 \
    Logging__LogLevel__Default=Warning \
    WaitingRoom__Rooms__concert__Capacity="$1" WaitingRoom__Rooms__concert__RefillPerSecond="$2" \
    WaitingRoom__Rooms__concert__AdmissionTtl="$3" WaitingRoom__Rooms__concert__AbandonAfter="$4" \
    WaitingRoom__Rooms__storm__Capacity=100 WaitingRoom__Rooms__storm__RefillPerSecond=10 \
    WaitingRoom__Rooms__storm__AdmissionTtl=00:40:00 WaitingRoom__Rooms__storm__AbandonAfter=00:40:00 \
    "${PROFILE_ENV[@]}" "${GATEWAY_EXTRA_ENV[@]}" \
    dotnet "$GW_BIN/Gateway.Proxy.dll" --urls "$GW" --environment Production --contentRoot "$GW_BIN"
  PERF_MAPS+=("/tmp/perf-${PROC[gateway]}.map" "/tmp/perfinfo-${PROC[gateway]}.map")
  wait_http "$GW/readyz"
}

start_bare_yarp() {
  local env_vars
  mapfile -t env_vars < <(destinations)
  start_proc bare-yarp "$SUT_CPU" env "${env_vars[@]}" Logging__LogLevel__Default=Warning "${PROFILE_ENV[@]}" \
    dotnet "$YARP_BIN/BareYarp.dll" --urls "http://127.0.0.1:$YARP_PORT" --environment Production --contentRoot "$YARP_BIN"
  PERF_MAPS+=("/tmp/perf-${PROC[bare-yarp]}.map" "/tmp/perfinfo-${PROC[bare-yarp]}.map")
  wait_http "http://127.0.0.1:$YARP_PORT/healthz"
}

start_nginx() {
  local dir=$RUN/nginx
  mkdir -p "$dir"
  chmod 755 "$dir"
  # One worker, as the gateway gets one core; keep-alive to the backends, as YARP pools connections.
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  upstream reservation { server 127.0.0.1:$RES_PORT; keepalive 256; }
  upstream inventory { server 127.0.0.1:$INV_PORT; keepalive 256; }
  upstream payment { server 127.0.0.1:$PAY_PORT; keepalive 256; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /api/reservations/ { proxy_pass http://reservation; }
    location /api/inventory/ { proxy_pass http://inventory; }
    location /api/payments/ { proxy_pass http://payment; }
  }
}
EOF
  start_proc nginx "$SUT_CPU" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
  wait_http "http://127.0.0.1:$NGINX_PORT$SEATS"
}

log "starting redis-server, backends, gateway, bare YARP$( ((HAVE_NGINX)) && echo ", nginx") (pinning: $( ((PIN)) && echo "system under test on CPU $SUT_CPU, the rest on CPU $AUX_CPU" || echo off))"
start_redis
start_backends 1000000000
# A long AdmissionTtl keeps the admitted runs' tokens valid for the whole benchmark.
start_gateway 100 10 00:40:00 00:40:00
start_bare_yarp
((HAVE_NGINX)) && start_nginx
"${PROCSTAT[@]}" sample "$RUN/samples.csv" "$PIDS" 1 &
SAMPLER=$!

TARGETS=(direct bare-yarp)
((HAVE_NGINX)) && TARGETS+=(nginx)
TARGETS+=(gateway)

# target_args TARGET -> LoadTest arguments for the same GET of the seat map
target_args() {
  case $1 in
    direct) echo "--scenario http --url http://127.0.0.1:$INV_PORT$SEATS" ;;
    bare-yarp) echo "--scenario http --url http://127.0.0.1:$YARP_PORT$SEATS" ;;
    nginx) echo "--scenario http --url http://127.0.0.1:$NGINX_PORT$SEATS" ;;
    gateway) echo "--scenario admitted --target $GW --path $SEATS --user-prefix adm-$RANDOM-" ;;
    status) status_args "s$RANDOM" ;;
  esac
}

# A long AbandonAfter in room storm keeps the 300k unpolled people in line for the memory figure.
status_args() { echo "--scenario status-storm --target $GW --event storm --sample $SAMPLE --user-prefix $1-"; }

# The direct baseline measures the backend alone: it gets the system-under-test core for that run.
before_target() { [ "$1" = direct ] && repin backends "$SUT_CPU"; return 0; }
after_target() { [ "$1" = direct ] && repin backends "$AUX_CPU"; return 0; }

# ---------------------------------------------------------------- 1. equal rate, side by side
log "phase 1: every target at $EQUAL_RATE/s, $REPEATS x interleaved"
for rep in $(seq "$REPEATS"); do
  for target in "${TARGETS[@]}"; do
    before_target "$target"
    # shellcheck disable=SC2046
    tool "equal-$target-$rep" equal "$target" "$EQUAL_RATE" 1 "$FIXED_SECONDS" -- $(target_args "$target") --rate "$EQUAL_RATE" --duration "$FIXED_SECONDS"
    after_target "$target"
  done
done

# ---------------------------------------------------------------- 2. find-max per target
findmax() { # LABEL KIND TARGET START STEP -- extra args
  local label=$1 kind=$2 target=$3 start=$4 step=$5
  shift 6
  local max=$FM_MAX
  # Keep each search under ~3 minutes of steps.
  local cap=$((start + step * (200 / STEP_SECONDS - 1)))
  ((cap < max)) && max=$cap
  tool "$label" "$kind" "$target" 0 2 $(((max - start) / step * STEP_SECONDS + STEP_SECONDS)) -- "$@" \
    --find-max --start-rate "$start" --step "$step" --max-rate "$max" --step-seconds "$STEP_SECONDS" --p99-ms "$P99_MS"
}

# fine_step KNEE: about 1/16 of the knee, in multiples of BENCH_FM_STEP.
fine_step() { local s=$(($1 / 16 / FM_STEP * FM_STEP)); echo $((s < FM_STEP ? FM_STEP : s)); }

# A search that fails its first step says "below the start": it counts as one step below it.
search_knee() { # LABEL START STEP
  local knee
  knee=$(knee_of "$RUN/$1")
  ((knee > 0)) || knee=$(($2 > $3 ? $2 - $3 : 0))
  echo "$knee"
}

# Searches for several targets, interleaved: every target's scout, then every target's first fine search, ...
# so a noisy minute on the shared machine hurts one search of each rather than all searches of one target.
# Each target's knee is the median over its scout and fine searches.
declare -A KNEE=() STEP=() START=() KNEES=() SUSTAINED=()
search_targets() { # TARGET...
  local target scout rep
  for target in "$@"; do
    before_target "$target"
    # shellcheck disable=SC2046
    findmax "scout-$target" scout "$target" "$FM_START" "$FM_SCOUT_STEP" -- $(target_args "$target")
    after_target "$target"
    scout=$(knee_of "$RUN/scout-$target")
    STEP[$target]=$(fine_step "$scout")
    START[$target]=$((scout - 2 * STEP[$target]))
    ((START[$target] < STEP[$target])) && START[$target]=${STEP[$target]}
    KNEES[$target]=$scout
  done
  for rep in $(seq "$FM_REPEATS"); do
    for target in "$@"; do
      before_target "$target"
      # shellcheck disable=SC2046
      findmax "findmax-$target-$rep" findmax "$target" "${START[$target]}" "${STEP[$target]}" -- $(target_args "$target")
      after_target "$target"
      KNEES[$target]+=" $(search_knee "findmax-$target-$rep" "${START[$target]}" "${STEP[$target]}")"
    done
  done
  for target in "$@"; do
    # shellcheck disable=SC2086
    KNEE[$target]=$(median ${KNEES[$target]})
    echo "knee_$target=${KNEE[$target]}" >>"$RUN/meta.env"
  done
}

# A knee comes from 4-second steps; "sustained" is the highest of the knee, 85% and 70% of it that also
# passes a full fixed-rate run, judged on its steady state (the first second, the jump from the 1,000/s
# warm-up with the tool's connection pool still growing, is left out). The tries are interleaved across
# targets like the searches. The passing run's window gives the CPU shares at the limit.
sustain_targets() { # TARGET...
  local target rate try label verdict pct
  local -A done=()
  for try in 1 2 3; do
    pct=$((115 - 15 * try))
    for target in "$@"; do
      [ -n "${done[$target]:-}" ] && continue
      rate=$((KNEE[$target] * pct / 100 / FM_STEP * FM_STEP))
      ((rate > 0)) || { done[$target]=1; continue; }
      label=knee-$target-$try
      before_target "$target"
      # shellcheck disable=SC2046
      tool "$label" knee "$target" "$rate" 1 "$FIXED_SECONDS" -- $(target_args "$target") --rate "$rate" --duration "$FIXED_SECONDS"
      after_target "$target"
      verdict=$(python3 "$ROOT/loadtest/bench/report.py" verdict "$RUN/$label" "$P99_MS")
      log "$label ($pct% of the knee): $verdict"
      echo "sustain_label_$target=$label" >>"$RUN/meta.env"
      if [ "$verdict" = pass ]; then
        echo "sustained_$target=$rate" >>"$RUN/meta.env"
        SUSTAINED[$target]=$rate
        done[$target]=1
      fi
    done
  done
}

log "phase 2: find-max (p99 <= $P99_MS ms, no errors, schedule kept): a scout and $FM_REPEATS searches per target, interleaved"
search_targets "${TARGETS[@]}"
log "phase 2b: sustained rates (${FIXED_SECONDS} s at 100/85/70% of the knee)"
sustain_targets "${TARGETS[@]}"

# ---------------------------------------------------------------- 3. the queue: 300k waiting, status storm

log "phase 3: status-storm; calibrating the join rate with a 20,000-person prefill"
# shellcheck disable=SC2046
tool status-calibrate status "status" "$STATUS_RATE" 1 "$FIXED_SECONDS" -- $(status_args cal) --prefill $((PREFILL < 20000 ? PREFILL : 20000)) \
  --rate "$STATUS_RATE" --duration "$FIXED_SECONDS"
JOIN_RATE=$(sed -n 's/^- Ran .* \([0-9.]*\) completed\/s$/\1/p' "$RUN/status-calibrate/report.md" | head -1)
QUEUED=$(redis-cli -p "$REDIS_PORT" ZCARD 'wr:{storm}:q')
REST=$((PREFILL - ${QUEUED:-0}))
FILLABLE=$(python3 -c "print(int(float('${JOIN_RATE:-0}' or 0) * $PREFILL_MAX_SECONDS))")
PREFILL_NOTE=""
if ((REST > FILLABLE)); then
  PREFILL_NOTE="joins ran at ${JOIN_RATE}/s: the prefill was cut to what fits in ${PREFILL_MAX_SECONDS} s"
  REST=$FILLABLE
fi
echo "prefill_note=$PREFILL_NOTE" >>"$RUN/meta.env"
echo "join_rate=$JOIN_RATE" >>"$RUN/meta.env"
log "joins at ${JOIN_RATE}/s, ${QUEUED:-0} queued; prefilling $REST more"
snap prefill.a
# shellcheck disable=SC2046
TOOL_LIMIT=$((PREFILL_MAX_SECONDS + FIXED_SECONDS + 240)) tool status-prefill prefill status "$STATUS_RATE" 1 "$FIXED_SECONDS" -- $(status_args pre) --prefill "$REST" \
  --rate "$STATUS_RATE" --duration "$FIXED_SECONDS"
snap queue
echo "queued=$(redis-cli -p "$REDIS_PORT" ZCARD 'wr:{storm}:q')" >>"$RUN/meta.env"

for rep in $(seq "$REPEATS"); do
  # shellcheck disable=SC2046
  tool "status-equal-$rep" status-equal status "$STATUS_RATE" 1 "$FIXED_SECONDS" -- $(status_args "st$rep") --rate "$STATUS_RATE" --duration "$FIXED_SECONDS"
done
search_targets status
sustain_targets status

# ---------------------------------------------------------------- 4. where the time goes
profile() { # LABEL RATE TOOL-ARGS...: perf and per-thread CPU of the gateway during a fixed-rate run
  local label=$1 rate=$2
  shift 2
  local pid=${PROC[gateway]}
  local seconds=$FIXED_SECONDS
  wait_quiet
  # shellcheck disable=SC2046
  timeout -k 10 $((seconds + 240)) $(pin "$AUX_CPU") dotnet "$TOOL" "$@" --rate "$rate" --duration "$seconds" \
    --out "$RUN/$label" >"$RUN/logs/$label.log" 2>&1 &
  local tpid=$!
  register tool "$tpid"
  PROC[tool]=$tpid
  until grep -q '^\[warm-up\]' "$RUN/logs/$label.log" 2>/dev/null || ! kill -0 "$tpid" 2>/dev/null; do sleep 0.05; done
  sleep 1
  "${PROCSTAT[@]}" threads "$RUN/profile/$label.threads.a.json" "$pid"
  snap "$label.a"
  local window
  window=$(python3 -c "print(max(1, $seconds - 4))")
  local perf_pid=""
  if ((HAVE_PERF)); then
    perf record -e cpu-clock -F 499 -p "$pid" -o "$RUN/profile/$label.perf.data" -- sleep "$window" >"$RUN/logs/$label.perf.log" 2>&1 &
    perf_pid=$!
    register perf "$perf_pid"
    PROC[perf]=$perf_pid
  fi
  sleep "$window"
  snap "$label.b"
  "${PROCSTAT[@]}" threads "$RUN/profile/$label.threads.b.json" "$pid"
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    unset "PROC[perf]"
    register perf
  fi
  wait "$tpid" || true
  unset "PROC[tool]"
  register tool
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' profile gateway "$label" "$rate" "$RUN/$label" 0 "$QUIET" >>"$RUNS"
  if ((HAVE_PERF)) && [ -f "$RUN/profile/$label.perf.data" ]; then
    # While the gateway still runs: perf names JIT-compiled frames from its /tmp/perf-PID.map.
    perf report -i "$RUN/profile/$label.perf.data" --stdio --no-children --sort dso,sym --percent-limit 0 -t '^' \
      >"$RUN/profile/$label.dsosym.txt" 2>/dev/null || true
  fi
  log "$label: profiled"
}

log "phase 4: profiling the gateway: status polls at $STATUS_RATE/s, admitted at $EQUAL_RATE/s (perf: $HAVE_PERF)"
# shellcheck disable=SC2046
profile profile-status "$STATUS_RATE" $(status_args prof)
# shellcheck disable=SC2046
profile profile-admitted "$EQUAL_RATE" $(target_args gateway)

# ---------------------------------------------------------------- 4b. a runtime knob: thread-pool spin-waiting
# Idle .NET thread-pool workers spin before they sleep; on 2 shared cores that spinning is CPU the other
# processes need. The same gateway with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0, on the same Redis.
# NOTE: .NET 10.0.12 does not read this variable (perf still shows the spin); the runtimeconfig property
# System.Threading.ThreadPool.UnfairSemaphoreSpinLimit does: see loadtest/bench/poll-cpu.sh and docs/BENCHMARKS.md.
if ((SPIN_EXPERIMENT)); then
  log "phase 4b: the gateway with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"
  stop_proc gateway
  GATEWAY_EXTRA_ENV=(DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0)
  start_gateway 100 10 00:40:00 00:40:00
  # A fresh process JIT-compiles (and tiers up) everything again: warm it up as long as the first one had been.
  # shellcheck disable=SC2046
  tool spin-warmup-status warmup status "$STATUS_RATE" 0 20 -- $(status_args spw) --rate "$STATUS_RATE" --duration 20
  # shellcheck disable=SC2046
  tool spin-warmup-gateway warmup gateway "$EQUAL_RATE" 0 20 -- $(target_args gateway) --rate "$EQUAL_RATE" --duration 20
  # shellcheck disable=SC2046
  tool spin-equal-status spin-equal status "$STATUS_RATE" 1 "$FIXED_SECONDS" -- $(status_args spq) --rate "$STATUS_RATE" --duration "$FIXED_SECONDS"
  # shellcheck disable=SC2046
  tool spin-equal-gateway spin-equal gateway "$EQUAL_RATE" 1 "$FIXED_SECONDS" -- $(target_args gateway) --rate "$EQUAL_RATE" --duration "$FIXED_SECONDS"
  # The same scout search as the default gateway's (one search each: compare with the scout column).
  for target in status gateway; do
    # shellcheck disable=SC2046
    findmax "spin-scout-$target" spin-scout "$target" "$FM_START" "$FM_SCOUT_STEP" -- $(target_args "$target")
    echo "spin_knee_$target=$(knee_of "$RUN/spin-scout-$target")" >>"$RUN/meta.env"
  done
  stop_proc gateway
  GATEWAY_EXTRA_ENV=()
  start_gateway 100 10 00:40:00 00:40:00
fi

# ---------------------------------------------------------------- 5. the moonshot: mixed 30k RPS on the whole machine
# mixed LABEL RATE: 90% status polls and 10% admitted gated GETs from two tool processes, nothing pinned.
mixed() {
  local label=$1 rate=$2 polls admitted rc=0 quiet
  polls=$((rate * 9 / 10))
  admitted=$((rate - polls))
  wait_quiet
  quiet=$QUIET
  # shellcheck disable=SC2046
  timeout -k 10 $((FIXED_SECONDS + 240)) dotnet "$TOOL" $(target_args gateway) --rate "$admitted" --duration "$FIXED_SECONDS" \
    --warmup 4 --max-in-flight 30000 --out "$RUN/$label-admitted" >"$RUN/logs/$label-admitted.log" 2>&1 &
  local pid=$!
  register tool2 "$pid"
  PROC[tool2]=$pid
  # The status tool joins its sample first (a few seconds); both warm up and then measure about the same window.
  # shellcheck disable=SC2046
  NO_QUIET=1 tool "$label-status" "$label" status "$polls" 1 "$FIXED_SECONDS" -- $(status_args "$label") --rate "$polls" \
    --duration "$FIXED_SECONDS" --max-in-flight 30000
  wait "$pid" || rc=$?
  unset "PROC[tool2]"
  register tool2
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" gateway "$label-admitted" "$admitted" "$RUN/$label-admitted" "$rc" "$quiet" >>"$RUNS"
}

for name in gateway redis backends; do [ -n "${PROC[$name]:-}" ] && ((PIN)) && taskset -a -p -c 0-1 "${PROC[$name]}" >/dev/null; done
SAVED_PIN=$PIN
PIN=0
log "phase 5: mixed load at $MIXED_RATE/s (90% status polls, 10% admitted), nothing pinned"
mixed mixed "$MIXED_RATE"
# What the machine does sustain mixed: from the sustained rates, 1 / (0.9 / polls + 0.1 / admitted), rounded down.
MIXED_FIT=$(python3 -c "
s, g = ${SUSTAINED[status]:-0}, ${SUSTAINED[gateway]:-0}
print(int(1 / (0.9 / s + 0.1 / g) // 1000 * 1000) if s and g else 0)")
if ((MIXED_FIT > 0 && MIXED_FIT < MIXED_RATE)); then
  log "phase 5b: mixed load at $MIXED_FIT/s, the mix the sustained rates predict"
  mixed mixed-fit "$MIXED_FIT"
fi
PIN=$SAVED_PIN

# ---------------------------------------------------------------- 6. flash crowd against 500/s backends
log "phase 6: flash crowd, $CROWD_USERS users over $CROWD_JOIN s, bucket $CROWD_CAPACITY + $CROWD_REFILL/s, backends at $CROWD_BACKEND_CAPACITY/s"
stop_proc gateway
stop_proc backends
redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
start_backends "$CROWD_BACKEND_CAPACITY"
start_gateway "$CROWD_CAPACITY" "$CROWD_REFILL" 00:10:00 00:01:00
snap crowd.a
tool flash-crowd crowd gateway 0 0 $((CROWD_JOIN + 120)) -- --scenario flash-crowd --target "$GW" --users "$CROWD_USERS" \
  --join-seconds "$CROWD_JOIN" --duration $((CROWD_JOIN + 120)) --user-prefix crowd- \
  --backend-stats "http://127.0.0.1:$RES_PORT,http://127.0.0.1:$INV_PORT,http://127.0.0.1:$PAY_PORT" \
  --bucket-capacity "$CROWD_CAPACITY" --bucket-refill "$CROWD_REFILL"
snap crowd.b

# ---------------------------------------------------------------- report
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/meta.env"
echo "elapsed_s=$(($(date +%s) - T0))" >>"$RUN/meta.env"
for name in "${!PROC[@]}"; do stop_proc "$name"; done
kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
SAMPLER=""
python3 "$ROOT/loadtest/bench/report.py" "$RUN" "$OUT_MD"
log "wrote $OUT_MD ($(($(date +%s) - T0)) s)"
