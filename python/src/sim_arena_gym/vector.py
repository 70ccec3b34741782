"""``SimArenaVectorEnv``: N server-side envs stepped together, one HTTP request per ``step`` (POST /v1/step-batch)."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from .checks import action_index, check_options, seed_list
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .client import Client, SimArenaError
from .env import DEFAULT_URL, env_config, space_from_json

__all__ = ["SimArenaVectorEnv"]


class SimArenaVectorEnv(VectorEnv):
    """A Gymnasium vector env over a sim-arena server.

    Sub-env ``i`` is created from ``common`` keyword arguments updated by ``configs[i]`` (the keyword arguments of
    :class:`~sim_arena_gym.SimArenaEnv`: scenario, target, reward, max_steps, ...), so the sub-envs may run
    different scenarios. Every ``step`` and ``reset`` is one request to the batch endpoint.

    Autoreset is Gymnasium's default, ``NEXT_STEP``: the step after a sub-env terminates or truncates resets it
    (its action is ignored; reward 0, not terminated, not truncated) and returns its first observation.

    Args:
        num_envs: how many sub-envs (default ``len(configs)``).
        url, token, client_token, timeout, client: as for :class:`~sim_arena_gym.SimArenaEnv`.
        configs: per-sub-env keyword arguments.
        **common: keyword arguments for every sub-env.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int | None = None,
        url: str | None = None,
        *,
        configs: Sequence[Mapping[str, Any]] | None = None,
        token: str | None = None,
        client_token: str | bool | None = None,
        timeout: float = 600.0,
        client: Client | None = None,
        **common: Any,
    ) -> None:
        if num_envs is None:
            if not configs:
                raise ValueError("give num_envs or configs")
            num_envs = len(configs)
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        if configs is not None and len(configs) != num_envs:
            raise ValueError(f"configs has {len(configs)} entries for {num_envs} envs")
        self.client = client or Client(url or os.environ.get("SIM_ARENA_URL", DEFAULT_URL), token=token, client_token=client_token, timeout=timeout)
        self.num_envs = num_envs
        self.env_ids: list[str] = []
        self.closed = False
        try:
            first = None
            for i in range(num_envs):
                kwargs = {**common, **(dict(configs[i]) if configs is not None else {})}
                created = self.client.create_env(env_config(**kwargs))
                self.env_ids.append(created["id"])
                if first is None:
                    first = created
                elif created["observation_space"] != first["observation_space"] or created["action_space"] != first["action_space"]:
                    raise ValueError(f"sub-env {i} has different spaces from sub-env 0")
        except BaseException:
            self._delete_all()
            raise
        assert first is not None
        self.single_observation_space = space_from_json(first["observation_space"])
        self.single_action_space = space_from_json(first["action_space"])
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_names: list[str] = list(first["observation_space"].get("names", []))
        self._obs = np.zeros((num_envs, *self.single_observation_space.shape), dtype=self.single_observation_space.dtype)
        self._autoreset = np.zeros(num_envs, dtype=np.bool_)

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the sub-envs. ``seed`` may be one int (sub-env i gets seed + i) or one per sub-env.
        ``options["reset_mask"]`` (booleans) resets only those sub-envs; other options go to the server."""
        seeds = seed_list(seed, self.num_envs)
        if seeds[0] is not None and not isinstance(seed, (Sequence, np.ndarray)):
            super().reset(seed=seeds[0])
        options = check_options(options) or {}
        mask = np.asarray(options.pop("reset_mask", np.ones(self.num_envs, dtype=np.bool_)), dtype=np.bool_)
        if mask.shape != (self.num_envs,):
            raise ValueError(f"reset_mask must have shape ({self.num_envs},), got {mask.shape}")
        items = []
        for i in np.flatnonzero(mask):
            reset: dict[str, Any] = {}
            if seeds[i] is not None:
                reset["seed"] = seeds[i]
            if options:
                reset["options"] = options
            items.append({"id": self.env_ids[i], "reset": reset})
        infos: dict[str, Any] = {}
        if items:
            results = self.client.step_batch(items)
            for i, r in zip(np.flatnonzero(mask), results):
                self._obs[i] = r["observation"]
                infos = self._add_info(infos, r["info"], int(i))
        self._autoreset[mask] = False
        return self._obs.copy(), _stack_masks(infos)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        acts = np.asarray(actions).reshape(self.num_envs)
        items = []
        for i in range(self.num_envs):
            if self._autoreset[i]:
                items.append({"id": self.env_ids[i], "reset": {}})
            else:
                items.append({"id": self.env_ids[i], "action": action_index(acts[i])})
        results = self.client.step_batch(items)
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminations = np.zeros(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        infos: dict[str, Any] = {}
        for i, r in enumerate(results):
            self._obs[i] = r["observation"]
            if not r.get("reset"):
                rewards[i] = r["reward"]
                terminations[i] = r["terminated"]
                truncations[i] = r["truncated"]
            infos = self._add_info(infos, r["info"], i)
        self._autoreset = terminations | truncations
        return self._obs.copy(), rewards, terminations, truncations, _stack_masks(infos)

    def close_extras(self, **kwargs: Any) -> None:
        self._delete_all()

    def _delete_all(self) -> None:
        for env_id in self.env_ids:
            try:
                self.client.delete(env_id)
            except SimArenaError:
                pass
        self.env_ids = []


def _stack_masks(infos: dict[str, Any]) -> dict[str, Any]:
    """infos["action_mask"] as one (num_envs, 7) int8 array (all ones for a sub-env without an info this call)."""
    masks = infos.get("action_mask")
    if masks is not None:
        infos["action_mask"] = np.stack([np.asarray(m if m is not None and np.size(m) == 7 else np.ones(7), dtype=np.int8) for m in masks])
    return infos
