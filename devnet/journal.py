"""Durable chain history: the genesis plus every accepted block's signed transactions.

The state is never written out; a restart rebuilds it by replaying the journal, which is
deterministic because contracts only see block heights and timestamps recorded here. Each block
line is fsync'd before its transactions are answered.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from devnet.genesis import Genesis


class Journal:
    """``genesis.json`` and ``blocks.jsonl`` in a state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.genesis_path = state_dir / "genesis.json"
        self.blocks_path = state_dir / "blocks.jsonl"
        self._fh: BinaryIO | None = None

    def has_genesis(self) -> bool:
        return self.genesis_path.exists()

    def load_genesis(self) -> Genesis:
        return Genesis.model_validate_json(self.genesis_path.read_text())

    def write_genesis(self, genesis: Genesis) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.genesis_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(genesis.model_dump_json(indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.genesis_path)
        self.blocks_path.unlink(missing_ok=True)

    def blocks(self) -> Iterator[tuple[int, list[bytes]]]:
        """(timestamp_ns, raw signed transactions) per block; a torn last line is ignored."""
        if not self.blocks_path.exists():
            return
        with self.blocks_path.open("rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # a write cut short by a crash: never acknowledged
                entry = json.loads(line)
                yield entry["t"], [base64.b64decode(tx) for tx in entry["txs"]]

    def append(self, timestamp_ns: int, raw_txs: list[bytes]) -> None:
        line = json.dumps(
            {"t": timestamp_ns, "txs": [base64.b64encode(tx).decode() for tx in raw_txs]}
        )
        if self._fh is None:
            self._truncate_torn_tail()
            self._fh = open(self.blocks_path, "ab")  # noqa: SIM115 - kept open for appends
        fh = self._fh
        fh.write(line.encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())

    def _truncate_torn_tail(self) -> None:
        if not self.blocks_path.exists():
            return
        data = self.blocks_path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with self.blocks_path.open("r+b") as fh:
                fh.truncate(keep)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def wipe(self) -> None:
        """Forget the chain (``reset``): genesis, blocks, keys and manifest."""
        self.close()
        for name in ("genesis.json", "blocks.jsonl", "manifest.json", "archive.sqlite"):
            (self.state_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.state_dir / "keys", ignore_errors=True)
