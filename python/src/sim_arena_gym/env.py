"""``SimArenaEnv``: a Gymnasium env whose every reset and step is a request to a sim-arena env server."""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Mapping, Sequence, SupportsFloat

import gymnasium as gym
import numpy as np

from .checks import action_index, check_options, check_seed, plain
from gymnasium import spaces

from .client import Client, SimArenaError

__all__ = ["SimArenaEnv", "space_from_json", "env_config", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:8000"


def space_from_json(desc: Mapping[str, Any]) -> spaces.Space:
    """Build a Gymnasium space from the server's JSON description (Box or Discrete)."""
    kind = desc.get("type")
    if kind == "Box":
        dtype = np.dtype(desc.get("dtype", "float32"))
        low = np.asarray(desc["low"], dtype=dtype)
        high = np.asarray(desc["high"], dtype=dtype)
        shape = tuple(desc.get("shape", low.shape))
        return spaces.Box(low=low.reshape(shape), high=high.reshape(shape), shape=shape, dtype=dtype)
    if kind == "Discrete":
        return spaces.Discrete(int(desc["n"]), start=int(desc.get("start", 0)))
    raise ValueError(f"unsupported space from the server: {desc!r}")


def env_config(
    *,
    scenario: str | None = None,
    trace: bytes | str | os.PathLike[str] | None = None,
    random_scenario: tuple[int, int] | None = None,
    workload: str | Mapping[str, str] | None = None,
    container: str | None = None,
    target: int | None = None,
    reward: str | Mapping[str, Any] | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    backend: str | None = None,
    duration_seconds: int | None = None,
    actions: Mapping[str, Any] | None = None,
    safeguards: Mapping[str, Any] | None = None,
    node_pool: Mapping[str, Any] | None = None,
    usage: Mapping[str, Any] | Sequence[Any] | str | os.PathLike[str] | None = None,
    usage_options: Mapping[str, Any] | None = None,
    stop_at_goal: bool | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /v1/envs from Python-style arguments (None means the server's default).

    ``trace`` is the msgpack bytes of a SimKube trace or a path to one; ``random_scenario`` is (seed, index) of
    sim-arena's generated corpus. ``usage`` is a sim-arena usage object, a Prometheus export (a list of
    ``{"resource", "response"}``) or a path to either as JSON; ``usage_options`` is ``{stepSeconds, noise,
    missingLimits}``. With usage the episode continues at the goal unless ``stop_at_goal``."""
    body: dict[str, Any] = {}
    if trace is not None:
        data = trace if isinstance(trace, (bytes, bytearray)) else open(os.fspath(trace), "rb").read()
        body["trace"] = base64.b64encode(bytes(data)).decode("ascii")
    if random_scenario is not None:
        body["random"] = {"seed": int(random_scenario[0]), "index": int(random_scenario[1])}
    optional = {
        "scenario": scenario,
        "workload": dict(workload) if isinstance(workload, Mapping) else workload,
        "container": container,
        "target": target,
        "reward": dict(reward) if isinstance(reward, Mapping) else reward,
        "maxSteps": max_steps,
        "seed": seed,
        "backend": backend,
        "durationSeconds": duration_seconds,
        "actions": dict(actions) if actions is not None else None,
        "safeguards": dict(safeguards) if safeguards is not None else None,
        "nodePool": dict(node_pool) if node_pool is not None else None,
    }
    if usage is not None:
        if isinstance(usage, (str, os.PathLike)):
            with open(os.fspath(usage), encoding="utf-8") as f:
                usage = json.load(f)
        body["usage"] = dict(usage) if isinstance(usage, Mapping) else list(usage)
    optional["usageOptions"] = dict(usage_options) if usage_options is not None else None
    optional["stopAtGoal"] = stop_at_goal
    body.update({k: v for k, v in optional.items() if v is not None})
    body = plain(body)
    check_seed(body.get("seed"))
    return body


class SimArenaEnv(gym.Env):
    """One env on a sim-arena server: fix a Kubernetes workload whose requests or replicas are wrong.

    The observation is a ``Box`` of float32 and the action space ``Discrete(7)``, both as the server declares them
    (``GET /v1/envs/{id}/spaces``); the observation never leaves its bounds. ``info`` carries the raw pod counts
    (``raw_observation``), the workload's ``resources`` and, after a step, what the action did.

    ``terminated`` means the workload reached its target (ready = total = target, nothing pending);
    ``truncated`` means ``max_steps`` steps were taken. Step again only after ``reset()``.

    Args:
        url: the server (default $SIM_ARENA_URL or http://127.0.0.1:8000).
        scenario, trace, random_scenario, workload, container, target, reward, max_steps, seed, backend,
        duration_seconds, actions, safeguards, node_pool, usage, usage_options, stop_at_goal: what to create; see
        :func:`env_config`. With usage the Box gains oom_kills_ratio, throttling, cpu_usage_ratio and
        memory_usage_ratio, ``info["raw_observation"]`` the usage fields, and ``terminated`` waits for
        ``stop_at_goal``.
        token: the server's bearer token. client_token: see :class:`Client`.
        client: an existing :class:`Client` to share (then url, token and client_token are ignored).
        render_mode: None, "ansi" (render() returns a line) or "human" (render() prints it).
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        url: str | None = None,
        *,
        scenario: str | None = None,
        trace: bytes | str | os.PathLike[str] | None = None,
        random_scenario: tuple[int, int] | None = None,
        workload: str | Mapping[str, str] | None = None,
        container: str | None = None,
        target: int | None = None,
        reward: str | Mapping[str, Any] | None = None,
        max_steps: int | None = None,
        seed: int | None = None,
        backend: str | None = None,
        duration_seconds: int | None = None,
        actions: Mapping[str, Any] | None = None,
        safeguards: Mapping[str, Any] | None = None,
        node_pool: Mapping[str, Any] | None = None,
        usage: Mapping[str, Any] | Sequence[Any] | str | os.PathLike[str] | None = None,
        usage_options: Mapping[str, Any] | None = None,
        stop_at_goal: bool | None = None,
        token: str | None = None,
        client_token: str | bool | None = None,
        timeout: float = 600.0,
        client: Client | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.client = client or Client(url or os.environ.get("SIM_ARENA_URL", DEFAULT_URL), token=token, client_token=client_token, timeout=timeout)
        self.config = env_config(
            scenario=scenario,
            trace=trace,
            random_scenario=random_scenario,
            workload=workload,
            container=container,
            target=target,
            reward=reward,
            max_steps=max_steps,
            seed=seed,
            backend=backend,
            duration_seconds=duration_seconds,
            actions=actions,
            safeguards=safeguards,
            node_pool=node_pool,
            usage=usage,
            usage_options=usage_options,
            stop_at_goal=stop_at_goal,
        )
        self.env_id: str | None = None
        created = self.client.create_env(self.config)
        self.env_id = created["id"]
        self.description: dict[str, Any] = created.get("env", {})
        self.observation_space = space_from_json(created["observation_space"])
        self.action_space = space_from_json(created["action_space"])
        self.observation_names: list[str] = list(created["observation_space"].get("names", []))
        self.action_names: list[str] = list(created["action_space"].get("actions", []))
        self._last: dict[str, Any] | None = None
        self._closed = False

    def _obs(self, values: Any) -> np.ndarray:
        return np.asarray(values, dtype=self.observation_space.dtype).reshape(self.observation_space.shape)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        seed = check_seed(seed)
        options = check_options(options)
        super().reset(seed=seed)
        self._check_open()
        r = self.client.reset(self.env_id, seed=seed, options=options)  # type: ignore[arg-type]
        self._last = {"observation": r["observation"], "info": r["info"]}
        return self._obs(r["observation"]), r["info"]

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        self._check_open()
        r = self.client.step(self.env_id, action if isinstance(action, str) else action_index(action))
        self._last = r
        return self._obs(r["observation"]), float(r["reward"]), bool(r["terminated"]), bool(r["truncated"]), r["info"]

    def render(self) -> str | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'human'")
            return None
        line = self._render_line()
        if self.render_mode == "human":
            print(line)
            return None
        return line

    def _render_line(self) -> str:
        if not self._last:
            return "(not reset yet)"
        info = self._last["info"]
        o, res = info["raw_observation"], info["resources"]
        act = f" after {info['action']}{' (blocked)' if info.get('blocked') else ''}" if "action" in info else ""
        return (
            f"step {info['step']}/{info['max_steps']}{act}: {o['ready']} ready / {o['pending']} pending / {o['total']} total "
            f"(target {info['target']}); requests cpu {res['cpu']} memory {res['memory']}, replicas {res['replicas']}"
        )

    def close(self) -> None:
        """Delete the env on the server (safe to call twice)."""
        if getattr(self, "_closed", True) or self.env_id is None:
            return
        self._closed = True
        try:
            self.client.delete(self.env_id)
        except SimArenaError:
            pass  # already gone (expired, server stopped): nothing left to free
        super().close()

    def _check_open(self) -> None:
        if self._closed:
            raise gym.error.ClosedEnvironmentError("this SimArenaEnv is closed (its server-side env was deleted)")

    def __del__(self) -> None:  # best effort: free the server-side env
        try:
            self.close()
        except Exception:
            pass
