#!/usr/bin/env bash
# The sale on this machine (issue "Scale", target 6): a crowd builds a line of ~300,000 people while the room lets
# 500 a second in, everyone polls at the gateway's cadence (poll_after_ms), the admitted enter and browse gated
# routes, new people keep arriving. One gateway (Release, production settings), one redis-server, the sample
# backends and the load tool share the machine's cores; nothing is pinned.
#
#   loadtest/sale.sh                                   # 2,500 arrivals/s for 150 s: ~375,000 joins, ~300,000 in line
#   SALE_ARRIVALS=1000 SALE_SECONDS=60 loadtest/sale.sh  # a quick look
#
# Measured over SALE_WINDOW seconds ending 3 s before the arrivals do (the line at its longest): CPU of each process per
# request the gateway answered (from its own http_requests_received_total counts), Redis CPU and memory per
# person, the line's length; over the whole run (the tool's report): latency by step, errors, lost places.
#
# Knobs (environment, defaults in brackets): SALE_ARRIVALS [2500] people/s, SALE_SECONDS [150] of arrivals,
# SALE_REFILL [500] admissions/s, SALE_BURST [500] (the room's bucket), SALE_CAPACITY [5000] requests/s each sample
# backend takes (well above what 500 admissions/s send it: the backends are not what is measured), SALE_THINK_MS
# [200] between an admitted person's gated calls, SALE_ABANDON_AFTER [00:10:00] (the cadence polls at most every
# third of it), SALE_WINDOW [30] seconds, SALE_TOOL_ENV [DOTNET_gcServer=1] the load tool's runtime settings (the
# "33 s of pauses" note below). Loopback only; every process it starts is stopped on exit.
# Results: loadtest/results/sale-<UTC time>/ (git-ignored): summary.md, the tool's report in tool/, snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$ROOT/loadtest/lib.sh"

ARRIVALS=${SALE_ARRIVALS:-2500}
SECONDS_OF_ARRIVALS=${SALE_SECONDS:-150}
REFILL=${SALE_REFILL:-500}
BURST=${SALE_BURST:-500}
CAPACITY=${SALE_CAPACITY:-5000}
THINK_MS=${SALE_THINK_MS:-200}
ABANDON_AFTER=${SALE_ABANDON_AFTER:-00:10:00}
WINDOW=${SALE_WINDOW:-30}
# The tool holds every person in line as a live iteration (0.6-1.2 GB at 300,000): with its workstation GC that heap
# cost it 33 s of pauses in a 160 s run (its sends late, every latency seconds long); the server GC is its default here.
read -r -a TOOL_ENV <<<"${SALE_TOOL_ENV:-DOTNET_gcServer=1}"
ROOM=concert
((SECONDS_OF_ARRIVALS >= 20 && SECONDS_OF_ARRIVALS <= 1800)) || { echo "$0: SALE_SECONDS must be 20-1800" >&2; exit 2; }
((WINDOW >= 5 && WINDOW + 13 <= SECONDS_OF_ARRIVALS)) || { echo "$0: SALE_WINDOW must be 5 to SALE_SECONDS - 13" >&2; exit 2; }

for cmd in dotnet redis-server redis-cli python3 curl; do
  command -v "$cmd" >/dev/null || { echo "$0: needs $cmd" >&2; exit 1; }
done

