"""The evaluation protocol from Python: action masks, scenario sampling on reset, the registered spec, and the
input checks (numpy scalars accepted; out-of-range seeds, non-mapping options, fractional actions refused)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import sim_arena_gym as sag


def test_action_mask_in_info_and_matches_blocking(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="replicas-under")
    try:
        _, info = env.reset(seed=0)
        mask = info["action_mask"]
        assert len(mask) == 7 and mask[0] == 1
        assert mask[sag.ACTIONS.index("scale-down")] == 0  # 1 replica: at the floor
        _, _, _, _, info = env.step(sag.ACTIONS.index("scale-down"))
        assert info["blocked"] is True
        _, _, _, _, info = env.step(sag.ACTIONS.index("scale-up"))
        assert info["action_mask"][sag.ACTIONS.index("scale-down")] == 1
        # usable as is by Discrete.sample(mask=...)
        a = env.action_space.sample(mask=np.asarray(info["action_mask"], dtype=np.int8))
        assert info["action_mask"][a] == 1
    finally:
        env.close()


def test_reset_samples_scenarios_from_a_split(url: str) -> None:
    env = sag.SimArenaEnv(url)
    try:
        seen = set()
        for seed in range(8):
            _, info = env.reset(seed=seed, options={"split": "test"})
            assert info["scenario"].startswith("gen-test:")
            seen.add(info["scenario"])
            _, again = env.reset(seed=seed, options={"split": "test"})
            assert again["scenario"] == info["scenario"]
        assert len(seen) > 2
        _, info = env.reset(options={"scenario": "composite"})
        assert info["scenario"] == "canonical:composite"
        with pytest.raises(sag.BadRequestError, match="options.split must be one of"):
            env.reset(options={"split": "dev"})
    finally:
        env.close()


def test_vector_env_masks_and_split_resets(url: str) -> None:
    venv = sag.SimArenaVectorEnv(num_envs=2, url=url, scenario="replicas-under")
    try:
        _, infos = venv.reset(seed=np.int64(3), options={"split": "train"})
        assert np.asarray(infos["action_mask"]).shape == (2, 7)
        assert all(s.startswith(("canonical:", "gen-train:")) for s in infos["scenario"])
        with pytest.raises(ValueError, match="not a whole number"):
            venv.step(np.array([4.7, 0.0]))
        _, _, _, _, infos = venv.step(np.array([0.0, np.int64(0)]))  # whole floats and numpy ints are fine
        assert np.asarray(infos["action_mask"]).shape == (2, 7)
    finally:
        venv.close()


def test_registered_spec_has_max_episode_steps() -> None:
    assert gym.spec("SimArena-v0").max_episode_steps == 50
    assert sag.SPLITS == ("train", "val", "test", "real")


def test_input_checks(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="healthy", seed=np.int64(7), max_steps=np.int32(20), node_pool={"count": np.int64(3)})
    try:
        _, info = env.reset()
        assert info["max_steps"] == 20
        with pytest.raises(ValueError, match="out of range"):
            env.reset(seed=2**70)
        with pytest.raises(TypeError, match="options must be a dict"):
            env.reset(options=[1])  # type: ignore[arg-type]
        _, info = env.reset(seed=np.uint16(5))
        with pytest.raises(ValueError, match="not a whole number"):
            env.step(4.7)
        env.step(np.int64(0))
    finally:
        env.close()
    with pytest.raises(ValueError, match="out of range"):
        sag.env_config(seed=2**60)
