"""A home for alice on a devnet of its own, for tests that anchor the audit log.

Anchors stay on chain: on the session's shared devnet, alice's anchors from one test are still
there for the next, whose log does not hold them. Import the fixture into the test module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.support.grants import give_home_grants


@pytest.fixture
def anchoring_home(fresh_devnet: RunningDevnet, tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    manifest = fresh_devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)  # the log's first entries, to anchor
    return home
