#!/usr/bin/env bash
# The shared side-by-side yardstick (../shared/bench/run.sh: direct backend, bare YARP, nginx and this gateway's open
# route, gated route and status poll, the proxies pinned to core 0, wrk, backend and Redis to core 1) run as an A/B:
# variant A is the gateway as shipped, variant B adds YARDSTICK_B (runtime or gateway settings), alternating
# A B A B ... so both see the same minutes of a shared machine. Every run's output and a summary of medians go to
# loadtest/results/yardstick-<UTC time>/ (git-ignored).
#
#   loadtest/bench/yardstick.sh                                  # A only, 1 run, 300,000 people queued first
#   YARDSTICK_RUNS=2 YARDSTICK_B="DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=4" loadtest/bench/yardstick.sh
#
# Knobs: YARDSTICK_RUN_SH (../shared/bench/run.sh beside the project), YARDSTICK_RUNS (runs per variant, 1),
# YARDSTICK_ROUNDS (3) and YARDSTICK_SECONDS (8) per run, YARDSTICK_PREFILL (300000; only the first run queues
# them: Redis CPU per status poll is measured with that many waiting), YARDSTICK_B (unset = A only).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUN_SH=${YARDSTICK_RUN_SH:-$ROOT/../shared/bench/run.sh}
RUNS=${YARDSTICK_RUNS:-1}
ROUNDS=${YARDSTICK_ROUNDS:-3}
SECONDS_PER=${YARDSTICK_SECONDS:-8}
PREFILL=${YARDSTICK_PREFILL:-300000}
B=${YARDSTICK_B:-}
[ -f "$RUN_SH" ] || { echo "yardstick: $RUN_SH not found (set YARDSTICK_RUN_SH)" >&2; exit 2; }
OUT=$ROOT/loadtest/results/yardstick-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

# The yardstick's prefill joins with user ids from wrk's math.random, which starts from the same seed in every wrk
# run: its second 5-second batch repeats the first one's ids. Under the v2 identity rules an unverified user id
# that already holds a place is refused (409 ALREADY_QUEUED), so the prefill would never grow past one batch and
# its loop would never end. A copy of the yardstick seeds each batch from the clock; nothing else changes.
BENCH=$(mktemp -d)
trap 'rm -rf "$BENCH"' EXIT
cp -r "$(dirname "$RUN_SH")/." "$BENCH/"
chmod -R u+w "$BENCH"
sed -i 's/^counter = 0$/counter = 0\nmath.randomseed(os.time())/' "$BENCH/run.sh"
grep -q '^math.randomseed(os.time())$' "$BENCH/run.sh" || { echo "yardstick: could not seed the prefill's ids in $RUN_SH" >&2; exit 2; }
RUN_SH=$BENCH/run.sh

# The yardstick sends everything from 127.0.0.1, which the per-client limits would treat as one client (its
# 300,000 joins as one address holding 300,000 places): they are off here, as in every benchmark of this project.
BASE="WaitingRoom__MaxPlacesPerClient=0 WaitingRoom__PollsPerClientPerMinute=0"

variants=(A)
[ -n "$B" ] && variants+=(B)
first=1
for run in $(seq "$RUNS"); do
  for v in "${variants[@]}"; do
    env_extra=$BASE
    [ "$v" = B ] && env_extra="$BASE $B"
    prefill=0
    [ "$first" = 1 ] && prefill=$PREFILL
    first=0
    log=$OUT/$v-$run.log
    # run.sh starts its redis-server and proxies on fixed ports; the previous run's may still be exiting, and a
    # gateway that connected to a dying redis-server (the new one could not bind) answered every status poll and
    # gated request with an error for a whole run. Wait (bounded) until the ports are free.
    for _ in $(seq 60); do
      ss -Htln 'sport >= :5001 and sport <= :5004 or sport = :6391' | grep -q . || break
      sleep 1
    done
    echo "[yardstick] run $run variant $v (prefill $prefill) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"
    # Bounded: a run that cannot finish (a prefill that stops growing loops in the yardstick) ends after 30 minutes.
    BENCH_PREFILL=$prefill BENCH_GW_ENV="$env_extra" timeout 1800 bash "$RUN_SH" "$ROOT" "$ROUNDS" "$SECONDS_PER" >"$log" 2>&1 || true
    cp /tmp/bench-run/gw.log "$OUT/$v-$run.gateway.log" 2>/dev/null || true
    grep -E "median|ratio|redis cpu|prefill|memory" "$log" | sed "s/^/  $v-$run: /" | tee -a "$OUT/summary.txt"
  done
done

# Medians per variant of the figures every run prints.
python3 - "$OUT" "${variants[@]}" <<'PY' | tee -a "$OUT/summary.txt"
import glob, os, re, statistics, sys
out, variants = sys.argv[1], sys.argv[2:]
for v in variants:
    rates, ratios = {}, {}
    for path in sorted(glob.glob(os.path.join(out, f"{v}-*.log"))):
        for line in open(path):
            m = re.match(r"(\S+)\s+median\s+(\d+) rps", line)
            if m:
                rates.setdefault(m.group(1), []).append(int(m.group(2)))
            for name, value in re.findall(r"(\S+/\S+) ([0-9.]+)", line) if line.startswith("ratio") else []:
                ratios.setdefault(name, []).append(float(value))
    print(f"variant {v}: " + ", ".join(f"{t} {statistics.median(r):,.0f}/s" for t, r in rates.items()))
    print(f"variant {v}: " + ", ".join(f"{n} {statistics.median(r):.3f}" for n, r in ratios.items()))
    if "gw_status" in rates:
        # The gateway runs on one pinned core (DOTNET_PROCESSOR_COUNT=1): at saturation, CPU per poll <= 1 s / rate.
        print(f"variant {v}: gateway CPU per status poll at saturation <= {1e6 / statistics.median(rates['gw_status']):.1f} us")
PY
echo "[yardstick] results in $OUT"
