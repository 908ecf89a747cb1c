#!/usr/bin/env bash
# The load tool's own cost: its CPU per request beside wrk's, against a trivial nginx on loopback.
# See loadtest/README.md, "The load tool's own cost".
#
#   loadtest/bench/loadtool-overhead.sh            # ~6 minutes: 3 rounds, before and after, wrk
#   OVERHEAD_ROUNDS=5 OVERHEAD_RATES=5000,20000,40000 loadtest/bench/loadtool-overhead.sh
#   OVERHEAD_BEFORE=none loadtest/bench/loadtool-overhead.sh   # only the working tree's tool
#
# Installs wrk and nginx-light with apt-get when missing; builds the working tree's LoadTest (Release) and
# the one at OVERHEAD_BEFORE (a git revision, built from `git archive` in a temp folder) so both are
# measured side by side in one run; nginx is pinned to OVERHEAD_SERVER_CPU, every generator to
# OVERHEAD_GENERATOR_CPU. Everything is on 127.0.0.1 and bounded (each run has a timeout, the whole
# script OVERHEAD_MAX_MINUTES). Prints a Markdown table; logs and runs.csv stay in a temp folder.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# The tool before the "Scale" item 5 work (issue "Scale"): the reference for "before".
before_ref=${OVERHEAD_BEFORE:-7c217f8d4f57a7d4816dfb6cb8370cf8c58f4136}
rounds=${OVERHEAD_ROUNDS:-3}
rates=${OVERHEAD_RATES:-5000,10000,20000}
seconds=${OVERHEAD_SECONDS:-8}
users=${OVERHEAD_USERS:-64}
server_cpu=${OVERHEAD_SERVER_CPU:-0}
generator_cpu=${OVERHEAD_GENERATOR_CPU:-1}
max_minutes=${OVERHEAD_MAX_MINUTES:-20}

log() { echo "[overhead] $*" >&2; }

apt_updated=0
need() { # command package
  command -v "$1" >/dev/null && return
  log "installing $2"
  if ((!apt_updated)); then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need wrk wrk
need nginx nginx-light
need taskset util-linux
need python3 python3
command -v dotnet >/dev/null || { log "the .NET SDK is needed"; exit 1; }

work=$(mktemp -d /tmp/loadtool-overhead.XXXXXX)
log "work folder: $work"

build() { # source-root output
  dotnet build "$1/loadtest/LoadTest" -c Release -o "$2" -nologo -v q -clp:ErrorsOnly >"$2.build.log" 2>&1 \
    || { log "build of $1 failed:"; tail -20 "$2.build.log" >&2; exit 1; }
}

tools=()
if [[ $before_ref != none ]]; then
  log "building the tool at $before_ref (before)"
  mkdir -p "$work/before-src"
  git -C "$root" archive "$before_ref" -- .editorconfig Directory.Build.props Directory.Packages.props global.json loadtest/LoadTest \
    | tar -x -C "$work/before-src"
  build "$work/before-src" "$work/before"
  tools+=(--tool "before=$work/before/LoadTest.dll")
fi
log "building the working tree's tool (after)"
build "$root" "$work/after"
tools+=(--tool "after=$work/after/LoadTest.dll")

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "nginx on CPU $server_cpu, generators on CPU $generator_cpu; $rounds rounds, rates $rates/s, $seconds s runs"
timeout --kill-after=10 "$((max_minutes * 60))" python3 "$here/loadtool_overhead.py" --work "$work" "${tools[@]}" \
  --rounds "$rounds" --rates "$rates" --seconds "$seconds" --users "$users" \
  --server-cpu "$server_cpu" --generator-cpu "$generator_cpu" | tee "$work/table.md"
log "load average at the end $(cut -d' ' -f1-3 /proc/loadavg); per-run rows: $work/runs.csv"
