#!/usr/bin/env bash
# Create (or reuse) the Python virtualenv for sim-arena's Python package and tests.
#
# The venv lives outside the repository, in a folder named after a hash of python/pyproject.toml and the Python
# version, so a change to the dependencies gets a fresh venv and an unchanged one is reused in about a second:
#   ${XDG_CACHE_HOME:-~/.cache}/sim-arena/venv-<hash>
# Everything is installed from PyPI by pip: gymnasium, numpy, pytest, and this package (editable).
# Prints the venv's path as the last line of stdout.
#
# Environment:
#   SIM_ARENA_PYTHON    the interpreter to build the venv from (default: python3)
#   SIM_ARENA_VENV      use this venv folder instead of the hashed one
#   SIM_ARENA_QUIET=1   only print the path
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${SIM_ARENA_PYTHON:-python3}"
say() { if [ "${SIM_ARENA_QUIET:-}" != 1 ]; then echo "setup-venv: $*" >&2; fi; }

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-venv: $python not found; install Python 3.10 or newer (or set SIM_ARENA_PYTHON)" >&2
  exit 1
fi
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "setup-venv: Python $pyver is too old, sim_arena_gym needs 3.10 or newer" >&2
  exit 1
fi

hash="$( { cat "$here/pyproject.toml"; echo "python $pyver"; } | sha256sum | cut -c1-16)"
venv="${SIM_ARENA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena/venv-$hash}"
marker="$venv/.sim-arena-complete"
# The editable install points at one checkout; a second checkout with the same pyproject.toml re-points it.
want="$hash $here"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && "$venv/bin/python" -c 'import gymnasium, numpy, pytest, sim_arena_gym' >/dev/null 2>&1; then
  say "up to date: $venv"
  echo "$venv"
  exit 0
fi

# Several processes may run this at once (parallel CI jobs): one builds, the others wait for it.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if [ -f "$marker" ] && [ "$(cut -d' ' -f1 "$marker")" = "$hash" ] && "$venv/bin/python" -c 'import gymnasium, numpy, pytest' >/dev/null 2>&1; then
  if [ "$(cat "$marker")" != "$want" ] || ! "$venv/bin/python" -c 'import sim_arena_gym' >/dev/null 2>&1; then
    say "pointing the editable install at $here"
    "$venv/bin/python" -m pip install --quiet --no-deps --editable "$here" >&2
    echo "$want" > "$marker"
  fi
  say "up to date: $venv"
  echo "$venv"
  exit 0
fi

say "creating $venv (Python $pyver)"
rm -rf "$venv"
"$python" -m venv "$venv"
pipq=(--quiet)
[ "${SIM_ARENA_QUIET:-}" = 1 ] || pipq=()
"$venv/bin/python" -m pip install "${pipq[@]}" --upgrade pip >&2
"$venv/bin/python" -m pip install "${pipq[@]}" --editable "$here[test]" >&2
"$venv/bin/python" -c 'import gymnasium, numpy, pytest, sim_arena_gym'
echo "$want" > "$marker"
say "ready: $venv"
echo "$venv"
