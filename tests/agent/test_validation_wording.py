"""A bad field reads the same wherever it is written: ``field.path: message``, no pydantic noise.

Config files, strategies, grants and stored preferences each had their own copy of the
formatter; some kept pydantic's "Value error, " prefix. One formatter (tools/validation.py)
now words them all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.scheduler.strategies import parse_strategies

REPO = Path(__file__).resolve().parents[2]


def near_agent(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "agent", "--home", str(home), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_a_config_rule_is_worded_without_pydantic_noise(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "agent.yaml").write_text("account_id: alice.near\nnetwork: custom\n")
    result = near_agent(home, "plan", "what's my balance")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "(top): network 'custom' needs rpc_url" in output
    assert "Value error" not in output
    assert "Traceback" not in output


def test_a_strategy_rule_is_worded_without_pydantic_noise() -> None:
    bad = {"id": "x", "kind": "dca", "sell": "NEAR", "buy": "USDC", "amount": "1", "every": "soon"}
    with pytest.raises(ValueError) as caught:
        parse_strategies([bad])
    assert "strategies[0] (x)" in str(caught.value)
    assert "Value error" not in str(caught.value)
