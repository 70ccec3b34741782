"""The tabular Q-learning example, in a short run, solves every canonical scenario over the HTTP env."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "q_learning.py"


def _load():
    spec = importlib.util.spec_from_file_location("q_learning_example", EXAMPLE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_q_learning_solves_every_canonical_scenario(url: str, capsys) -> None:
    q = _load()
    code = q.main(["--url", url, "--steps", "400", "--json"])
    out = json.loads(capsys.readouterr().out)
    report = {r["scenario"]: (r["solved"], r["steps"]) for r in out["evaluation"]}
    print(report)
    assert set(report) == set(q.MIN_STEPS), report
    assert out["all_solved"] and code == 0, report
    for r in out["evaluation"]:
        # Greedy episodes solve within a few detours of the fewest steps.
        assert r["steps"] <= r["min_steps"] + 4, r
