"""Tiny contracts the runtime tests deploy: a counter, a caller with a callback, a panicker."""

from __future__ import annotations

from typing import Any

from devnet.contract import Context, Contract, ContractPanic, call, view


class Counter(Contract):
    code_name = "test_counter"

    @call
    def increment(self, ctx: Context, by: int = 1) -> int:
        ctx.storage["n"] = ctx.storage.get("n", 0) + by
        ctx.log(f"n={ctx.storage['n']}")
        return ctx.storage["n"]

    @call(payable=True)
    def donate(self, ctx: Context) -> str:
        ctx.storage["donated"] = str(int(ctx.storage.get("donated", "0")) + ctx.attached_deposit)
        ctx.emit_event("test", "1.0.0", "donate", [{"amount": str(ctx.attached_deposit)}])
        return ctx.storage["donated"]

    @view
    def get(self, ctx: Context) -> int:
        return ctx.storage.get("n", 0)

    @view
    def whoami(self, ctx: Context) -> str:
        return ctx.current_account_id


class Panicker(Contract):
    code_name = "test_panicker"

    @call(payable=True)
    def boom(self, ctx: Context, note: str = "") -> None:
        ctx.storage["touched"] = True
        ctx.log("about to panic")
        raise ContractPanic(f"boom {note}".strip())

    @call(payable=True)
    def accept(self, ctx: Context) -> str:
        ctx.storage["accepted"] = ctx.storage.get("accepted", 0) + 1
        return "accepted"

    @call
    def crash(self, ctx: Context, kind: str) -> None:
        """Contract bugs rather than panics: they must fail the receipt, never the node."""
        ctx.storage["touched"] = True
        if kind == "exit":
            raise SystemExit(3)
        if kind == "recursion":
            self.crash(ctx, kind)
        raise KeyError(kind)

    @view
    def touched(self, ctx: Context) -> bool:
        return bool(ctx.storage.get("touched", False))

    @view
    def explode(self, ctx: Context) -> None:
        raise ContractPanic("view exploded")


class Caller(Contract):
    """Forwards a call to another contract and records what the callback saw."""

    code_name = "test_caller"

    @call(payable=True)
    def relay(
        self,
        ctx: Context,
        target: str,
        method: str,
        args: dict[str, Any] | None = None,
        deposit: str = "0",
    ) -> Any:
        ctx.storage["pending"] = method
        call_out = ctx.promise(target).function_call(method, args or {}, deposit=int(deposit))
        callback = ctx.promise(ctx.current_account_id).function_call(
            "on_relayed", {"method": method, "deposit": deposit}
        )
        return call_out.then(callback)

    @call(private=True)
    def on_relayed(self, ctx: Context, method: str, deposit: str) -> dict[str, Any]:
        result = ctx.promise_results[0]
        seen = ctx.storage.get("seen", [])
        seen.append({"method": method, "ok": result.successful})
        ctx.storage["seen"] = seen
        if not result.successful and int(deposit):
            ctx.log(f"refund {deposit} for failed {method}")
        return {"ok": result.successful, "value": result.json() if result.successful else None}

    @view
    def seen(self, ctx: Context) -> list[dict[str, Any]]:
        return ctx.storage.get("seen", [])


SAMPLE_CONTRACTS: dict[str, type[Contract]] = {c.code_name: c for c in (Counter, Panicker, Caller)}
