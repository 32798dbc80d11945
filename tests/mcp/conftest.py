"""Agent homes for alice on the shared devnet, given grants the way the user gives them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.support.grants import give_home_grants

MakeHome = Callable[..., Home]


@pytest.fixture
def make_home(devnet: RunningDevnet, tmp_path: Path) -> Iterator[MakeHome]:
    """A home with the demo grants; ``first_time_confirm=False`` drops the first-time
    recipient confirmation (so a small payment to bob is allowed outright)."""
    made = 0

    def make(*, first_time_confirm: bool = True) -> Home:
        nonlocal made
        made += 1
        home = Home(tmp_path / f"home{made}")
        manifest = devnet.state_dir / "manifest.json"
        write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
        body = yaml.safe_load(demo_grants(datetime.now(UTC) + timedelta(days=1)))
        if not first_time_confirm:
            for grant in body["grants"]:
                grant.get("confirm", {}).pop("first_time_recipient", None)
        (home.root / "grants.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
        give_home_grants(home)
        return home

    yield make
