# Shared helpers for build.sh, up.sh and down.sh.  Source it; do not execute it.
# shellcheck shell=bash

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034  # used by the scripts that source this file
REPO_ROOT="$(cd "$CLUSTER_DIR/../.." && pwd)"

# Bump when the build recipe (flags, binary set) changes, so cached binaries are rebuilt.
BUILD_RECIPE=1

# Where built binaries live: outside the repo, shared by every clone on this machine/CI cache.
SIM_ARENA_CACHE_DIR="${SIM_ARENA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena}"
CLUSTER_BIN_ROOT="$SIM_ARENA_CACHE_DIR/cluster-bin"

CLUSTER_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# Key of the current pins: hash of both go.mod/go.sum pairs and the recipe version.
cluster_bin_key() {
  {
    echo "recipe=$BUILD_RECIPE"
    for f in go.mod go.sum kwok/go.mod kwok/go.sum; do
      echo "== $f"
      cat "$CLUSTER_DIR/$f"
    done
  } | sha256sum | cut -c1-16
}

cluster_bin_dir() { echo "$CLUSTER_BIN_ROOT/$(cluster_bin_key)"; }

# True when the keyed folder has a stamp and every binary.
cluster_bin_ok() {
  local dir="$1" b
  [[ -f "$dir/.stamp" ]] || return 1
  for b in "${CLUSTER_BINARIES[@]}"; do
    [[ -x "$dir/$b" ]] || return 1
  done
}

# Version of MODULE as pinned in the given go.mod directory (after replaces), without invoking go.
pinned_version() { # DIR MODULE
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$1/go.mod"
}

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1fs", b - a }'; }
