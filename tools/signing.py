"""Signing: the transactions this agent signs, turned into py-near's primitives and signed.

Why here: the transaction is signed once, before anything is sent, so its hash is known and can
be journalled first; after a transport error only these same bytes are ever sent again. This is
the only module that imports py-near.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import base58

from tools.action import FunctionCallSpec, TransactionSpec, TransferSpec
from tools.keys import Credentials


@dataclass(frozen=True)
class SignedTx:
    """One signed transaction: its hash, its bytes (base64) and what a journal needs."""

    tx_hash: str
    signed_b64: str
    nonce: int
    signer_id: str
    receiver_id: str
    public_key: str = ""  # the key that signed, so a journal can later check its nonce

    def journal_fields(self) -> dict[str, Any]:
        """What an audit ``tx_submitted`` entry records, so the hash can be resolved later."""
        return {
            "tx_hash": self.tx_hash,
            "signer_id": self.signer_id,
            "receiver_id": self.receiver_id,
            "public_key": self.public_key,
            "nonce": self.nonce,
        }


@dataclass(frozen=True)
class FunctionCallKeyGrant:
    """An access key limited to calling ``method_names`` (empty = any) on ``receiver_id``
    without deposits, paying at most ``allowance`` yoctoNEAR of gas (None = unlimited)."""

    public_key: str
    receiver_id: str
    method_names: tuple[str, ...] = ()
    allowance: int | None = None


@dataclass(frozen=True)
class FullAccessKeyGrant:
    """A full-access key (one of an account's key pool, tools.key_pool)."""

    public_key: str


@dataclass(frozen=True)
class KeyTransaction:
    """Add and/or delete access keys of the signer's own account (never built by a planner)."""

    signer_id: str
    add: tuple[FunctionCallKeyGrant | FullAccessKeyGrant, ...] = ()
    delete: tuple[str, ...] = ()  # public keys

    @property
    def receiver_id(self) -> str:
        return self.signer_id


@dataclass(frozen=True)
class CreateAccountTransaction:
    """Create ``receiver_id`` (a sub-account of the signer), fund it with ``fund`` yoctoNEAR and
    give it one full-access key, in one transaction (never built by a planner)."""

    signer_id: str
    receiver_id: str
    fund: int
    public_key: str


# every transaction this agent signs
SignableSpec = TransactionSpec | KeyTransaction | CreateAccountTransaction


def _py_near_actions(spec: SignableSpec) -> list[Any]:
    # py-near is imported where a transaction is signed, so planning never loads it
    from py_near.transactions import (
        create_create_account_action,
        create_delete_access_key_action,
        create_full_access_key_action,
        create_function_call_access_key_action,
        create_function_call_action,
        create_transfer_action,
    )

    actions: list[Any] = []
    if isinstance(spec, CreateAccountTransaction):
        return [
            create_create_account_action(),
            create_transfer_action(spec.fund),
            create_full_access_key_action(spec.public_key),
        ]
    if isinstance(spec, KeyTransaction):
        for grant in spec.add:
            if isinstance(grant, FullAccessKeyGrant):
                actions.append(create_full_access_key_action(grant.public_key))
                continue
            actions.append(
                create_function_call_access_key_action(
                    grant.public_key, grant.allowance, grant.receiver_id, list(grant.method_names)
                )
            )
        actions.extend(create_delete_access_key_action(pk) for pk in spec.delete)
        return actions
    for action in spec.actions:
        if isinstance(action, TransferSpec):
            actions.append(create_transfer_action(action.deposit))
        elif isinstance(action, FunctionCallSpec):
            actions.append(
                create_function_call_action(
                    action.method_name, action.args_bytes(), action.gas, action.deposit
                )
            )
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unsupported action {action!r}")
    return actions


def sign_transaction(
    creds: Credentials,
    spec: SignableSpec,
    nonce: int,
    block_hash: bytes,
) -> SignedTx:
    """Sign with py-near's primitives; the hash is known before anything is sent."""
    from py_near_primitives import Transaction

    pair = creds.key_pair
    tx = Transaction(
        spec.signer_id,
        pair.public_bytes,
        nonce,
        spec.receiver_id,
        block_hash,
        _py_near_actions(spec),
    )
    signed = bytes(tx.to_vec(pair.seed + pair.public_bytes))
    return SignedTx(
        tx_hash=base58.b58encode(bytes(tx.get_hash())).decode(),
        signed_b64=base64.b64encode(signed).decode(),
        nonce=nonce,
        signer_id=spec.signer_id,
        receiver_id=spec.receiver_id,
        public_key=creds.public_key,
    )


# --------------------------------------------------------------------------- client
