"""Gymnasium environments for sim-arena, over its HTTP env server (``sim-arena serve``).

    import gymnasium as gym
    import sim_arena_gym

    env = sim_arena_gym.SimArenaEnv("http://127.0.0.1:8000", scenario="mem-slight", seed=0)
    # or: env = gym.make("SimArena-v0", url="http://127.0.0.1:8000", scenario="mem-slight")
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from gymnasium.envs.registration import register, registry

from .client import (
    BadRequestError,
    Client,
    ConnectionFailedError,
    EnvNotFoundError,
    ServerError,
    SimArenaError,
    TooManyEnvsError,
    UnauthorizedError,
)
from .env import SimArenaEnv, env_config, space_from_json
from .server import LocalServer
from .vector import SimArenaVectorEnv

__version__ = "0.1.0"

# # The official evaluation splits (README "Evaluation protocol"): reset(options={"split": S}) draws from one.
SPLITS = ("train", "val", "test", "real")

# The action index order is fixed by the server (Discrete(7)); the names, for reading policies.
ACTIONS = ("noop", "bump-cpu", "bump-mem", "scale-up", "reduce-cpu", "reduce-mem", "scale-down")

if "SimArena-v0" not in registry:
    # max_episode_steps matches the server's default maxSteps (50); gym.make(..., max_steps=N) with another N
    # should pass max_episode_steps=N too.
    register(id="SimArena-v0", entry_point="sim_arena_gym.env:SimArenaEnv", max_episode_steps=50)

__all__ = [
    "ACTIONS",
    "SPLITS",
    "BadRequestError",
    "Client",
    "ConnectionFailedError",
    "EnvNotFoundError",
    "LocalServer",
    "ServerError",
    "SimArenaEnv",
    "SimArenaError",
    "SimArenaVectorEnv",
    "TooManyEnvsError",
    "UnauthorizedError",
    "env_config",
    "space_from_json",
]
