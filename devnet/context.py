"""What a Python contract sees while it runs: the Context, transactional storage, invocation.

Storage is an overlay over the account's committed entries: reads copy values in, writes stay in
the overlay, and the runtime commits it only when the whole receipt succeeds, so a panic leaves
no trace, exactly as on NEAR.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, NoReturn

from devnet.contract import Contract, ContractPanic, Promise, PromiseResult, method_mark

DELETED = object()


def clone(value: Any) -> Any:
    """A deep copy of a JSON-like value (much faster than copy.deepcopy for dicts and lists)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


class StorageOverlay(MutableMapping[str, Any]):
    """Uncommitted storage changes of one receipt over the committed ``base``."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self.changes: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.changes:
            value = self.changes[key]
            if value is DELETED:
                raise KeyError(key)
            return value
        value = clone(self.base[key])
        self.changes[key] = value
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError("storage keys are strings")
        self.changes[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.changes[key] = DELETED

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self.changes:
            return self.changes[key] is not DELETED
        return key in self.base

    def __iter__(self) -> Iterator[str]:
        for key in self.base:
            if self.changes.get(key, None) is not DELETED:
                yield key
        for key, value in self.changes.items():
            if key not in self.base and value is not DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def commit(self) -> None:
        for key, value in self.changes.items():
            if value is DELETED:
                self.base.pop(key, None)
            else:
                self.base[key] = value
        self.changes.clear()


class CallContext:
    """The runtime's implementation of :class:`devnet.contract.Context` for one call."""

    def __init__(
        self,
        *,
        current_account_id: str,
        predecessor_account_id: str,
        signer_account_id: str,
        signer_account_pk: str,
        attached_deposit: int,
        prepaid_gas: int,
        block_height: int,
        block_timestamp: int,
        balance: Callable[[], int],
        storage: MutableMapping[str, Any],
        promise_results: list[PromiseResult],
        logs: list[str],
        account_exists: Callable[[str], bool],
        is_view: bool = False,
    ) -> None:
        self.current_account_id = current_account_id
        self.predecessor_account_id = predecessor_account_id
        self.signer_account_id = signer_account_id
        self.signer_account_pk = signer_account_pk
        self.attached_deposit = attached_deposit
        self.prepaid_gas = prepaid_gas
        self.block_height = block_height
        self.block_timestamp = block_timestamp
        self._balance = balance
        self.storage = storage
        self.promise_results = promise_results
        self.logs = logs
        self.promises: list[Promise] = []
        self._account_exists = account_exists
        self._is_view = is_view

    @property
    def account_balance(self) -> int:
        return self._balance()

    def log(self, message: str) -> None:
        self.logs.append(str(message))

    def emit_event(self, standard: str, version: str, event: str, data: list[Any]) -> None:
        body = {"standard": standard, "version": version, "event": event, "data": data}
        self.logs.append("EVENT_JSON:" + json.dumps(body, separators=(",", ":")))

    def promise(self, receiver_id: str) -> Promise:
        if self._is_view:
            raise ContractPanic("ProhibitedInView: promises cannot be created in a view call")
        p = Promise(receiver_id)
        self.promises.append(p)
        return p

    def account_exists(self, account_id: str) -> bool:
        return self._account_exists(account_id)

    def panic(self, message: str) -> NoReturn:
        raise ContractPanic(message)


class MethodNotFound(Exception):
    """The contract has no public method of that name."""


MethodInfo = tuple[str, bool, bool, bool, inspect.Signature]

# the decorated public methods found so far, per contract class; bounded by the methods the
# classes define (a name that is not one is looked up again each time, never stored)
_METHOD_INFO: dict[tuple[type[Contract], str], MethodInfo] = {}


def _method_info(cls: type[Contract], name: str) -> MethodInfo | None:
    """(kind, payable, private, takes_ctx, signature) of a decorated public method, or None."""
    info = _METHOD_INFO.get((cls, name))
    if info is None:
        info = _inspect_method(cls, name)
        if info is not None:
            _METHOD_INFO[(cls, name)] = info
    return info


def _inspect_method(cls: type[Contract], name: str) -> MethodInfo | None:
    if name.startswith("_"):
        return None
    fn = getattr(cls, name, None)
    mark = method_mark(fn)
    if mark is None or not callable(fn):
        return None
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1:]
    takes_ctx = bool(params) and params[0].name in ("ctx", "context")
    return (mark.kind, mark.payable, mark.private, takes_ctx, signature)


def invoke(
    cls: type[Contract], method_name: str, args: bytes, ctx: CallContext, *, view: bool = False
) -> Any:
    """Run one contract method; ContractPanic for every failure the contract is blamed for."""
    info = _method_info(cls, method_name)
    if info is None:
        raise MethodNotFound(method_name)
    kind, payable, private, takes_ctx, signature = info
    if view and kind != "view":
        raise ContractPanic(f"ProhibitedInView: method {method_name} changes state")
    if ctx.attached_deposit and not (kind == "call" and payable):
        raise ContractPanic(f"Method {method_name} doesn't accept deposit")
    if private and ctx.predecessor_account_id != ctx.current_account_id:
        raise ContractPanic(f"Method {method_name} is private")
    try:
        kwargs = json.loads(args) if args.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise ContractPanic("Failed to deserialize input from JSON.") from None
    if not isinstance(kwargs, dict):
        raise ContractPanic("Failed to deserialize input from JSON.")
    instance = cls()
    instance.ctx = ctx
    fn = getattr(instance, method_name)
    call_args = (ctx,) if takes_ctx else ()
    try:
        signature.bind(instance, *call_args, **kwargs)
    except TypeError:
        raise ContractPanic("Failed to deserialize input from JSON.") from None
    return fn(*call_args, **kwargs)


def encode_result(value: Any) -> bytes:
    """A method's return value as the bytes NEAR reports (JSON; ``None`` is empty)."""
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return json.dumps(value, separators=(",", ":")).encode()
