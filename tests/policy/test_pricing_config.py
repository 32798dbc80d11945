"""agent.yaml's ``pricing:`` knobs: defaults are the mechanism's, bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.config import ConfigFileError, load_config
from policies.pricing import PriceRules


def write(tmp_path: Path, **pricing: object) -> Path:
    body: dict[str, object] = {"account_id": "alice.test.near"}
    if pricing:
        body["pricing"] = pricing
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_defaults_are_the_price_mechanisms(tmp_path: Path) -> None:
    assert load_config(write(tmp_path)).pricing.rules() == PriceRules()


def test_each_knob_is_read(tmp_path: Path) -> None:
    knobs = {
        "min_liquidity_usd": 50_000,
        "max_spread_bps": 100,
        "min_sources": 3,
        "sole_source_min_liquidity_usd": 1_000_000,
    }
    assert load_config(write(tmp_path, **knobs)).pricing.rules() == PriceRules(**knobs)


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("max_spread_bps", 10_000),
        ("min_sources", 0),
        ("min_liquidity_usd", -1),
        ("min_liquidity_usd", "a lot"),
        ("median", 1),
    ],
)
def test_a_bad_knob_is_refused_by_name(tmp_path: Path, knob: str, value: object) -> None:
    with pytest.raises(ConfigFileError, match=f"pricing.{knob}"):
        load_config(write(tmp_path, **{knob: value}))
