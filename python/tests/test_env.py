"""SimArenaEnv against the real server: Gymnasium conformance, spaces, bounds, seeds, episode ends."""

from __future__ import annotations

import subprocess
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim_arena_gym as sag
from sim_arena_gym.server import find_repo

CANONICAL = ["cpu-slight", "cpu-heavy", "mem-slight", "mem-heavy", "cpu-mem", "replicas-over", "replicas-under", "composite", "healthy"]
HIGH = [4, 4, 4, 4, 4, 4, 1, 1, 1]


def _check(env: gym.Env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    return [str(w.message) for w in caught]


def test_check_env_passes(env: sag.SimArenaEnv) -> None:
    msgs = _check(env.unwrapped)
    # The only warning is that a directly constructed env has no spec (so render modes are not re-made).
    assert all("spec" in m for m in msgs), msgs


@pytest.mark.parametrize("scenario", ["healthy", "replicas-over", "mem-heavy"])
def test_check_env_through_gym_make(url: str, scenario: str) -> None:
    env = gym.make("SimArena-v0", url=url, scenario=scenario, max_steps=5)
    try:
        msgs = _check(env.unwrapped)
        assert not [m for m in msgs if "not within" in m or "precision" in m], msgs
    finally:
        env.close()


def test_spaces_come_from_the_server(env: sag.SimArenaEnv, url: str) -> None:
    box = env.observation_space
    assert isinstance(box, gym.spaces.Box)
    assert box.shape == (9,) and box.dtype == np.float32
    assert np.array_equal(box.low, np.zeros(9, dtype=np.float32))
    assert np.array_equal(box.high, np.array(HIGH, dtype=np.float32))
    assert env.observation_names[:3] == ["ready_ratio", "pending_ratio", "total_ratio"]
    assert env.action_space == gym.spaces.Discrete(7)
    assert env.action_names == list(sag.ACTIONS)
    again = sag.space_from_json(env.client.spaces(env.env_id)["observation_space"])
    assert again == box


def test_observation_never_leaves_the_box(url: str) -> None:
    rng = np.random.default_rng(7)
    configs = [{"scenario": s} for s in CANONICAL] + [{"random_scenario": (3, i)} for i in range(6)]
    for cfg in configs:
        env = sag.SimArenaEnv(url, max_steps=40, **cfg)
        try:
            obs, info = env.reset(seed=int(rng.integers(1 << 30)))
            assert obs.dtype == np.float32 and obs in env.observation_space
            for _ in range(120):
                obs, reward, terminated, truncated, info = env.step(int(rng.integers(7)))
                assert obs in env.observation_space, (cfg, obs, info)
                assert -2.0 <= reward <= 1.0
                if terminated or truncated:
                    obs, info = env.reset()
                    assert obs in env.observation_space
        finally:
            env.close()


def _episode(env: sag.SimArenaEnv, seed: int | None, actions: list[int]) -> list[tuple]:
    obs, info = env.reset(seed=seed)
    out = [(obs.tolist(), info)]
    for a in actions:
        obs, r, te, tr, info = env.step(a)
        out.append((obs.tolist(), r, te, tr, info))
        if te or tr:
            break
    return out


def test_same_seed_same_episode(url: str) -> None:
    actions = [int(a) for a in np.random.default_rng(1).integers(0, 7, size=15)]
    a = sag.SimArenaEnv(url, scenario="composite", max_steps=30)
    b = sag.SimArenaEnv(url, scenario="composite", max_steps=30)
    try:
        first = _episode(a, 42, actions)
        assert first == _episode(b, 42, actions)
        assert first == _episode(a, 42, actions)
        # Unseeded resets continue a seeded chain: reset(seed=s), reset() is reproducible too.
        _episode(a, 9, [])
        _episode(b, 9, [])
        assert _episode(a, None, actions) == _episode(b, None, actions)
        assert first[0][1]["seed"] == 42
    finally:
        a.close()
        b.close()


def test_terminated_then_step_raises_with_the_servers_message(env: sag.SimArenaEnv) -> None:
    obs, info = env.reset(seed=0)
    assert info["raw_observation"] == {"ready": 0, "pending": 3, "total": 3}
    # The target container's requests, then the pod's effective request (here the same: no init containers).
    assert info["resources"] == {"cpu": "17", "memory": "2Gi", "replicas": 3, "effectiveCpu": "17", "effectiveMemory": "2Gi"}
    assert obs[4] > 1.0  # the CPU request fits no node
    reduce_cpu = sag.ACTIONS.index("reduce-cpu")
    obs, r, te, tr, info = env.step(reduce_cpu)
    assert (te, tr) == (False, False) and info["action"] == "reduce-cpu" and info["changed"]
    obs, r, te, tr, info = env.step(reduce_cpu)
    assert te and not tr and r == 1.0 and info["solved"]
    assert obs[6] == 1.0
    with pytest.raises(sag.BadRequestError, match="episode is over.*reset") as e:
        env.step(0)
    assert e.value.status == 400
    env.reset()
    env.step(0)  # fine again after reset


def test_truncated_after_max_steps(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="mem-heavy", max_steps=3)
    try:
        env.reset(seed=0)
        flags = [env.step(0)[2:4] for _ in range(3)]
        assert flags == [(False, False), (False, False), (False, True)]
        with pytest.raises(sag.BadRequestError, match="truncated"):
            env.step(0)
    finally:
        env.close()


def test_blocked_action_is_reported(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="mem-slight", max_steps=5)
    try:
        env.reset(seed=0)
        obs, r, te, tr, info = env.step(sag.ACTIONS.index("bump-mem"))  # 33Gi + 256Mi is over the 32Gi cap
        assert info["blocked"] and "cap" in info["blocked_reason"] and obs[8] == 1.0
    finally:
        env.close()


@pytest.mark.parametrize("action", [7, -1, 2.5, "jump", None])
def test_invalid_action_raises(env: sag.SimArenaEnv, action: object) -> None:
    env.reset(seed=0)
    with pytest.raises(sag.BadRequestError, match="invalid action"):
        env.step(action)


def test_step_before_reset_raises(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="healthy")
    try:
        with pytest.raises(sag.BadRequestError, match="reset"):
            env.step(0)
    finally:
        env.close()


def test_bad_create_arguments_raise(url: str) -> None:
    with pytest.raises(sag.BadRequestError, match='unknown scenario "nope"'):
        sag.SimArenaEnv(url, scenario="nope")
    with pytest.raises(sag.BadRequestError, match="reward"):
        sag.SimArenaEnv(url, scenario="healthy", reward="lots")
    with pytest.raises(sag.BadRequestError, match="maxSteps"):
        sag.SimArenaEnv(url, scenario="healthy", max_steps=0)
    with pytest.raises(sag.BadRequestError, match="not in the trace"):
        sag.SimArenaEnv(url, scenario="healthy", workload="default/nothing")
    with pytest.raises(sag.BadRequestError, match="unknown reset option"):
        e = sag.SimArenaEnv(url, scenario="healthy")
        try:
            e.reset(options={"bogus": 1})
        finally:
            e.close()


def test_close_deletes_the_server_side_env(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="healthy")
    env_id = env.env_id
    env.reset()
    env.close()
    env.close()  # twice is fine
    with pytest.raises(sag.EnvNotFoundError):
        env.client.describe(env_id)
    with pytest.raises(gym.error.ClosedEnvironmentError):
        env.step(0)


def test_envs_are_private_to_their_client_token(url: str) -> None:
    mine = sag.SimArenaEnv(url, scenario="healthy")
    try:
        other = sag.Client(url)  # a different random client token
        with pytest.raises(sag.EnvNotFoundError, match="no env with id"):
            other.step(mine.env_id, 0)
        with pytest.raises(sag.EnvNotFoundError):
            other.delete(mine.env_id)
        mine.reset()  # still there for its owner
    finally:
        mine.close()


def test_render_ansi(url: str) -> None:
    env = sag.SimArenaEnv(url, scenario="replicas-under", render_mode="ansi")
    try:
        env.reset(seed=0)
        env.step(sag.ACTIONS.index("scale-up"))
        line = env.render()
        assert "after scale-up" in line and "replicas 2" in line
    finally:
        env.close()


def test_uploaded_trace(url: str, tmp_path) -> None:
    repo = find_repo()
    if repo is None:
        pytest.skip("no sim-arena checkout to write traces with")
    subprocess.run(["node", str(repo / "bin" / "sim-arena.js"), "trace", "scenarios", "--out", str(tmp_path)], check=True, capture_output=True)
    env = sag.SimArenaEnv(url, trace=tmp_path / "replicas-over.msgpack", workload="default/web", target=3, max_steps=5)
    try:
        obs, info = env.reset(seed=0)
        assert info["resources"]["replicas"] == 5
        for _ in range(2):
            obs, r, te, tr, info = env.step(sag.ACTIONS.index("scale-down"))
        assert te
    finally:
        env.close()
    with pytest.raises(sag.BadRequestError, match="trace"):
        sag.SimArenaEnv(url, trace=b"not msgpack at all")


def test_usage_env_continues_at_the_goal_with_a_wider_box(url: str, tmp_path) -> None:
    usage_file = tmp_path / "usage.json"
    repo = find_repo()
    subprocess.run(["node", str(repo / "bin" / "sim-arena.js"), "usage", "synth", "--scenario", "healthy", "--cpu", "300m", "--memory", "300Mi", "--out", str(usage_file)], check=True, capture_output=True)
    env = sag.SimArenaEnv(url, scenario="healthy", usage=usage_file, max_steps=3, seed=0)
    try:
        assert env.observation_space.shape == (13,)
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert info["raw_observation"]["oomKills"] == 0
        for i in range(3):
            obs, reward, terminated, truncated, info = env.step(0)
            assert not terminated and truncated == (i == 2)
            assert -0.1 < reward < 0
        msgs = _check(env.unwrapped)
        assert not [m for m in msgs if "not within" in m or "precision" in m], msgs
    finally:
        env.close()
