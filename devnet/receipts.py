"""Receipt execution, as nearcore does it: actions apply to the receiver account, contract calls
run Python contracts, promises become new receipts, callbacks wait for their data.

A receipt either applies all its actions or none: on failure the receiver's balance, keys, code
and storage are restored, attached deposits go back to the predecessor in a refund receipt, and
the failure becomes the result the dependent callbacks read.
"""

from __future__ import annotations

import base64
import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from devnet import delegate, gas, storage
from devnet.context import (
    DELETED,
    CallContext,
    MethodNotFound,
    StorageOverlay,
    encode_result,
    invoke,
)
from devnet.contract import Contract, ContractPanic, Promise, PromiseResult
from devnet.contract import FunctionCallAction as PromiseCall
from devnet.errors import ActionFailure, function_call_error
from devnet.state import AccessKey, Account, is_implicit, is_top_level, valid_account_id
from devnet.transaction import (
    ED25519,
    Action,
    AddKey,
    CreateAccount,
    Delegate,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    PublicKey,
    Transfer,
    deposit_of,
)

SYSTEM = "system"
EMPTY_KEY = PublicKey(ED25519, bytes(32))  # the key refunds of deposits carry: none
REGISTRAR = "registrar"
CODE_PREFIX = b"pycontract:"


@dataclass
class Receipt:
    id: bytes
    predecessor_id: str
    receiver_id: str
    signer_id: str
    signer_pk: PublicKey
    actions: tuple[Action, ...]
    gas_price: int
    budget: int  # prepaid gas: execution fees plus the gas attached to its calls
    input_data_ids: list[bytes] = field(default_factory=list)
    output_data_receivers: list[tuple[bytes, str]] = field(default_factory=list)
    free: bool = False  # refunds and account-deletion payouts: no fees, no permission checks


@dataclass
class Outcome:
    id: bytes
    executor_id: str
    logs: list[str]
    receipt_ids: list[bytes]
    gas_burnt: int
    tokens_burnt: int
    status: dict[str, Any]  # SuccessValue (base64) | SuccessReceiptId (raw id) | Failure


@dataclass
class DataItem:
    """A receipt's result on its way to the receipt waiting for it (nearcore's DataReceipt):
    it travels like a receipt, arriving in the block after the one that produced it."""

    data_id: bytes
    receiver_id: str
    result: PromiseResult


@dataclass
class StateChange:
    """Contract state one successful receipt wrote: a storage entry (``key`` set) or the
    account's code (``key`` None; ``value`` the code name); ``deleted`` when it was removed."""

    account_id: str
    key: str | None
    value: Any
    cause: bytes  # the receipt's id
    deleted: bool = False


def child_id(parent: bytes, index: int) -> bytes:
    return hashlib.sha256(parent + index.to_bytes(8, "little")).digest()


def _deposit(actions: tuple[Action, ...]) -> int:
    return deposit_of(actions)


class BlockEnv:
    """The block a receipt runs in, as contracts see it."""

    def __init__(self, height: int, timestamp_ns: int) -> None:
        self.height = height
        self.timestamp_ns = timestamp_ns