RUN=$ROOT/loadtest/results/sale-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$RUN/logs"
T0=$(date +%s)
log() { printf '[sale %4ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RUN/sale.log"; }

PIDS=$RUN/pids
: >"$PIDS"
started=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
start_proc() { # NAME COMMAND...: in the background, logged, its pid in $PIDS for procstat.py
  local name=$1
  shift
  "$@" >>"$RUN/logs/$name.log" 2>&1 &
  started+=("$!")
  echo "$name $!" >>"$PIDS"
}

build_release "$RUN/logs" Gateway.Proxy samples/Gateway.SampleBackends loadtest/LoadTest || exit 1
GW_BIN=$ROOT/Gateway.Proxy/bin/Release/net10.0

REDIS_PORT=$(free_port)
start_proc redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --logfile ""
for _ in $(seq 100); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
rcli() { timeout 5 redis-cli -p "$REDIS_PORT" "$@" 2>/dev/null | tr -d '\r'; }

RES_PORT=$(free_port); INV_PORT=$(free_port); PAY_PORT=$(free_port)
start_proc backends dotnet "$ROOT/samples/Gateway.SampleBackends/bin/Release/net10.0/Gateway.SampleBackends.dll" \
  --Backends:CapacityPerSecond="$CAPACITY" --Backends:ReservationPort="$RES_PORT" --Backends:InventoryPort="$INV_PORT" \
  --Backends:PaymentPort="$PAY_PORT"
wait_http "http://127.0.0.1:$INV_PORT/"

GW_PORT=$(free_port)
start_proc gateway env \
  ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT" \
  WaitingRoom__SigningKeys__0__Id=sale WaitingRoom__SigningKeys__0__Secret="$(head -c 32 /dev/urandom | base64)" \
  WaitingRoom__JoinsPerClientPerMinute=0 WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0 \
  WaitingRoom__Rooms__${ROOM}__Capacity="$BURST" WaitingRoom__Rooms__${ROOM}__RefillPerSecond="$REFILL" \
  WaitingRoom__Rooms__${ROOM}__AbandonAfter="$ABANDON_AFTER" WaitingRoom__Rooms__${ROOM}__AdmissionTtl=00:10:00 \
  WaitingRoom__Rooms__${ROOM}__MaxQueueLength=2000000 Logging__LogLevel__Default=Warning \
  "ReverseProxy__Clusters__reservation__Destinations__reservation-1__Address=http://127.0.0.1:$RES_PORT/" \
  "ReverseProxy__Clusters__inventory__Destinations__inventory-1__Address=http://127.0.0.1:$INV_PORT/" \
  "ReverseProxy__Clusters__payment__Destinations__payment-1__Address=http://127.0.0.1:$PAY_PORT/" \
  dotnet "$GW_BIN/Gateway.Proxy.dll" --urls "http://127.0.0.1:$GW_PORT" --environment Production --contentRoot "$GW_BIN"
GW=http://127.0.0.1:$GW_PORT
wait_http "$GW/readyz" 120
log "redis :$REDIS_PORT, backends :$RES_PORT :$INV_PORT :$PAY_PORT ($CAPACITY/s each), gateway :$GW_PORT"
used_before=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')

snapshot() { # NAME: processes' CPU and RSS, Redis INFO, the gateway's request counts, the room's line
  python3 "$ROOT/loadtest/bench/procstat.py" snap "$RUN/snap-$1.json" "$PIDS" "$REDIS_PORT"
  curl -fs --max-time 5 "$GW/metrics" >"$RUN/metrics-$1.txt" || true
  printf 'waiting=%s\nplaces=%s\nactive=%s\n' "$(rcli ZCARD "wr:{$ROOM}:q")" "$(rcli HLEN "wr:{$ROOM}:tok")" \
    "$(rcli ZCARD "wr:{$ROOM}:act")" >"$RUN/room-$1.env"
}

log "the sale: $ARRIVALS people/s for $SECONDS_OF_ARRIVALS s, $REFILL admissions/s; measuring $WINDOW s ending 3 s before the arrivals do"
start_proc tool env "${TOOL_ENV[@]}" dotnet "$ROOT/loadtest/LoadTest/bin/Release/net10.0/LoadTest.dll" --scenario backend-pace --target "$GW" \
  --event "$ROOM" --user-prefix "sale-$(date +%s)-" --arrivals "$ARRIVALS" --duration "$SECONDS_OF_ARRIVALS" \
  --backend-stats "http://127.0.0.1:$RES_PORT,http://127.0.0.1:$INV_PORT,http://127.0.0.1:$PAY_PORT" \
  --capacity-schedule "0:$CAPACITY" --think-ms "$THINK_MS" --label sale --out "$RUN/tool"
tool_pid=${started[-1]}
python3 "$ROOT/loadtest/bench/procstat.py" sample "$RUN/cpu.csv" "$PIDS" &
started+=("$!")

# The tool's arrivals begin once it has read the backends' stats (a second or two): the window is timed from the
# first join the gateway counted and ends 3 s before the arrivals do (the first join's own latency and the snapshots
# must not carry it past them). /metrics is read whole before grep: grep -q exiting early would fail curl (pipefail).
arrivals_start=
for _ in $(seq 600); do
  kill -0 "$tool_pid" 2>/dev/null || { log "the load tool exited before its first join (see $RUN/logs/tool.log)"; exit 1; }
  metrics=$(curl -fs --max-time 2 "$GW/metrics" || true)
  if grep -q '^http_requests_received_total{.*queue/join' <<<"$metrics"; then arrivals_start=$(date +%s.%N); break; fi
  sleep 0.1
done
[ -n "$arrivals_start" ] || { log "no join reached the gateway in 60 s"; exit 1; }
sleep_until() { sleep "$(python3 -c "import time; print(max(0.0, $1 - time.time()))")"; }
window_end=$(python3 -c "print($arrivals_start + $SECONDS_OF_ARRIVALS - 3)")
sleep_until "$(python3 -c "print($window_end - $WINDOW)")"
snapshot start
log "window start: $(tr '\n' ' ' <"$RUN/room-start.env")"
sleep_until "$window_end"
snapshot end
log "window end: $(tr '\n' ' ' <"$RUN/room-end.env")"
for _ in $(seq 1200); do kill -0 "$tool_pid" 2>/dev/null || break; sleep 0.5; done
log "the tool ran $(python3 -c "import time; print(round(time.time() - $arrivals_start))") s after the first join; its report: $RUN/tool/report.md"

python3 "$ROOT/loadtest/bench/sale_report.py" --run "$RUN" --used-before "${used_before:-0}" \
  --arrivals "$ARRIVALS" --seconds "$SECONDS_OF_ARRIVALS" --refill "$REFILL" | tee "$RUN/summary.md"
