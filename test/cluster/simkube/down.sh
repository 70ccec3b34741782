#!/usr/bin/env bash
# Stops what up.sh started (sk-ctrl, the driver runner and the driver it runs, trace-sync), by their recorded pids only.
# Leaves the cluster objects (CRDs, namespaces) and the built binaries; up.sh starts everything again.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_DIR="${SIM_ARENA_STATE_DIR:-$SK_REPO_ROOT/.cluster}"
SK_STATE="$STATE_DIR/simkube"
[[ -d "$SK_STATE" ]] || { sk_log "nothing to stop ($SK_STATE does not exist)"; exit 0; }
exec 7>"$SK_STATE/.lock"
flock -w 300 7 || sk_die "another simkube up/down holds $SK_STATE/.lock"

stop() { # NAME
  local f="$SK_STATE/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then sk_log "$1 (pid $pid) ignored SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    sk_log "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}
# The runner first: it stops the driver it started (SIGTERM, then SIGKILL after 10 s).
stop driver-runner
stop sk-ctrl
stop trace-sync
rm -f "$SK_STATE/driver-runner.ready"