class ReceiptExecutor:
    """Runs one receipt and everything it spawns to completion."""

    def __init__(
        self,
        accounts: dict[str, Account],
        contracts: Callable[[], Mapping[str, type[Contract]]],
    ) -> None:
        self.accounts = accounts
        self.contracts = contracts
        # told before a receipt commits storage writes (the state's history keeps what they
        # overwrite): the storage and the keys written
        self.storage_written: Callable[[dict[str, Any], Iterable[str]], None] | None = None
        # the contract state successful receipts wrote, for EXPERIMENTAL_changes; the runtime
        # takes them after each receipt
        self.state_changes: list[StateChange] = []

    def run(self, first: Receipt, env: BlockEnv) -> tuple[list[Receipt], list[Outcome]]:
        """Execute ``first`` and every receipt it leads to at once (the genesis's setup calls,
        which happen before the first block); returns them in execution order."""
        queue: deque[Receipt] = deque([first])
        data: dict[bytes, PromiseResult] = {}
        waiting: dict[bytes, Receipt] = {}  # data id -> receipt waiting for it
        done_receipts: list[Receipt] = []
        outcomes: list[Outcome] = []
        while queue:
            receipt = queue.popleft()
            results = [data.pop(d) for d in receipt.input_data_ids]
            outcome, children, result = self.execute(receipt, results, env)
            done_receipts.append(receipt)
            outcomes.append(outcome)
            for child in children:
                if child.input_data_ids:
                    for d in child.input_data_ids:
                        waiting[d] = child
                else:
                    queue.append(child)
            if result is not None:
                for data_id, _receiver in receipt.output_data_receivers:
                    data[data_id] = result
                    dependant = waiting.pop(data_id, None)
                    if dependant is not None and all(d in data for d in dependant.input_data_ids):
                        queue.append(dependant)
        return done_receipts, outcomes

    # -- one receipt ------------------------------------------------------------------------

    def execute(
        self,
        r: Receipt,
        results: list[PromiseResult],
        env: BlockEnv,
    ) -> tuple[Outcome, list[Receipt], PromiseResult | None]:
        """Run one receipt: (outcome, new receipts, result for dependants or None when it
        forwards a promise). The contract state it wrote is appended to :attr:`state_changes`."""
        if r.free:
            return self._execute_free(r)
        acc = self.accounts.get(r.receiver_id)
        code_before = acc.code_name if acc else None
        changes_mark = len(self.state_changes)
        snapshot = (acc.amount, acc.locked, acc.code_name, dict(acc.keys)) if acc else None
        overlay = StorageOverlay(acc.storage) if acc else None
        created = False
        logs: list[str] = []
        state = _CallState(burnt=gas.exec_fee(r.actions))
        children: list[Receipt] = []
        value = b""
        returned: Promise | None = None
        promises: list[Promise] = []
        try:
            for index, action in enumerate(r.actions):
                if isinstance(action, CreateAccount):
                    acc = self._create_account(r, index)
                    overlay = StorageOverlay(acc.storage)
                    created = True
                    continue
                if acc is None or overlay is None:
                    if isinstance(action, Transfer) and is_implicit(r.receiver_id):
                        acc = self._create_implicit(r.receiver_id, env)
                        overlay = StorageOverlay(acc.storage)
                        created = True
                    else:
                        raise ActionFailure(
                            {"AccountDoesNotExist": {"account_id": r.receiver_id}}, index
                        )
                if isinstance(action, Transfer):
                    acc.amount += action.deposit
                elif isinstance(action, FunctionCall):
                    acc.amount += action.deposit
                    out = self._function_call(
                        r, action, index, acc, overlay, results, logs, state, env
                    )
                    promises.extend(out[1])
                    if isinstance(out[0], Promise):
                        returned = out[0]
                        if not any(p is returned for p in promises):
                            promises.append(returned)
                    else:
                        value = encode_result(out[0])
                        returned = None
                elif isinstance(action, Delegate):  # anyone may relay one: no actor check
                    inner = replace(
                        r,
                        **delegate.inner_receipt(
                            r.id, r.receiver_id, action, index, acc, env.height
                        ),
                    )
                    state.burnt += gas.send_fee(inner.actions)
                    children.append(inner)
                else:
                    self._check_actor(r, index, created)
                    self._apply_account_action(r, action, index, acc, env, children)
            if promises:
                if acc is None:  # a promise comes only from a FunctionCall, which needs the account
                    raise RuntimeError(f"receipt {r.id!r} made promises without an account")
                children.extend(self._promise_receipts(r, acc, promises, returned, state))
            if state.burnt + sum(c.budget for c in children) > r.budget:
                state.burnt = r.budget
                raise ActionFailure(function_call_error("Exceeded the prepaid gas."))
            if acc is not None and overlay is not None and r.receiver_id in self.accounts:
                storage.settle(r.receiver_id, acc, overlay)  # LackBalanceForState
        except ActionFailure as failure:
            del self.state_changes[changes_mark:]
            if created:
                self.accounts.pop(r.receiver_id, None)
            elif acc is not None and snapshot is not None:
                acc.amount, acc.locked, acc.code_name, acc.keys = snapshot
                self.accounts[r.receiver_id] = acc
            children = []
            state.burnt = min(state.burnt, r.budget)  # never more than the signer prepaid
            deposit = _deposit(r.actions)
            if deposit and r.predecessor_id != SYSTEM:
                children.append(self._refund(r, r.predecessor_id, deposit, 0))
            status = failure.as_status()
            outcome = self._finish(r, logs, children, state.burnt, status)
            return outcome, children, PromiseResult(False)
        if overlay is not None:
            if self.storage_written is not None and overlay.changes:
                self.storage_written(overlay.base, overlay.changes.keys())
            if r.receiver_id in self.accounts:
                for key, written in overlay.changes.items():
                    gone = written is DELETED
                    self.state_changes.append(
                        StateChange(r.receiver_id, key, None if gone else written, r.id, gone)
                    )
            overlay.commit()
        code_after = acc.code_name if acc is not None and r.receiver_id in self.accounts else None
        if code_after != code_before:
            self.state_changes.append(
                StateChange(r.receiver_id, None, code_after, r.id, code_after is None)
            )
        if returned is not None:
            # a chain's result is its last callback's (``a.then(b)`` returns b's value)
            tail = state.receipt_of[id(_tail(returned))]
            for c in children:
                if c.id == tail:
                    c.output_data_receivers.extend(r.output_data_receivers)
            status = {"SuccessReceiptId": tail}  # raw id; views encode it
            return self._finish(r, logs, children, state.burnt, status), children, None
        status = {"SuccessValue": base64.b64encode(value).decode()}
        return (
            self._finish(r, logs, children, state.burnt, status),
            children,
            PromiseResult(True, value),
        )

    def _finish(
        self,
        r: Receipt,
        logs: list[str],
        children: list[Receipt],
        burnt: int,
        status: dict[str, Any],
    ) -> Outcome:
        """Record the outcome; the gas this receipt did not use goes back to the signer in a
        refund receipt from ``system`` (nearcore's refund_unspent_gas_and_deposits: the gas
        refund penalty of NEP-536 is 0/100 with a minimum of 0 in every shipped protocol)."""
        unused = r.budget - burnt - sum(c.budget for c in children)
        if unused > 0 and r.gas_price:
            children.append(self._gas_refund(r, unused * r.gas_price))
        return Outcome(
            r.id, r.receiver_id, logs, [c.id for c in children], burnt, burnt * r.gas_price, status
        )

    def _execute_free(self, r: Receipt) -> tuple[Outcome, list[Receipt], PromiseResult]:
        acc = self.accounts.get(r.receiver_id)
        if acc is None:
            status = ActionFailure(
                {"AccountDoesNotExist": {"account_id": r.receiver_id}}, 0
            ).as_status()
            return Outcome(r.id, r.receiver_id, [], [], 0, 0, status), [], PromiseResult(False)
        amount = _deposit(r.actions)
        acc.amount += amount
        if r.predecessor_id == SYSTEM:
            # a gas refund gives the signing key its allowance back (apply_action_receipt);
            # a deposit refund names no key (the empty one), so it finds none
            key = acc.keys.get(r.signer_pk)
            if key is not None and not key.full_access and key.allowance is not None:
                acc.keys[r.signer_pk] = replace(key, allowance=key.allowance + amount)
        return (
            Outcome(r.id, r.receiver_id, [], [], 0, 0, {"SuccessValue": ""}),
            [],
            PromiseResult(True),
        )

    def _refund(
        self, r: Receipt, receiver: str, amount: int, index: int, *, tag: bytes = b"refund"
    ) -> Receipt:
        """A balance sent from ``system`` (Receipt::new_balance_refund: the signer is ``system``
        and the key the empty one): a failed receipt's deposit back to its predecessor, or a
        deleted account's balance to its beneficiary."""
        return Receipt(
            id=hashlib.sha256(r.id + tag + index.to_bytes(4, "little")).digest(),
            predecessor_id=SYSTEM,
            receiver_id=receiver,
            signer_id=SYSTEM,
            signer_pk=EMPTY_KEY,
            actions=(Transfer(amount),),
            gas_price=0,
            budget=0,
            free=True,
        )

    def _gas_refund(self, r: Receipt, amount: int) -> Receipt:
        """Unused prepaid gas back to the signer (Receipt::new_gas_refund: signed as the signer,
        with its key, whose allowance it restores)."""
        return Receipt(
            id=hashlib.sha256(r.id + b"gas-refund").digest(),
            predecessor_id=SYSTEM,
            receiver_id=r.signer_id,
            signer_id=r.signer_id,
            signer_pk=r.signer_pk,
            actions=(Transfer(amount),),
            gas_price=0,
            budget=0,
            free=True,
        )

    # -- actions ----------------------------------------------------------------------------

    def _create_account(self, r: Receipt, index: int) -> Account:
        account_id = r.receiver_id
        if account_id in self.accounts:
            raise ActionFailure({"AccountAlreadyExists": {"account_id": account_id}}, index)
        if is_top_level(account_id) and not is_implicit(account_id):
            if r.predecessor_id != REGISTRAR:
                raise ActionFailure(
                    {
                        "CreateAccountOnlyByRegistrar": {
                            "account_id": account_id,
                            "registrar_account_id": REGISTRAR,
                            "predecessor_id": r.predecessor_id,
                        }
                    },
                    index,
                )
        elif not account_id.endswith("." + r.predecessor_id):
            raise ActionFailure(
                {
                    "CreateAccountNotAllowed": {
                        "account_id": account_id,
                        "predecessor_id": r.predecessor_id,
                    }
                },
                index,
            )
        acc = Account(amount=0)
        self.accounts[account_id] = acc
        return acc

    def _create_implicit(self, account_id: str, env: BlockEnv) -> Account:
        acc = Account(amount=0)
        acc.keys[PublicKey(ED25519, bytes.fromhex(account_id))] = AccessKey(
            nonce=(env.height - 1) * 1_000_000
        )
        self.accounts[account_id] = acc
        return acc

    def _check_actor(self, r: Receipt, index: int, created: bool) -> None:
        if r.predecessor_id != r.receiver_id and not created:
            raise ActionFailure(
                {"ActorNoPermission": {"account_id": r.receiver_id, "actor_id": r.predecessor_id}},
                index,
            )

    def _apply_account_action(
        self,
        r: Receipt,
        action: Action,
        index: int,
        acc: Account,
        env: BlockEnv,
        children: list[Receipt],
    ) -> None:
        if isinstance(action, AddKey):
            if action.public_key in acc.keys:
                raise ActionFailure(
                    {
                        "AddKeyAlreadyExists": {
                            "account_id": r.receiver_id,
                            "public_key": action.public_key.text(),
                        }
                    },
                    index,
                )
            perm = action.access_key.permission
            nonce = (env.height - 1) * 1_000_000
            if isinstance(perm, str):  # FULL_ACCESS, the only permission that is a string
                acc.keys[action.public_key] = AccessKey(nonce)
            else:
                acc.keys[action.public_key] = AccessKey(
                    nonce,
                    full_access=False,
                    allowance=perm.allowance,
                    receiver_id=perm.receiver_id,
                    method_names=perm.method_names,
                )
        elif isinstance(action, DeleteKey):
            if action.public_key not in acc.keys:
                raise ActionFailure(
                    {
                        "DeleteKeyDoesNotExist": {
                            "account_id": r.receiver_id,
                            "public_key": action.public_key.text(),
                        }
                    },
                    index,
                )
            del acc.keys[action.public_key]
        elif isinstance(action, DeployContract):
            name = ""
            if action.code.startswith(CODE_PREFIX):
                name = action.code[len(CODE_PREFIX) :].decode("utf-8", "replace")
            if not name or name not in self.contracts():
                raise ActionFailure(
                    function_call_error(
                        "devnet runs Python contracts only: DeployContract code must be "
                        f"b'pycontract:<name>' with a known name, got {action.code[:40]!r}"
                    ),
                    index,
                )
            acc.code_name = name
        elif isinstance(action, DeleteAccount):
            if acc.amount:  # actions.rs, action_delete_account: Receipt::new_balance_refund
                children.append(
                    self._refund(r, action.beneficiary_id, acc.amount, 0, tag=b"delete")
                )
            for key in acc.storage:
                self.state_changes.append(StateChange(r.receiver_id, key, None, r.id, True))
            del self.accounts[r.receiver_id]
        else:
            raise ActionFailure(
                {
                    "NewReceiptValidationError": {
                        "ActionsValidation": {
                            "UnsupportedProtocolFeature": {
                                "protocol_feature": type(action).__name__,
                                "version": 0,
                            }
                        }
                    }
                },
                index,
            )

    def _function_call(
        self,
        r: Receipt,
        action: FunctionCall,
        index: int,
        acc: Account,
        overlay: StorageOverlay,
        results: list[PromiseResult],
        logs: list[str],
        state: _CallState,
        env: BlockEnv,
    ) -> tuple[Any, list[Promise]]:
        if acc.code_name is None:
            raise ActionFailure(
                {
                    "FunctionCallError": {
                        "CompilationError": {"CodeDoesNotExist": {"account_id": r.receiver_id}}
                    }
                },
                index,
            )
        cls = self.contracts().get(acc.code_name)
        if cls is None:
            raise ActionFailure(
                function_call_error(
                    f"contract code {acc.code_name!r} is not available on this node"
                ),
                index,
            )
        state.burnt += gas.CONTRACT_CALL_GAS
        ctx = CallContext(
            current_account_id=r.receiver_id,
            predecessor_account_id=r.predecessor_id,
            signer_account_id=r.signer_id,
            signer_account_pk=r.signer_pk.text(),
            attached_deposit=action.deposit,
            prepaid_gas=action.gas,
            block_height=env.height,
            block_timestamp=env.timestamp_ns,
            balance=lambda: acc.amount,
            storage=overlay,
            promise_results=list(results),
            logs=logs,
            account_exists=self._exists,
        )
        try:
            value = invoke(cls, action.method_name, action.args, ctx)
        except MethodNotFound:
            raise ActionFailure(
                {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}, index
            ) from None
        except ContractPanic as exc:
            raise ActionFailure(
                function_call_error(f"Smart contract panicked: {exc.message}"), index
            ) from None
        except (Exception, SystemExit) as exc:  # a contract bug fails its receipt, not the node
            raise ActionFailure(
                function_call_error(f"Smart contract panicked: {type(exc).__name__}: {exc}"), index
            ) from None
        if value is not None and not isinstance(value, Promise):
            try:
                encode_result(value)
            except (TypeError, ValueError) as exc:
                raise ActionFailure(
                    function_call_error(f"Smart contract panicked: result is not JSON: {exc}"),
                    index,
                ) from None
        return value, ctx.promises

    def _exists(self, account_id: str) -> bool:
        return account_id in self.accounts

    # -- promises ---------------------------------------------------------------------------

    def _promise_receipts(
        self,
        r: Receipt,
        acc: Account,
        promises: list[Promise],
        returned: Promise | None,
        state: _CallState,
    ) -> list[Receipt]:
        callbacks = set()
        for p in promises:
            callback = p.callback
            while callback is not None:
                callbacks.add(id(callback))
                callback = callback.callback
        roots = [p for p in promises if id(p) not in callbacks]
        out: list[Receipt] = []
        total_deposit = 0
        for root in roots:
            chain = []
            node: Promise | None = root
            while node is not None:
                chain.append(node)
                node = node.callback
            data_ids = [child_id(r.id, 1_000_000 + len(out) + i) for i in range(len(chain))]
            for i, p in enumerate(chain):
                if not valid_account_id(p.receiver_id):
                    raise ActionFailure(
                        {
                            "NewReceiptValidationError": {
                                "InvalidReceiverId": {"account_id": p.receiver_id}
                            }
                        }
                    )
                actions = tuple(
                    FunctionCall(a.method_name, a.args, a.gas, a.deposit)
                    if isinstance(a, PromiseCall)
                    else Transfer(a.deposit)
                    for a in p.actions
                )
                total_deposit += _deposit(actions)
                rec = Receipt(
                    id=child_id(r.id, len(out)),
                    predecessor_id=r.receiver_id,
                    receiver_id=p.receiver_id,
                    signer_id=r.signer_id,
                    signer_pk=r.signer_pk,
                    actions=actions,
                    gas_price=r.gas_price,
                    budget=gas.receipt_budget(actions),
                    input_data_ids=[data_ids[i - 1]] if i else [],
                    output_data_receivers=(
                        [(data_ids[i], chain[i + 1].receiver_id)] if i + 1 < len(chain) else []
                    ),
                )
                state.receipt_of[id(p)] = rec.id
                state.burnt += gas.send_fee(actions)
                out.append(rec)
        if total_deposit > acc.amount:
            raise ActionFailure(
                function_call_error("Smart contract panicked: Exceeded the account balance.")
            )
        acc.amount -= total_deposit
        if returned is not None and id(returned) not in state.receipt_of:
            raise ActionFailure(function_call_error("returned promise was never scheduled"))
        return out


@dataclass
class _CallState:
    burnt: int
    receipt_of: dict[int, bytes] = field(default_factory=dict)


def _tail(p: Promise) -> Promise:
    while p.callback is not None:
        p = p.callback
    return p
