#!/usr/bin/env bash
# Starts SimKube 2.7's real controller (sk-ctrl) and a driver runner (driver-runner.ts) against the test cluster
# (run `npm run cluster:up` first).  Builds the binaries if needed (build.sh, cached), then installs what SimKube's
# own install would have left in the cluster: its CRDs (`skctl crd`: Simulation and SimulationRoot), minimal
# cert-manager CRDs, the namespaces simkube and monitoring, ServiceAccount simkube/sk-ctrl-sa, ClusterIssuer
# selfsigned.  sk-ctrl runs out of cluster on the host (CTRL_NAMESPACE=simkube POD_SVC_ACCOUNT=sk-ctrl-sa); the
# runner plays cert-manager and the kubelet for the driver pods (see driver-runner.ts).  For sim-arena's default
# namespace (sim-arena) it also runs `sim-arena trace-sync` on the host, writing into the driver runner's node
# folder, with a stand-in trace-sync pod on the first KWOK node (KWOK marks it Running) so the simkube backend sees a
# synced node: `sim-arena run --backend simkube` and `sim-arena operator` work against this cluster as they are.
#
# Idempotent: processes already running (pid files) are kept.  State and logs in $SIM_ARENA_STATE_DIR/simkube:
#   sk-ctrl.log, driver-runner.log, trace-sync.log, drivers/<ns>_<pod>.log, node/ (the node's filesystem)
#
# Environment (all optional):
#   SIM_ARENA_STATE_DIR       (<repo>/.cluster)          SIM_ARENA_KUBECONFIG   ($SIM_ARENA_STATE_DIR/kubeconfig)
#   SIM_ARENA_SIMKUBE_PORT    the driver's webhook port on 127.0.0.1 (8888)
#   SIM_ARENA_SIMKUBE_READY_TIMEOUT  seconds to wait for the driver runner's first pass (240)
#   SIMKUBE_VERSION           (2.7.0)                    SIM_ARENA_CACHE_DIR    (~/.cache/sim-arena)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_DIR="${SIM_ARENA_STATE_DIR:-$SK_REPO_ROOT/.cluster}"
KUBECONFIG_IN="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
PORT="${SIM_ARENA_SIMKUBE_PORT:-8888}"
[[ -f "$KUBECONFIG_IN" ]] || sk_die "no kubeconfig at $KUBECONFIG_IN: start the test cluster first (npm run cluster:up)"
KUBECONFIG_IN="$(cd "$(dirname "$KUBECONFIG_IN")" && pwd)/$(basename "$KUBECONFIG_IN")"
SK_STATE="$(mkdir -p "$STATE_DIR/simkube" && cd "$STATE_DIR/simkube" && pwd)"
t0="$(sk_now)"

# The cluster's own kubectl (built with it), else the one on PATH; sk-ctrl's hooks find it on PATH too.
CLUSTER_BIN="$(bash "$SK_DIR/../build.sh" --print-dir 2>/dev/null || true)"
[[ -x "$CLUSTER_BIN/kubectl" ]] && export PATH="$CLUSTER_BIN:$PATH"
command -v kubectl >/dev/null || sk_die "kubectl is not on PATH (npm run cluster:up builds one)"
kc() { kubectl --kubeconfig "$KUBECONFIG_IN" "$@"; }
tail_log() { sk_log "last lines of $1:"; tail -n 25 "$1" >&2 2>/dev/null || true; }

# sk-ctrl and sk-driver are all this needs (skctl and sk-tracer are for validation and recording).
"$SK_DIR/build.sh" sk-ctrl sk-driver

exec 7>"$SK_STATE/.lock"
flock -w 300 7 || sk_die "another simkube up/down holds $SK_STATE/.lock"

kc get --raw /readyz >/dev/null 2>&1 || sk_die "the cluster in $KUBECONFIG_IN does not answer; start it with npm run cluster:up"

