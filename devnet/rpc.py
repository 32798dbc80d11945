"""JSON-RPC methods of the devnet node: parameter parsing in every form clients send, the
single transaction writer, and views.

Transactions from concurrent requests are queued to one writer task that puts whatever is
waiting into the next block, journals it (fsync'd) and only then answers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import contextvars
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import base58
from aiohttp import web

from devnet import errors
from devnet.borsh import BorshError
from devnet.context import CallContext, MethodNotFound, StorageOverlay, encode_result, invoke
from devnet.contract import ContractPanic
from devnet.errors import InvalidTx, RpcError
from devnet.gas import GAS_PRICE
from devnet.journal import Journal
from devnet.protocol_config import protocol_config_view
from devnet.runtime import BlockChanges, Runtime, StateGarbageCollected, TxRecord
from devnet.state import Block, valid_account_id
from devnet.transaction import ED25519, PublicKey, SignedTransaction, decode_signed_transaction
from devnet.views import (
    PROTOCOL_VERSION,
    access_key_view,
    account_change_view,
    account_view,
    b58,
    block_view,
    chunk_view,
    final_outcome_view,
    key_change_view,
    receipt_view,
    state_change_view,
    status_view,
    validators_view,
)

FINALITIES = {"optimistic", "near-final", "final"}
DEFAULT_TX_WAIT_S = 2.0  # how long it waits (nearcore: polling_timeout, 10 s; short for tests)
DEFAULT_BLOCK_INTERVAL_S = 0.01  # in-process nodes (tests, the demo): fast blocks
ARCHIVAL_VIEW: contextvars.ContextVar[bool] = contextvars.ContextVar("archival", default=False)
"""Set while a request is served through the devnet's archival endpoint: nothing is forgotten."""
WAIT_LEVELS = ["NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL"]
# the levels that satisfy a wait_until (jsonrpc lib.rs, tx_execution_status_meets_expectations)
SATISFIES: dict[str, frozenset[str]] = {
    "NONE": frozenset(WAIT_LEVELS),
    "INCLUDED": frozenset(WAIT_LEVELS[1:]),
    "EXECUTED_OPTIMISTIC": frozenset({"EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL"}),
    "INCLUDED_FINAL": frozenset({"INCLUDED_FINAL", "EXECUTED", "FINAL"}),
    "EXECUTED": frozenset({"EXECUTED", "FINAL"}),
    "FINAL": frozenset({"FINAL"}),
}


CHANGE_TYPES = frozenset(
    {"account_changes", "all_access_key_changes", "data_changes", "contract_code_changes"}
)

# nearcore takes these only by name: a positional list naming them is a parse error
# (chain/jsonrpc/src/api/transactions.rs: "wait_until is a new feature supported only in object")
OBJECT_ONLY_PARAMS = frozenset({"wait_until"})


def _params_dict(params: Any, names: list[str]) -> dict[str, Any]:
    """Accept params as a dict or as a positional list named by ``names``."""
    if isinstance(params, dict):
        return params
    if isinstance(params, list):
        positional = [n for n in names if n not in OBJECT_ONLY_PARAMS]
        if len(params) > len(positional):
            raise errors.parse_error(
                f"Unable to parse request: too many params passed ({len(params)}, "
                f"at most {len(positional)})"
            )
        return dict(zip(positional, params, strict=False))
    if params is None:
        return {}
    raise errors.parse_error("params must be an object or an array")


def _tx_status_params(params: Any) -> dict[str, Any]:
    """``tx``/``EXPERIMENTAL_tx_status`` params as nearcore parses them: ``[signed_tx]``,
    ``[tx_hash, sender_account_id]``, or an object holding ``signed_tx_base64`` or both
    ``tx_hash`` and ``sender_account_id`` (chain/jsonrpc/src/api/transactions.rs)."""
    if isinstance(params, list):
        if len(params) == 1:
            return {"signed_tx_base64": params[0]}
        if len(params) == 2:
            return {"tx_hash": params[0], "sender_account_id": params[1]}
        raise errors.parse_error(
            f"expected [signed_tx_base64] or [tx_hash, sender_account_id], got {len(params)} params"
        )
    if not isinstance(params, dict):
        raise errors.parse_error("params must be an object or an array")
    if "signed_tx_base64" not in params and "sender_account_id" not in params:
        raise errors.parse_error("missing field `sender_account_id`")
    return params


