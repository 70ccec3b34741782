#!/usr/bin/env bash
# Deletes the sim-arena test cluster started by up.sh: stops its processes and removes its
# kwokctl workdir (etcd data, certificates, logs) and kubeconfig.  Never builds anything.
# Honours SIM_ARENA_CLUSTER_NAME, SIM_ARENA_STATE_DIR, SIM_ARENA_KUBECONFIG like up.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME="${SIM_ARENA_CLUSTER_NAME:-sim-arena}"
STATE_DIR="${SIM_ARENA_STATE_DIR:-$REPO_ROOT/.cluster}"
KUBECONFIG_OUT="${SIM_ARENA_KUBECONFIG:-$STATE_DIR/kubeconfig}"
export KWOK_WORKDIR="$STATE_DIR/kwok"
WORKDIR="$KWOK_WORKDIR/clusters/$NAME"

if [[ ! -d "$WORKDIR" ]]; then
  log "no cluster '$NAME' in $KWOK_WORKDIR"
  rm -f "$KUBECONFIG_OUT" "$STATE_DIR/$NAME.fingerprint"
  exit 0
fi

mkdir -p "$STATE_DIR"
exec 8>"$STATE_DIR/.lock"
flock -w 600 8 || die "another up.sh/down.sh holds $STATE_DIR/.lock"

# Any kwokctl build can delete the cluster; prefer the current one.
kwokctl_bin="$(cluster_bin_dir)/kwokctl"
if [[ ! -x "$kwokctl_bin" ]]; then
  # shellcheck disable=SC2012  # our own folder names (hex keys)
  kwokctl_bin="$(ls -t "$CLUSTER_BIN_ROOT"/*/kwokctl 2>/dev/null | head -n 1 || true)"
fi

t="$(now_s)"
if [[ -n "$kwokctl_bin" && -x "$kwokctl_bin" ]] &&
   "$kwokctl_bin" --name "$NAME" delete cluster >>"$STATE_DIR/kwokctl-$NAME.log" 2>&1 8>&-; then
  :
else
  log "kwokctl delete cluster failed or kwokctl is missing; stopping the processes from $WORKDIR/pids"
fi

# Whatever kwokctl left behind: stop the processes recorded in the pid files, then remove the dir.
if [[ -d "$WORKDIR/pids" ]]; then
  for f in "$WORKDIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    # Only a process started for this cluster (its command line names the workdir), never a
    # process that merely reused a stale pid.
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
       [[ "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" == *"$WORKDIR/"* ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
  done
fi
rm -rf "$WORKDIR"
rm -f "$KUBECONFIG_OUT" "$STATE_DIR/$NAME.fingerprint"
log "deleted cluster '$NAME' in $(elapsed "$t")"
