"""An agent home for alice on the shared devnet with the demo grants, for end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.support.grants import give_home_grants

USER = "alice.test.near"


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    write_config(
        home, network="devnet", account_id=USER, devnet_manifest=devnet.state_dir / "manifest.json"
    )
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    return home
