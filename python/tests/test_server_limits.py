"""Server-side limits and auth as the Python client sees them: 429, 401, 404, body limits."""

from __future__ import annotations

import pytest

import sim_arena_gym as sag


def test_too_many_envs_is_a_429() -> None:
    with sag.LocalServer(["--max-envs", "2"]) as url:
        envs = [sag.SimArenaEnv(url, scenario="healthy") for _ in range(2)]
        with pytest.raises(sag.TooManyEnvsError, match="too many envs") as e:
            sag.SimArenaEnv(url, scenario="healthy")
        assert e.value.status == 429
        envs[0].close()
        sag.SimArenaEnv(url, scenario="healthy").close()  # room again
        envs[1].close()


def test_token_is_required_when_configured() -> None:
    with sag.LocalServer(["--token", "s3cret"]) as url:
        with pytest.raises(sag.UnauthorizedError, match="token"):
            sag.SimArenaEnv(url, scenario="healthy")
        env = sag.SimArenaEnv(url, scenario="healthy", token="s3cret")
        env.reset()
        env.close()
        assert sag.Client(url).health()["ok"]  # /healthz needs no token


def test_unknown_env_and_unreachable_server(url: str) -> None:
    c = sag.Client(url)
    with pytest.raises(sag.EnvNotFoundError, match="no env with id"):
        c.reset("env-does-not-exist")
    with pytest.raises(sag.ConnectionFailedError):
        sag.Client("http://127.0.0.1:9", timeout=5).health()


def test_body_limit_is_a_413() -> None:
    with sag.LocalServer(["--max-body", "2048"]) as url:
        with pytest.raises(sag.BadRequestError, match="too large") as e:
            sag.SimArenaEnv(url, trace=b"x" * 10_000)
        assert e.value.status == 413
