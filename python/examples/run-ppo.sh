#!/usr/bin/env bash
# The PPO reference run (python/examples/ppo_sb3.py) in its own cached venv, never npm test's:
#   ${XDG_CACHE_HOME:-~/.cache}/sim-arena/torch-venv-2.15   torch 2.15.0 (PyPI wheel, with its nvidia-* runtime
#   wheels: the Linux wheel does not import without them, even on CPU), stable-baselines3, gymnasium, numpy.
# About 5.4 GB on disk. Arguments go to ppo_sb3.py (e.g. --smoke, --timesteps 100000, --out runs/ppo/result.json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SIM_ARENA_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena/torch-venv-2.15}"
want="torch==2.15.0 stable-baselines3==2.9.2 gymnasium numpy"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ! "$venv/bin/python" -c 'import torch, stable_baselines3, gymnasium' >/dev/null 2>&1; then
  echo "run-ppo: installing $want into $venv (a few GB, minutes)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet $want >&2
fi
exec 9>&-
exec "$venv/bin/python" "$here/ppo_sb3.py" "$@"
