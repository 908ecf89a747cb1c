# Helpers the load-test scripts share (sourced, not run): loopback ports, waiting for a server, Release builds, the
# --publish flag. wait_http and build_release report through the sourcing script's own log function.

# A free TCP port on 127.0.0.1 (the kernel's pick; free when asked, taken by whoever binds it next).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until URL answers 2xx/3xx, at most SECONDS (60): returns 1 and logs when it does not.
wait_http() { # URL [SECONDS]
  local deadline=$(($(date +%s) + ${2:-60}))
  until curl -fs -o /dev/null --max-time 2 "$1"; do
    (($(date +%s) < deadline)) || { log "not answering: $1"; return 1; }
    sleep 0.2
  done
}

# Builds each PROJECT in Release, its output in LOG_DIR/build-<name>.log; logs and returns 1 at the first failure.
build_release() { # LOG_DIR PROJECT...
  local dir=$1 project
  shift
  log "building Release"
  for project in "$@"; do
    dotnet build "$project" -c Release -nologo -v q >"$dir/build-$(basename "$project").log" 2>&1 \
      || { log "build failed: $project (see $dir)"; return 1; }
  done
}

# Sets PUBLISH from the script's arguments: --publish or nothing; anything else prints the usage and exits 2.
parse_publish() {
  PUBLISH=0
  while (($#)); do
    case $1 in
      --publish) PUBLISH=1 ;;
      *) echo "usage: $0 [--publish]" >&2; exit 2 ;;
    esac
    shift
  done
}
