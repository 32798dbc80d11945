"""The devnet node: JSON-RPC over HTTP on 127.0.0.1, a state dir, a manifest for clients.

``start_devnet`` runs a node in-process on a background thread (tests, embedding);
``serve_forever`` runs one in the foreground (``near-agent devnet``).

Like a public endpoint it can be made to rate-limit (``rate_limit="30/min"``: HTTP 429 with
Retry-After, counted per client IP), to forget old transactions as a non-archival node does
(``retention_blocks``, with an ``archival_url`` that keeps everything), and it counts the
requests it served by method and the signed transactions it received (``GET /status`` shows
the counts under ``devnet``).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from devnet import errors
from devnet.contract import Contract
from devnet.errors import RpcError
from devnet.faults import FaultController, FaultKind
from devnet.genesis import Genesis, GenesisAccount
from devnet.genesis_choice import GenesisChoice, GenesisChoiceError, genesis_for
from devnet.journal import Journal
from devnet.rate_limit import RateLimit, RateLimiter
from devnet.rpc import (
    ARCHIVAL_VIEW,
    DEFAULT_BLOCK_INTERVAL_S,
    Node,
    decode_tx_param,
    dispatch,
    health_handler,
)
from devnet.runtime import DEFAULT_HISTORY_BLOCKS, Runtime, TxRecord
from devnet.transaction import decode_signed_transaction
from devnet.views import b58
from tools.keypair import KeyPair

MAX_BODY_BYTES = 4 * 1024 * 1024
NEAR = 10**24
TX_METHODS = {"broadcast_tx_commit", "broadcast_tx_async", "send_tx"}
SERVED_BLOCK_INTERVAL_S = 0.1  # `near-agent devnet`: blocks ten times a second while busy


class ReplayError(RuntimeError):
    """The state dir's journal does not rebuild the chain (edited, or from other code)."""


def manifest_path(state_dir: Path) -> Path:
    return Path(state_dir) / "manifest.json"


def fallback_genesis() -> Genesis:
    """A small chain for when no default genesis module is installed."""
    accounts = [
        GenesisAccount(
            account_id=name, balance=balance, secret_keys=[KeyPair.generate().secret_key]
        )
        for name, balance in (
            ("devnet", 1_000_000_000 * NEAR),
            ("alice.devnet", 1_000 * NEAR),
            ("bob.devnet", 1_000 * NEAR),
        )
    ]
    return Genesis(genesis_time_ns=time.time_ns(), accounts=accounts)


def default_genesis() -> Genesis:
    """devnet.genesis_default's genesis when it exists, else :func:`fallback_genesis`."""
    try:
        from devnet.genesis_default import build_default_genesis
    except ImportError:
        return fallback_genesis()
    return build_default_genesis()


def _jsonrpc(id_: Any, *, result: Any = None, error: RpcError | None = None) -> web.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": id_}
    if error is not None:
        body["error"] = error.to_json()
    else:
        body["result"] = result
    return web.Response(
        status=errors.http_status(error) if error is not None else 200,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
    )


