#!/usr/bin/env bash
# The Ray RLlib example (python/examples/rllib_ppo.py) in its own cached venv, never npm test's:
#   ${XDG_CACHE_HOME:-~/.cache}/sim-arena/rllib-venv-ray-2.60.0   ray[rllib] 2.60.0 and its dependencies (~0.9 GB)
# torch is not installed twice: the venv reads torch 2.15.0 from the PPO example's venv (run-ppo.sh's
# torch-venv-2.15, made here when missing) through a .pth file placed after its own site-packages, so the rllib
# venv's own packages (gymnasium as ray pins it) come first. Arguments go to rllib_ppo.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/sim-arena"
ray_version=2.60.0
torch_venv="${SIM_ARENA_TORCH_VENV:-$cache/torch-venv-2.15}"
venv="${SIM_ARENA_RLLIB_VENV:-$cache/rllib-venv-ray-$ray_version}"
mkdir -p "$cache"

exec 8>"$torch_venv.lock"
if command -v flock >/dev/null 2>&1; then flock 8; fi
if ! "$torch_venv/bin/python" -c 'import torch' >/dev/null 2>&1; then
  echo "run-rllib: installing torch==2.15.0 into $torch_venv (a few GB, minutes)" >&2
  python3 -m venv "$torch_venv"
  "$torch_venv/bin/python" -m pip install --quiet torch==2.15.0 >&2
fi
exec 8>&-

exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ! "$venv/bin/python" -c 'import ray.rllib, torch' >/dev/null 2>&1; then
  echo "run-rllib: installing ray[rllib]==$ray_version into $venv (about 0.9 GB, a few minutes)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "ray[rllib]==$ray_version" >&2
  own="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  theirs="$("$torch_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$theirs" >"$own/zz-sim-arena-torch-venv.pth"
fi
exec 9>&-
exec "$venv/bin/python" "$here/rllib_ppo.py" "$@"
