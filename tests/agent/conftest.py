"""A configured agent home for alice on the shared devnet, with the demo grants given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from agent.demo import demo_grants
from agent.home import Home
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.support.grants import give_home_grants
from tests.support.openai_replay import ReplayServer


@pytest.fixture
def home(devnet: RunningDevnet, tmp_path: Path) -> Iterator[Home]:
    home = Home(tmp_path / "home")
    manifest = devnet.state_dir / "manifest.json"
    write_config(home, network="devnet", account_id="alice.test.near", devnet_manifest=manifest)
    (home.root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
    give_home_grants(home)
    yield home


@pytest.fixture
def llm_home(home: Home) -> Iterator[tuple[Home, ReplayServer]]:
    """The same home with the LLM planner pointed at a local server replaying scripted turns."""
    with ReplayServer() as server:
        config = yaml.safe_load(home.config_file.read_text())
        config["planner"] = {"kind": "llm", "base_url": server.base_url, "model": "scripted"}
        home.config_file.write_text(yaml.safe_dump(config))
        yield home, server
