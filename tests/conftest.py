"""Shared fixtures: a devnet node on 127.0.0.1 with the default genesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.home import STATE_ENV
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


# --------------------------------------------------------------------------- user state folder


@pytest.fixture(scope="session", autouse=True)
def _user_state_for_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never the developer's real state folder (the nonce ledger), even for wider fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_ENV, str(tmp_path_factory.mktemp("state") / "near-agent"))
        yield


@pytest.fixture(autouse=True)
def _user_state_per_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each test its own user state folder; its near-agent subprocesses inherit it."""
    monkeypatch.setenv(STATE_ENV, str(tmp_path_factory.mktemp("state") / "near-agent"))
