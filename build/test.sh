#!/usr/bin/env bash
# Runs every test of the solution: the queue against a real redis-server (started by the tests on a free
# loopback port) and the embedded store, the gateway end to end on loopback, the page in headless Chromium.
# Installs what the tests need when it is missing (redis-server, redis-cli, chromium; needs root or sudo for
# apt-get), and helm, kubectl and the manifest check for the chart tests (build/tools.sh, into .tools/).
# The Redis Cluster tests start six redis-servers and join them with redis-cli --cluster create.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Debian's redis-server depends on redis-tools (redis-cli); named too in case only the server is present.
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]})); then
  echo "build/test.sh: installing ${missing[*]}"
  apt=(apt-get)
  [ "$(id -u)" = 0 ] || apt=(sudo apt-get)
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi
# A packaged redis-server may start a system instance; the tests use their own on free ports.

# The chart tests (Gateway.Tests/Deployment) render with .tools/bin/helm; they fail without it.
bash build/tools.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Proxy.sln -c Release --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Failures again at the end, each with its message and first stack lines, so a log's tail names them.
awk '/^  Failed / { n = 14 } n > 0 { print; n-- }' "$log"
# One plain closing line over all test assemblies, from the runner's per-assembly summaries
# ("Total tests: N" blocks at normal verbosity).
awk '/^ *Passed: *[0-9]+ *$/ { p += $2 } /^ *Failed: *[0-9]+ *$/ { f += $2 } END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
