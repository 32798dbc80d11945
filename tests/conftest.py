"""Shared fixtures: a devnet node on 127.0.0.1 with the default genesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.server import RunningDevnet, start_devnet


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDevnet]:
    """One node for the whole session (default genesis, throwaway state dir)."""
    node = start_devnet(Path(tmp_path_factory.mktemp("devnet")), reset=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def fresh_devnet(tmp_path: Path) -> Iterator[RunningDevnet]:
    """A node of its own for a test that needs a pristine chain."""
    node = start_devnet(tmp_path / "devnet", reset=True)
    try:
        yield node
    finally:
        node.stop()
