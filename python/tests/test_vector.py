"""SimArenaVectorEnv: batched steps over the step-batch endpoint, Gymnasium's next-step autoreset."""

from __future__ import annotations

import numpy as np
import pytest

import sim_arena_gym as sag


@pytest.fixture
def venv(url: str):
    v = sag.SimArenaVectorEnv(url=url, configs=[{"scenario": "cpu-slight"}, {"scenario": "replicas-under"}, {"scenario": "healthy"}], max_steps=4)
    try:
        yield v
    finally:
        v.close()


def test_spaces_and_shapes(venv: sag.SimArenaVectorEnv) -> None:
    assert venv.num_envs == 3
    assert venv.single_observation_space.shape == (9,)
    assert venv.observation_space.shape == (3, 9)
    assert venv.single_action_space.n == 7
    obs, infos = venv.reset(seed=5)
    assert obs.shape == (3, 9) and obs.dtype == np.float32
    assert obs in venv.observation_space
    assert list(infos["seed"]) == [5, 6, 7] and infos["_seed"].all()
    assert list(infos["target"]) == [3, 3, 2]


def test_step_and_next_step_autoreset(venv: sag.SimArenaVectorEnv) -> None:
    venv.reset(seed=0)
    reduce_cpu, scale_up, noop = (sag.ACTIONS.index(a) for a in ("reduce-cpu", "scale-up", "noop"))
    obs, rew, term, trunc, infos = venv.step([reduce_cpu, scale_up, noop])
    assert list(term) == [False, False, True]  # healthy is at target after a noop
    assert rew[2] == 1.0
    obs, rew, term, trunc, infos = venv.step([reduce_cpu, scale_up, noop])
    assert list(term) == [True, True, False]
    # Env 2 was reset by this step: reward 0, its first observation again, step 0.
    assert rew[2] == 0.0 and infos["step"][2] == 0
    obs, rew, term, trunc, infos = venv.step([noop, noop, noop])
    assert list(infos["step"]) == [0, 0, 1]
    assert list(rew[:2]) == [0.0, 0.0]


def test_truncation_in_a_vector(venv: sag.SimArenaVectorEnv) -> None:
    venv.reset(seed=0)
    bump_mem = sag.ACTIONS.index("bump-mem")
    truncs = []
    for _ in range(4):
        _, _, term, trunc, _ = venv.step([bump_mem, bump_mem, bump_mem])
        truncs.append(bool(trunc[0]))
    assert truncs == [False, False, False, True]


def test_vector_equals_single_envs(url: str) -> None:
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 7, size=(12, 2))
    scenarios = ["composite", "mem-slight"]
    v = sag.SimArenaVectorEnv(url=url, configs=[{"scenario": s} for s in scenarios], max_steps=50)
    singles = [sag.SimArenaEnv(url, scenario=s, max_steps=50) for s in scenarios]
    try:
        vobs, _ = v.reset(seed=11)
        sobs = [e.reset(seed=11 + i)[0] for i, e in enumerate(singles)]
        assert np.array_equal(vobs, np.stack(sobs))
        for row in actions:
            vobs, vrew, vterm, vtrunc, _ = v.step(row)
            for i, e in enumerate(singles):
                o, r, te, tr, _ = e.step(int(row[i]))
                assert np.array_equal(vobs[i], o) and vrew[i] == r and vterm[i] == te and vtrunc[i] == tr
            if vterm.any() or vtrunc.any():
                break
    finally:
        v.close()
        for e in singles:
            e.close()


def test_reset_mask_and_seed_list(venv: sag.SimArenaVectorEnv) -> None:
    venv.reset(seed=[1, 2, 3])
    venv.step([1, 1, 1])
    obs, infos = venv.reset(options={"reset_mask": np.array([False, True, False])})
    assert list(infos["_step"]) == [False, True, False]


def test_close_deletes_every_env(url: str) -> None:
    v = sag.SimArenaVectorEnv(2, url=url, scenario="healthy")
    ids = list(v.env_ids)
    v.close()
    for i in ids:
        with pytest.raises(sag.EnvNotFoundError):
            v.client.describe(i)


def test_batch_errors_raise(url: str) -> None:
    v = sag.SimArenaVectorEnv(2, url=url, scenario="healthy", max_steps=2)
    try:
        with pytest.raises(sag.BadRequestError, match="reset"):
            v.step([0, 0])  # never reset
        v.reset(seed=0)
        with pytest.raises(sag.BadRequestError, match="invalid action"):
            v.step([0, 9])
    finally:
        v.close()