# ------------------------------------------------------------------------------------ cluster objects
# SimKube's CRDs from SimKube itself (`skctl crd`) when skctl is built, else the fixture's Simulation CRD and ours.
crds="$SK_STATE/simkube-crds.yaml"
if [[ -x "$SK_BIN_DIR/skctl" ]]; then
  "$SK_BIN_DIR/skctl" crd > "$crds.tmp" || sk_die "skctl crd failed"
else
  fixture="$SK_REPO_ROOT/../shared/fixtures/simkube/crds/simkube.io_simulations.yml"
  [[ -f "$fixture" ]] || sk_die "no skctl to print SimKube's CRDs and no fixture $fixture: build it with npm run simkube:build"
  { cat "$fixture"; echo "---"; cat "$SK_DIR/simulationroot-crd.yaml"; } > "$crds.tmp"
fi
mv "$crds.tmp" "$crds"
kc apply --server-side --force-conflicts --field-manager sim-arena-simkube -f "$crds" -f "$SK_DIR/cert-manager-crds.yaml" >/dev/null ||
  sk_die "could not install the SimKube / cert-manager CRDs"
kc wait --for condition=Established --timeout 60s \
  crd/simulations.simkube.io crd/simulationroots.simkube.io crd/certificates.cert-manager.io crd/clusterissuers.cert-manager.io >/dev/null ||
  sk_die "the CRDs did not become Established"
# ClusterIssuer right after its CRD: discovery can lag Established by a moment.
for i in $(seq 1 20); do
  kc apply --server-side --field-manager sim-arena-simkube -f "$SK_DIR/bootstrap.yaml" >/dev/null 2>"$SK_STATE/bootstrap.err" && break
  (( i < 20 )) || { cat "$SK_STATE/bootstrap.err" >&2; sk_die "could not create the namespaces / ServiceAccount / ClusterIssuer"; }
  sleep 0.5
done

# ------------------------------------------------------------------------------------ processes
alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_bg() { # NAME LOG CMD... : starts CMD in its own session, records its pid
  local name="$1" logf="$2"; shift 2
  : > "$logf"
  # fd 7 is this script's lock: closed for the processes, which outlive it.
  setsid nohup "$@" >>"$logf" 2>&1 < /dev/null 7>&- &
  echo $! > "$SK_STATE/$name.pid"
}

if alive "$SK_STATE/sk-ctrl.pid"; then
  sk_log "sk-ctrl already running (pid $(cat "$SK_STATE/sk-ctrl.pid"))"
else
  start_bg sk-ctrl "$SK_STATE/sk-ctrl.log" env KUBECONFIG="$KUBECONFIG_IN" CTRL_NAMESPACE=simkube POD_SVC_ACCOUNT=sk-ctrl-sa \
    RUST_BACKTRACE=1 "$SK_BIN_DIR/sk-ctrl" --verbosity info
  sk_log "started sk-ctrl (pid $(cat "$SK_STATE/sk-ctrl.pid")), log $SK_STATE/sk-ctrl.log"
fi

if alive "$SK_STATE/driver-runner.pid" && [[ -f "$SK_STATE/driver-runner.ready" ]]; then
  sk_log "driver runner already running (pid $(cat "$SK_STATE/driver-runner.pid"))"
else
  if alive "$SK_STATE/driver-runner.pid"; then kill "$(cat "$SK_STATE/driver-runner.pid")" 2>/dev/null || true; sleep 1; fi
  rm -f "$SK_STATE/driver-runner.ready"
  mkdir -p "$SK_STATE/node"
  cd "$SK_REPO_ROOT" # node resolves --import tsx from here
  start_bg driver-runner "$SK_STATE/driver-runner.log" node --import tsx "$SK_DIR/driver-runner.ts" \
    --kubeconfig "$KUBECONFIG_IN" --state-dir "$SK_STATE" --driver-bin "$SK_BIN_DIR/sk-driver" --port "$PORT" --node-root "$SK_STATE/node"
  sk_log "started the driver runner (pid $(cat "$SK_STATE/driver-runner.pid")), log $SK_STATE/driver-runner.log"
