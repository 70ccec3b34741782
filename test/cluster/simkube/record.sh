#!/usr/bin/env bash
# Records real SimKube traces with SimKube's own sk-tracer and `skctl export`:
#   npm run trace:record -- [--scenario NAME|FILE]... [--all] [--out-dir DIR]
# For each scenario (a bash file under record/, format in record/lib.sh): creates its namespaces, starts sk-tracer
# (tracer-config.yaml) against the cluster, runs the scenario's workload plan (fixed kubectl changes at fixed
# waits), exports those namespaces' history, checks it with `skctl validate check` and `sim-arena trace validate`,
# stops the tracer and writes DIR/NAME.sktrace, DIR/NAME.nodepool.json (the pool: never Node objects in the trace)
# and NAME's entry in DIR/index.json (workload, target, problem).  Files are written atomically.
# Default: --all --out-dir traces/real.  Record on a private control plane (other tests' objects stay out of it):
#   SIM_ARENA_CLUSTER_NAME=rec SIM_ARENA_STATE_DIR=$PWD/.cluster-rec bash test/cluster/up.sh
#   SIM_ARENA_STATE_DIR=$PWD/.cluster-rec npm run trace:record -- --scenario hpa-web
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scenarios=() out_dir=""
while (( $# )); do
  case "$1" in
    --scenario) scenarios+=("$2"); shift 2 ;;
    --all) shift ;;
    --out-dir) out_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) sk_die "unknown argument $1 (usage: record.sh [--scenario NAME|FILE]... [--all] [--out-dir DIR])" ;;
  esac
