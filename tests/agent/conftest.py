"""A configured agent home for alice on the shared devnet, with the demo grants given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.support.grants import give_home_grants


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Iterator[Home]:
    home = Home(tmp_path / "home")
    manifest = devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    yield home
