"""Recent history of the chain's state, so that queries at an older block answer as of that block.

Bounded the way a garbage-collecting node is: only the last ``window`` blocks are kept. Nothing
copies the whole state per block: each block keeps the accounts it changed as they were before it
(balances and keys; contract storage by reference), and each contract's storage keeps the values
a block overwrote. An answer at height h starts from today's state and undoes what came later.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devnet.state import AccessKey, Account
from devnet.transaction import PublicKey

_ABSENT = object()  # a storage key that did not exist before the block wrote it


class StateGarbageCollected(LookupError):
    """The state at this height is older than the history window keeps."""


@dataclass(frozen=True, slots=True)
class AccountVersion:
    """An account as one block left it; its storage is the live dict of that account, which the
    undo records of later blocks roll back."""

    amount: int
    locked: int
    code_name: str | None
    keys: tuple[tuple[PublicKey, AccessKey], ...]
    data_bytes: int
    storage: dict[str, Any]

    @classmethod
    def of(cls, acc: Account) -> AccountVersion:
        keys = tuple(
            (pk, AccessKey(k.nonce, k.full_access, k.allowance, k.receiver_id, k.method_names))
            for pk, k in acc.keys.items()
        )
        return cls(acc.amount, acc.locked, acc.code_name, keys, acc.data_bytes, acc.storage)


@dataclass(slots=True)
class _BlockRecord:
    height: int
    accounts: list[str]  # the accounts the block changed (their versions before it are indexed)
    undo: list[tuple[dict[str, Any], str, Any]]  # (storage, key, value before the block)


class History:
    """The state of the last ``window`` blocks of ``accounts`` (the runtime's live dict)."""

    def __init__(self, accounts: dict[str, Account], window: int) -> None:
        if window < 0:
            raise ValueError("the history window is a number of blocks, at least 0")
        self.window = window
        self._accounts = accounts
        # each account as the last block that changed it left it (None: it does not exist)
        self._latest: dict[str, AccountVersion] = {}
        # per account, (height, version before that block) for each kept block that changed it
        self._before: dict[str, list[tuple[int, AccountVersion | None]]] = {}
        self._blocks: deque[_BlockRecord] = deque()
        self._pending_undo: list[tuple[dict[str, Any], str, Any]] = []
        self.oldest = 0  # the oldest height whose state is answered

    def start(self, height: int) -> None:
        """Begin at ``height`` with the accounts as they are now (after genesis)."""
        self._latest = {aid: AccountVersion.of(acc) for aid, acc in self._accounts.items()}
        self.oldest = height

    def storage_written(self, storage: dict[str, Any], keys: Iterable[str]) -> None:
        """Called before a receipt commits writes of ``keys`` to ``storage``."""
        pending = self._pending_undo
        for key in keys:
            pending.append((storage, key, storage.get(key, _ABSENT)))

    def end_block(self, height: int, touched: Iterable[str]) -> None:
        """Record block ``height``, which changed the ``touched`` accounts."""
        changed = []
        for account_id in touched:
            before = self._latest.get(account_id)
            acc = self._accounts.get(account_id)
            after = None if acc is None else AccountVersion.of(acc)
            if before is None and after is None:
                continue
            if after is None:
                del self._latest[account_id]
            else:
                self._latest[account_id] = after
            self._before.setdefault(account_id, []).append((height, before))
            changed.append(account_id)
        self._blocks.append(_BlockRecord(height, changed, self._pending_undo))
        self._pending_undo = []
        self._forget_before(height - self.window)

    def _forget_before(self, oldest: int) -> None:
        """Drop what only heights below ``oldest`` need (a block's record serves the heights
        before it)."""
        if oldest <= self.oldest:
            return
        self.oldest = oldest
        blocks = self._blocks
        while blocks and blocks[0].height <= oldest:
            record = blocks.popleft()
            for account_id in record.accounts:
                versions = self._before[account_id]
                versions.pop(0)
                if not versions:
                    del self._before[account_id]

    def account_at(self, account_id: str, height: int, head: int) -> Account | None:
        """``account_id`` as of block ``height`` (None: it did not exist then)."""
        if height >= head:
            return self._accounts.get(account_id)
        if height < self.oldest:
            raise StateGarbageCollected(height)
        versions = self._before.get(account_id)
        if not versions:
            return self._accounts.get(account_id)
        index = bisect.bisect_right(versions, height, key=lambda v: v[0])
        if index == len(versions):
            return self._accounts.get(account_id)
        version = versions[index][1]
        if version is None:
            return None
        return Account(
            amount=version.amount,
            locked=version.locked,
            code_name=version.code_name,
            keys=dict(version.keys),
            storage=self._storage_at(version.storage, height),
            data_bytes=version.data_bytes,
        )

    def _storage_at(self, storage: dict[str, Any], height: int) -> dict[str, Any]:
        """``storage`` with the writes of the blocks after ``height`` undone."""
        restored = dict(storage)
        for record in reversed(self._blocks):  # newest first: the oldest undo is applied last
            if record.height <= height:
                break
            for base, key, value in reversed(record.undo):
                if base is not storage:
                    continue
                if value is _ABSENT:
                    restored.pop(key, None)
                else:
                    restored[key] = value
        return restored
