#!/usr/bin/env bash
# Prints the path of a Python interpreter with what scripts/validate-deploy.py needs (PyYAML, jsonschema), making a
# venv for it on first use:
#   ${XDG_CACHE_HOME:-~/.cache}/sim-arena/deploy-venv-<hash of the requirements and the Python version>
# Fails (exit 1, saying what to do) when no such interpreter can be had; it never skips.
#
# Environment:
#   SIM_ARENA_DEPLOY_PYTHON  use this interpreter (it must already have PyYAML and jsonschema)
#   SIM_ARENA_PYTHON         the interpreter to build the venv from (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reqs="$here/validate-deploy.requirements.txt"
has_deps() { "$1" -c 'import yaml, jsonschema' >/dev/null 2>&1; }

if [ -n "${SIM_ARENA_DEPLOY_PYTHON:-}" ]; then
  has_deps "$SIM_ARENA_DEPLOY_PYTHON" || { echo "validate-deploy-venv: SIM_ARENA_DEPLOY_PYTHON=$SIM_ARENA_DEPLOY_PYTHON cannot import yaml and jsonschema; install them into it (pip install -r $reqs) or unset it" >&2; exit 1; }
  echo "$SIM_ARENA_DEPLOY_PYTHON"
  exit 0
fi

python="${SIM_ARENA_PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || { echo "validate-deploy-venv: $python not found; install Python 3 (with its venv module) or set SIM_ARENA_PYTHON" >&2; exit 1; }
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
hash="$( { cat "$reqs"; echo "python $pyver"; } | sha256sum | cut -c1-16)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena/deploy-venv-$hash"

if [ -f "$venv/.complete" ] && has_deps "$venv/bin/python"; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [ -f "$venv/.complete" ] && has_deps "$venv/bin/python"; then
  echo "$venv/bin/python"
  exit 0
fi
echo "validate-deploy-venv: creating $venv (Python $pyver)" >&2
tmp="$venv.tmp-$$"
rm -rf "$tmp"
"$python" -m venv "$tmp" >&2 || { echo "validate-deploy-venv: $python -m venv failed; install the venv module (e.g. python3-venv)" >&2; rm -rf "$tmp"; exit 1; }
"$tmp/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" >&2 || { echo "validate-deploy-venv: pip could not install $reqs (network?); or set SIM_ARENA_DEPLOY_PYTHON to an interpreter that has them" >&2; rm -rf "$tmp"; exit 1; }
has_deps "$tmp/bin/python" || { echo "validate-deploy-venv: the new venv still cannot import yaml and jsonschema" >&2; rm -rf "$tmp"; exit 1; }
touch "$tmp/.complete"
rm -rf "$venv"
mv "$tmp" "$venv"
echo "$venv/bin/python"
