from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.audit import AuditLog


class MemoryNotary:
    """An in-memory stand-in for the on-chain notary contract."""

    network = "devnet"
    contract_id = "notary.test.near"

    def __init__(self) -> None:
        self.anchors: dict[str, dict[str, object]] = {}
        self.height = 100

    def anchor(self, head_hash: str, entries: int) -> str:
        self.height += 1
        self.anchors[head_hash] = {
            "head_hash": head_hash,
            "entries": entries,
            "block_height": self.height,
            "timestamp_ns": self.height * 10**9,
        }
        return f"tx{self.height}"

    def read_anchor(self, head_hash: str) -> dict[str, object] | None:
        return self.anchors.get(head_hash)

    def read_anchors(self) -> list[dict[str, object]]:
        return list(self.anchors.values())  # insertion order: oldest first, as on chain


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def log(audit_path: Path) -> Iterator[AuditLog]:
    with AuditLog(audit_path) as opened:
        yield opened


@pytest.fixture
def notary() -> MemoryNotary:
    return MemoryNotary()
