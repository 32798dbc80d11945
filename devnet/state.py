"""The chain's state: accounts with their keys, balances and contract storage, and the blocks.

Plain mutable records; only the runtime writes them, from a single thread.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from devnet import storage
from devnet.transaction import PublicKey
from tools.account_id import is_valid_account_id

_IMPLICIT = re.compile(r"^[0-9a-f]{64}$")


def valid_account_id(account_id: str) -> bool:
    """nearcore's rule: 2-64 chars of a-z 0-9 and single separators - _ . between them.

    The same check as the agent's tools (``tools.account_id``), so the node and its client
    never disagree on an id.
    """
    return is_valid_account_id(account_id)


def is_implicit(account_id: str) -> bool:
    return _IMPLICIT.match(account_id) is not None


def is_top_level(account_id: str) -> bool:
    return "." not in account_id


def parent_of(account_id: str) -> str | None:
    return account_id.split(".", 1)[1] if "." in account_id else None


# a key's nonce stays below the block height times this (nearcore's
# AccessKey::ACCESS_KEY_NONCE_RANGE_MULTIPLIER, core/primitives/src/account.rs)
NONCE_RANGE_MULTIPLIER = 1_000_000


@dataclass
class AccessKey:
    nonce: int
    full_access: bool = True
    allowance: int | None = None
    receiver_id: str = ""
    method_names: tuple[str, ...] = ()


@dataclass
class Account:
    amount: int
    locked: int = 0
    code_name: str | None = None
    keys: dict[PublicKey, AccessKey] = field(default_factory=dict)
    storage: dict[str, Any] = field(default_factory=dict)
    # the storage entries' sizes as devnet.storage prices them, kept up to date as receipts
    # commit, so that pricing an account costs nothing per entry
    entry_sizes: dict[str, int] = field(default_factory=dict)
    data_bytes: int = 0

    def code_hash(self) -> bytes:
        return code_hash_of(self.code_name)

    def storage_usage(self) -> int:
        """Bytes of state this account pays for, as nearcore counts them (see devnet.storage)."""
        return (
            storage.NUM_BYTES_ACCOUNT
            + storage.keys_bytes(self.keys.items())
            + storage.code_bytes(self.code_name)
            + self.data_bytes
        )


@lru_cache(maxsize=256)
def code_hash_of(code_name: str | None) -> bytes:
    """The hash of an account's code: zeros without code, else sha256 of its bytes."""
    if code_name is None:
        return bytes(32)
    return hashlib.sha256(f"pycontract:{code_name}".encode()).digest()


@dataclass
class Block:
    height: int
    hash: bytes
    prev_hash: bytes
    timestamp_ns: int
    tx_hashes: list[bytes] = field(default_factory=list)
    receipt_ids: list[bytes] = field(default_factory=list)
    gas_burnt: int = 0
    tokens_burnt: int = 0
    total_supply: int = 0  # amount plus locked of every account after this block


def block_hash(prev_hash: bytes, height: int, timestamp_ns: int, tx_hashes: list[bytes]) -> bytes:
    """Deterministic from the block's content, so a replayed chain has the same hashes."""
    h = hashlib.sha256(prev_hash)
    h.update(height.to_bytes(8, "little"))
    h.update(timestamp_ns.to_bytes(8, "little"))
    for tx_hash in tx_hashes:
        h.update(tx_hash)
    return h.digest()


def chunk_hash(block: Block) -> bytes:
    """The hash of a block's one chunk (shard 0)."""
    return hashlib.sha256(block.hash + b"chunk").digest()
