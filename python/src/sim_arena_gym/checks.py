"""Client-side checks of what Python callers pass: numpy scalars become plain Python values, and what the server
would refuse (a seed beyond 2**53 - 1, options that are not a mapping, a fractional action) is a ValueError or a
TypeError naming the argument, before any request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

MAX_SEED = 2**53 - 1


def plain(v: Any) -> Any:
    """numpy scalars and 0-d arrays to Python numbers, mappings to dicts and sequences to lists, recursively."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def check_seed(seed: Any, what: str = "seed") -> int | None:
    """None, or an integer (numpy ones too) within ±(2**53 - 1), the range JSON carries exactly."""
    if seed is None:
        return None
    seed = plain(seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{what} must be an integer or None, got {type(seed).__name__} {seed!r}")
    if not -MAX_SEED <= seed <= MAX_SEED:
        raise ValueError(f"{what} {seed} is out of range: give an integer from -(2**53 - 1) to 2**53 - 1")
    return seed


def check_options(options: Any) -> dict[str, Any] | None:
    """None, or a mapping such as {"split": "train"} or {"scenario": "cpu-slight"}."""
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise TypeError(f'options must be a dict such as {{"split": "train"}} or {{"scenario": "cpu-slight"}}, got {type(options).__name__}')
    return plain(options)


def action_index(a: Any, n: int = 7) -> int:
    """One action as an index 0..n-1: ints and numpy integers, or floats with no fractional part; 4.7 is an error
    (BadRequestError, a ValueError, as the server would answer)."""
    from .client import BadRequestError

    a = plain(a)
    if isinstance(a, float) and a.is_integer():
        a = int(a)
    elif isinstance(a, float):
        raise BadRequestError(f"invalid action {a!r}: not a whole number; the action space is Discrete({n}), give an integer from 0 to {n - 1}")
    if isinstance(a, bool) or not isinstance(a, int):
        raise BadRequestError(f"invalid action {a!r}: give an integer from 0 to {n - 1}")
    if not 0 <= a < n:
        raise BadRequestError(f"invalid action {a}: out of range, give an integer from 0 to {n - 1}")
    return a


def seed_list(seed: Any, n: int) -> list[int | None]:
    """One seed for every sub-env: an int s gives s, s+1, ...; a sequence gives one each."""
    if seed is None:
        return [None] * n
    if isinstance(seed, Sequence) or isinstance(seed, np.ndarray):
        seeds = [check_seed(s, f"seed[{i}]") for i, s in enumerate(list(seed))]
        if len(seeds) != n:
            raise ValueError(f"got {len(seeds)} seeds for {n} envs")
        return seeds
    base = check_seed(seed)
    assert base is not None
    check_seed(base + n - 1, f"seed + {n - 1}")
    return [base + i for i in range(n)]
