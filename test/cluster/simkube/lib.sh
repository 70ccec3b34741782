# Shared helpers for the SimKube scripts (build.sh, up.sh, down.sh).  Source it; do not execute it.
# shellcheck shell=bash

SK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034  # used by the scripts that source this file
SK_REPO_ROOT="$(cd "$SK_DIR/../../.." && pwd)"

SIMKUBE_VERSION="${SIMKUBE_VERSION:-2.7.0}"
SIM_ARENA_CACHE_DIR="${SIM_ARENA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena}"
SK_ROOT="$SIM_ARENA_CACHE_DIR/simkube-$SIMKUBE_VERSION"
SK_BIN_DIR="$SK_ROOT/bin"
SK_CRATES=(sk-ctrl sk-driver skctl sk-tracer)

sk_log() { printf '[simkube] %s\n' "$*" >&2; }
sk_die() { printf '[simkube] ERROR: %s\n' "$*" >&2; exit 1; }
sk_now() { date +%s.%N; }
sk_elapsed() { awk -v a="$1" -v b="$(sk_now)" 'BEGIN { printf "%.1fs", b - a }'; }

sk_crate_ok() { # CRATE
  [[ -x "$SK_BIN_DIR/$1" && "$(cat "$SK_ROOT/.stamp-$1" 2>/dev/null)" == "$SIMKUBE_VERSION" ]]
}

sk_bins_ok() { # [CRATE...] (default: all)
  local c
  (( $# )) || set -- "${SK_CRATES[@]}"
  for c in "$@"; do sk_crate_ok "$c" || return 1; done
}
