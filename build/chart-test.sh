#!/usr/bin/env bash
# Checks the Helm chart without a cluster (the same ground the C# ChartTests cover, in seconds):
#   1. helm lint --strict: default values, the required inputs (ci/required-values.yaml), values-production.yaml
#   2. helm template with the required inputs and with values-production.yaml
#   3. the offline schema check of every rendered object (Kubernetes 1.34 OpenAPI, prometheus-operator CRDs)
#   4. values the chart must refuse: each must make `helm template` fail with the expected message
# With CHART_TEST_KUBE_CONTEXT=<context> it also runs `kubectl apply --dry-run=server --validate=strict`
# against that cluster (admission, unknown fields, CRDs present): the check no offline tool can do.
# See charts/waiting-room-gateway/README.md, "Checking the chart".
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/tools.sh
helm=.tools/bin/helm
kubectl=.tools/bin/kubectl
chart=charts/waiting-room-gateway
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# 1. lint (lint mode does not stop at `fail`, so default values lint too; template below is stricter)
for values in "" "$chart/ci/required-values.yaml" "$chart/values-production.yaml"; do
  args=()
  [ -n "$values" ] && args=(-f "$values")
  if "$helm" lint --strict "$chart" "${args[@]}" >"$out/lint.log" 2>&1; then
    ok "helm lint --strict ${values:-(default values)}"
  else
    bad "helm lint --strict ${values:-(default values)}"
    cat "$out/lint.log"
  fi
done

# 2. template
render() { # name, values file
  if "$helm" template gw "$chart" --namespace tickets -f "$2" >"$out/$1.yaml" 2>"$out/$1.err"; then
    ok "helm template -f $2 ($(grep -c '^kind:' "$out/$1.yaml") objects)"
  else
    bad "helm template -f $2"
    cat "$out/$1.err"
  fi
}
render required "$chart/ci/required-values.yaml"
render production "$chart/values-production.yaml"

# 3. schema check of the rendered objects
if node .tools/manifest-check/validate.mjs "$out/required.yaml" "$out/production.yaml" >"$out/check.log" 2>&1; then
  ok "manifest schema check: $(tail -1 "$out/check.log")"
else
  bad "manifest schema check"
  cat "$out/check.log"
fi

# 4. values the chart must refuse: "expected message fragment|helm arguments..."
while IFS='|' read -r expect args; do
  [ -z "$expect" ] && continue
  read -r -a argv <<<"$args"
  args=${args:-(default values)}
  if "$helm" template gw "$chart" "${argv[@]}" >/dev/null 2>"$out/neg.err"; then
    bad "refused: $args (rendered)"
  elif grep -qF -- "$expect" "$out/neg.err"; then
    ok "refused: $args"
  else
    bad "refused: $args (failed without '$expect')"
    cat "$out/neg.err"
  fi
done <<'EOF'
A Redis connection string is required|
at '/autoscaling/minReplicas'|-f charts/waiting-room-gateway/ci/required-values.yaml --set autoscaling.minReplicas=0
at '/replicaCount'|-f charts/waiting-room-gateway/ci/required-values.yaml --set replicaCount=-1
at '/replicaCount'|-f charts/waiting-room-gateway/ci/required-values.yaml --set replicaCount=three
must not be greater than autoscaling.maxReplicas|-f charts/waiting-room-gateway/ci/required-values.yaml --set autoscaling.minReplicas=10 --set autoscaling.maxReplicas=5
additional properties 'replicas' not allowed|-f charts/waiting-room-gateway/ci/required-values.yaml --set replicas=3
at '/resources/limits/memory'|-f charts/waiting-room-gateway/ci/required-values.yaml --set resources.limits.memory=512MB
at '/service/port'|-f charts/waiting-room-gateway/ci/required-values.yaml --set service.port=70000
config:ConnectionStrings must not be in `config`|-f charts/waiting-room-gateway/ci/required-values.yaml --set config.ConnectionStrings.Redis=redis:6379
config:WaitingRoom:SigningKeys looks like a secret|-f charts/waiting-room-gateway/ci/required-values.yaml --set config.WaitingRoom.SigningKeys[0].Secret=c2VjcmV0
config:waitingroom:identity:keys looks like a secret|-f charts/waiting-room-gateway/ci/required-values.yaml --set config.waitingroom.identity.keys[0].Id=web
config:Admin must not be in `config`|-f charts/waiting-room-gateway/ci/required-values.yaml --set config.Admin.Keys[0].Sha256=00
holds a credential|-f charts/waiting-room-gateway/ci/required-values.yaml --set config.Store.Redis=host:6379\,password=hunter2
at '/secrets/signingKeys/0/secret'|-f charts/waiting-room-gateway/ci/required-values.yaml --set secrets.signingKeys[0].secret=c2hvcnQ=
ingress.enabled needs admin.separatePort=true|-f charts/waiting-room-gateway/ci/required-values.yaml --set ingress.enabled=true --set admin.separatePort=false
must cover preStop|-f charts/waiting-room-gateway/ci/required-values.yaml --set terminationGracePeriodSeconds=20
preStop.mode=sleep needs Kubernetes 1.30|-f charts/waiting-room-gateway/ci/required-values.yaml --kube-version 1.29.0
EOF

# 5. optional: a real API server's dry run (admission, unknown fields, CRDs)
if [ -n "${CHART_TEST_KUBE_CONTEXT:-}" ]; then
  for f in required production; do
    if "$kubectl" --context "$CHART_TEST_KUBE_CONTEXT" apply --dry-run=server --validate=strict -n tickets \
      -f "$out/$f.yaml" >"$out/kubectl.log" 2>&1; then
      ok "kubectl apply --dry-run=server --validate=strict ($f, context $CHART_TEST_KUBE_CONTEXT)"
    else
      bad "kubectl apply --dry-run=server --validate=strict ($f)"
      cat "$out/kubectl.log"
    fi
  done
fi

echo "chart-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
