"""Signed transactions as nearcore encodes them: borsh decoding, hashing and signature checks.

The hash a client signs is sha256 over the borsh bytes of the Transaction exactly as received, so
decoding keeps those bytes instead of re-serialising.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import base58
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from devnet.borsh import BorshError, Reader

ED25519 = 0
SECP256K1 = 1


@dataclass(frozen=True)
class PublicKey:
    key_type: int
    data: bytes

    def text(self) -> str:
        return _key_text(self.key_type, self.data)


@lru_cache(maxsize=4096)
def _key_text(key_type: int, data: bytes) -> str:
    prefix = "ed25519:" if key_type == ED25519 else "secp256k1:"
    return prefix + base58.b58encode(data).decode()


@dataclass(frozen=True)
class Signature:
    key_type: int
    data: bytes

    def text(self) -> str:
        prefix = "ed25519:" if self.key_type == ED25519 else "secp256k1:"
        return prefix + base58.b58encode(self.data).decode()


@dataclass(frozen=True)
class FunctionCallPermission:
    allowance: int | None
    receiver_id: str
    method_names: tuple[str, ...]


FULL_ACCESS: Final = "FullAccess"


@dataclass(frozen=True)
class AccessKeySpec:
    nonce: int
    permission: FunctionCallPermission | Literal["FullAccess"]  # FULL_ACCESS or a function call


@dataclass(frozen=True)
class CreateAccount:
    pass


@dataclass(frozen=True)
class DeployContract:
    code: bytes


@dataclass(frozen=True)
class FunctionCall:
    method_name: str
    args: bytes
    gas: int
    deposit: int


@dataclass(frozen=True)
class Transfer:
    deposit: int


@dataclass(frozen=True)
class Stake:
    stake: int
    public_key: PublicKey


@dataclass(frozen=True)
class AddKey:
    public_key: PublicKey
    access_key: AccessKeySpec


@dataclass(frozen=True)
class DeleteKey:
    public_key: PublicKey


@dataclass(frozen=True)
class DeleteAccount:
    beneficiary_id: str


@dataclass(frozen=True)
class DelegateAction:
    sender_id: str
    receiver_id: str
    actions: tuple[Action, ...]
    nonce: int
    max_block_height: int
    public_key: PublicKey
    raw: bytes = b""  # its borsh bytes as received: what the sender signed (NEP-366)


@dataclass(frozen=True)
class Delegate:
    delegate_action: DelegateAction
    signature: Signature


Action = (
    CreateAccount
    | DeployContract
    | FunctionCall
    | Transfer
    | Stake
    | AddKey
    | DeleteKey
    | DeleteAccount
    | Delegate
)


@dataclass(frozen=True)
class SignedTransaction:
    signer_id: str
    public_key: PublicKey
    nonce: int
    receiver_id: str
    block_hash: bytes
    actions: tuple[Action, ...]
    signature: Signature
    hash: bytes  # sha256 of the borsh Transaction
    raw: bytes  # the whole SignedTransaction as received


def _public_key(r: Reader) -> PublicKey:
    kind = r.u8()
    if kind == ED25519:
        return PublicKey(kind, r.take(32))
    if kind == SECP256K1:
        return PublicKey(kind, r.take(64))
    raise BorshError(f"unknown public key type {kind}")


def _signature(r: Reader) -> Signature:
    kind = r.u8()
    if kind == ED25519:
        return Signature(kind, r.take(64))
    if kind == SECP256K1:
        return Signature(kind, r.take(65))
    raise BorshError(f"unknown signature type {kind}")


def _access_key(r: Reader) -> AccessKeySpec:
    nonce = r.u64()
    tag = r.u8()
    if tag == 1:
        return AccessKeySpec(nonce, FULL_ACCESS)
    if tag != 0:
        raise BorshError(f"unknown access key permission {tag}")
    allowance = r.u128() if r.option() else None
    receiver_id = r.string()
    methods = tuple(r.string() for _ in range(r.u32()))
    return AccessKeySpec(nonce, FunctionCallPermission(allowance, receiver_id, methods))


def _action(r: Reader, allow_delegate: bool = True) -> Action:
    tag = r.u8()
    if tag == 0:
        return CreateAccount()
    if tag == 1:
        return DeployContract(r.bytes_vec())
    if tag == 2:
        return FunctionCall(r.string(), r.bytes_vec(), r.u64(), r.u128())
    if tag == 3:
        return Transfer(r.u128())
    if tag == 4:
        return Stake(r.u128(), _public_key(r))
    if tag == 5:
        return AddKey(_public_key(r), _access_key(r))
    if tag == 6:
        return DeleteKey(_public_key(r))
    if tag == 7:
        return DeleteAccount(r.string())
    if tag == 8 and allow_delegate:
        start = r.pos
        sender = r.string()
        receiver = r.string()
        inner = tuple(_action(r, allow_delegate=False) for _ in range(r.u32()))
        nonce = r.u64()
        max_height = r.u64()
        pk = _public_key(r)
        raw = r.data[start : r.pos]
        delegate = DelegateAction(sender, receiver, inner, nonce, max_height, pk, raw)
        return Delegate(delegate, _signature(r))
    raise BorshError(f"unsupported action tag {tag}")


def decode_signed_transaction(raw: bytes) -> SignedTransaction:
    """Decode a SignedTransaction; BorshError when the bytes are not exactly one."""
    r = Reader(raw)
    signer_id = r.string()
    public_key = _public_key(r)
    nonce = r.u64()
    receiver_id = r.string()
    block_hash = r.take(32)
    actions = tuple(_action(r) for _ in range(r.u32()))
    tx_end = r.pos
    signature = _signature(r)
    if not r.done():
        raise BorshError(f"{len(raw) - r.pos} trailing bytes after the signed transaction")
    return SignedTransaction(
        signer_id,
        public_key,
        nonce,
        receiver_id,
        block_hash,
        actions,
        signature,
        hashlib.sha256(raw[:tx_end]).digest(),
        raw,
    )


@lru_cache(maxsize=4096)
def _verify_key(raw: bytes) -> VerifyKey:
    return VerifyKey(raw)


def signature_valid(tx: SignedTransaction) -> bool:
    """ed25519 over the transaction hash, as nearcore checks it."""
    if tx.public_key.key_type != ED25519 or tx.signature.key_type != ED25519:
        return False
    try:
        _verify_key(tx.public_key.data).verify(tx.hash, tx.signature.data)
    except (BadSignatureError, ValueError):
        return False
    return True


# NEP-461 prefix of a signed delegate action: (1 << 30) + 366, a little-endian u32 before the
# borsh DelegateAction (core/primitives/src/signable_message.rs, SignableMessage)
DELEGATE_ACTION_PREFIX = ((1 << 30) + 366).to_bytes(4, "little")


def delegate_signature_valid(signed: Delegate) -> bool:
    """ed25519 over sha256(prefix + the delegate action's borsh bytes), as nearcore checks it."""
    d = signed.delegate_action
    if d.public_key.key_type != ED25519 or signed.signature.key_type != ED25519:
        return False
    digest = hashlib.sha256(DELEGATE_ACTION_PREFIX + d.raw).digest()
    try:
        _verify_key(d.public_key.data).verify(digest, signed.signature.data)
    except (BadSignatureError, ValueError):
        return False
    return True


def deposit_of(actions: tuple[Action, ...] | list[Action]) -> int:
    """Yocto the actions attach, a delegate action's inner ones included (the relayer pays)."""
    total = 0
    for a in actions:
        if isinstance(a, Transfer | FunctionCall):
            total += a.deposit
        elif isinstance(a, Delegate):
            total += deposit_of(a.delegate_action.actions)
    return total
