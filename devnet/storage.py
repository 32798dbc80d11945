"""Storage staking as nearcore charges it: what each record costs in bytes, and the balance an
account must hold for them.

nearcore's storage config (core/parameters/res/runtime_configs/parameters.yaml:
``storage_amount_per_byte`` 10^19, ``storage_num_bytes_account`` 100,
``storage_num_extra_bytes_record`` 40) prices an account at 100 bytes, each access key at the borsh
size of its public key and of its AccessKey plus 40 (runtime/runtime/src/access_keys.rs,
``access_key_storage_usage``), each contract data entry at key + value + 40 bytes
(runtime/near-vm-runner/src/logic/logic.rs, ``storage_write``) and the code at its length. So a new
account with one ed25519 full-access key uses 100 + (33 + 9 + 40) = 182 bytes.

The check (runtime/runtime/src/verifier.rs, ``check_storage_stake``): amount + locked must cover
usage x 10^19, except that an account using at most 770 bytes needs nothing (NEP-448 zero-balance
accounts). It runs on the signer after a transaction is charged (InvalidTxError
LackBalanceForState) and on a receipt's receiver after its actions (ActionError
LackBalanceForState with no index; runtime/runtime/src/lib.rs, ``apply_action_receipt``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from devnet.context import StorageOverlay, encode_result
from devnet.errors import ActionFailure
from devnet.transaction import ED25519, PublicKey


class AccessKey(Protocol):
    """What pricing reads of an access key (devnet.state.AccessKey; a Protocol, since state
    prices its own storage with this module)."""

    full_access: bool
    allowance: int | None
    receiver_id: str
    method_names: Any


class Account(Protocol):
    """What pricing reads and settles of an account (devnet.state.Account)."""

    amount: int
    locked: int
    data_bytes: int
    entry_sizes: dict[str, int]

    def storage_usage(self) -> int: ...


STORAGE_AMOUNT_PER_BYTE = 10**19  # yoctoNEAR
NUM_BYTES_ACCOUNT = 100
NUM_EXTRA_BYTES_RECORD = 40
ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT = 770  # bytes (NEP-448)
CODE_PREFIX = b"pycontract:"  # a Python contract's code is these bytes and its name


def _borsh_string(text: str) -> int:
    return 4 + len(text.encode())


def public_key_bytes(pk: PublicKey) -> int:
    """borsh size of a PublicKey: the key type byte and 32 (ed25519) or 64 (secp256k1) bytes."""
    return 1 + (32 if pk.key_type == ED25519 else 64)


def access_key_bytes(key: AccessKey) -> int:
    """borsh size of an AccessKey: u64 nonce, the permission's tag and its fields."""
    size = 8 + 1
    if not key.full_access:
        size += 1 + (16 if key.allowance is not None else 0)  # Option<u128>
        size += _borsh_string(key.receiver_id)
        size += 4 + sum(_borsh_string(m) for m in key.method_names)
    return size


def key_record_bytes(pk: PublicKey, key: AccessKey) -> int:
    return public_key_bytes(pk) + access_key_bytes(key) + NUM_EXTRA_BYTES_RECORD


def code_bytes(code_name: str | None) -> int:
    return 0 if code_name is None else len(CODE_PREFIX + code_name.encode())


def entry_bytes(key: str, value: Any) -> int:
    """A contract data entry: its key, its value as the bytes a view of the state shows, and 40."""
    return len(key.encode()) + len(encode_result(value)) + NUM_EXTRA_BYTES_RECORD


def keys_bytes(keys: Iterable[tuple[PublicKey, AccessKey]]) -> int:
    total = 0
    for pk, key in keys:  # inlined: every transaction prices its signer's keys
        total += (33 if pk.key_type == ED25519 else 65) + NUM_EXTRA_BYTES_RECORD
        total += 9 if key.full_access else access_key_bytes(key)
    return total


def lack_for_state(acc: Account, balance: int) -> int | None:
    """How much more ``acc`` must hold when its balance is ``balance``; None when it is enough."""
    usage = acc.storage_usage()
    if usage <= ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT:
        return None
    required = usage * STORAGE_AMOUNT_PER_BYTE
    available = balance + acc.locked
    return None if available >= required else required - available


def settle(account_id: str, acc: Account, overlay: StorageOverlay) -> None:
    """Price a receipt's storage changes into ``acc``; ActionFailure, leaving it as it was, when
    its balance cannot cover the storage it would then use."""
    sizes: dict[str, int] = {}
    for key in overlay.changes:
        sizes[key] = entry_bytes(key, overlay[key]) if key in overlay else 0
    delta = sum(size - acc.entry_sizes.get(key, 0) for key, size in sizes.items())
    before = acc.data_bytes
    acc.data_bytes = before + delta
    lack = lack_for_state(acc, acc.amount)
    if lack is not None:
        acc.data_bytes = before
        raise ActionFailure(
            {"LackBalanceForState": {"account_id": account_id, "amount": str(lack)}}
        )
    for key, size in sizes.items():
        if size:
            acc.entry_sizes[key] = size
        else:
            acc.entry_sizes.pop(key, None)
