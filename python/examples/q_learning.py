#!/usr/bin/env python3
"""Tabular Q-learning over the sim-arena HTTP env: one agent learns to fix every canonical scenario.

Training steps one SimArenaVectorEnv whose sub-envs are the canonical scenarios (one request per step for all of
them). The Q-table is indexed by a small discretisation of the observation vector:

    (CPU request fits no node, memory request fits no node, replicas vs target (-1/0/+1), pods pending, at target)

so what the agent learns on an easy scenario (memory 1Gi too large) carries over to a hard one (8Gi too large).
After training, each scenario is played once greedily (epsilon 0) on a fresh SimArenaEnv and reported.

    python examples/q_learning.py                       # starts a local server (node bin/sim-arena.js serve)
    python examples/q_learning.py --url http://127.0.0.1:8000 --steps 3000 --json

Exit status 0 when every evaluated scenario is solved, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

try:
    import sim_arena_gym as sag
except ImportError:  # running from a checkout without installing the package
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import sim_arena_gym as sag

# Observation indices (the server's Box declares them in this order; see observation_space names).
READY, PENDING, TOTAL, REPLICAS, CPU_NODE, MEM_NODE, AT_TARGET, PROGRESS, LAST_BLOCKED = range(9)
N_ACTIONS = 7
# The fewest steps that solve each canonical scenario (for comparison in the report).
MIN_STEPS = {"cpu-slight": 2, "cpu-heavy": 8, "mem-slight": 4, "mem-heavy": 32, "cpu-mem": 6, "replicas-over": 2, "replicas-under": 2, "composite": 6, "healthy": 1}

State = tuple[int, int, int, int, int]


def discretise(obs: np.ndarray) -> State:
    """The abstract state: what is wrong, not by how much."""
    rep = float(obs[REPLICAS])
    rep_cmp = 0 if abs(rep - 1.0) < 1e-6 else (1 if rep > 1.0 else -1)
    return (
        int(obs[CPU_NODE] > 1.0 + 1e-6),
        int(obs[MEM_NODE] > 1.0 + 1e-6),
        rep_cmp,
        int(obs[PENDING] > 0),
        int(obs[AT_TARGET] > 0.5),
    )


@dataclass
class QAgent:
    alpha: float = 0.3
    gamma: float = 0.95
    epsilon: float = 1.0
    # Mildly pessimistic: an untried action never looks better than a tried one that leads somewhere. (With 0 and
    # mostly negative rewards, a rarely seen state keeps an untried, looping action on top.)
    q_init: float = -5.0
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    q: dict[State, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.q = defaultdict(lambda: np.full(N_ACTIONS, self.q_init))

    def act(self, s: State, greedy: bool = False) -> int:
        if not greedy and self.rng.random() < self.epsilon:
            return int(self.rng.integers(N_ACTIONS))
        row = self.q[s]
        best = np.flatnonzero(row == row.max())
        return int(best[0] if greedy else self.rng.choice(best))

    def learn(self, s: State, a: int, r: float, s2: State, terminated: bool) -> None:
        target = r if terminated else r + self.gamma * float(self.q[s2].max())
        self.q[s][a] += self.alpha * (target - self.q[s][a])


def train(url: str, scenarios: Sequence[str], steps: int, max_steps: int, seed: int, reward: str, token: str | None = None, q_init: float = -5.0) -> tuple[QAgent, dict[str, Any]]:
    agent = QAgent(rng=np.random.default_rng(seed), q_init=q_init)
    envs = sag.SimArenaVectorEnv(url=url, configs=[{"scenario": s} for s in scenarios], max_steps=max_steps, reward=reward, token=token)
    episodes = 0
    solved_in_training = 0
    started = time.perf_counter()
    try:
        obs, _ = envs.reset(seed=seed)
        states = [discretise(o) for o in obs]
        # NEXT_STEP autoreset: the step after an episode ends is a reset, not a transition to learn from.
        resetting = np.zeros(envs.num_envs, dtype=bool)
        for t in range(steps):
            # Explore a lot early (epsilon 1 -> 0.05 over the first 60% of training), then mostly exploit;
            # the learning rate falls too, so the aliased states settle instead of chasing the last episode.
            agent.epsilon = max(0.05, 1.0 - 0.95 * t / max(1, int(steps * 0.6)))
            agent.alpha = max(0.02, 0.3 * (1.0 - t / steps))
            actions = np.array([agent.act(s) for s in states])
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            next_states = [discretise(o) for o in obs]
            for i in range(envs.num_envs):
                if not resetting[i]:
                    agent.learn(states[i], int(actions[i]), float(rewards[i]), next_states[i], bool(terminated[i]))
                    if terminated[i] or truncated[i]:
                        episodes += 1
                        solved_in_training += int(terminated[i])
            states = next_states
            resetting = terminated | truncated
    finally:
        envs.close()
    stats = {
        "vector_steps": steps,
        "env_steps": steps * len(scenarios),
        "episodes": episodes,
        "solved_in_training": solved_in_training,
        "seconds": round(time.perf_counter() - started, 2),
        "epsilon": round(agent.epsilon, 4),
        "states": len(agent.q),
    }
    return agent, stats


def evaluate(url: str, agent: QAgent, scenario: str, max_steps: int, seed: int, reward: str, token: str | None = None) -> dict[str, Any]:
    env = sag.SimArenaEnv(url, scenario=scenario, max_steps=max_steps, reward=reward, token=token)
    try:
        obs, info = env.reset(seed=seed)
        actions: list[str] = []
        total = 0.0
        terminated = truncated = False
        while not (terminated or truncated):
            a = agent.act(discretise(obs), greedy=True)
            obs, r, terminated, truncated, info = env.step(a)
            actions.append(sag.ACTIONS[a])
            total += float(r)
        return {
            "scenario": scenario,
            "solved": bool(terminated),
            "steps": len(actions),
            "min_steps": MIN_STEPS.get(scenario),
            "return": round(total, 4),
            "final": info["resources"],
            "actions": actions,
        }
    finally:
        env.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running sim-arena server (default: start one with node bin/sim-arena.js serve)")
    p.add_argument("--token", help="the server's bearer token, if it has one")
    p.add_argument("--scenarios", help="comma-separated scenario names (default: every canonical scenario)")
    p.add_argument("--steps", type=int, default=1000, help="training steps of the vector env (each steps every scenario once)")
    p.add_argument("--max-steps", type=int, default=60, help="episode length limit (mem-heavy needs 32 steps)")
    p.add_argument("--reward", default="shaped", help="reward mode (binary, shaped, scale, cost-aware, max-punish)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--q-init", type=float, default=-5.0, help="initial Q-value of every state and action")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)

    with ExitStack() as stack:
        url = args.url or stack.enter_context(sag.LocalServer())
        names = args.scenarios.split(",") if args.scenarios else [s["name"] for s in sag.Client(url, token=args.token).scenarios()]
        agent, stats = train(url, names, args.steps, args.max_steps, args.seed, args.reward, args.token, args.q_init)
        results = [evaluate(url, agent, n, args.max_steps, args.seed, args.reward, args.token) for n in names]

    all_solved = all(r["solved"] for r in results)
    if args.json:
        print(json.dumps({"training": stats, "evaluation": results, "all_solved": all_solved}))
    else:
        print(f"trained {stats['env_steps']} env steps ({stats['episodes']} episodes, {stats['solved_in_training']} solved) in {stats['seconds']} s; {stats['states']} states")
        print(f"{'scenario':<16}{'solved':<8}{'steps':>6}{'fewest':>7}{'return':>9}  actions")
        for r in results:
            acts = " ".join(r["actions"]) if len(r["actions"]) <= 8 else f"{' '.join(r['actions'][:6])} ... ({len(r['actions'])})"
            fewest = "" if r["min_steps"] is None else str(r["min_steps"])
            print(f"{r['scenario']:<16}{'yes' if r['solved'] else 'NO':<8}{r['steps']:>6}{fewest:>7}{r['return']:>9.3f}  {acts}")
        print("all solved" if all_solved else "NOT all solved")
    return 0 if all_solved else 1


if __name__ == "__main__":
    sys.exit(main())
