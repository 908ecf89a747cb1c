#!/usr/bin/env bash
# The soak: a sale held for SOAK_MINUTES at a rate this machine holds comfortably, with redis-server restarted
# once (at a third of the run) and one of two gateway instances restarted once (at two thirds), everything on
# loopback:
#
#   redis-server (AOF, appendfsync everysec, its own directory) <- two gateways (Gateway.Proxy, Release, production
#   settings, one signing key) <- nginx (round robin, keep-alive, retries on the other gateway only where nginx
#   retries by default: connection errors and timeouts, non-idempotent requests only if they were never sent)
#   <- the load tool's backend-pace scenario: people arrive at SOAK_ARRIVALS/s, join, poll status when the gateway
#   says (poll_after_ms), enter when ready and make one gated call to each sample backend.
#
# The room admits as many people per second as arrive, so its line neither grows nor empties: the sale begins
# paused (the admin API) and opens SOAK_LINE_SECONDS later, when that many seconds of arrivals are in line; from
# then on everyone waits about that long, polling at the gateway's cadence, and the line is the same at the end.
#
# Every SOAK_SAMPLE_SECONDS: RSS and CPU of every process, Redis used_memory and keys, the room's places. When the
# arrivals stop, the script waits until the room is empty (everyone admitted has expired, everyone still in line
# has been dropped) and lists every Redis key with its TTL. loadtest/SoakReport writes summary.md and soak.png.
#
#   loadtest/soak.sh                       # 30 minutes of arrivals, then ~3 minutes until the room is empty
#   SOAK_MINUTES=3 loadtest/soak.sh        # a quick check: restarts at 1 and 2 minutes
#   loadtest/soak.sh --publish             # also copies the chart to docs/img/soak.png
#
# Knobs (environment, defaults in brackets): SOAK_MINUTES [30] of arrivals (at most 30, the tool's limit),
# SOAK_ARRIVALS [25] people/s, SOAK_CAPACITY [50] requests/s each sample backend takes, SOAK_REFILL [the arrival
# rate] admissions/s, SOAK_LINE_SECONDS [20], SOAK_BURST [10] (the room's bucket capacity), SOAK_ADMISSION_TTL [00:02:00], SOAK_ABANDON_AFTER
# [00:00:30], SOAK_REDIS_RESTART_AT / SOAK_GATEWAY_RESTART_AT [a third / two thirds of the run, in seconds from
# the first arrival], SOAK_SAMPLE_SECONDS [5], SOAK_GRACE [12] seconds after a restart still counted in its window
# (the tool's request timeout is 10 s: a request stuck in the restart completes, as an error, up to then).
# Results: loadtest/results/soak-<UTC time>/ (git-ignored). Needs the .NET SDK, redis-server, redis-cli, python3,
# curl, nginx (nginx-light, installed with apt-get when missing). Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$PWD/loadtest/lib.sh"

parse_publish "$@"

MINUTES=${SOAK_MINUTES:-30}
ARRIVALS=${SOAK_ARRIVALS:-25}
CAPACITY=${SOAK_CAPACITY:-50}
REFILL=${SOAK_REFILL:-$ARRIVALS}
LINE_SECONDS=${SOAK_LINE_SECONDS:-20}
BURST=${SOAK_BURST:-10}
ADMISSION_TTL=${SOAK_ADMISSION_TTL:-00:02:00}
ABANDON_AFTER=${SOAK_ABANDON_AFTER:-00:00:30}
DURATION=$((MINUTES * 60))
REDIS_AT=${SOAK_REDIS_RESTART_AT:-$((DURATION / 3))}
GATEWAY_AT=${SOAK_GATEWAY_RESTART_AT:-$((DURATION * 2 / 3))}
SAMPLE_EVERY=${SOAK_SAMPLE_SECONDS:-5}
GRACE=${SOAK_GRACE:-12}
ROOM=concert
((MINUTES >= 1 && MINUTES <= 30)) || { echo "$0: SOAK_MINUTES must be 1-30 (the load tool runs at most 30 minutes)" >&2; exit 2; }
((REDIS_AT > 0 && REDIS_AT < DURATION && GATEWAY_AT > 0 && GATEWAY_AT < DURATION)) \
  || { echo "$0: the restarts must fall within the run" >&2; exit 2; }

seconds_of() { IFS=: read -r h m s <<<"$1"; python3 -c "print(int($((10#$h)) * 3600 + $((10#$m)) * 60 + float('$s')))"; }
# The room is empty at the latest when the last admission has expired and the last person in line was dropped.
EMPTY_TIMEOUT=$(($(seconds_of "$ADMISSION_TTL") + $(seconds_of "$ABANDON_AFTER") + 120))

