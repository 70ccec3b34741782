#!/usr/bin/env python3
"""Ray RLlib PPO on sim-arena: env runners that each talk to their own local ``sim-arena serve``.

Every RLlib env-runner process (and the driver, which builds one env to learn the spaces) starts one
``sim-arena serve`` on 127.0.0.1 the first time it creates an env, and all of that process's envs use it, so the
simulation runs on the node that samples and scales with the env runners; ``--url`` makes every runner share one
running server instead. Each episode draws a scenario of ``--split`` (``reset(options={"split": ...})``).

    bash python/examples/run-rllib.sh --iterations 2 --env-runners 2      # what npm run test:rllib runs

Prints one line per training iteration and, with ``--out``, writes a JSON summary. Exits non-zero when an
iteration sampled no env steps or completed no episode by the last iteration.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import sys
import time
from typing import Any

from pathlib import Path

try:
    import sim_arena_gym as sag
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import sim_arena_gym as sag

import gymnasium as gym

ENV_NAME = "sim-arena-split"

# This process's local server: "PID URL" in the process's own environment (never a module global: RLlib ships
# make_env to the runners pickled by value, globals included, so a global would carry the driver's server along).
SERVER_VAR = "SIM_ARENA_RLLIB_SERVER"


def local_server_url() -> str:
    pid, _, url = os.environ.get(SERVER_VAR, "").partition(" ")
    if pid == str(os.getpid()) and url:
        return url
    server = sag.LocalServer()
    url = server.start()
    atexit.register(server.stop)
    os.environ[SERVER_VAR] = f"{os.getpid()} {url}"
    return url


class SplitEnv(gym.Wrapper):
    """A SimArenaEnv whose every reset draws a scenario of one split (RLlib resets without options)."""

    def __init__(self, env: gym.Env, split: str) -> None:
        super().__init__(env)
        self.split = split

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self.env.reset(seed=seed, options={"split": self.split, **(options or {})})


def make_env(config: dict[str, Any]) -> gym.Env:
    url = config.get("url") or local_server_url()
    return SplitEnv(sag.SimArenaEnv(url, max_steps=int(config.get("max_steps", 50))), str(config.get("split", "train")))


def finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--env-runners", type=int, default=2)
    ap.add_argument("--envs-per-runner", type=int, default=2)
    ap.add_argument("--batch", type=int, default=400, help="train_batch_size_per_learner (env steps per iteration)")
    ap.add_argument("--split", default="train")
    ap.add_argument("--max-steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="one running sim-arena serve for every runner (default: a local one per runner)")
    ap.add_argument("--out", help="write a JSON summary here")
    a = ap.parse_args(argv)
    for name in ("iterations", "env_runners", "envs_per_runner", "batch", "max_steps"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    if a.split not in sag.SPLITS:
        ap.error(f"--split must be one of {', '.join(sag.SPLITS)}")

    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    # Logical CPUs: one per env runner plus the driver's learner, whatever the machine has (RLlib would otherwise
    # wait forever for runners a 2-core machine cannot place).
    # The env runners import sim_arena_gym from where this driver found it (a checkout needs no install).
    package_root = str(Path(sag.__file__).resolve().parents[1])
    ray.init(
        num_cpus=a.env_runners + 1,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": package_root}},
    )
    register_env(ENV_NAME, make_env)
    env_config = {"split": a.split, "max_steps": a.max_steps, **({"url": a.url} if a.url else {})}
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config=env_config)
        .framework("torch")
        .env_runners(num_env_runners=a.env_runners, num_envs_per_env_runner=a.envs_per_runner, num_cpus_per_env_runner=1)
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=a.batch, minibatch_size=min(128, a.batch), num_epochs=4, lr=3e-4)
        .debugging(seed=a.seed)
    )
    started = time.monotonic()
    algo = config.build_algo()
    built = time.monotonic() - started
    iterations = []
    try:
        for i in range(a.iterations):
            t0 = time.monotonic()
            r = algo.train()
            runners = r.get("env_runners", {})
            row = {
                "iteration": i + 1,
                "env_steps": int(runners.get("num_env_steps_sampled", 0)),
                "env_steps_lifetime": int(runners.get("num_env_steps_sampled_lifetime", 0)),
                "episodes": int(runners.get("num_episodes", 0)),
                "episode_return_mean": finite(runners.get("episode_return_mean")),
                "seconds": round(time.monotonic() - t0, 1),
            }
            iterations.append(row)
            print(json.dumps(row), flush=True)
        # Which server each remote env runner used ("PID URL"; the same URL for all with --url).
        servers = algo.env_runner_group.foreach_env_runner(
            lambda runner: os.environ.get(SERVER_VAR, ""), local_env_runner=False
        )
    finally:
        algo.stop()
        ray.shutdown()
    summary = {
        "ray": ray.__version__,
        "env_runners": a.env_runners,
        "envs_per_runner": a.envs_per_runner,
        "split": a.split,
        "build_seconds": round(built, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "servers": servers,
        "iterations": iterations,
    }
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "iterations"}), flush=True)
    if any(row["env_steps"] <= 0 for row in iterations):
        print("rllib_ppo: an iteration sampled no env steps", file=sys.stderr)
        return 1
    if not a.url and (len(set(servers)) != a.env_runners or not all(servers)):
        print(f"rllib_ppo: expected one local server per env runner, got {servers}", file=sys.stderr)
        return 1
    if sum(row["episodes"] for row in iterations) == 0:
        print("rllib_ppo: no episode completed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