def _hash_param(text: str, name: str) -> bytes:
    """A base58 CryptoHash parameter (32 bytes) or PARSE_ERROR."""
    try:
        raw = base58.b58decode(text)
    except ValueError:
        raise errors.parse_error(f"invalid {name} {text!r}") from None
    if len(raw) != 32:
        raise errors.parse_error(f"invalid {name} {text!r}")
    return raw


def health_handler(node: Node) -> Callable[[web.Request], Awaitable[web.Response]]:
    """nearcore's plain ``GET /health``: 200 with the ``health`` result (``null``)."""

    async def handle(request: web.Request) -> web.Response:
        return web.json_response(await node.health(None))

    return handle


def _str_param(p: dict[str, Any], name: str) -> str:
    value = p.get(name)
    if not isinstance(value, str):
        raise errors.parse_error(f"missing or invalid field `{name}`")
    return value


def _public_key(text: str) -> PublicKey:
    body = text.split(":", 1)[1] if text.startswith("ed25519:") else text
    try:
        raw = base58.b58decode(body)
    except ValueError:
        raise errors.parse_error(f"invalid public key {text!r}") from None
    if len(raw) != 32:
        raise errors.parse_error(f"invalid public key {text!r}")
    return PublicKey(ED25519, raw)


def _view_panic(message: str) -> str:
    """A contract's panic in a view call; a view that would create a promise or write state is
    the VM's ProhibitedInView on the host function that tried (devnet.context raises those)."""
    if message.startswith("ProhibitedInView"):
        host = "promise_batch_create" if "promise" in message else "storage_write"
        return errors.view_prohibited(host)
    return errors.view_guest_panic(message)


