"""The chain's blocks by height, by hash and by chunk hash: the genesis and the newest blocks in
memory, older ones in the :class:`~devnet.archive.Archive`, so memory stays bounded however long
the chain grows (each block holds the hashes of its transactions and receipts). Without an
archive every block stays in memory.
"""

from __future__ import annotations

import pickle
from collections import deque

from devnet.archive import Archive
from devnet.state import Block, chunk_hash

_BLOCKS = "blocks"  # height -> the block
_HEIGHTS = "block_heights"  # block hash -> height
_CHUNK_HEIGHTS = "chunk_heights"  # chunk hash -> height


def _height_key(height: int) -> bytes:
    return height.to_bytes(8, "big")


class Blocks:
    """Every block since the genesis, consecutive heights; :meth:`evict_through` moves the old
    ones to disk, and every lookup reads them back from there."""

    def __init__(self, archive: Archive | None) -> None:
        self._archive = archive
        self._genesis: Block | None = None
        self._recent: deque[Block] = deque()  # consecutive heights, after the archived ones
        self._by_hash: dict[bytes, Block] = {}  # the genesis and the recent blocks
        if archive is not None:
            for table in (_BLOCKS, _HEIGHTS, _CHUNK_HEIGHTS):
                archive.table(table)

    # -- growing ----------------------------------------------------------------------------

    def append(self, block: Block) -> None:
        if self._genesis is None:
            self._genesis = block
        else:
            self._recent.append(block)
        self._by_hash[block.hash] = block

    def evict_through(self, height: int) -> None:
        """Move the blocks up to ``height`` (never the genesis, never the head) to the archive,
        inside the caller's :meth:`Archive.batch`."""
        if self._archive is None:
            return
        rows: list[tuple[bytes, bytes]] = []
        heights: list[tuple[bytes, bytes]] = []
        chunks: list[tuple[bytes, bytes]] = []
        while len(self._recent) > 1 and self._recent[0].height <= height:
            block = self._recent.popleft()
            del self._by_hash[block.hash]
            key = _height_key(block.height)
            rows.append((key, pickle.dumps(block)))
            heights.append((block.hash, key))
            chunks.append((chunk_hash(block), key))
        self._archive.put(_BLOCKS, rows)
        self._archive.put(_HEIGHTS, heights)
        self._archive.put(_CHUNK_HEIGHTS, chunks)

    # -- reading ----------------------------------------------------------------------------

    @property
    def genesis(self) -> Block:
        if self._genesis is None:
            raise LookupError("no genesis yet: the runtime appends it first")
        return self._genesis

    @property
    def head(self) -> Block:
        return self._recent[-1] if self._recent else self.genesis

    def __len__(self) -> int:
        return self.head.height - self.genesis.height + 1

    def __getitem__(self, index: int) -> Block:
        """The block ``index`` places after the genesis (negative: from the head)."""
        count = len(self)
        position = index + count if index < 0 else index
        block = self.at(self.genesis.height + position) if 0 <= position < count else None
        if block is None:
            raise IndexError(index)
        return block

    def in_memory(self, height: int) -> bool:
        """Whether the block at ``height`` is held in memory (the genesis or a recent one)."""
        first = self._recent[0].height if self._recent else self.genesis.height + 1
        return height == self.genesis.height or first <= height <= self.head.height

    def at(self, height: int) -> Block | None:
        genesis = self.genesis
        if height == genesis.height:
            return genesis
        if not genesis.height < height <= self.head.height:
            return None
        first = self._recent[0].height
        if height >= first:
            return self._recent[height - first]
        return self._read(_height_key(height))

    def by_hash(self, block_hash: bytes) -> Block | None:
        block = self._by_hash.get(block_hash)
        if block is not None or self._archive is None:
            return block
        key = self._archive.get(_HEIGHTS, block_hash)
        return None if key is None else self._read(key)

    def by_chunk_hash(self, wanted: bytes) -> Block | None:
        """The block whose one chunk has hash ``wanted``."""
        for block in (self.genesis, *self._recent):
            if chunk_hash(block) == wanted:
                return block
        if self._archive is None:
            return None
        key = self._archive.get(_CHUNK_HEIGHTS, wanted)
        return None if key is None else self._read(key)

    def _read(self, key: bytes) -> Block | None:
        raw = None if self._archive is None else self._archive.get(_BLOCKS, key)
        return None if raw is None else pickle.loads(raw)
