#!/usr/bin/env bash
# Starts (or reuses) the sim-arena test cluster: a real etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler plus the kwok controller, run as local processes by
# `kwokctl --runtime binary`, all bound to 127.0.0.1.  Builds the binaries first if needed
# (build.sh).  Then applies the KWOK Stages and creates the fake nodes.
#
# Writes the admin kubeconfig to $SIM_ARENA_KUBECONFIG (default <repo>/.cluster/kubeconfig).
# Idempotent: a healthy cluster with the same binaries and configuration is reused; nodes and
# Stages are reconciled on every run.
#
# Environment (all optional):
#   SIM_ARENA_CLUSTER_NAME   cluster name                                  (sim-arena)
#   SIM_ARENA_STATE_DIR      kwokctl workdir, kubeconfig, logs             (<repo>/.cluster)
#   SIM_ARENA_KUBECONFIG     where to write the kubeconfig                 ($SIM_ARENA_STATE_DIR/kubeconfig)
#   SIM_ARENA_NODES          number of fake nodes                          (3)
#   SIM_ARENA_NODE_CPU       cpu capacity per node                         (16)
#   SIM_ARENA_NODE_MEM       memory capacity per node                      (32Gi)
#   SIM_ARENA_NODE_PODS      pod capacity per node                         (110)
#   SIM_ARENA_NODE_PREFIX    node name prefix                              (kwok-node-)
#   SIM_ARENA_KWOK_STAGES    folder of pod Stage YAML to apply             (<repo>/../shared/fixtures/simkube/kwok;
#                            if it does not exist, test/cluster/stages/pod-fallback is used)
#   SIM_ARENA_UP_TIMEOUT     seconds to wait for the cluster to be ready   (180)
#   SIM_ARENA_CACHE_DIR      binary cache root                             (~/.cache/sim-arena)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${SIM_ARENA_CLUSTER_NAME:-sim-arena}"
STATE_DIR="${SIM_ARENA_STATE_DIR:-$REPO_ROOT/.cluster}"
KUBECONFIG_OUT="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
NODES="${SIM_ARENA_NODES:-3}"
NODE_CPU="${SIM_ARENA_NODE_CPU:-16}"
NODE_MEM="${SIM_ARENA_NODE_MEM:-32Gi}"
NODE_PODS="${SIM_ARENA_NODE_PODS:-110}"
NODE_PREFIX="${SIM_ARENA_NODE_PREFIX:-kwok-node-}"
POD_STAGES="${SIM_ARENA_KWOK_STAGES:-$REPO_ROOT/../shared/fixtures/simkube/kwok}"
TIMEOUT="${SIM_ARENA_UP_TIMEOUT:-180}"

[[ "$NAME" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "SIM_ARENA_CLUSTER_NAME '$NAME' is not a valid name"
[[ "$NODES" =~ ^[0-9]+$ ]] || die "SIM_ARENA_NODES must be a number (got '$NODES')"
[[ "$NODE_PODS" =~ ^[0-9]+$ ]] || die "SIM_ARENA_NODE_PODS must be a number (got '$NODE_PODS')"
(( NODES <= 7000 )) || die "SIM_ARENA_NODES is limited to 7000 (pod CIDR allocation)"

t_start="$(now_s)"

# ------------------------------------------------------------------------------------ binaries
"$CLUSTER_DIR/build.sh"
BIN="$(cluster_bin_dir)"
cluster_bin_ok "$BIN" || die "binaries missing in $BIN after build.sh"
export PATH="$BIN:$PATH"
k8s_version="$(pinned_version "$CLUSTER_DIR" k8s.io/kubernetes)"
etcd_version="$(pinned_version "$CLUSTER_DIR" go.etcd.io/etcd/server/v3)"

# kwokctl: binary runtime, our own binaries (a local path is used as is, nothing is downloaded).
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
export KWOK_WORKDIR="$STATE_DIR/kwok"
export KWOK_RUNTIME=binary
export KWOK_KUBE_VERSION="$k8s_version"
export KWOK_ETCD_VERSION="$etcd_version"
export KWOK_KUBE_BINARY_PREFIX="$BIN"
export KWOK_KUBECTL_BINARY="$BIN/kubectl"
export KWOK_ETCD_BINARY="$BIN/etcd"
export KWOK_CONTROLLER_BINARY="$BIN/kwok"
WORKDIR="$KWOK_WORKDIR/clusters/$NAME"
FINGERPRINT_FILE="$STATE_DIR/$NAME.fingerprint"
KWOKCTL_LOG="$STATE_DIR/kwokctl-$NAME.log"   # output of this run's kwokctl commands
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)

# fd 8 is the lock below: close it for kwokctl, whose cluster processes outlive this script.
kwokctl() { "$BIN/kwokctl" --name "$NAME" "$@" 8>&-; }
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }

