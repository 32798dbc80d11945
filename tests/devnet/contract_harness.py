"""An in-process stand-in for the devnet runtime, small enough to trust, for contract tests.

It runs contract methods with a faithful Context (storage rolled back on panic, deposits moved
only on success and refunded on failure, private/payable checks), records promises as data and,
when asked, executes promise chains depth-first the way receipts would run: a callback reads the
result of the promise before it, and a method that returns a promise gets that chain's result.
"""

from __future__ import annotations

import copy
import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from devnet.contract import (
    Contract,
    ContractPanic,
    FunctionCallAction,
    Promise,
    PromiseResult,
    TransferAction,
    method_mark,
)

TGAS = 10**12
NEAR = 10**24


@dataclass
class Call:
    """One executed method call (a receipt), as the tests see it."""

    receiver_id: str
    method: str
    args: dict[str, Any]
    predecessor_id: str
    deposit: int
    ok: bool
    value: Any = None
    error: str | None = None
    logs: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """The result of a call and of everything it spawned (when promises were followed)."""

    ok: bool
    value: Any
    error: str | None
    calls: list[Call]
    promises: list[Promise]  # created by the first call, kept as data
    returned: Promise | None

    @property
    def logs(self) -> list[str]:
        return [line for c in self.calls for line in c.logs]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [
            json.loads(line[len("EVENT_JSON:") :])
            for line in self.logs
            if line.startswith("EVENT_JSON:")
        ]

    def failed_calls(self) -> list[Call]:
        return [c for c in self.calls if not c.ok]


class _Ctx:
    def __init__(
        self,
        chain: Chain,
        receiver: str,
        predecessor: str,
        deposit: int,
        gas: int,
        storage: MutableMapping[str, Any],
        results: list[PromiseResult],
    ) -> None:
        self.current_account_id = receiver
        self.predecessor_account_id = predecessor
        self.signer_account_id = chain.signer or predecessor
        self.signer_account_pk = "ed25519:11111111111111111111111111111111"
        self.attached_deposit = deposit
        self.prepaid_gas = gas
        self.block_height = chain.block_height
        self.block_timestamp = chain.block_timestamp
        self.storage = storage
        self.promise_results = results
        self.logs: list[str] = []
        self.promises: list[Promise] = []
        self._chain = chain

    @property
    def account_balance(self) -> int:
        return self._chain.balances[self.current_account_id]

    def log(self, message: str) -> None:
        self.logs.append(message)

    def emit_event(self, standard: str, version: str, event: str, data: list[Any]) -> None:
        body = {"standard": standard, "version": version, "event": event, "data": data}
        self.logs.append("EVENT_JSON:" + json.dumps(body, separators=(",", ":")))

    def promise(self, receiver_id: str) -> Promise:
        p = Promise(receiver_id)
        self.promises.append(p)
        return p

    def account_exists(self, account_id: str) -> bool:
        return account_id in self._chain.balances

    def panic(self, message: str) -> NoReturn:
        raise ContractPanic(message)