fi

# trace-sync for sim-arena's default namespace, on the host, for the first KWOK node.
SYNC_NS="${SIM_ARENA_SIMKUBE_SYNC_NAMESPACE:-sim-arena}"
SYNC_NODE="$(kc get nodes -l type=virtual -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)"
if [[ -z "$SYNC_NODE" ]]; then
  sk_log "warning: no type=virtual node; not starting trace-sync (the simkube backend will wait TraceSyncUnavailable)"
else
  kc create namespace "$SYNC_NS" >/dev/null 2>&1 || true
  kc apply --server-side --field-manager sim-arena-simkube -f - >/dev/null <<YAML || sk_die "could not create the trace-sync pod in $SYNC_NS"
apiVersion: v1
kind: Pod
metadata:
  name: trace-sync-local
  namespace: $SYNC_NS
  labels: {app.kubernetes.io/component: trace-sync, app.kubernetes.io/name: sim-arena}
  annotations: {simarena.io/note: "stands for the trace-sync DaemonSet pod; the process runs on the host (test/cluster/simkube/up.sh)"}
spec:
  nodeName: $SYNC_NODE
  tolerations: [{key: kwok-provider, operator: Exists, effect: NoSchedule}]
  automountServiceAccountToken: false
  containers: [{name: trace-sync, image: sim-arena:local, command: [sim-arena, trace-sync]}]
YAML
  if alive "$SK_STATE/trace-sync.pid"; then
    sk_log "trace-sync already running (pid $(cat "$SK_STATE/trace-sync.pid"))"
  else
    mkdir -p "$SK_STATE/node/var/lib/sim-arena/traces"
    cd "$SK_REPO_ROOT"
    start_bg trace-sync "$SK_STATE/trace-sync.log" node --import tsx "$SK_REPO_ROOT/src/cli/main.ts" trace-sync \
      --kubeconfig "$KUBECONFIG_IN" --dir "$SK_STATE/node/var/lib/sim-arena/traces" --namespace "$SYNC_NS" --node "$SYNC_NODE"
    sk_log "started trace-sync for namespace $SYNC_NS as node $SYNC_NODE (pid $(cat "$SK_STATE/trace-sync.pid")), log $SK_STATE/trace-sync.log"
  fi
fi

# ------------------------------------------------------------------------------------ ready?
# Node + tsx start-up alone takes 30 s or more on a loaded 2-core machine: wait long, but stop early if it exits.
READY_TIMEOUT="${SIM_ARENA_SIMKUBE_READY_TIMEOUT:-240}"
for _ in $(seq 1 $((READY_TIMEOUT * 2))); do
  [[ -f "$SK_STATE/driver-runner.ready" ]] && break
  alive "$SK_STATE/driver-runner.pid" || { tail_log "$SK_STATE/driver-runner.log"; sk_die "the driver runner exited"; }
  sleep 0.5
done
[[ -f "$SK_STATE/driver-runner.ready" ]] || { tail_log "$SK_STATE/driver-runner.log"; sk_die "the driver runner did not get ready in ${READY_TIMEOUT}s (SIM_ARENA_SIMKUBE_READY_TIMEOUT)"; }
sleep 1
alive "$SK_STATE/sk-ctrl.pid" || { tail_log "$SK_STATE/sk-ctrl.log"; sk_die "sk-ctrl exited"; }
if [[ -n "$SYNC_NODE" ]]; then
  alive "$SK_STATE/trace-sync.pid" || { tail_log "$SK_STATE/trace-sync.log"; sk_die "trace-sync exited"; }
fi
sk_log "SimKube $SIMKUBE_VERSION up in $(sk_elapsed "$t0"): sk-ctrl and the driver runner (webhook https://127.0.0.1:$PORT/); state in $SK_STATE"