# One up.sh at a time per state folder.
exec 8>"$STATE_DIR/.lock"
flock -w "$((TIMEOUT * 3))" 8 || die "another up.sh/down.sh holds $STATE_DIR/.lock"

# ------------------------------------------------------------------------------------ diagnostics
component_log() { echo "$WORKDIR/logs/$1.log"; }

dump_logs() { # [component...]; all components when none given
  local c f
  (( $# )) || set -- "${COMPONENTS[@]}"
  for c in "$@"; do
    f="$(component_log "$c")"
    if [[ -s "$f" ]]; then
      printf '\n----- last 25 lines of %s -----\n' "$f" >&2
      tail -n 25 "$f" >&2
    else
      printf '\n----- %s: no log at %s -----\n' "$c" "$f" >&2
    fi
  done
  printf '\n(all logs: %s/logs/, kwokctl: %s)\n' "$WORKDIR" "$KWOKCTL_LOG" >&2
}

fail() { # MESSAGE [component...]
  local msg="$1"
  shift
  FAILED_REPORTED=1
  printf '[cluster] ERROR: %s\n' "$msg" >&2
  dump_logs "$@"
  exit 1
}

# Any unexpected failure after this point also shows the component logs.
on_exit() {
  local rc=$?
  if (( rc != 0 )) && [[ -z "${FAILED_REPORTED:-}" ]]; then
    printf '[cluster] ERROR: up.sh failed (exit %s)\n' "$rc" >&2
    [[ -d "$WORKDIR/logs" ]] && dump_logs
  fi
}
trap on_exit EXIT

# A pid from kwokctl's pid files counts as running only if it is alive, not a zombie, and its
# command line names this cluster's workdir (so a reused pid is not mistaken for a component).
component_running() { # COMPONENT
  local pid state
  pid="$(cat "$WORKDIR/pids/$1.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  [[ "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" == *"$WORKDIR/"* ]]
}

# Prints the components that are not running.
dead_components() {
  local c
  for c in "${COMPONENTS[@]}"; do
    component_running "$c" || echo "$c"
  done
}

apiserver_ready() {
  [[ -s "$KUBECONFIG_OUT" ]] && kc get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

cluster_exists() { [[ -f "$WORKDIR/kwok.yaml" ]]; }

# /healthz of kube-controller-manager and kube-scheduler (anonymous access is allowed to it).
component_healthz() { # COMPONENT
  local pid port
  command -v curl >/dev/null || return 0
  pid="$(cat "$WORKDIR/pids/$1.pid" 2>/dev/null || true)"
  [[ "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" =~ --secure-port=([0-9]+) ]] || return 1
  port="${BASH_REMATCH[1]}"
  [[ "$(curl -ksS --max-time 5 "https://127.0.0.1:$port/healthz" 2>/dev/null)" == ok ]]
}

controllers_healthy() {
  component_healthz kube-controller-manager && component_healthz kube-scheduler
}

healthy() {
  cluster_exists && [[ -z "$(dead_components)" ]] && apiserver_ready && controllers_healthy
}

fingerprint() {
  {
    echo "bin=$(cluster_bin_key)"
    sha256sum "$CLUSTER_DIR/kwokctl.yaml" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

write_kubeconfig() {
  local tmp="$KUBECONFIG_OUT.tmp.$$"
  mkdir -p "$(dirname "$KUBECONFIG_OUT")"
  kwokctl get kubeconfig > "$tmp" 2>>"$KWOKCTL_LOG" || { rm -f "$tmp"; return 1; }
  chmod 600 "$tmp"
  mv "$tmp" "$KUBECONFIG_OUT"
}

wait_until() { # SECONDS DESCRIPTION COMMAND...   (DESCRIPTION only documents the call)
  local deadline=$(( $(date +%s) + $1 ))
  shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || return 1
    sleep 1
  done
}

# Components whose pid file exists but whose process is gone: they crashed after being started.
crashed_components() {
  local c
  for c in "${COMPONENTS[@]}"; do
    [[ -f "$WORKDIR/pids/$c.pid" ]] && ! component_running "$c" && echo "$c"
  done
  return 0
}

# Runs `kwokctl ARGS...` in the background and watches the components it starts.  If one of them
# crashes (e.g. a bad flag) kwokctl would only give up after its own 2-minute wait, so it is
# stopped early.  Returns kwokctl's status, or 1 with CRASHED set.
CRASHED=""
kwokctl_watched() {
  local kpid rc strikes=0 crashed
  CRASHED=""
  "$BIN/kwokctl" --name "$NAME" "$@" >>"$KWOKCTL_LOG" 2>&1 8>&- &
  kpid=$!
  while kill -0 "$kpid" 2>/dev/null; do
    sleep 1
    crashed="$(crashed_components | tr '\n' ' ')"
    if [[ -n "$crashed" ]]; then
      strikes=$((strikes + 1))
      if (( strikes >= 3 )); then
        CRASHED="$crashed"
        kill "$kpid" 2>/dev/null || true
        wait "$kpid" 2>/dev/null || true
        return 1
      fi
    else
      strikes=0
    fi
  done
  rc=0
  wait "$kpid" || rc=$?
  return "$rc"
}

# Reports a cluster that did not come up, stops its processes (keeping the workdir and logs for
# inspection) and exits.
start_failed() { # WHAT
  local first dead
  dead="$(dead_components | tr '\n' ' ')"
  printf '[cluster] ERROR: %s\n' "$1" >&2
  [[ -n "$CRASHED" ]] && printf '[cluster] crashed: %s\n' "$CRASHED" >&2
  [[ -n "$dead" ]] && printf '[cluster] not running: %s\n' "$dead" >&2
  printf '[cluster] last lines of %s:\n' "$KWOKCTL_LOG" >&2
  tail -n 5 "$KWOKCTL_LOG" | cut -c1-400 >&2
  # The first component that is down in start order is the likely cause; show its log.
  # shellcheck disable=SC2086
  first="$(echo $CRASHED $dead | awk '{ print $1 }')"
  kwokctl stop cluster >>"$KWOKCTL_LOG" 2>&1 || true
  rm -f "$FINGERPRINT_FILE"
  # shellcheck disable=SC2086
  fail "cluster '$NAME' did not start; its processes were stopped, test/cluster/down.sh removes it" ${first:-kube-apiserver etcd}
}

create_cluster() {
  log "creating cluster '$NAME' (kubernetes $k8s_version, etcd $etcd_version) in $WORKDIR"
  local t
  t="$(now_s)"
  kwokctl_watched create cluster --config "$CLUSTER_DIR/kwokctl.yaml" --wait "${TIMEOUT}s" ||
    start_failed "kwokctl create cluster failed"
  fingerprint > "$FINGERPRINT_FILE"
  log "kwokctl create cluster took $(elapsed "$t")"
}

delete_cluster() {
  kwokctl delete cluster >>"$KWOKCTL_LOG" 2>&1 || true
  rm -f "$FINGERPRINT_FILE" "$KUBECONFIG_OUT"
}

# ------------------------------------------------------------------------------------ cluster
: > "$KWOKCTL_LOG"
if cluster_exists; then
  if [[ "$(cat "$FINGERPRINT_FILE" 2>/dev/null)" != "$(fingerprint)" ]]; then
    log "cluster '$NAME' was created with other binaries or configuration; recreating"
    delete_cluster
  else
    [[ -s "$KUBECONFIG_OUT" ]] || write_kubeconfig || true
    if healthy; then
      log "reusing running cluster '$NAME'"
    else
      log "cluster '$NAME' exists but is not healthy (not running: $(dead_components | tr '\n' ' ')); restarting it"
      kwokctl stop cluster >>"$KWOKCTL_LOG" 2>&1 || true
      if kwokctl_watched start cluster --wait "${TIMEOUT}s" &&
         write_kubeconfig && wait_until 30 "apiserver" healthy; then
        log "restarted cluster '$NAME'"
      else
        log "restart failed; deleting and recreating cluster '$NAME'"
        delete_cluster
      fi
    fi
  fi
fi

if ! cluster_exists; then
  create_cluster
fi

write_kubeconfig || fail "kwokctl get kubeconfig failed" kube-apiserver
wait_until "$TIMEOUT" "apiserver" apiserver_ready ||
  fail "kube-apiserver is not ready (kubectl get --raw /readyz)" kube-apiserver etcd
dead="$(dead_components | tr '\n' ' ')"
# shellcheck disable=SC2086
[[ -z "$dead" ]] || fail "components not running: $dead" $dead
wait_until 60 "controllers" component_healthz kube-controller-manager ||
  fail "kube-controller-manager /healthz is not ok" kube-controller-manager
wait_until 60 "scheduler" component_healthz kube-scheduler ||
  fail "kube-scheduler /healthz is not ok" kube-scheduler

# ------------------------------------------------------------------------------------ stages
wait_until 60 "Stage CRD" kc wait --for condition=Established --timeout=5s crd/stages.kwok.x-k8s.io >/dev/null 2>&1 ||
  fail "the kwok Stage CRD is not established" kube-apiserver kwok-controller

stage_files=("$CLUSTER_DIR"/stages/*.yaml)
if [[ -d "$POD_STAGES" ]]; then
  mapfile -t -O "${#stage_files[@]}" stage_files < <(find "$POD_STAGES" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
  log "applying kwok Stages: test/cluster/stages + $POD_STAGES"
else
  log "warning: $POD_STAGES not found; using test/cluster/stages/pod-fallback for pods"
  stage_files+=("$CLUSTER_DIR"/stages/pod-fallback/*.yaml)
fi
apply_args=()
for f in "${stage_files[@]}"; do apply_args+=(-f "$f"); done
kc apply "${apply_args[@]}" >/dev/null || fail "applying the kwok Stages failed" kube-apiserver
# Our own Stages (sim-arena-*) that are no longer wanted, e.g. the pod fallback once the fixtures
# exist, are removed.  Stages created by anyone else are left alone.
wanted="$(kc apply --dry-run=client -o name "${apply_args[@]}" | sort)"
for s in $(kc get stages.kwok.x-k8s.io -o name | grep '/sim-arena-' | sort | comm -23 - <(echo "$wanted")); do
  kc delete "$s" >/dev/null
done

# ------------------------------------------------------------------------------------ nodes
ipv4() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

# Node i gets InternalIP 172.16.0.0 + i + 1 and the pod CIDR 10.16.0.0 + i * 2048 (/21, room for
# 2046 pod IPs), so pod IPs handed out by kwok are unique across nodes.
node_ip() { ipv4 $(( (172 << 24) + (16 << 16) + $1 + 1 )); }

node_yaml() { # INDEX
  local n="$NODE_PREFIX$1"
  local node_ip pod_cidr
  node_ip="$(node_ip "$1")"
  pod_cidr="$(ipv4 $(( (10 << 24) + (16 << 16) + $1 * 2048 )))/21"
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels:
    type: virtual
    sim-arena.io/managed: "true"
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
spec:
  podCIDR: $pod_cidr
  podCIDRs: [$pod_cidr]
  taints:
    - key: kwok-provider
      value: "true"
      effect: NoSchedule
status:
  addresses:
    - {type: InternalIP, address: $node_ip}
    - {type: Hostname, address: $n}
  capacity: {cpu: "$NODE_CPU", memory: "$NODE_MEM", pods: "$NODE_PODS"}
  allocatable: {cpu: "$NODE_CPU", memory: "$NODE_MEM", pods: "$NODE_PODS"}
EOF
}

node_status_json() { # INDEX
  printf '{"status":{"addresses":[{"type":"InternalIP","address":"%s"},{"type":"Hostname","address":"%s"}],' "$(node_ip "$1")" "$NODE_PREFIX$1"
  printf '"capacity":{"cpu":"%s","memory":"%s","pods":"%s"},' "$NODE_CPU" "$NODE_MEM" "$NODE_PODS"
  printf '"allocatable":{"cpu":"%s","memory":"%s","pods":"%s"}}}' "$NODE_CPU" "$NODE_MEM" "$NODE_PODS"
}

want_nodes=()
for ((i = 0; i < NODES; i++)); do want_nodes+=("node/$NODE_PREFIX$i"); done
# Remove managed nodes beyond the requested count.
for n in $(kc get nodes -l sim-arena.io/managed=true -o name); do
  if [[ " ${want_nodes[*]} " != *" $n "* ]]; then
    log "deleting surplus node ${n#node/}"
    kc delete "$n" --wait=false >/dev/null
  fi
done
if (( NODES > 0 )); then
  for ((i = 0; i < NODES; i++)); do node_yaml "$i"; done | kc apply -f - >/dev/null ||
    fail "creating the fake nodes failed" kube-apiserver
  # Status is only taken from the manifest on create; bring reused nodes to the requested shape.
  have="$(kc get nodes -l sim-arena.io/managed=true -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address} {.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods} {.status.allocatable.cpu} {.status.allocatable.memory} {.status.allocatable.pods}{"\n"}{end}')"
  for ((i = 0; i < NODES; i++)); do
    n="$NODE_PREFIX$i"
    want="$n $(node_ip "$i") $NODE_CPU $NODE_MEM $NODE_PODS $NODE_CPU $NODE_MEM $NODE_PODS"
    [[ $'\n'"$have"$'\n' == *$'\n'"$want"$'\n'* ]] && continue
    kc patch "node/$n" --subresource=status --type=merge -p "$(node_status_json "$i")" >/dev/null ||
      fail "patching the status of node $n failed" kube-apiserver
  done
  kc wait --for=condition=Ready node -l sim-arena.io/managed=true --timeout="${TIMEOUT}s" >/dev/null ||
    fail "fake nodes did not become Ready" kwok-controller kube-controller-manager
fi

# Pods can only be created once the ServiceAccount controller has made the default account.
wait_until 60 "default ServiceAccount" kc -n default get serviceaccount default >/dev/null 2>&1 ||
  fail "kube-controller-manager did not create the default ServiceAccount" kube-controller-manager

log "cluster '$NAME' ready in $(elapsed "$t_start"): $NODES node(s) of cpu=$NODE_CPU memory=$NODE_MEM pods=$NODE_PODS"
log "export KUBECONFIG=$KUBECONFIG_OUT"
