#!/usr/bin/env bash
# Builds SimKube's own binaries (sk-ctrl, sk-driver, skctl, sk-tracer) from the cargo registry crates at
# SIMKUBE_VERSION into ${SIM_ARENA_CACHE_DIR:-~/.cache/sim-arena}/simkube-<version>/bin/, sharing one cargo
# target folder (~/.cache/sim-arena/cargo-target) between the four crates.  A crate whose binary exists and
# whose stamp names the version is skipped, so a warm run costs nothing.
#
#   build.sh [CRATE...]   build what is missing (default: all four), progress and timing on stderr
#   build.sh --print-dir  print the bin folder on stdout (does not build)
#   build.sh --force      rebuild every crate
#
# Needs cargo/rustc >= 1.88 and a C compiler (for `ring`).  Cold: roughly 5-12 min per crate on 2 cores.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0 crates=()
for a in "$@"; do
  case "$a" in
    --print-dir) echo "$SK_BIN_DIR"; exit 0 ;;
    --force) force=1 ;;
    sk-ctrl|sk-driver|skctl|sk-tracer) crates+=("$a") ;;
    *) sk_die "usage: build.sh [--print-dir|--force] [CRATE...] (crates: ${SK_CRATES[*]})" ;;
  esac
done
# shellcheck disable=SC2206  # a space-separated list of crate names
(( ${#crates[@]} )) || crates=(${SIMKUBE_BUILD_CRATES:-${SK_CRATES[*]}})

t0="$(sk_now)"
if (( !force )) && sk_bins_ok "${crates[@]}"; then
  sk_log "SimKube $SIMKUBE_VERSION binaries up to date (${crates[*]}): $SK_BIN_DIR"
  exit 0
fi

mkdir -p "$SK_ROOT"
# One build at a time per machine (two clones or a CI job and a developer starting at once).
exec 9>"$SK_ROOT/.lock"
if ! flock -n 9; then
  sk_log "another build holds $SK_ROOT/.lock; waiting"
  flock 9
fi

command -v cargo >/dev/null || sk_die "cargo is not on PATH (need Rust >= 1.88, e.g. via rustup, and a C compiler for ring)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SIM_ARENA_CACHE_DIR/cargo-target}"
sk_log "building SimKube $SIMKUBE_VERSION ($(cargo --version)) into $SK_ROOT, target dir $CARGO_TARGET_DIR"
sk_log "(cold: roughly 5-12 min per crate on 2 cores)"

for crate in "${crates[@]}"; do
  if (( !force )) && sk_crate_ok "$crate"; then
    sk_log "$crate $SIMKUBE_VERSION: up to date"
    continue
  fi
  t="$(sk_now)"
  sk_log "cargo install --locked $crate@$SIMKUBE_VERSION"
  nice -n 10 cargo install --locked --force --root "$SK_ROOT" "$crate@$SIMKUBE_VERSION" ||
    sk_die "cargo install $crate@$SIMKUBE_VERSION failed (see the cargo output above)"
  "$SK_BIN_DIR/$crate" --version >/dev/null 2>&1 || "$SK_BIN_DIR/$crate" --help >/dev/null 2>&1 ||
    sk_die "$SK_BIN_DIR/$crate was installed but does not run"
  echo "$SIMKUBE_VERSION" > "$SK_ROOT/.stamp-$crate"
  sk_log "$crate built in $(sk_elapsed "$t")"
done
sk_log "SimKube $SIMKUBE_VERSION ready in $(sk_elapsed "$t0"): $SK_BIN_DIR"