STAMP=$(date -u +%Y%m%d-%H%M%S)
RUN=$ROOT/loadtest/results/soak-$STAMP
mkdir -p "$RUN/logs" "$RUN/pids"
REDIS_DIR=$(mktemp -d /tmp/soak-redis-XXXXXX)
T0=$(date +%s)
log() { printf '[soak %5ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RUN/soak.log"; }
now() { date +%s.%N | cut -c1-14; }

# ------------------------------------------------------------------ processes we start, and only those
declare -A PROC=()
stop_proc() {
  local pid=${PROC[$1]:-}
  [ -z "$pid" ] && return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PROC[$1]"
  rm -f "$RUN/pids/$1"
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  touch "$RUN/pids/.stop"
  for name in "${!PROC[@]}"; do stop_proc "$name"; done
  rm -rf "$REDIS_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
start_proc() {
  local name=$1
  shift
  "$@" >>"$RUN/logs/$name.log" 2>&1 &
  PROC[$name]=$!
  echo "$!" >"$RUN/pids/$name"
}
event() { printf '%s,%s,%s,%s\n' "$1" "$2" "$3" "$4" >>"$RUN/events.csv"; } # NAME START END DETAIL

for cmd in dotnet redis-server redis-cli python3 curl; do
  command -v "$cmd" >/dev/null || { echo "$0: needs $cmd" >&2; exit 1; }
done
if ! command -v nginx >/dev/null; then
  log "installing nginx-light (the load balancer in front of the two gateways)"
  apt=(apt-get)
  [ "$(id -u)" = 0 ] || apt=(sudo apt-get)
  { "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends nginx-light; } >"$RUN/logs/apt.log" 2>&1 \
    || { log "could not install nginx-light (see $RUN/logs/apt.log)"; exit 1; }
fi

build_release "$RUN/logs" Gateway.Proxy samples/Gateway.SampleBackends loadtest/LoadTest loadtest/SoakReport || exit 1
GW_BIN=$ROOT/Gateway.Proxy/bin/Release/net10.0
BE_DLL=$ROOT/samples/Gateway.SampleBackends/bin/Release/net10.0/Gateway.SampleBackends.dll
TOOL=$ROOT/loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll
REPORT=$ROOT/loadtest/SoakReport/bin/Release/net10.0/SoakReport.dll

{
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo ' (with uncommitted changes)')"
  echo "machine=$(nproc) vCPU $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024)) MiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
  echo "versions=.NET SDK $(dotnet --version), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
  echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "minutes=$MINUTES"
  echo "arrivals=$ARRIVALS"
  echo "capacity=$CAPACITY"
  echo "refill=$REFILL"
  echo "burst=$BURST"
  echo "line_seconds=$LINE_SECONDS"
  echo "admission_ttl=$ADMISSION_TTL"
  echo "abandon_after=$ABANDON_AFTER"
  echo "sample_every=$SAMPLE_EVERY"
  echo "grace=$GRACE"
  echo "command=$([ "$MINUTES" = 30 ] || echo "SOAK_MINUTES=$MINUTES ")$([ "$ARRIVALS" = 25 ] || echo "SOAK_ARRIVALS=$ARRIVALS ")loadtest/soak.sh$( ((PUBLISH)) && echo ' --publish')"
} >"$RUN/meta.env"
while read -r line; do log "$line"; done <"$RUN/meta.env"
echo "name,start_unix,end_unix,detail" >"$RUN/events.csv"

# ------------------------------------------------------------------ redis-server, backends, two gateways, nginx
REDIS_PORT=$(free_port)
start_redis() {
  start_proc redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --dir "$REDIS_DIR" \
    --save '' --appendonly yes --appendfsync everysec --logfile ""
  # PING answers LOADING until the AOF is read back: wait for PONG.
  for _ in $(seq 600); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
  log "redis-server did not answer on $REDIS_PORT"
  return 1
}
rcli() { timeout 3 redis-cli -p "$REDIS_PORT" "$@" 2>/dev/null; }
start_redis

RES_PORT=$(free_port); INV_PORT=$(free_port); PAY_PORT=$(free_port)
start_proc backends dotnet "$BE_DLL" --Backends:CapacityPerSecond="$CAPACITY" \
  --Backends:ReservationPort="$RES_PORT" --Backends:InventoryPort="$INV_PORT" --Backends:PaymentPort="$PAY_PORT"
wait_http "http://127.0.0.1:$INV_PORT/"

SECRET=$(head -c 32 /dev/urandom | base64)
ADMIN_SECRET=$(head -c 32 /dev/urandom | base64)
# The shipped appsettings.json routes the three clusters, gated by room concert; this run's settings on top.
GATEWAY_SETTINGS=(
  ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
  WaitingRoom__SigningKeys__0__Id=soak WaitingRoom__SigningKeys__0__Secret="$SECRET"
  # Every request reaches the gateways from 127.0.0.1 (nginx): per-client limits would count all people as one.
  WaitingRoom__JoinsPerClientPerMinute=0 WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0
  WaitingRoom__Rooms__${ROOM}__Capacity="$BURST" WaitingRoom__Rooms__${ROOM}__RefillPerSecond="$REFILL"
  WaitingRoom__Rooms__${ROOM}__AdmissionTtl="$ADMISSION_TTL" WaitingRoom__Rooms__${ROOM}__AbandonAfter="$ABANDON_AFTER"
  Admin__Keys__0__Id=soak Admin__Keys__0__Sha256="$(printf %s "$ADMIN_SECRET" | sha256sum | cut -d' ' -f1)"
  Logging__LogLevel__Default=Warning
  "ReverseProxy__Clusters__reservation__Destinations__reservation-1__Address=http://127.0.0.1:$RES_PORT/"
  "ReverseProxy__Clusters__inventory__Destinations__inventory-1__Address=http://127.0.0.1:$INV_PORT/"
  "ReverseProxy__Clusters__payment__Destinations__payment-1__Address=http://127.0.0.1:$PAY_PORT/"
)
GW1_PORT=$(free_port); GW2_PORT=$(free_port)
printf 'gw1_port=%s\ngw2_port=%s\n' "$GW1_PORT" "$GW2_PORT" >>"$RUN/meta.env"
start_gateway() { # N PORT
  start_proc "gw$1" env "${GATEWAY_SETTINGS[@]}" dotnet "$GW_BIN/Gateway.Proxy.dll" --urls "http://127.0.0.1:$2" \
    --environment Production --contentRoot "$GW_BIN"
  wait_http "http://127.0.0.1:$2/readyz" 120
}
start_gateway 1 "$GW1_PORT"
start_gateway 2 "$GW2_PORT"

NGINX_PORT=$(free_port)
NGINX_DIR=$RUN/nginx
mkdir -p "$NGINX_DIR"
# Round robin over the two gateways with pooled connections. proxy_next_upstream is nginx's default (error
# timeout): a request goes to the other gateway when the connection fails or times out, a POST only if it was
# never sent. Only what did not end 2xx at the first gateway is logged (to see restarts from nginx's side).
cat >"$NGINX_DIR/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 8192; }
http {
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  log_format soak '\$msec \$status "\$upstream_addr" "\$upstream_status" \$request_method \$uri \$request_time';
  map "\$status \$upstream_addr" \$unusual { "~^2[0-9][0-9] [^,]*\$" 0; default 1; }
  access_log $NGINX_DIR/unusual.log soak if=\$unusual;
  keepalive_requests 1000000;
  upstream gateways {
    server 127.0.0.1:$GW1_PORT;
    server 127.0.0.1:$GW2_PORT;
    keepalive 128;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
    }
  }
}
EOF
start_proc nginx nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
LB=http://127.0.0.1:$NGINX_PORT
wait_http "$LB/readyz"
log "redis :$REDIS_PORT (AOF in $REDIS_DIR), backends :$RES_PORT :$INV_PORT :$PAY_PORT ($CAPACITY/s each), gateways :$GW1_PORT :$GW2_PORT, nginx :$NGINX_PORT"

# ------------------------------------------------------------------ the sampler (a subshell: it reads pids from files)
# The machine's busy and total time in hundredths of a second: all CPUs (counted in /proc/stat, whatever this shell's
# affinity) times the uptime, minus their idle time (/proc/uptime, exact on a tickless kernel) and their iowait and
# steal (/proc/stat). The busy columns of /proc/stat are counted on the scheduler tick and miss timer-paced work.
machine_ticks() {
  awk 'FILENAME == "/proc/uptime" { up = $1; idle = $2; next }
       /^cpu / { lost = $6 + $9 }
       /^cpu[0-9]+ / { n++ }
       END { printf "%.0f,%.0f", (up * n - idle) * 100 - lost, up * n * 100 }' /proc/uptime /proc/stat
}
proc_stat() { # PID -> "rss_kb cpu_ticks" of the process and its children (nginx's workers)
  local pid=$1 rss=0 ticks=0 p r t
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || { echo ","; return; }
  for p in "$pid" $(cat "/proc/$pid/task/"*/children 2>/dev/null); do
    r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$p/status" 2>/dev/null) || r=0
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    rss=$((rss + ${r:-0})); ticks=$((ticks + ${t:-0}))
  done
  echo "$rss,$ticks"
}
sampler() {
  # A missing process or a Redis that is restarting leaves its cells empty; it must not end the sampler.
  trap - EXIT INT TERM
  set +e +o pipefail
  local columns=(gw1 gw2 redis nginx backends tool) name pid keyspace
  {
    printf 'unix_s,load1,cpu_busy_ticks,cpu_total_ticks'
    for name in "${columns[@]}"; do printf ',%s_pid,%s_rss_kb,%s_cpu_ticks' "$name" "$name" "$name"; done
    printf ',redis_used_memory,redis_keys,redis_expires,places,waiting,active,gw1_heap_bytes,gw2_heap_bytes\n'
  } >"$RUN/samples.csv"
  while [ ! -e "$RUN/pids/.stop" ]; do
    local line
    line="$(now),$(cut -d' ' -f1 /proc/loadavg),$(machine_ticks)"
    for name in "${columns[@]}"; do
      pid=$(cat "$RUN/pids/$name" 2>/dev/null || true)
      line+=",$pid,$(proc_stat "$pid")"
    done
    keyspace=$(rcli info keyspace | sed -n 's/^db0:keys=\([0-9]*\),expires=\([0-9]*\).*/\1,\2/p')
    line+=",$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p' | tr -d '\r'),${keyspace:-,}"
    for cmd in "HLEN wr:{$ROOM}:tok" "ZCARD wr:{$ROOM}:q" "ZCARD wr:{$ROOM}:act"; do
      # shellcheck disable=SC2086
      line+=",$(rcli $cmd | tr -d '\r')"
    done
    # Each gateway's managed heap in use (GC.GetTotalMemory, from its own /metrics): a leak shows there before RSS.
    for port in "$GW1_PORT" "$GW2_PORT"; do
      line+=",$(curl -fs --max-time 2 "http://127.0.0.1:$port/metrics" | sed -n 's/^dotnet_total_memory_bytes \([0-9.e+]*\).*/\1/p')"
    done
    echo "$line" >>"$RUN/samples.csv"
    sleep "$(python3 -c "import time; print($SAMPLE_EVERY - time.time() % $SAMPLE_EVERY)")"
  done
}
sampler &
SAMPLER=$!

# ------------------------------------------------------------------ the sale, with the two restarts in it
restart_redis() {
  local begin places_before keys_before exited places_after keys_after
  places_before=$(rcli HLEN "wr:{$ROOM}:tok"); keys_before=$(rcli DBSIZE)
  begin=$(now)
  log "restarting redis-server: SHUTDOWN (the AOF is flushed), then the same port and directory ($places_before places, $keys_before keys)"
  rcli shutdown >/dev/null || true
  for _ in $(seq 300); do kill -0 "${PROC[redis]}" 2>/dev/null || break; sleep 0.1; done
  stop_proc redis
  exited=$(now)
  start_redis
  places_after=$(rcli HLEN "wr:{$ROOM}:tok"); keys_after=$(rcli DBSIZE)
  wait_http "http://127.0.0.1:$GW1_PORT/readyz" 60 || true
  wait_http "http://127.0.0.1:$GW2_PORT/readyz" 60 || true
  event redis-restart "$begin" "$(now)" "down $(python3 -c "print(round($exited - $begin, 2))") s; places $places_before before / $places_after after; keys $keys_before / $keys_after"
  log "redis-server back: $places_after places, $keys_after keys; both gateways ready"
}
restart_gateway2() {
  local begin exited status=0
  begin=$(now)
  log "rolling restart of gateway 2: SIGTERM (it drains for Shutdown:DrainDelay), start again when it has exited"
  kill -TERM "${PROC[gw2]}"
  # Shutdown:DrainDelay (5 s) plus in-flight requests (Shutdown:Timeout, 30 s) at most; then it is killed.
  for _ in $(seq 600); do kill -0 "${PROC[gw2]}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${PROC[gw2]}" 2>/dev/null && log "gateway 2 did not exit within 60 s: killed"
  wait "${PROC[gw2]}" || status=$?
  exited=$(now)
  unset "PROC[gw2]"
  start_gateway 2 "$GW2_PORT"
  event gateway2-restart "$begin" "$(now)" "exited with $status after $(python3 -c "print(round($exited - $begin, 2))") s"
  log "gateway 2 exited with $status after $(python3 -c "print(round($exited - $begin, 1))") s and is ready again"
}
sleep_until() { local wait; wait=$(python3 -c "print(max(0, $1 - $(now)))"); sleep "$wait"; }
room_state() { # the operator's switch (admin API): paused, or null = as configured (open)
  curl -fsS -o /dev/null --max-time 5 -X PATCH -H "Authorization: Bearer $ADMIN_SECRET" -H 'Content-Type: application/json' \
    --data "{\"state\": $1}" "http://127.0.0.1:$GW1_PORT/admin/v1/rooms/$ROOM"
}

log "the sale: $ARRIVALS people/s for $MINUTES min through nginx; backends take $CAPACITY/s each, the room admits $REFILL/s (burst $BURST), opening after $LINE_SECONDS s"
((LINE_SECONDS > 0)) && room_state '"paused"'
LOAD_START=$(now)
timeout --signal=INT $((DURATION + 300)) dotnet "$TOOL" --scenario backend-pace --target "$LB" --event "$ROOM" \
  --arrivals "$ARRIVALS" --duration "$DURATION" --capacity-schedule "0:$CAPACITY" \
  --backend-stats "http://127.0.0.1:$RES_PORT,http://127.0.0.1:$INV_PORT,http://127.0.0.1:$PAY_PORT" \
  --label soak --user-prefix "soak-" --out "$RUN/load" >"$RUN/logs/loadtest.log" 2>&1 &
TOOL_PID=$!
echo "$TOOL_PID" >"$RUN/pids/tool"
PROC[tool]=$TOOL_PID

if ((LINE_SECONDS > 0)); then
  sleep_until "$LOAD_START + $LINE_SECONDS"
  room_state null
  event opening "$(now)" "$(now)" "the room opened with $(rcli ZCARD "wr:{$ROOM}:q") people in line"
  log "the room is open: $(rcli ZCARD "wr:{$ROOM}:q") people in line"
fi
# Two events, in time order.
if ((REDIS_AT <= GATEWAY_AT)); then order=(redis gateway); else order=(gateway redis); fi
for what in "${order[@]}"; do
  if [ "$what" = redis ]; then sleep_until "$LOAD_START + $REDIS_AT"; restart_redis; else sleep_until "$LOAD_START + $GATEWAY_AT"; restart_gateway2; fi
done

tool_status=0
wait "$TOOL_PID" || tool_status=$?
unset "PROC[tool]"
rm -f "$RUN/pids/tool"
LOAD_END=$(now)
event load "$LOAD_START" "$LOAD_END" "load tool exit $tool_status"
log "arrivals over (load tool exit $tool_status): $(grep -E '^[0-9]+ requests' "$RUN/logs/loadtest.log" || echo 'no summary line')"

# ------------------------------------------------------------------ the room empties; then every key and its TTL
log "waiting (at most $EMPTY_TIMEOUT s) until the room has no place left"
deadline=$(($(date +%s) + EMPTY_TIMEOUT))
until [ "$(rcli HLEN "wr:{$ROOM}:tok")" = 0 ]; do
  (($(date +%s) < deadline)) || { log "the room still had $(rcli HLEN "wr:{$ROOM}:tok") places after $EMPTY_TIMEOUT s"; break; }
  sleep 2
done
EMPTY_AT=$(now)
event drain "$LOAD_END" "$EMPTY_AT" "places left $(rcli HLEN "wr:{$ROOM}:tok")"
# One more sample of the idle system, then the keys.
sleep $((SAMPLE_EVERY * 2))
echo "key,type,pttl_ms" >"$RUN/keys.csv"
rcli --scan | while read -r key; do
  echo "$key,$(rcli TYPE "$key" | tr -d '\r'),$(rcli PTTL "$key" | tr -d '\r')" >>"$RUN/keys.csv"
done
log "keys left: $(($(wc -l <"$RUN/keys.csv") - 1)), without a TTL: $(awk -F, 'NR > 1 && $3 == -1' "$RUN/keys.csv" | wc -l)"
rcli info all >"$RUN/redis-info.txt" || true
echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/meta.env"

touch "$RUN/pids/.stop"
wait "$SAMPLER" 2>/dev/null || true
for name in gw1 gw2 nginx backends redis; do stop_proc "$name"; done
cp "$NGINX_DIR/unusual.log" "$RUN/nginx-unusual.log" 2>/dev/null || true

dotnet "$REPORT" "$RUN" | tee -a "$RUN/soak.log"
if ((PUBLISH)); then
  cp "$RUN/soak.png" "$ROOT/docs/img/soak.png"
  log "chart copied to docs/img/soak.png"
fi
log "done: $RUN/summary.md"
