"""The interface between the devnet runtime and contracts written in Python.

A contract is a class whose public methods are marked with ``@view`` or ``@call``. Instances hold
no state: everything persistent lives in ``ctx.storage``, which the runtime rolls back when a call
panics, exactly as a failed receipt leaves no trace of its state changes on NEAR.

Arguments arrive as keyword arguments decoded from the JSON the caller sent; a missing or unknown
argument is a panic (near-sdk: "Failed to deserialize input from JSON."). A method returns a
JSON-serialisable value, ``None`` (empty result), or a :class:`Promise`, in which case the
receipt's result is the result of that promise chain (near-sdk's ``PromiseOrValue::Promise``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NoReturn, Protocol, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

TGAS = 10**12
DEFAULT_CALL_GAS = 30 * TGAS


class ContractPanic(Exception):
    """A contract aborted; the runtime reports it as ``ExecutionError`` with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MethodMark:
    """What ``@view`` or ``@call`` declared about a contract's public method."""

    kind: Literal["view", "call"]
    payable: bool = False
    private: bool = False


_MARK = "_near_method"  # the attribute a marked function carries its MethodMark in


def method_mark(fn: object) -> MethodMark | None:
    """The mark ``@view``/``@call`` put on ``fn``; None for a method neither exposes."""
    mark = getattr(fn, _MARK, None)
    return mark if isinstance(mark, MethodMark) else None


def view(fn: F) -> F:
    """Mark a read-only method, callable through ``query call_function``."""
    setattr(fn, _MARK, MethodMark("view"))
    return fn


def call(fn: F | None = None, *, payable: bool = False, private: bool = False) -> Any:
    """Mark a state-changing method.

    ``payable``: accepts an attached deposit (otherwise a deposit panics, as near-sdk does).
    ``private``: only the contract itself may call it (callbacks).
    """

    def mark(f: F) -> F:
        setattr(f, _MARK, MethodMark("call", payable, private))
        return f

    return mark(fn) if fn is not None else mark


@dataclass(frozen=True)
class FunctionCallAction:
    method_name: str
    args: bytes
    gas: int
    deposit: int


@dataclass(frozen=True)
class TransferAction:
    deposit: int


@dataclass
class Promise:
    """A receipt the method asks the runtime to send once the method returns successfully.

    ``then`` chains a callback receipt that runs after this one and reads its result through
    ``ctx.promise_results``. The runtime deducts attached deposits from the calling contract's
    balance only if the method succeeds.
    """

    receiver_id: str
    actions: list[FunctionCallAction | TransferAction] = field(default_factory=list)
    callback: Promise | None = None

    def function_call(
        self,
        method_name: str,
        args: dict[str, Any] | None = None,
        *,
        deposit: int = 0,
        gas: int = DEFAULT_CALL_GAS,
    ) -> Promise:
        payload = json.dumps(args or {}, separators=(",", ":")).encode()
        self.actions.append(FunctionCallAction(method_name, payload, gas, deposit))
        return self

    def transfer(self, amount: int) -> Promise:
        self.actions.append(TransferAction(amount))
        return self

    def then(self, callback: Promise) -> Promise:
        """Run ``callback`` after this promise (and after any callbacks already chained)."""
        last = self
        while last.callback is not None:
            last = last.callback
        last.callback = callback
        return self


@dataclass(frozen=True)
class PromiseResult:
    successful: bool
    value: bytes = b""

    def json(self) -> Any:
        return json.loads(self.value) if self.value else None


class Context(Protocol):
    """What the runtime tells a method about the receipt it runs in."""

    current_account_id: str
    predecessor_account_id: str
    signer_account_id: str
    signer_account_pk: str
    attached_deposit: int
    prepaid_gas: int
    block_height: int
    block_timestamp: int  # nanoseconds since the epoch
    storage: MutableMapping[str, Any]  # JSON-serialisable values
    promise_results: list[PromiseResult]

    @property
    def account_balance(self) -> int:
        """Of current_account_id, attached deposit included; read-only (a transfer moves it)."""
        ...

    def log(self, message: str) -> None: ...

    def emit_event(self, standard: str, version: str, event: str, data: list[Any]) -> None:
        """Log a NEP-297 ``EVENT_JSON:`` line."""
        ...

    def promise(self, receiver_id: str) -> Promise: ...

    def account_exists(self, account_id: str) -> bool: ...

    def panic(self, message: str) -> NoReturn: ...


class Contract:
    """Base class: subclasses set ``code_name``, which is what ``DeployContract`` code refers to."""

    code_name: ClassVar[str] = ""
    ctx: Context  # the call being run: set on the fresh instance each call gets

    @classmethod
    def code(cls) -> bytes:
        """The bytes a DeployContract action carries to deploy this contract on devnet."""
        return f"pycontract:{cls.code_name}".encode()


def ensure(condition: bool, message: str) -> None:
    """Panic with ``message`` unless ``condition`` holds (near-sdk's ``require!``)."""
    if not condition:
        raise ContractPanic(message)