done
available() { (cd "$SK_DIR/record" && ls -- *.sh | grep -vx lib.sh | sed 's/\.sh$//' | tr '\n' ' '); }
(( ${#scenarios[@]} )) || read -r -a scenarios <<<"$(available)"
out_dir="${out_dir:-$SK_REPO_ROOT/traces/real}"
STATE_DIR="${SIM_ARENA_STATE_DIR:-$SK_REPO_ROOT/.cluster}"
KUBECONFIG_IN="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
PORT="${SIM_ARENA_TRACER_PORT:-7777}"
[[ -f "$KUBECONFIG_IN" ]] || sk_die "no kubeconfig at $KUBECONFIG_IN: start a control plane first (see the top of $0)"
CLUSTER_BIN="$(bash "$SK_DIR/../build.sh" --print-dir 2>/dev/null || true)"
[[ -x "$CLUSTER_BIN/kubectl" ]] && export PATH="$CLUSTER_BIN:$PATH"
command -v jq >/dev/null || sk_die "jq is required to write index.json (apt-get install jq)"
kc() { kubectl --kubeconfig "$KUBECONFIG_IN" "$@"; }
kc get --raw /readyz >/dev/null 2>&1 || sk_die "the cluster in $KUBECONFIG_IN does not answer; start it first"

"$SK_DIR/build.sh"
mkdir -p "$STATE_DIR/simkube" "$out_dir"
tmp="$(mktemp -d)"
tracer_pid=""
recorded_ns=()
stop_tracer() {
  if [[ -n "$tracer_pid" ]]; then kill "$tracer_pid" 2>/dev/null || true; wait "$tracer_pid" 2>/dev/null || true; fi
  tracer_pid=""
}
cleanup() {
  stop_tracer
  local n
  for n in "${recorded_ns[@]}"; do kc delete namespace "$n" --wait=false >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

all_scenario_namespaces() { # the namespaces every scenario file records
  sed -n 's/^NAMESPACES=(\(.*\))$/\1/p' "$SK_DIR"/record/*.sh | tr ' ' '\n' | grep -v '^$'
}

write_atomic() { # SRC DEST
  cp "$1" "$2.tmp.$$" && mv "$2.tmp.$$" "$2"
}

record_one() { # SCENARIO
  local script="$1" name start excluded log
  [[ -f "$script" ]] || script="$SK_DIR/record/$1.sh"
  [[ -f "$script" ]] || sk_die "no scenario $1 (have: $(available))"
  name="$(basename "$script" .sh)"
  unset -f plan
  NAMESPACES=() TARGET_KIND=Deployment TARGET_NS="" TARGET_NAME="" TARGET="" PROBLEM="" DESCRIPTION="" HARD="" POOL=""
  # shellcheck source=record/lib.sh
  source "$SK_DIR/record/lib.sh"
  # shellcheck disable=SC1090
  source "$script"
  (( ${#NAMESPACES[@]} )) && [[ -n "$TARGET_NS$TARGET_NAME$TARGET$PROBLEM$POOL" ]] && declare -F plan >/dev/null ||
    sk_die "$script must set NAMESPACES, TARGET_NS, TARGET_NAME, TARGET, PROBLEM, POOL and define plan() (see record/lib.sh)"
  echo "$POOL" | jq -e 'type == "object"' >/dev/null || sk_die "$script: POOL is not a JSON object"
  for n in "${NAMESPACES[@]}"; do
    kc get namespace "$n" >/dev/null 2>&1 && sk_die "namespace $n exists already on this cluster (delete it, or record on a fresh private control plane)"
  done
  for n in "${NAMESPACES[@]}"; do kc create namespace "$n" >/dev/null; recorded_ns+=("$n"); done
  log="$STATE_DIR/simkube/sk-tracer-$name.log"
  KUBECONFIG="$KUBECONFIG_IN" "$SK_BIN_DIR/sk-tracer" --config-file "$SK_DIR/tracer-config.yaml" --server-port "$PORT" >"$log" 2>&1 &
  tracer_pid=$!
  for _ in $(seq 1 60); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    kill -0 "$tracer_pid" 2>/dev/null || { tail -n 20 "$log" >&2; sk_die "sk-tracer exited (log $log)"; }
    sleep 0.5
  done
  sk_log "sk-tracer (pid $tracer_pid, port $PORT): scenario $name in ${NAMESPACES[*]}"
  start="$(date +%s)"
  plan
  sleep 2
  # skctl export only excludes: every namespace but the scenario's is excluded, those on the cluster now and
  # every other scenario's (a namespace deleted during the window, or recorded at the same time, stays out too).
  excluded="$( { kc get namespaces -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n'; all_scenario_namespaces; } |
    sort -u | grep -vxF -f <(printf '%s\n' "${NAMESPACES[@]}") | paste -sd, -)"
  "$SK_BIN_DIR/skctl" export --tracer-address "http://127.0.0.1:$PORT" --start-time "-$(( $(date +%s) - start + 5 ))s" --end-time now \
    --excluded-namespaces "$excluded" -o "$tmp/$name.sktrace" >"$tmp/export.log" 2>&1 || { cat "$tmp/export.log" >&2; tail -n 20 "$log" >&2; sk_die "skctl export failed"; }
  stop_tracer
  local got want
  got="$(cd "$SK_REPO_ROOT" && npx tsx "$SK_DIR/record/namespaces.ts" "$tmp/$name.sktrace" | paste -sd' ' -)"
  want="$(printf '%s\n' "${NAMESPACES[@]}" | sort | paste -sd' ' -)"
  [[ "$got" == "$want" ]] || sk_die "$name's trace holds objects of namespaces $got, expected exactly $want (another recording on this cluster?)"
  "$SK_BIN_DIR/skctl" validate check "$tmp/$name.sktrace" | sed 's/^/[skctl] /' >&2 || sk_die "skctl validate check could not read $name's trace"
  echo "$POOL" | jq --sort-keys '{apiVersion: "simarena.io/v1alpha1", kind: "NodePool"} + .' >"$tmp/$name.nodepool.json"
  (cd "$SK_REPO_ROOT" && npx tsx src/cli/main.ts trace validate "$tmp/$name.sktrace") >&2 || sk_die "sim-arena does not accept $name's recorded trace"
  write_atomic "$tmp/$name.sktrace" "$out_dir/$name.sktrace"
  write_atomic "$tmp/$name.nodepool.json" "$out_dir/$name.nodepool.json"
  (
    flock 9
    index="$out_dir/index.json"
    [[ -f "$index" ]] || echo '[]' >"$index"
    jq --arg name "$name" --arg desc "$DESCRIPTION" --arg hard "$HARD" --arg kind "$TARGET_KIND" --arg ns "$TARGET_NS" \
      --arg wl "$TARGET_NAME" --argjson target "$TARGET" --arg problem "$PROBLEM" --arg script "test/cluster/simkube/record/$name.sh" \
      '[.[] | select(.name != $name)] + [{name: $name, description: $desc, hard: $hard,
        workload: {kind: $kind, namespace: $ns, name: $wl}, target: $target, problem: $problem,
        trace: ($name + ".sktrace"), nodePool: ($name + ".nodepool.json"), recordedBy: $script}] | sort_by(.name)' \
      "$index" >"$index.tmp.$$" && mv "$index.tmp.$$" "$index"
  ) 9>"$STATE_DIR/simkube/index.lock"
  for n in "${NAMESPACES[@]}"; do kc delete namespace "$n" --timeout=60s >/dev/null 2>&1 || true; done
  sk_log "wrote $out_dir/$name.sktrace ($(stat -c %s "$out_dir/$name.sktrace") bytes): $TARGET_KIND $TARGET_NS/$TARGET_NAME, target $TARGET"
}

for s in "${scenarios[@]}"; do record_one "$s"; done
