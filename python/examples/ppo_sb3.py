#!/usr/bin/env python3
"""The PPO reference run: Stable-Baselines3 PPO trained on the train split, evaluated on the test split.

Training steps N server-side envs through one POST /v1/step-batch per step (an SB3 ``VecEnv`` over the batch
endpoint); every episode draws a scenario of the train split (``reset(options={"split": "train"})``). Evaluation
follows ``sim-arena bench --split test --seeds 3`` exactly: every test scenario once per bench seed S, S+1, S+2, with
the bench's episode seed for (seed, scenario, episode 1), the greedy (deterministic) policy, 50 steps at most and
the shaped reward. The aggregate is the bench's: solve rate, mean return and ci95 (Student's t over the
per-scenario mean returns), so the figures sit in the same leaderboard.

    python/examples/run-ppo.sh                          # sets up the cached torch venv, then runs this file
    python examples/ppo_sb3.py --timesteps 100000 --out runs/ppo/result.json
    python examples/ppo_sb3.py --smoke                  # a few hundred steps, two test scenarios (a quick check)

The policy is trained once (``--seed``) and evaluated on every bench seed; the bench's seeds change the episode
seeds, not the training run. Writes a JSON result (``--out``); exit status 0 when it ran.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from contextlib import ExitStack
from typing import Any, Sequence

import numpy as np

try:
    import sim_arena_gym as sag
except ImportError:  # running from a checkout without installing the package
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import sim_arena_gym as sag

from sim_arena_gym.env import space_from_json

# Student's t 0.975 quantiles for 1-30 degrees of freedom (src/bench/stats.ts has the same table).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
        2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    if df <= 30:
        return T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df)


def ci95(xs: Sequence[float]) -> float | None:
    """Half-width of the 95% t interval of the mean (None for fewer than two values), as the bench computes it."""
    n = len(xs)
    if n < 2:
        return None
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return t975(n - 1) * sd / math.sqrt(n)


def _imul(a: int, b: int) -> int:
    r = (a * b) & 0xFFFFFFFF
    return r - (1 << 32) if r & 0x80000000 else r


def mix_seed(*parts: int) -> int:
    """src/util/rng.ts mixSeed: FNV-1a over the 4 little-endian bytes of each 32-bit part."""
    h = 0x811C9DC5
    for p in parts:
        x = int(p) & 0xFFFFFFFF
        for _ in range(4):
            h ^= x & 0xFF
            h = (h * 0x01000193) & 0xFFFFFFFF
            x >>= 8
    return h


def episode_seed(seed: int, scenario_id: str, episode: int) -> int:
    """src/bench/harness.ts episodeSeed: the seed of episode k of a scenario under bench seed S."""
    h = 0
    for c in scenario_id:
        h = _imul(h, 31) + ord(c)
        h = ((h + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return mix_seed(seed, h, episode)


def make_vec_env_class():
    """An SB3 VecEnv whose step is one batch request for every sub-env (SB3 imported lazily)."""
    from stable_baselines3.common.vec_env import VecEnv

    class SimArenaSB3VecEnv(VecEnv):
        """N envs on one server. SB3 semantics: a finished sub-env is reset at once (in a second batch request) and
        its info carries ``terminal_observation``. Each reset draws a scenario of ``split``."""

        def __init__(self, client: sag.Client, num_envs: int, split: str, seed: int, max_steps: int = 50) -> None:
            self.client = client
            self.split = split
            self.ids: list[str] = []
            try:
                for _ in range(num_envs):
                    created = client.create_env(sag.env_config(random_scenario=None, max_steps=max_steps, reward="shaped"))
                    self.ids.append(created["id"])
            except BaseException:
                self.close()
                raise
            obs_space = space_from_json(created["observation_space"])
            act_space = space_from_json(created["action_space"])
            super().__init__(num_envs, obs_space, act_space)
            self._seed = seed
            self._actions: np.ndarray | None = None

        def reset(self) -> np.ndarray:
            items = [{"id": i, "reset": {"seed": self._seed + k, "options": {"split": self.split}}} for k, i in enumerate(self.ids)]
            results = self.client.step_batch(items)
            self._seed += self.num_envs
            return np.asarray([r["observation"] for r in results], dtype=np.float32)

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions).reshape(self.num_envs)

        def step_wait(self):
            assert self._actions is not None
            results = self.client.step_batch([{"id": i, "action": int(a)} for i, a in zip(self.ids, self._actions)])
            obs = np.asarray([r["observation"] for r in results], dtype=np.float32)
            rewards = np.asarray([r["reward"] for r in results], dtype=np.float32)
            dones = np.asarray([r["terminated"] or r["truncated"] for r in results], dtype=bool)
            infos: list[dict[str, Any]] = []
            for r in results:
                info = {"TimeLimit.truncated": bool(r["truncated"] and not r["terminated"]), "solved": r["info"].get("solved")}
                infos.append(info)
            done_idx = np.flatnonzero(dones)
            if len(done_idx):
                # An unseeded reset continues the env's deterministic seed chain, so each episode draws a new scenario.
                again = self.client.step_batch([{"id": self.ids[k], "reset": {"options": {"split": self.split}}} for k in done_idx])
                for k, r in zip(done_idx, again):
                    infos[k]["terminal_observation"] = obs[k].copy()
                    obs[k] = r["observation"]
            return obs, rewards, dones, infos

        def close(self) -> None:
            for i in self.ids:
                try:
                    self.client.delete(i)
                except sag.SimArenaError:
                    pass
            self.ids = []

        def get_attr(self, attr_name, indices=None):
            return [getattr(self, attr_name, None) for _ in self._indices(indices)]

        def set_attr(self, attr_name, value, indices=None) -> None:
            setattr(self, attr_name, value)

        def env_method(self, method_name, *args, indices=None, **kwargs):
            raise NotImplementedError("SimArenaSB3VecEnv has no per-env methods")

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False for _ in self._indices(indices)]

        def _indices(self, indices):
            if indices is None:
                return range(self.num_envs)
            return [indices] if isinstance(indices, int) else indices

    return SimArenaSB3VecEnv


def evaluate(model: Any, client: sag.Client, scenarios: Sequence[str], bench_seed: int, seeds: int, parallel: int) -> list[dict[str, Any]]:
    """Every scenario once per bench seed, greedily; `parallel` envs at a time, one batch request per step."""
    jobs = [(bench_seed + r, sid) for r in range(seeds) for sid in scenarios]
    ids = [client.create_env(sag.env_config(max_steps=50, reward="shaped"))["id"] for _ in range(min(parallel, len(jobs)))]
    episodes: list[dict[str, Any]] = []
    try:
        for start in range(0, len(jobs), len(ids)):
            chunk = jobs[start : start + len(ids)]
            live = ids[: len(chunk)]
            first = client.step_batch(
                [{"id": i, "reset": {"seed": episode_seed(s, sid, 1), "options": {"scenario": sid}}} for i, (s, sid) in zip(live, chunk)]
            )
            obs = np.asarray([r["observation"] for r in first], dtype=np.float32)
            ret = [0.0] * len(chunk)
            steps = [0] * len(chunk)
            solved = [bool(r["info"].get("solved")) for r in first]
            done = [False] * len(chunk)
            while not all(done):
                actions, _ = model.predict(obs, deterministic=True)
                todo = [k for k in range(len(chunk)) if not done[k]]
                results = client.step_batch([{"id": live[k], "action": int(actions[k])} for k in todo])
                for k, r in zip(todo, results):
                    obs[k] = r["observation"]
                    ret[k] += float(r["reward"])
                    steps[k] += 1
                    solved[k] = bool(r["info"].get("solved"))
                    done[k] = bool(r["terminated"] or r["truncated"])
            for k, (s, sid) in enumerate(chunk):
                episodes.append({"scenario": sid, "runSeed": s, "seed": episode_seed(s, sid, 1), "return": ret[k], "steps": steps[k], "solved": solved[k]})
    finally:
        for i in ids:
            try:
                client.delete(i)
            except sag.SimArenaError:
                pass
    return episodes


def aggregate(episodes: Sequence[dict[str, Any]], split: str) -> dict[str, Any]:
    by_scenario: dict[str, list[float]] = {}
    by_seed: dict[int, list[float]] = {}
    for e in episodes:
        by_scenario.setdefault(e["scenario"], []).append(e["return"])
        by_seed.setdefault(e["runSeed"], []).append(e["return"])
    seed_means = [sum(v) / len(v) for v in by_seed.values()]
    solved = [e for e in episodes if e["solved"]]
    return {
        "episodes": len(episodes),
        "solved": len(solved),
        "solveRate": len(solved) / len(episodes) if episodes else 0.0,
        "meanReturn": sum(e["return"] for e in episodes) / len(episodes) if episodes else 0.0,
        "ci95": ci95([sum(v) / len(v) for v in by_scenario.values()]),
        "seedSd": 0.0 if len(seed_means) < 2 else float(np.std(seed_means, ddof=1)),
        "meanSteps": sum(e["steps"] for e in episodes) / len(episodes) if episodes else 0.0,
        "scenarios": len(by_scenario),
        "seeds": len(by_seed),
        "split": split,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running sim-arena serve (default: start one with LocalServer)")
    ap.add_argument("--timesteps", type=int, default=100_000, help="PPO training env-steps (default 100000)")
    ap.add_argument("--n-envs", type=int, default=16, help="training envs stepped together (default 16)")
    ap.add_argument("--seed", type=int, default=0, help="training seed (PPO and the envs' first reset seeds)")
    ap.add_argument("--train-split", default="train")
    ap.add_argument("--test-split", default="test")
    ap.add_argument("--bench-seed", type=int, default=0, help="first bench seed of the evaluation (as sim-arena bench --seed)")
    ap.add_argument("--eval-seeds", type=int, default=3, help="bench seeds evaluated (as sim-arena bench --seeds)")
    ap.add_argument("--eval-envs", type=int, default=20, help="evaluation episodes run at once")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; the server needs the rest)")
    ap.add_argument("--out", default="runs/ppo/result.json", help="where to write the result JSON")
    ap.add_argument("--model", help="where to save the trained model (default: beside --out, <out>-model.zip)")
    ap.add_argument("--smoke", action="store_true", help="a quick check: 512 steps, 2 test scenarios, 1 seed")
    a = ap.parse_args(argv)
    if a.smoke:
        a.timesteps, a.n_envs, a.eval_seeds = 512, 4, 1
    if a.timesteps < 1 or a.n_envs < 1 or a.eval_seeds < 1 or a.eval_envs < 1:
        ap.error("--timesteps, --n-envs, --eval-seeds and --eval-envs must be at least 1")

    import torch
    from stable_baselines3 import PPO
    import stable_baselines3

    torch.set_num_threads(a.threads)
    started = time.perf_counter()
    with ExitStack() as stack:
        url = a.url or stack.enter_context(sag.LocalServer())
        client = sag.Client(url)
        splits = client.request("GET", "/v1/splits")["splits"]
        test_ids = [s["id"] for s in splits[a.test_split]["scenarios"]]
        if a.smoke:
            test_ids = test_ids[:2]
        VecEnvClass = make_vec_env_class()
        venv = VecEnvClass(client, a.n_envs, a.train_split, seed=a.seed)
        stack.callback(venv.close)
        n_steps = max(16, min(256, a.timesteps // a.n_envs))
        model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=min(256, n_steps * a.n_envs), seed=a.seed, device="cpu", verbose=0)
        t0 = time.perf_counter()
        model.learn(total_timesteps=a.timesteps)
        train_seconds = time.perf_counter() - t0
        venv.close()  # frees the training envs before the evaluation creates its own (the client's quota)
        model.save(a.model or os.path.splitext(os.path.abspath(a.out))[0] + "-model.zip")
        t1 = time.perf_counter()
        episodes = evaluate(model, client, test_ids, a.bench_seed, a.eval_seeds, a.eval_envs)
        eval_seconds = time.perf_counter() - t1
    agg = aggregate(episodes, a.test_split)
    result = {
        "policy": "ppo",
        "algorithm": f"stable-baselines3 {stable_baselines3.__version__} PPO (MlpPolicy, default hyperparameters, n_steps {n_steps})",
        "torch": torch.__version__,
        "trainSplit": a.train_split,
        "timesteps": a.timesteps,
        "nEnvs": a.n_envs,
        "trainSeed": a.seed,
        "benchSeed": a.bench_seed,
        "trainSeconds": round(train_seconds, 1),
        "trainStepsPerSecond": round(a.timesteps / train_seconds, 1),
        "evalSeconds": round(eval_seconds, 1),
        "totalSeconds": round(time.perf_counter() - started, 1),
        "summary": agg,
        "episodes": episodes,
    }
    out = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    ci = agg["ci95"]
    print(
        f"ppo on {a.test_split}: solve rate {agg['solveRate'] * 100:.1f}% ({agg['solved']}/{agg['episodes']}), "
        f"mean return {agg['meanReturn']:.2f}{'' if ci is None else f' ± {ci:.2f}'}; trained {a.timesteps} steps in "
        f"{train_seconds:.0f} s ({result['trainStepsPerSecond']:.0f} steps/s), evaluated in {eval_seconds:.0f} s; wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