class Devnet:
    """One node: runtime rebuilt from the state dir, RPC handlers, fault controller."""

    def __init__(
        self,
        state_dir: Path,
        genesis: Genesis | None = None,
        reset: bool = False,
        contracts: Mapping[str, type[Contract]] | None = None,
        rate_limit: RateLimit | str | None = None,
        history_blocks: int = DEFAULT_HISTORY_BLOCKS,
        block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # genesis.json holds keys
        self.journal = Journal(self.state_dir)
        if reset:
            self.journal.wipe()
        if self.journal.has_genesis():
            genesis = self.journal.load_genesis()
        else:
            genesis = genesis if genesis is not None else default_genesis()
            self.journal.write_genesis(genesis)
        self.genesis = genesis
        # queries by block_id answer the state of the last ``history_blocks`` blocks
        self.runtime = Runtime(
            genesis,
            contracts,
            history_blocks=history_blocks,
            archive=self.state_dir / "archive.sqlite",
        )
        self._replay()
        self.faults = FaultController()
        self.node = Node(self.runtime, self.journal, block_interval_s=block_interval_s)
        self.manifest: dict[str, Any] = {}
        self.rpc_url = ""
        self.archival_url = ""
        self.limiter = RateLimiter(rate_limit)
        self.requests: Counter[str] = Counter()  # JSON-RPC requests served, by method
        self.rate_limited: Counter[str] = Counter()  # requests answered 429, by method
        self.received_txs: dict[str, str] = {}  # every signed transaction sent: hash -> signer

    def set_rate_limit(self, rate_limit: RateLimit | str | None) -> None:
        """Answer 429 beyond ``rate_limit`` (e.g. "30/min") per client IP; None lifts it."""
        self.limiter = RateLimiter(rate_limit)

    def set_retention(self, blocks: int | None) -> None:
        """Forget (on the regular endpoint) transactions and blocks older than ``blocks`` blocks,
        as a non-archival node garbage-collects; the archival endpoint keeps everything."""
        self.node.retention_blocks = blocks

    def set_tx_wait(self, seconds: float) -> None:
        """How long a ``tx`` lookup that waits for an outcome polls before its 408."""
        self.node.tx_wait_s = seconds

    def signed_by(self, signer_id: str) -> list[str]:
        """The hashes of the signed transactions ``signer_id`` sent, in the order received."""
        return [h for h, signer in self.received_txs.items() if signer == signer_id]

    def request_counts(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "rate_limited": dict(self.rate_limited),
            "rate_limit": str(self.limiter.limit) if self.limiter.limit else None,
            "received_txs": len(self.received_txs),
        }

    def _replay(self) -> None:
        for n, (timestamp_ns, raws) in enumerate(self.journal.blocks()):
            txs = [decode_signed_transaction(raw) for raw in raws]
            block, results = self.runtime.apply_block(timestamp_ns, txs, verify_signatures=False)
            # each journalled transaction was new and included in its block
            refused = [r for r in results if not (isinstance(r, TxRecord) and r.block is block)]
            if refused:
                raise ReplayError(
                    f"journal block {n} in {self.journal.blocks_path} does not "
                    f"replay ({refused[:1]}); start again with reset"
                )

    # -- manifest ---------------------------------------------------------------------------

    def write_manifest(self, rpc_url: str) -> dict[str, Any]:
        self.rpc_url = rpc_url
        self.node.rpc_url = rpc_url
        keys_dir = self.state_dir / "keys"
        accounts = []
        for spec in self.genesis.accounts:
            if not spec.secret_keys:
                continue
            pair = KeyPair.from_secret_key(spec.secret_keys[0])
            key_file = (keys_dir / f"{spec.account_id}.json").resolve()
            pair.write_credentials(key_file, spec.account_id)
            accounts.append(
                {
                    "account_id": spec.account_id,
                    "key_file": str(key_file),
                    "public_key": pair.public_key,
                }
            )
        manifest: dict[str, Any] = dict(self.genesis.manifest)  # tokens, exchange, tasks...
        manifest.update(
            {
                "rpc_url": rpc_url,
                # a mainnet- or testnet-shaped genesis names the network whose ids it uses
                "network_id": self.genesis.manifest.get("network_id", "devnet"),
                "chain_id": self.runtime.chain_id,
                # what `status` answers as genesis_hash: clients hold every endpoint to it
                "genesis_hash": b58(self.runtime.blocks[0].hash),
                "accounts": accounts,
            }
        )
        path = manifest_path(self.state_dir)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2))
        os.replace(tmp, path)
        self.manifest = manifest
        return manifest

    # -- HTTP -------------------------------------------------------------------------------

    def app(self, *, archival: bool = False) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/", self.handle_archival if archival else self.handle)
        app.router.add_get("/status", self.handle_status)
        app.router.add_get("/health", health_handler(self.node))
        return app

    async def handle_status(self, request: web.Request) -> web.Response:
        """nearcore's plain ``GET /status`` (health checks use it), plus the devnet's counts."""
        status = dict(await self.node.status(None))
        status["devnet"] = self.request_counts()
        return web.Response(body=json.dumps(status).encode(), content_type="application/json")

    async def handle_archival(self, request: web.Request) -> web.StreamResponse:
        """The same node seen through an archival endpoint: nothing old is forgotten."""
        ARCHIVAL_VIEW.set(True)
        return await self.handle(request)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        too_large = errors.parse_error(f"request body exceeds {MAX_BODY_BYTES} bytes")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _jsonrpc(None, error=too_large)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # a chunked body that kept going
            return _jsonrpc(None, error=too_large)
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _jsonrpc(None, error=errors.parse_error(f"invalid JSON: {exc}"))
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return _jsonrpc(None, error=errors.parse_error("expected a JSON-RPC request object"))
        id_ = message.get("id")
        method = message["method"]
        params = message.get("params")
        wait = self.limiter.admit(request.remote or "", time.monotonic())
        if wait is not None:
            self.rate_limited[method] += 1
            return web.Response(
                status=429,
                text="Too Many Requests",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        self.requests[method] += 1
        if method in TX_METHODS:
            self._record_received(params)
        faults = self.faults.pick(method)
        lose = False
        for fault in faults:
            if fault.kind is FaultKind.LATENCY:
                await asyncio.sleep(fault.latency_s)
            elif fault.kind is FaultKind.DROP:
                return self._drop(request)
            elif fault.kind is FaultKind.HTTP_ERROR:
                return web.Response(status=fault.status, text="injected fault")
            elif fault.kind is FaultKind.TIMEOUT:
                if fault.applied and method in TX_METHODS:
                    await self._apply_quietly(params)
                return _jsonrpc(id_, error=errors.timeout_error())
            elif fault.kind is FaultKind.LOSE_RESPONSE:
                lose = True
        try:
            result = await dispatch(self.node, method, params)
            response = _jsonrpc(id_, result=result)
        except RpcError as exc:
            response = _jsonrpc(id_, error=exc)
        except Exception as exc:  # a node bug answers INTERNAL_ERROR; the node keeps serving
            response = _jsonrpc(id_, error=errors.internal_error(f"{type(exc).__name__}: {exc}"))
        if lose:
            return self._drop(request)
        return response

    def _record_received(self, params: Any) -> None:
        p = params if isinstance(params, dict) else {"signed_tx_base64": (params or [None])[0]}
        try:
            tx = decode_tx_param(p.get("signed_tx_base64"))
        except RpcError:
            return
        self.received_txs.setdefault(b58(tx.hash), tx.signer_id)

    async def _apply_quietly(self, params: Any) -> None:
        try:
            p = params if isinstance(params, dict) else {"signed_tx_base64": (params or [None])[0]}
            await self.node.submit(decode_tx_param(p.get("signed_tx_base64")))
        except Exception:
            pass  # a refused tx under a timeout fault is simply not applied

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)


