#!/usr/bin/env bash
# Records a real SimKube trace from the test cluster with SimKube's own sk-tracer and `skctl export`:
#   npm run trace:record -- [--scenario NAME|FILE] [--out FILE] [--namespace NS]
# starts sk-tracer (tracer-config.yaml) against the cluster, runs the scenario (a bash file under record/ applying
# and changing workloads in namespace NS over time), exports the namespace's history as a trace, validates it with
# `skctl validate check` and `sim-arena trace validate`, and stops the tracer.  The trace is written atomically.
# Default: --scenario web-scale --out traces/recorded/<scenario>.sktrace --namespace rec-<scenario>.
# The exported objects live in NS: replay them against workload NS/NAME (e.g. --workload rec-web-scale/web).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scenario=web-scale out="" ns=""
while (( $# )); do
  case "$1" in
    --scenario) scenario="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --namespace) ns="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) sk_die "unknown argument $1 (usage: record.sh [--scenario NAME|FILE] [--out FILE] [--namespace NS])" ;;
  esac
done
script="$scenario"
[[ -f "$script" ]] || script="$SK_DIR/record/$scenario.sh"
[[ -f "$script" ]] || sk_die "no scenario $scenario (have: $(cd "$SK_DIR/record" && ls -- *.sh | sed 's/\.sh$//' | tr '\n' ' '))"
name="$(basename "$script" .sh)"
ns="${ns:-rec-$name}"
out="${out:-$SK_REPO_ROOT/traces/recorded/$name.sktrace}"
STATE_DIR="${SIM_ARENA_STATE_DIR:-$SK_REPO_ROOT/.cluster}"
KUBECONFIG_IN="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
PORT="${SIM_ARENA_TRACER_PORT:-7777}"
[[ -f "$KUBECONFIG_IN" ]] || sk_die "no kubeconfig at $KUBECONFIG_IN: start the test cluster first (npm run cluster:up)"
CLUSTER_BIN="$(bash "$SK_DIR/../build.sh" --print-dir 2>/dev/null || true)"
[[ -x "$CLUSTER_BIN/kubectl" ]] && export PATH="$CLUSTER_BIN:$PATH"
kc() { kubectl --kubeconfig "$KUBECONFIG_IN" "$@"; }
kc get --raw /readyz >/dev/null 2>&1 || sk_die "the cluster in $KUBECONFIG_IN does not answer; start it with npm run cluster:up"

"$SK_DIR/build.sh"
mkdir -p "$STATE_DIR/simkube" "$(dirname "$out")"
log="$STATE_DIR/simkube/sk-tracer.log"
tmp="$(mktemp -d)"
tracer_pid=""
cleanup() {
  [[ -n "$tracer_pid" ]] && kill "$tracer_pid" 2>/dev/null && wait "$tracer_pid" 2>/dev/null
  kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

kc get namespace "$ns" >/dev/null 2>&1 && sk_die "namespace $ns exists already; pick another with --namespace (or delete it)"
kc create namespace "$ns" >/dev/null
KUBECONFIG="$KUBECONFIG_IN" "$SK_BIN_DIR/sk-tracer" --config-file "$SK_DIR/tracer-config.yaml" --server-port "$PORT" >"$log" 2>&1 &
tracer_pid=$!
for _ in $(seq 1 60); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  kill -0 "$tracer_pid" 2>/dev/null || { tail -n 20 "$log" >&2; sk_die "sk-tracer exited (log $log)"; }
  sleep 0.5
done
sk_log "sk-tracer (pid $tracer_pid) on port $PORT; running scenario $name in namespace $ns"
start="$(date +%s)"
# shellcheck disable=SC1090
NS="$ns" source "$script"
sleep 2
# Everything but the recorded namespace is excluded (skctl's default list also excludes `default`).
excluded="$(kc get namespaces -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | grep -vx "$ns" | paste -sd, -)"
"$SK_BIN_DIR/skctl" export --tracer-address "http://127.0.0.1:$PORT" --start-time "-$(( $(date +%s) - start + 5 ))s" --end-time now \
  --excluded-namespaces "$excluded" -o "$tmp/trace.sktrace" >"$tmp/export.log" 2>&1 || { cat "$tmp/export.log" >&2; tail -n 20 "$log" >&2; sk_die "skctl export failed"; }
"$SK_BIN_DIR/skctl" validate check "$tmp/trace.sktrace" | sed 's/^/[skctl] /' >&2
(cd "$SK_REPO_ROOT" && npx tsx src/cli/main.ts trace validate "$tmp/trace.sktrace") >&2 || sk_die "sim-arena does not accept the recorded trace ($tmp kept? no: see above)"
mv "$tmp/trace.sktrace" "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
sk_log "wrote $out ($(stat -c %s "$out") bytes): workload $ns/web; inspect with: npx tsx src/cli/main.ts trace inspect $out"
