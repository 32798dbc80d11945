"""The devnet's fee schedule: a fixed gas cost per receipt, per action kind and per contract call.

Simple on purpose, but consistent the way nearcore's is: the signer prepays every fee and all
attached gas when the transaction is accepted, each outcome burns part of it, and whatever is left
unspent goes back to the signer in a refund receipt from ``system`` (devnet.receipts), so
balance change = deposits + sum of tokens_burnt.
"""

from __future__ import annotations

from devnet.transaction import (
    Action,
    AddKey,
    CreateAccount,
    Delegate,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    Transfer,
)

TGAS = 10**12
GAS_PRICE = 100_000_000  # yoctoNEAR per gas unit
MAX_TOTAL_PREPAID_GAS = 300 * TGAS
RECEIPT_BASE_GAS = 108_059_500_000  # both for creating (send) and executing a receipt
CONTRACT_CALL_GAS = 2 * TGAS  # burnt by every function call that runs contract code

_ACTION_GAS = {
    CreateAccount: 3_850_000_000_000 // 10,
    DeployContract: 184_765_750_000,
    FunctionCall: 200_000_000_000,
    Transfer: 115_123_062_500,
    AddKey: 101_765_125_000,
    DeleteKey: 94_946_625_000,
    DeleteAccount: 147_489_000_000,
    Delegate: 200_000_000_000,
}
_DEFAULT_ACTION_GAS = 100_000_000_000


def action_kind_fee(kind: type) -> int:
    """Gas for sending (and, the same again, for executing) one action of this kind."""
    return _ACTION_GAS.get(kind, _DEFAULT_ACTION_GAS)


def action_fee(action: object) -> int:
    """Gas for sending (and, the same again, for executing) one action."""
    return action_kind_fee(type(action))


def send_fee(actions: tuple[Action, ...] | list[object]) -> int:
    """Gas burnt when a receipt carrying ``actions`` is created."""
    return RECEIPT_BASE_GAS + sum(action_fee(a) for a in actions)


def exec_fee(actions: tuple[Action, ...] | list[object]) -> int:
    """Gas a receipt's fixed execution fees cost (contract code not included)."""
    return RECEIPT_BASE_GAS + sum(action_fee(a) for a in actions)


def attached_gas(actions: tuple[Action, ...] | list[object]) -> int:
    """Gas the actions carry on: their calls' gas, and for a delegate action all that its inner
    receipt costs to send and to run (the relayer prepays it: NEP-366)."""
    total = 0
    for a in actions:
        if isinstance(a, FunctionCall):
            total += a.gas
        elif isinstance(a, Delegate):
            inner = a.delegate_action.actions
            total += send_fee(inner) + receipt_budget(inner)
    return total


def receipt_budget(actions: tuple[Action, ...] | list[object]) -> int:
    """Gas prepaid for a receipt: its execution fees and the gas its calls carry."""
    return exec_fee(actions) + attached_gas(actions)
