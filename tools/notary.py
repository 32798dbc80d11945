"""Chain-backed anchoring of the audit log's head hash (tamper evidence outside this machine).

``anchor`` records ``{head_hash, entries}`` on the notary contract under the signer's account;
``read_anchor`` reads one back and ``read_anchors`` all of them (the count, then each page), which
is what ``audit verify --anchored`` trusts. These are called by the audit log, not by the planner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from tools.action import FunctionCallSpec, TransactionSpec
from tools.base import TGAS, ToolContext

T = TypeVar("T")


ANCHORING = "audit anchoring"


def notary_contract(ctx: ToolContext) -> str:
    """The notary's id; NotConfiguredError saying why and what to set when there is none."""
    return ctx.network.require("notary", ANCHORING)


def anchor_transaction(
    ctx: ToolContext, head_hash: str, entries: int, note: str | None = None
) -> TransactionSpec:
    """The exact transaction ``anchor`` signs (no deposit: a function-call key can sign it)."""
    args: dict[str, Any] = {"head_hash": head_hash, "entries": entries}
    if note is not None:
        args["note"] = note
    return TransactionSpec(
        signer_id=ctx.account_id,
        receiver_id=notary_contract(ctx),
        actions=(FunctionCallSpec(method_name="anchor", args=args, gas=30 * TGAS, deposit=0),),
    )


async def anchor(ctx: ToolContext, head_hash: str, entries: int, note: str | None = None) -> str:
    """Anchor ``head_hash`` (covering ``entries`` log entries); returns the transaction hash."""
    if not head_hash or not isinstance(head_hash, str):
        raise ValueError("head_hash must be a non-empty string")
    if isinstance(entries, bool) or not isinstance(entries, int) or entries < 0:
        raise ValueError("entries must be a non-negative int")
    outcome = await ctx.chain.send(
        ctx.require_credentials(), anchor_transaction(ctx, head_hash, entries, note)
    )
    return outcome.tx_hash


async def read_anchor(
    ctx: ToolContext, head_hash: str, account_id: str | None = None
) -> dict[str, Any] | None:
    """The anchor ``account_id`` (default: this account) recorded for ``head_hash``, or None."""
    value = await ctx.chain.view(
        notary_contract(ctx),
        "get_anchor",
        {"account_id": account_id or ctx.account_id, "head_hash": head_hash},
    )
    return dict(value) if isinstance(value, Mapping) else None


ANCHOR_PAGE = 100


async def read_anchors(ctx: ToolContext, account_id: str | None = None) -> list[dict[str, Any]]:
    """Every anchor ``account_id`` (default: this account) published, oldest first.

    Reads ``get_anchor_count`` first and then pages ``get_anchors`` until that many came back,
    so a short page from the node is an error rather than a silently shorter list.
    """
    contract, account = notary_contract(ctx), account_id or ctx.account_id
    count = await ctx.chain.view(contract, "get_anchor_count", {"account_id": account})
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"the notary returned {count!r} as the anchor count of {account}")
    anchors: list[dict[str, Any]] = []
    while len(anchors) < count:
        page = await ctx.chain.view(
            contract,
            "get_anchors",
            {"account_id": account, "from_index": len(anchors), "limit": ANCHOR_PAGE},
        )
        if not isinstance(page, list) or not page or not all(isinstance(a, Mapping) for a in page):
            raise ValueError(
                f"the notary returned {len(anchors)} of the {count} anchors of {account}"
            )
        anchors.extend(dict(a) for a in page)
    return anchors[:count]


class ChainNotary:
    """The audit log's notary (memory.audit.anchor.AnchorNotary): blocking calls over the chain.

    It has its own ChainClient so that it can run from synchronous code (or from a worker thread
    while an event loop is busy) without sharing an HTTP session across event loops.
    """

    def __init__(self, ctx: ToolContext, account_id: str | None = None) -> None:
        """Reads ``account_id``'s anchors (default: the context's account, which signs)."""
        self.contract_id = notary_contract(ctx)
        self.network = ctx.network.network_id
        self.rpc_url = ctx.network.rpc_url
        self.account_id = account_id or ctx.account_id
        self._ctx = replace(ctx, chain=ctx.chain.sibling(), tokens=ctx.tokens)

    def anchor(self, head_hash: str, entries: int) -> str:
        if self.account_id != self._ctx.account_id:
            raise ValueError(f"only {self._ctx.account_id} can sign here, not {self.account_id}")
        return self._run(anchor(self._ctx, head_hash, entries))

    def read_anchor(self, head_hash: str) -> dict[str, Any] | None:
        return self._run(read_anchor(self._ctx, head_hash, self.account_id))

    def read_anchors(self) -> list[dict[str, Any]]:
        return self._run(read_anchors(self._ctx, self.account_id))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        async def closing() -> T:
            try:
                return await coro
            finally:
                await self._ctx.chain.close()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(closing())
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, closing()).result()
