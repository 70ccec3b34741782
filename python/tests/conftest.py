"""Fixtures: one real ``sim-arena serve`` (node bin/sim-arena.js serve --port 0) for the whole session."""

from __future__ import annotations

from typing import Iterator

import pytest

from sim_arena_gym import LocalServer, SimArenaEnv


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def url(server: LocalServer) -> str:
    assert server.url is not None
    return server.url


@pytest.fixture
def env(url: str) -> Iterator[SimArenaEnv]:
    e = SimArenaEnv(url, scenario="cpu-slight", max_steps=20, seed=0)
    try:
        yield e
    finally:
        e.close()