def decode_tx_param(text: Any) -> SignedTransaction:
    if not isinstance(text, str):
        raise errors.parse_error("signed transaction must be a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.parse_error(f"Failed to decode transaction: {exc}") from None
    try:
        return decode_signed_transaction(raw)
    except BorshError as exc:
        raise errors.parse_error(f"Failed to decode transaction: {exc}") from None


class Node:
    """The RPC methods over one runtime; all state access happens on the node's event loop."""

    def __init__(
        self,
        runtime: Runtime,
        journal: Journal | None,
        rpc_url: str = "",
        *,
        block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S,
    ) -> None:
        if not block_interval_s > 0:
            raise ValueError("the block interval is a number of seconds above 0")
        self.runtime = runtime
        self.journal = journal
        self.rpc_url = rpc_url
        self.started = time.monotonic()
        self.tx_wait_s = DEFAULT_TX_WAIT_S
        self.block_interval_s = block_interval_s
        # None: keep everything (archival); N: lookups forget what is older than N blocks
        self.retention_blocks: int | None = None
        # transactions waiting for the next block, each with the future its sender awaits
        self._pool: list[tuple[SignedTransaction, asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None  # set when there is work for a block
        self._next_block: asyncio.Future[None] | None = None  # resolved as each block is made
        self._writing: asyncio.Lock | None = None  # held while a block is applied and journaled
        self._writer: asyncio.Task[None] | None = None
        self.methods: dict[str, Callable[[Any], Awaitable[Any]]] = {
            "status": self.status,
            "block": self.block,
            "query": self.query,
            "broadcast_tx_commit": self.broadcast_tx_commit,
            "broadcast_tx_async": self.broadcast_tx_async,
            "send_tx": self.send_tx,
            "tx": self.tx,
            "EXPERIMENTAL_tx_status": self.experimental_tx_status,
            "gas_price": self.gas_price,
            "health": self.health,
            "EXPERIMENTAL_protocol_config": self.protocol_config,
            "EXPERIMENTAL_receipt": self.receipt,
            "chunk": self.chunk,
            "validators": self.validators,
            "EXPERIMENTAL_changes": self.changes,
            "changes": self.changes,
            "EXPERIMENTAL_changes_in_block": self.changes_in_block,
            "block_effects": self.changes_in_block,
        }

    # -- writer -----------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._next_block = loop.create_future()
        self._writer = loop.create_task(self._produce_loop())

    async def stop(self) -> None:
        """Finish the block being written (so nothing applied goes unjournaled), then stop."""
        if self._writer is not None:
            assert self._writing is not None
            async with self._writing:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
            self._writer = None
        if self.journal is not None:
            self.journal.close()

    def enqueue(self, tx: SignedTransaction) -> asyncio.Future[Any]:
        """Put ``tx`` in the pool for the next block; the future gets its record or InvalidTx."""
        assert self._wake is not None, "node not started"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pool.append((tx, future))
        self._wake.set()
        return future

    async def submit(self, tx: SignedTransaction) -> TxRecord:
        """``tx``'s record once a block included it (and it is durable), or InvalidTx."""
        known = self.runtime.find_recent_tx(tx.hash)  # an archived one: the block answers it
        if known is not None:
            return known
        result = await self.enqueue(tx)
        if isinstance(result, Exception):
            raise result
        return result

    async def next_block(self, timeout: float) -> bool:
        """Wait for the next block for at most ``timeout`` seconds; whether one came."""
        assert self._next_block is not None, "node not started"
        try:
            await asyncio.wait_for(asyncio.shield(self._next_block), max(timeout, 0))
        except TimeoutError:
            return False
        return True

    async def settle(self, timeout: float) -> bool:
        """Wait until every transaction sent has been included, every receipt has run and its
        block is final (the chain is idle); whether that happened within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._pool or self.runtime.busy():
            if not await self.next_block(deadline - time.monotonic()):
                return False
        return True

    async def _produce_loop(self) -> None:
        """Make a block every ``block_interval_s`` while there is work: transactions in the
        pool, receipts in flight, or recent blocks not yet final. An idle chain makes none."""
        assert self._wake is not None and self._writing is not None
        last = -math.inf
        while True:
            while not self._pool and not self.runtime.busy():
                self._wake.clear()
                await self._wake.wait()
            delay = last + self.block_interval_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            last = time.monotonic()
            async with self._writing:
                batch, self._pool = self._pool, []
                try:
                    block, results = self.runtime.apply_block(time.time_ns(), [t for t, _ in batch])
                    if self.journal is not None:
                        raws = [self.runtime.txs[h].tx.raw for h in block.tx_hashes]
                        await asyncio.to_thread(self.journal.append, block.timestamp_ns, raws)
                except Exception as exc:  # never leave a client hanging on a node bug
                    error = errors.internal_error(f"{type(exc).__name__}: {exc}")
                    for _, future in batch:
                        if not future.done():
                            future.set_result(error)
                    continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            made, self._next_block = self._next_block, asyncio.get_running_loop().create_future()
            if made is not None and not made.done():
                made.set_result(None)

    # -- blocks -----------------------------------------------------------------------------

    def _block_ref(self, p: dict[str, Any], default_final: bool = True) -> Block:
        if "block_id" in p and p["block_id"] is not None:
            return self._block_by_id(p["block_id"])
        checkpoint = p.get("sync_checkpoint")
        if checkpoint is not None:
            if checkpoint not in ("genesis", "earliest_available"):
                raise errors.parse_error(f"invalid sync_checkpoint {checkpoint!r}")
            if checkpoint == "earliest_available":
                return self._earliest_kept()
            return self.runtime.blocks[0]
        finality = p.get("finality")
        if finality is None and default_final:
            return self.runtime.head
        if finality not in FINALITIES:
            raise errors.parse_error(f"invalid finality {finality!r}")
        if finality == "final":
            return self.runtime.final_head
        if finality == "near-final":
            return self.runtime.doomslug_head
        return self.runtime.head

    def _earliest_kept(self) -> Block:
        """The oldest block this endpoint still serves (all of them unless retention is set)."""
        runtime = self.runtime
        if self.retention_blocks is None or ARCHIVAL_VIEW.get():
            return runtime.blocks.genesis
        earliest = runtime.head.height - self.retention_blocks
        return runtime.block_at(max(earliest, runtime.blocks.genesis.height)) or runtime.head

    def _block_by_id(self, block_id: Any) -> Block:
        block = None
        if isinstance(block_id, int) and not isinstance(block_id, bool):
            block = self.runtime.block_at(block_id)
        elif isinstance(block_id, str):
            if block_id.isdigit():
                block = self.runtime.block_at(int(block_id))
            else:
                try:
                    block = self.runtime.block_with_hash(base58.b58decode(block_id))
                except ValueError:
                    raise errors.parse_error(f"invalid block id {block_id!r}") from None
        else:
            raise errors.parse_error(f"invalid block id {block_id!r}")
        if block is None:
            raise errors.unknown_block({"block_id": block_id})
        return block

    async def status(self, params: Any) -> Any:
        return status_view(self.runtime, int(time.monotonic() - self.started), self.rpc_url)

    async def block(self, params: Any) -> Any:
        p = _params_dict(params, ["block_id"])
        block = self._block_ref(p)
        if self._forgotten(block):  # a garbage-collected block is unknown to the node
            raise errors.unknown_block({"block_id": p.get("block_id")})
        return block_view(self.runtime, block)

    async def gas_price(self, params: Any) -> Any:
        p = _params_dict(params, ["block_id"])
        if p.get("block_id") is not None:
            self._block_by_id(p["block_id"])
        return {"gas_price": str(GAS_PRICE)}

    async def health(self, params: Any) -> Any:
        return None

    async def protocol_config(self, params: Any) -> Any:
        p = _params_dict(params, ["block_id"])
        self._block_ref(p)
        genesis = self.runtime.blocks[0]
        return protocol_config_view(
            self.runtime.chain_id, genesis.timestamp_ns, genesis.height, PROTOCOL_VERSION
        )

    async def validators(self, params: Any) -> Any:
        """``[null]``, ``{"latest": null}``, ``{"epoch_id": ...}`` or ``{"block_id": ...}``: the
        devnet has one epoch, so every reference that names a known block answers it."""
        p = params
        if isinstance(params, list):
            p = {"block_id": params[0]} if params else {}
        if not isinstance(p, dict) and p not in (None, "latest"):
            raise errors.parse_error("params must be an object or an array")
        if isinstance(p, dict) and p.get("block_id") is not None:
            self._block_by_id(p["block_id"])
        return validators_view(self.runtime)

    async def receipt(self, params: Any) -> Any:
        p = _params_dict(params, ["receipt_id"])
        text = _str_param(p, "receipt_id")
        receipt_id = _hash_param(text, "receipt_id")
        found = self.runtime.receipts.get(receipt_id)
        if found is None:
            raise errors.unknown_receipt(text)
        return receipt_view(found)

    async def chunk(self, params: Any) -> Any:
        """``{"chunk_id": hash}``, ``{"block_id": ..., "shard_id": 0}``, ``[hash]`` or
        ``[[block_id, shard_id]]`` (chain/jsonrpc/src/api/chunks.rs, parse_chunk_reference)."""
        if isinstance(params, list):
            single = params[0] if len(params) == 1 else None
            if isinstance(single, list) and len(single) == 2:
                params = {"block_id": single[0], "shard_id": single[1]}
            else:
                params = {"chunk_id": single} if len(params) == 1 else None
        if not isinstance(params, dict):
            raise errors.parse_error("expected {chunk_id} or {block_id, shard_id}")
        if "chunk_id" in params:
            text = _str_param(params, "chunk_id")
            wanted = _hash_param(text, "chunk_id")
            found = self.runtime.blocks.by_chunk_hash(wanted)
            if found is None:
                raise errors.unknown_chunk(text)
            block = found
        else:
            shard_id = params.get("shard_id")
            if not isinstance(shard_id, int) or isinstance(shard_id, bool):
                raise errors.parse_error("missing or invalid field `shard_id`")
            block = self._block_by_id(params.get("block_id"))
            if shard_id != 0:
                raise errors.invalid_shard_id(shard_id)
        return chunk_view(self.runtime, block)

    async def changes(self, params: Any) -> Any:
        """State changes of one block by type: accounts, access keys, contract storage and code
        (``account_changes``, ``all_access_key_changes``, ``single_access_key_changes``,
        ``data_changes`` by key prefix, ``contract_code_changes``), each with its last cause."""
        if not isinstance(params, dict):
            raise errors.parse_error("params must be an object")
        block = self._block_ref(params, default_final=False)
        kind = params.get("changes_type")
        recorded = self.runtime.changes.get(block.hash, BlockChanges())
        head = {"block_hash": b58(block.hash)}
        if kind == "single_access_key_changes":
            keys = params.get("keys")
            if not isinstance(keys, list) or not all(
                isinstance(k, dict) and isinstance(k.get("account_id"), str) for k in keys
            ):
                raise errors.parse_error("missing or invalid field `keys`")
            wanted = {(k["account_id"], _public_key(_str_param(k, "public_key"))) for k in keys}
            return {
                **head,
                "changes": [
                    key_change_view(c)
                    for c in recorded.keys
                    if (c.account_id, c.public_key) in wanted
                ],
            }
        ids = params.get("account_ids")
        if kind not in CHANGE_TYPES:
            raise errors.parse_error(
                f"changes_type {kind!r}: the devnet keeps {', '.join(sorted(CHANGE_TYPES))} "
                "and single_access_key_changes"
            )
        if not isinstance(ids, list) or not all(isinstance(a, str) for a in ids):
            raise errors.parse_error("missing or invalid field `account_ids`")
        accounts = set(ids)
        if kind == "account_changes":
            views = [account_change_view(c) for c in recorded.accounts if c.account_id in accounts]
        elif kind == "all_access_key_changes":
            views = [key_change_view(c) for c in recorded.keys if c.account_id in accounts]
        elif kind == "contract_code_changes":
            views = [
                state_change_view(c)
                for c in recorded.state
                if c.key is None and c.account_id in accounts
            ]
        else:
            text = params.get("key_prefix_base64")
            if not isinstance(text, str):
                raise errors.parse_error("missing or invalid field `key_prefix_base64`")
            try:
                prefix = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise errors.parse_error("key_prefix_base64 is not base64") from None
            views = [
                state_change_view(c)
                for c in recorded.state
                if c.key is not None
                and c.account_id in accounts
                and c.key.encode().startswith(prefix)
            ]
        return {**head, "changes": views}

    async def changes_in_block(self, params: Any) -> Any:
        """The accounts one block touched (``account_touched``)."""
        p = _params_dict(params, ["block_id"])
        block = self._block_ref(p, default_final=False)
        recorded = self.runtime.changes.get(block.hash, BlockChanges())
        return {
            "block_hash": b58(block.hash),
            "changes": [
                {"type": "account_touched", "account_id": c.account_id} for c in recorded.accounts
            ],
        }

    # -- queries ----------------------------------------------------------------------------

    async def query(self, params: Any) -> Any:
        if not isinstance(params, dict):
            raise errors.parse_error("query params must be an object")
        block = self._block_ref(params)
        kind = params.get("request_type")
        handlers = {
            "view_account": self._view_account,
            "view_access_key": self._view_access_key,
            "view_access_key_list": self._view_access_key_list,
            "call_function": self._call_function,
            "view_state": self._view_state,
            "view_code": self._view_code,
        }
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise errors.parse_error(f"unknown request_type {kind!r}")
        account_id = _str_param(params, "account_id")
        head = b58(block.hash)
        if not valid_account_id(account_id):
            raise errors.invalid_account(account_id, block.height, head)
        try:
            if self._forgotten(block):
                raise StateGarbageCollected(block.height)
            acc = self.runtime.account_at(account_id, block)
        except StateGarbageCollected:
            raise errors.garbage_collected_block(block.height, head) from None
        if acc is None:
            raise errors.unknown_account(account_id, block.height, head)
        result = handler(params, account_id, acc, block)
        result["block_height"] = block.height
        result["block_hash"] = head
        return result

    def _view_account(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        return account_view(acc, block)

    def _view_access_key(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        text = _str_param(p, "public_key")
        key = acc.keys.get(_public_key(text))
        if key is None:
            shown = text if text.startswith("ed25519:") else "ed25519:" + text
            return {"error": f"access key {shown} does not exist while viewing", "logs": []}
        return access_key_view(key)

    def _view_access_key_list(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        return {
            "keys": [
                {"public_key": pk.text(), "access_key": access_key_view(key)}
                for pk, key in acc.keys.items()
            ]
        }

    def _view_code(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        if acc.code_name is None:
            raise errors.no_contract_code(account_id, block.height, b58(block.hash))
        code = f"pycontract:{acc.code_name}".encode()
        return {"code_base64": base64.b64encode(code).decode(), "hash": b58(acc.code_hash())}

    def _view_state(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        prefix_text = p.get("prefix_base64", "") or ""
        try:
            prefix = base64.b64decode(prefix_text, validate=True)
        except (binascii.Error, ValueError):
            raise errors.parse_error("prefix_base64 is not base64") from None
        values = []
        for key, value in acc.storage.items():
            raw_key = key.encode()
            if raw_key.startswith(prefix):
                values.append(
                    {
                        "key": base64.b64encode(raw_key).decode(),
                        "value": base64.b64encode(encode_result(value)).decode(),
                    }
                )
        return {"values": values, "proof": []}

    def _call_function(
        self, p: dict[str, Any], account_id: str, acc: Any, block: Block
    ) -> dict[str, Any]:
        method = _str_param(p, "method_name")
        args_text = p.get("args_base64", "")
        if not isinstance(args_text, str):
            raise errors.parse_error("args_base64 must be a string")
        try:
            args = base64.b64decode(args_text, validate=True)
        except (binascii.Error, ValueError):
            raise errors.parse_error("args_base64 is not base64") from None
        # a failed call answers a result holding the VM error, with no logs (the backward
        # compatible shape of chain/jsonrpc/src/lib.rs, process_query_response)
        if acc.code_name is None:
            return {"error": errors.view_code_does_not_exist(account_id), "logs": []}
        cls = self.runtime.contracts().get(acc.code_name)
        logs: list[str] = []
        if cls is None:
            return {"error": f"contract code {acc.code_name!r} is not available", "logs": []}
        ctx = CallContext(
            current_account_id=account_id,
            predecessor_account_id="",
            signer_account_id="",
            signer_account_pk="",
            attached_deposit=0,
            prepaid_gas=300 * 10**12,
            block_height=block.height,
            block_timestamp=block.timestamp_ns,
            balance=lambda: acc.amount,
            storage=StorageOverlay(acc.storage),
            promise_results=[],
            logs=logs,
            account_exists=lambda a: self.runtime.account_at(a, block) is not None,
            is_view=True,
        )
        try:
            value = invoke(cls, method, args, ctx, view=True)
            result = encode_result(value)
        except MethodNotFound:
            return {"error": errors.view_vm_error("MethodResolveError(MethodNotFound)"), "logs": []}
        except ContractPanic as exc:
            return {"error": _view_panic(exc.message), "logs": []}
        except (Exception, SystemExit) as exc:
            return {"error": errors.view_guest_panic(f"{type(exc).__name__}: {exc}"), "logs": []}
        return {"result": list(result), "logs": logs}

    # -- transactions -----------------------------------------------------------------------

    async def _commit(self, tx: SignedTransaction) -> TxRecord:
        try:
            return await self.submit(tx)
        except InvalidTx as exc:
            raise exc.rpc() from None

    async def broadcast_tx_commit(self, params: Any) -> Any:
        """nearcore's send_tx_commit: ``send_tx`` waiting for EXECUTED_OPTIMISTIC."""
        p = _params_dict(params, ["signed_tx_base64"])
        tx = decode_tx_param(p.get("signed_tx_base64"))
        return await self._send(tx, "EXECUTED_OPTIMISTIC")

    async def broadcast_tx_async(self, params: Any) -> Any:
        """The hash at once; the transaction goes to the pool unchecked (a refused one is
        simply never found)."""
        p = _params_dict(params, ["signed_tx_base64"])
        tx = decode_tx_param(p.get("signed_tx_base64"))
        if self.runtime.find_recent_tx(tx.hash) is None:
            self.enqueue(tx)
        return b58(tx.hash)

    async def send_tx(self, params: Any) -> Any:
        p = _params_dict(params, ["signed_tx_base64", "wait_until"])
        wait_until = p.get("wait_until", "EXECUTED_OPTIMISTIC")
        if wait_until not in WAIT_LEVELS:
            raise errors.parse_error(f"invalid wait_until {wait_until!r}")
        tx = decode_tx_param(p.get("signed_tx_base64"))
        if wait_until == "NONE":  # jsonrpc lib.rs, send_tx: send_tx_async, answered at once
            if self.runtime.find_recent_tx(tx.hash) is None:
                self.enqueue(tx)
            return {"final_execution_status": "NONE"}
        return await self._send(tx, wait_until)

    async def _send(self, tx: SignedTransaction, wait_until: str) -> Any:
        """Include ``tx`` (InvalidTx answers at once), then wait until it reaches
        ``wait_until``, or TIMEOUT_ERROR after the node's wait limit."""
        deadline = time.monotonic() + self.tx_wait_s
        record = await self._commit(tx)
        return await self._wait_for(record, wait_until, deadline, with_receipts=False)

    async def _wait_for(
        self, record: TxRecord, wait_until: str, deadline: float, *, with_receipts: bool
    ) -> Any:
        """The outcome of ``record`` once it reaches ``wait_until`` (jsonrpc lib.rs,
        tx_status_fetch: looked at again after each block until the timeout)."""
        while True:
            view = final_outcome_view(self.runtime, record, with_receipts=with_receipts)
            if view["final_execution_status"] in SATISFIES[wait_until]:
                return view
            if not await self.next_block(deadline - time.monotonic()):
                raise errors.timeout_error()

    def _lookup(self, params: Any) -> TxRecord | None:
        p = _tx_status_params(params)
        _, tx_hash = self._tx_hash_param(p)
        record = self.runtime.find_tx(tx_hash)
        if record is None or self._forgotten(record.block):
            return None
        return record

    def _forgotten(self, block: Block) -> bool:
        """Whether this endpoint has garbage-collected ``block`` (a non-archival view)."""
        if self.retention_blocks is None or ARCHIVAL_VIEW.get():
            return False
        return block.height < self.runtime.head.height - self.retention_blocks

    async def _tx_waiting(self, params: Any, *, with_receipts: bool) -> Any:
        """nearcore's tx_status_fetch: an unseen hash is UNKNOWN_TRANSACTION only when the caller
        does not wait (``wait_until: NONE``); otherwise the node waits, block by block, for the
        transaction to reach ``wait_until`` and answers TIMEOUT_ERROR after its timeout (cause
        NOT_OBSERVED when it never saw it), which the server sends with HTTP 408.
        The array form (``[hash, sender]``) waits for the default, EXECUTED_OPTIMISTIC."""
        p = _tx_status_params(params)
        wait_until = (
            p.get("wait_until", "EXECUTED_OPTIMISTIC")
            if isinstance(params, dict)
            else ("EXECUTED_OPTIMISTIC")
        )
        if wait_until not in WAIT_LEVELS:
            raise errors.parse_error(f"invalid wait_until {wait_until!r}")
        deadline = time.monotonic() + self.tx_wait_s
        while True:
            record = self._lookup(params)
            if record is not None:
                return await self._wait_for(
                    record, wait_until, deadline, with_receipts=with_receipts
                )
            if wait_until == "NONE":
                text, _ = self._tx_hash_param(p)
                raise errors.unknown_transaction(text)
            if not await self.next_block(deadline - time.monotonic()):
                raise errors.timeout_error("NOT_OBSERVED")

    def _tx_hash_param(self, p: dict[str, Any]) -> tuple[str, bytes]:
        if "signed_tx_base64" in p:
            tx_hash = decode_tx_param(p["signed_tx_base64"]).hash
            text = b58(tx_hash)
        else:
            text = _str_param(p, "tx_hash")
            sender = _str_param(p, "sender_account_id")
            if not valid_account_id(sender):
                raise errors.parse_error(f"invalid sender_account_id {sender!r}")
            try:
                tx_hash = base58.b58decode(text)
            except ValueError:
                raise errors.parse_error(f"invalid transaction hash {text!r}") from None
            if len(tx_hash) != 32:
                raise errors.parse_error(f"invalid transaction hash {text!r}")
        return text, tx_hash

    async def tx(self, params: Any) -> Any:
        return await self._tx_waiting(params, with_receipts=False)

    async def experimental_tx_status(self, params: Any) -> Any:
        return await self._tx_waiting(params, with_receipts=True)


async def dispatch(node: Node, method: str, params: Any) -> Any:
    handler = node.methods.get(method)
    if handler is None:
        raise errors.method_not_found(method)
    return await handler(params)


__all__ = ["Node", "dispatch", "RpcError", "decode_tx_param"]