class Chain:
    """Accounts with balances, deployed contracts and their storage."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.contracts: dict[str, Contract] = {}
        self.storage: dict[str, dict[str, Any]] = {}
        self.block_height = 100
        self.block_timestamp = 1_700_000_000_000_000_000
        self.signer: str | None = None

    def account(self, account_id: str, balance: int = 100 * NEAR) -> str:
        self.balances[account_id] = balance
        return account_id

    def deploy(self, account_id: str, cls: type[Contract], balance: int = 10 * NEAR) -> str:
        self.account(account_id, balance)
        self.contracts[account_id] = cls()
        self.storage[account_id] = {}
        return account_id

    # ---- running --------------------------------------------------------------------------
    def call(
        self,
        receiver: str,
        method: str,
        args: dict[str, Any] | None = None,
        *,
        by: str,
        deposit: int = 0,
        gas: int = 300 * TGAS,
        results: list[PromiseResult] | None = None,
        follow: bool = True,
    ) -> Outcome:
        """Run a call as if ``by`` sent it (its balance pays the deposit)."""
        assert self.balances.get(by, 0) >= deposit, f"{by} cannot pay {deposit}"
        self.balances[by] -= deposit
        calls: list[Call] = []
        result, promises, returned = self._run(
            receiver, method, args or {}, by, deposit, gas, results or [], calls, follow
        )
        first = calls[0]
        value = json.loads(result.value) if result.successful and result.value else None
        error = first.error if not first.ok else None
        if first.ok and not result.successful:
            error = next((c.error for c in reversed(calls) if not c.ok), None)
        return Outcome(result.successful, value, error, calls, promises, returned)

    def view(self, receiver: str, method: str, **args: Any) -> Any:
        contract = self.contracts[receiver]
        fn = getattr(contract, method)
        mark = method_mark(fn)
        assert mark is not None and mark.kind == "view", f"{method} is not a view"
        storage = copy.deepcopy(self.storage[receiver])
        ctx = _Ctx(self, receiver, receiver, 0, 0, storage, [])
        value = fn(ctx, **args)
        json.dumps(value)  # a view's result must be JSON
        return value

    def _run(
        self,
        receiver: str,
        method: str,
        args: dict[str, Any],
        predecessor: str,
        deposit: int,
        gas: int,
        results: list[PromiseResult],
        calls: list[Call],
        follow: bool,
    ) -> tuple[PromiseResult, list[Promise], Promise | None]:
        record = Call(receiver, method, args, predecessor, deposit, ok=False)
        calls.append(record)
        contract = self.contracts.get(receiver)
        if contract is None:
            return self._fail(record, "CodeDoesNotExist", predecessor, deposit), [], None
        fn = getattr(contract, method, None)
        mark = method_mark(fn)
        if method.startswith("_") or mark is None or mark.kind != "call":
            return self._fail(record, "MethodNotFound", predecessor, deposit), [], None
        if deposit and not mark.payable:
            return (
                self._fail(record, f"Method {method} doesn't accept deposit", predecessor, deposit),
                [],
                None,
            )
        if mark.private and predecessor != receiver:
            return self._fail(record, f"Method {method} is private", predecessor, deposit), [], None
        self.balances[receiver] += deposit
        storage = copy.deepcopy(self.storage[receiver])
        ctx = _Ctx(self, receiver, predecessor, deposit, gas, storage, results)
        try:
            value = fn(ctx, **copy.deepcopy(args))
        except ContractPanic as exc:
            self.balances[receiver] -= deposit
            record.logs = ctx.logs
            return self._fail(record, exc.message, predecessor, deposit), ctx.promises, None
        except TypeError as exc:  # a missing or unknown argument
            self.balances[receiver] -= deposit
            return (
                self._fail(
                    record, f"Failed to deserialize input from JSON. ({exc})", predecessor, deposit
                ),
                [],
                None,
            )
        cost = sum(
            a.deposit
            for p in ctx.promises
            for a in p.actions
            if isinstance(a, FunctionCallAction | TransferAction)
        )
        if cost > self.balances[receiver]:
            self.balances[receiver] -= deposit
            return (
                self._fail(record, "Exceeded the account balance.", predecessor, deposit),
                ctx.promises,
                None,
            )
        self.balances[receiver] -= cost
        self.storage[receiver] = storage
        record.ok = True
        record.logs = ctx.logs
        returned = value if isinstance(value, Promise) else None
        record.value = None if returned else value
        result = PromiseResult(
            True, b"" if value is None or returned else json.dumps(value).encode()
        )
        if not follow:
            return result, ctx.promises, returned
        chained = {id(node) for p in ctx.promises for node in _chain(p)[1:]}
        for root in ctx.promises:
            if id(root) in chained or root is returned:
                continue
            self._run_chain(root, receiver, calls)
        if returned is not None:
            result = self._run_chain(returned, receiver, calls)
        return result, ctx.promises, returned

    def _run_chain(self, promise: Promise, sender: str, calls: list[Call]) -> PromiseResult:
        result = PromiseResult(True)
        previous: list[PromiseResult] = []
        for node in _chain(promise):
            result = self._run_receipt(node, sender, previous, calls)
            previous = [result]
        return result

    def _run_receipt(
        self, promise: Promise, sender: str, results: list[PromiseResult], calls: list[Call]
    ) -> PromiseResult:
        result = PromiseResult(True)
        for action in promise.actions:
            if isinstance(action, TransferAction):
                if promise.receiver_id not in self.balances:
                    self.balances[sender] += action.deposit  # refund of a failed receipt
                    return PromiseResult(False)
                self.balances[promise.receiver_id] += action.deposit
                continue
            args = json.loads(action.args)
            result, _, _ = self._run(
                promise.receiver_id,
                action.method_name,
                args,
                sender,
                action.deposit,
                action.gas,
                results,
                calls,
                True,
            )
            if not result.successful:
                return result
        return result

    def _fail(self, record: Call, message: str, predecessor: str, deposit: int) -> PromiseResult:
        record.error = message
        self.balances[predecessor] = self.balances.get(predecessor, 0) + deposit
        return PromiseResult(False)


def _chain(promise: Promise) -> list[Promise]:
    out = []
    node: Promise | None = promise
    while node is not None:
        out.append(node)
        node = node.callback
    return out


def deploy_token(
    chain: Chain, account_id: str, owner: str, supply: int, symbol: str = "TKN", decimals: int = 18
) -> str:
    """A fungible token with ``supply`` minted to ``owner``."""
    from devnet.contracts.fungible_token import FungibleToken

    chain.deploy(account_id, FungibleToken)
    out = chain.call(
        account_id,
        "new",
        {
            "owner_id": owner,
            "total_supply": str(supply),
            "metadata": {
                "spec": "ft-1.0.0",
                "name": symbol,
                "symbol": symbol,
                "decimals": decimals,
            },
        },
        by=account_id,
    )
    assert out.ok, out.error
    return account_id


def register(chain: Chain, token: str, account_id: str) -> None:
    from devnet.contracts.fungible_token import STORAGE_BALANCE

    out = chain.call(
        token, "storage_deposit", {"account_id": account_id}, by=account_id, deposit=STORAGE_BALANCE
    )
    assert out.ok, out.error


def ft_balance(chain: Chain, token: str, account_id: str) -> int:
    return int(chain.view(token, "ft_balance_of", account_id=account_id))
