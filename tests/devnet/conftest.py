"""A node with the small test genesis and the sample contracts, one per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.server import RunningDevnet, start_devnet
from tests.devnet.helpers import small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS


@pytest.fixture
def net(tmp_path: Path) -> Iterator[RunningDevnet]:
    node = start_devnet(
        tmp_path / "state", genesis=small_genesis(), reset=True, contracts=SAMPLE_CONTRACTS
    )
    try:
        yield node
    finally:
        node.stop()
