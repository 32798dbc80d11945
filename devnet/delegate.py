"""Meta-transactions (NEP-366): a relayer's transaction carries a delegate action the sender
signed; its receipt checks the sender's signature, expiry and access key, then sends the inner
actions on as a receipt from the sender, every fee and deposit prepaid by the relayer.

The checks and their ActionErrorKinds are nearcore's (runtime/runtime/src/actions.rs,
``apply_delegate_action`` and ``validate_delegate_action_key``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from devnet import gas
from devnet.errors import ActionFailure
from devnet.state import NONCE_RANGE_MULTIPLIER, Account
from devnet.transaction import Delegate, FunctionCall, delegate_signature_valid


def _key_error(error: Any, index: int) -> ActionFailure:
    return ActionFailure({"DelegateActionAccessKeyError": error}, index)


def inner_receipt(
    receipt_id: bytes, receiver_id: str, signed: Delegate, index: int, acc: Account, height: int
) -> dict[str, Any]:
    """The fields of the receipt a valid delegate action sends on, over those of the receipt
    ``receipt_id`` that carries it; ActionFailure when nearcore refuses it.

    ``acc`` is that receipt's receiver ``receiver_id``, which must be the delegate's sender.
    """
    d = signed.delegate_action
    if not delegate_signature_valid(signed):
        raise ActionFailure("DelegateActionInvalidSignature", index)
    if height > d.max_block_height:
        raise ActionFailure("DelegateActionExpired", index)
    if d.sender_id != receiver_id:
        raise ActionFailure(
            {
                "DelegateActionSenderDoesNotMatchTxReceiver": {
                    "sender_id": d.sender_id,
                    "receiver_id": receiver_id,
                }
            },
            index,
        )
    key = acc.keys.get(d.public_key)
    if key is None:
        raise _key_error(
            {"AccessKeyNotFound": {"account_id": d.sender_id, "public_key": d.public_key.text()}},
            index,
        )
    if d.nonce <= key.nonce:
        raise ActionFailure(
            {"DelegateActionInvalidNonce": {"delegate_nonce": d.nonce, "ak_nonce": key.nonce}},
            index,
        )
    upper_bound = height * NONCE_RANGE_MULTIPLIER
    if d.nonce >= upper_bound:
        raise ActionFailure(
            {
                "DelegateActionNonceTooLarge": {
                    "delegate_nonce": d.nonce,
                    "upper_bound": upper_bound,
                }
            },
            index,
        )
    if not key.full_access:
        _check_function_call_key(d.receiver_id, d.actions, key, index)
    # a new record, not a change to the old one: a failed receipt restores the keys it held
    acc.keys[d.public_key] = dataclasses.replace(key, nonce=d.nonce)
    # the relayer stays the signer, at the gas price it paid
    return {
        "id": hashlib.sha256(receipt_id + b"delegate" + index.to_bytes(4, "little")).digest(),
        "predecessor_id": d.sender_id,
        "receiver_id": d.receiver_id,
        "actions": d.actions,
        "budget": gas.receipt_budget(d.actions),
        "input_data_ids": [],
        "output_data_receivers": [],
        "free": False,
    }


def _check_function_call_key(receiver_id: str, actions: tuple, key: Any, index: int) -> None:
    if len(actions) != 1 or not isinstance(actions[0], FunctionCall):
        raise _key_error("RequiresFullAccess", index)
    call = actions[0]
    if call.deposit:
        raise _key_error("DepositWithFunctionCall", index)
    if receiver_id != key.receiver_id:
        raise _key_error(
            {"ReceiverMismatch": {"tx_receiver": receiver_id, "ak_receiver": key.receiver_id}},
            index,
        )
    if key.method_names and call.method_name not in key.method_names:
        raise _key_error({"MethodNameMismatch": {"method_name": call.method_name}}, index)