class RunningDevnet:
    """A devnet serving on a background thread with its own event loop."""

    def __init__(self, devnet: Devnet, port: int) -> None:
        self.devnet = devnet
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._archival_runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="devnet", daemon=True)

    @property
    def rpc_url(self) -> str:
        return self.devnet.rpc_url

    @property
    def archival_url(self) -> str:
        """The same chain through an endpoint that never forgets (see ``set_retention``)."""
        return self.devnet.archival_url

    def set_rate_limit(self, rate_limit: RateLimit | str | None) -> None:
        self.devnet.set_rate_limit(rate_limit)

    def set_retention(self, blocks: int | None) -> None:
        self.devnet.set_retention(blocks)

    def set_tx_wait(self, seconds: float) -> None:
        self.devnet.set_tx_wait(seconds)

    def signed_by(self, signer_id: str) -> list[str]:
        return self.devnet.signed_by(signer_id)

    def settle(self, timeout: float = 30.0) -> None:
        """Return once everything sent has run and is final (tests read settled state)."""
        if not self.call(self.devnet.node.settle(timeout)):
            raise TimeoutError(f"the devnet did not settle within {timeout} s")

    def request_counts(self) -> dict[str, Any]:
        return self.devnet.request_counts()

    @property
    def manifest(self) -> dict[str, Any]:
        return self.devnet.manifest

    @property
    def state_dir(self) -> Path:
        return self.devnet.state_dir

    @property
    def faults(self) -> FaultController:
        return self.devnet.faults

    @property
    def runtime(self) -> Runtime:
        return self.devnet.runtime

    def start(self) -> RunningDevnet:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"devnet failed to start: {self._error}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("devnet did not start within 30 s")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._startup())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()
        self._stopped.set()

    async def _startup(self) -> None:
        self._runner, _ = await start_site(self.devnet, self._port)
        self._archival_runner = await start_archival_site(self.devnet)

    async def _shutdown(self) -> None:
        if self._archival_runner is not None:
            await self._archival_runner.cleanup()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.devnet.node.stop()

    def call(self, coro: Any) -> Any:
        """Run a coroutine on the node's loop (tests use it to reach the runtime safely)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> RunningDevnet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _bind(app: web.Application, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://127.0.0.1:{bound}"


async def start_archival_site(devnet: Devnet, port: int = 0) -> web.AppRunner:
    """Serve the archival view of the node (``devnet.archival_url``) on another port."""
    runner, devnet.archival_url = await _bind(devnet.app(archival=True), port)
    return runner


async def start_site(devnet: Devnet, port: int) -> tuple[web.AppRunner, str]:
    """Bind 127.0.0.1:port (0 = any free port), start the writer, write the manifest."""
    runner, url = await _bind(devnet.app(), port)
    devnet.node.start()
    devnet.write_manifest(url)
    return runner, url


def start_devnet(
    state_dir: Path,
    port: int = 0,
    genesis: Genesis | None = None,
    reset: bool = False,
    contracts: Mapping[str, type[Contract]] | None = None,
    rate_limit: RateLimit | str | None = None,
    history_blocks: int = DEFAULT_HISTORY_BLOCKS,
    block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S,
) -> RunningDevnet:
    """Start a node in this process on a background thread; stop it with ``.stop()``.
    It makes a block every ``block_interval_s`` while it has work (10 ms by default, so that
    tests and the demo wait little for receipts to run and blocks to become final)."""
    devnet = Devnet(
        Path(state_dir),
        genesis=genesis,
        reset=reset,
        contracts=contracts,
        rate_limit=rate_limit,
        history_blocks=history_blocks,
        block_interval_s=block_interval_s,
    )
    return RunningDevnet(devnet, port).start()


def serve_forever(
    state_dir: Path,
    port: int = 3030,
    reset: bool = False,
    genesis: GenesisChoice | None = None,
    rate_limit: str | None = None,
    block_interval_s: float = SERVED_BLOCK_INTERVAL_S,
    history_blocks: int = DEFAULT_HISTORY_BLOCKS,
) -> None:
    """Run a node in the foreground until Ctrl-C; ``genesis`` chooses the world of a new chain,
    ``rate_limit`` (e.g. "30/min") answers HTTP 429 beyond it per client IP,
    ``block_interval_s`` spaces its blocks, ``history_blocks`` is how many recent blocks'
    state queries by block still answer."""

    async def main() -> None:
        chosen = genesis_for(Path(state_dir), genesis, reset)
        devnet = Devnet(
            Path(state_dir),
            genesis=chosen,
            reset=reset,
            rate_limit=rate_limit,
            history_blocks=history_blocks,
            block_interval_s=block_interval_s,
        )
        runner, url = await start_site(devnet, port)
        print(f"devnet rpc: {url}", flush=True)
        print(
            f"blocks: every {block_interval_s:g} s while there is work; state kept for "
            f"queries by block: the last {history_blocks} blocks",
            flush=True,
        )
        if devnet.limiter.limit is not None:
            print(f"rate limit: {devnet.limiter.limit} per client IP (HTTP 429)", flush=True)
        print(f"manifest: {manifest_path(devnet.state_dir)}", flush=True)
        print(f"genesis: {GenesisChoice.of(devnet.genesis).describe()}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await devnet.node.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("devnet stopped", file=sys.stderr)
    except (OSError, ReplayError, GenesisChoiceError) as exc:  # port taken, bad journal...
        print(f"devnet cannot start: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
