#!/usr/bin/env bash
# Smoke test of a running test cluster (after up.sh):
#   1. the fake nodes are Ready;
#   2. a Deployment tolerating kwok-provider with nodeSelector type=virtual gets Running, Ready pods
#      (Deployment -> ReplicaSet -> Pods needs kube-controller-manager; binding needs the scheduler;
#      Running/Ready needs the kwok Stages);
#   3. a Deployment whose requests exceed every node stays Pending with a FailedScheduling event;
#   4. deleting the namespace removes the pods.
# Uses a fresh namespace, so it also checks that pods can be created there (ServiceAccount).
# Honours SIM_ARENA_KUBECONFIG / SIM_ARENA_STATE_DIR like up.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_DIR="${SIM_ARENA_STATE_DIR:-$REPO_ROOT/.cluster}"
KUBECONFIG_OUT="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
BIN="$(cluster_bin_dir)"
[[ -x "$BIN/kubectl" ]] || die "no kubectl in $BIN; run test/cluster/up.sh first"
[[ -s "$KUBECONFIG_OUT" ]] || die "no kubeconfig at $KUBECONFIG_OUT; run test/cluster/up.sh first"
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }

ns="smoke-$(date +%s)-$RANDOM"
t0="$(now_s)"
cleanup() { kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

[[ -n "$(kc get nodes -l type=virtual -o name)" ]] || die "no nodes labelled type=virtual"
kc wait --for=condition=Ready node -l type=virtual --timeout=60s >/dev/null || die "virtual nodes are not Ready"
log "nodes Ready: $(kc get nodes -l type=virtual -o name | wc -l)"

kc create namespace "$ns" >/dev/null
kc apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: fits
spec:
  replicas: 3
  selector:
    matchLabels: {app: fits}
  template:
    metadata:
      labels: {app: fits}
    spec:
      nodeSelector: {type: virtual}
      tolerations:
        - {key: kwok-provider, operator: Exists, effect: NoSchedule}
      containers:
        - name: app
          image: registry.example/app:1
          resources:
            requests: {cpu: 500m, memory: 256Mi}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: too-big
spec:
  replicas: 1
  selector:
    matchLabels: {app: too-big}
  template:
    metadata:
      labels: {app: too-big}
    spec:
      nodeSelector: {type: virtual}
      tolerations:
        - {key: kwok-provider, operator: Exists, effect: NoSchedule}
      containers:
        - name: app
          image: registry.example/app:1
          resources:
            requests: {cpu: "100000", memory: 256Ti}
EOF

kc -n "$ns" rollout status deployment/fits --timeout=60s >/dev/null ||
  { kc -n "$ns" get pods -o wide >&2; die "deployment 'fits' did not become available"; }
running="$(kc -n "$ns" get pods -l app=fits -o jsonpath='{range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}/{.spec.nodeName}{"\n"}{end}')"
[[ "$(grep -c '^Running/True/' <<<"$running")" == 3 ]] || { echo "$running" >&2; die "expected 3 Running/Ready pods"; }
log "deployment 'fits': 3 pods Running and Ready on $(cut -d/ -f3 <<<"$running" | sort -u | tr '\n' ' ')"

deadline=$(( $(date +%s) + 60 ))
until [[ "$(kc -n "$ns" get events --field-selector reason=FailedScheduling -o jsonpath='{.items[*].message}')" == *Insufficient* ]]; do
  (( $(date +%s) < deadline )) || { kc -n "$ns" get events >&2; die "no FailedScheduling event for 'too-big'"; }
  sleep 1
done
phase="$(kc -n "$ns" get pods -l app=too-big -o jsonpath='{.items[0].status.phase}')"
[[ "$phase" == Pending ]] || die "'too-big' pod is $phase, expected Pending"
log "deployment 'too-big': Pending, $(kc -n "$ns" get events --field-selector reason=FailedScheduling -o jsonpath='{.items[0].message}')"

kc -n "$ns" scale deployment/fits --replicas=0 >/dev/null
deadline=$(( $(date +%s) + 60 ))
until [[ -z "$(kc -n "$ns" get pods -l app=fits -o name)" ]]; do
  (( $(date +%s) < deadline )) || die "pods of 'fits' were not deleted after scaling to 0"
  sleep 1
done
log "scale to 0: pods removed"
log "smoke test passed in $(elapsed "$t0")"
