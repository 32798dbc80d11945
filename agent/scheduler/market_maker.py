"""Simulated market activity on the devnet: random swaps from the market maker's account.

Strategies that trigger on prices (limit orders, stop-loss, take-profit, rebalancing) need prices
that move. This loop sends real signed swaps from ``market.test.near`` through the devnet's own
JSON-RPC (the same tool layer the agent uses, without the agent's policy: the market maker is not
the user), each at most ``max_trade_near`` NEAR worth, in a background thread until stopped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# (sell, buy, whole tokens per NEAR of value, roughly): what the market maker trades
PAIRS: tuple[tuple[str, str, int], ...] = (
    ("NEAR", "USDC", 1),
    ("USDC", "NEAR", 3),
    ("NEAR", "REF", 1),
    ("REF", "NEAR", 6),
)


@dataclass
class MarketHandle:
    """The running loop: ``stop()`` ends it (and waits for the trade under way)."""

    thread: threading.Thread
    stopping: threading.Event
    trades: int = 0
    errors: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def _manifest_and_url(
    target: Any, manifest: dict[str, Any] | Path | str | None
) -> tuple[dict[str, Any] | Path, str | None]:
    if isinstance(manifest, str):
        manifest = Path(manifest)
    if isinstance(target, str):
        if manifest is None:
            raise ValueError("start_market needs the manifest when given an RPC URL")
        return manifest, target
    return (manifest if manifest is not None else target.manifest), target.rpc_url


def start_market(
    target: Any,
    manifest: dict[str, Any] | Path | str | None = None,
    *,
    seed: int | None = None,
    interval_s: float = 2.0,
    max_trade_near: int = 300,
    max_trades: int | None = None,
) -> MarketHandle:
    """Start random swaps every ``interval_s`` against a RunningDevnet or an RPC URL.

    ``seed`` makes the sequence of trades repeatable; ``max_trades`` ends the loop by itself.
    """
    if interval_s <= 0 or max_trade_near <= 0:
        raise ValueError("interval_s and max_trade_near must be positive")
    chosen_manifest, rpc_url = _manifest_and_url(target, manifest)
    started = time.time()
    stopping = threading.Event()
    handle = MarketHandle(threading.Thread(), stopping)

    def run() -> None:
        if isinstance(chosen_manifest, Path) and not _wait_for_manifest(
            chosen_manifest, started, stopping
        ):
            handle.errors.append(f"no fresh devnet manifest at {chosen_manifest}")
            return
        asyncio.run(
            _loop(
                handle,
                chosen_manifest,
                rpc_url,
                random.Random(seed),
                interval_s,
                max_trade_near,
                max_trades,
            )
        )

    handle.thread = threading.Thread(target=run, name="devnet-market", daemon=True)
    handle.thread.start()
    return handle


def _wait_for_manifest(
    path: Path, since: float, stopping: threading.Event, timeout_s: float = 60.0
) -> bool:
    """Started next to a node that is still booting: wait for the manifest it writes.

    A manifest older than ``since`` belongs to an earlier run (other keys, another port).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stopping.is_set():
        try:
            if path.stat().st_mtime >= since - 1:
                return True
        except OSError:
            pass
        stopping.wait(0.1)
    return False


async def _loop(
    handle: MarketHandle,
    manifest: dict[str, Any] | Path,
    rpc_url: str | None,
    rng: random.Random,
    interval_s: float,
    max_trade_near: int,
    max_trades: int | None,
) -> None:
    from tools import registry
    from tools.base import ToolContext
    from tools.errors import ToolError
    from tools.keys import load_credentials
    from tools.network import devnet_from_manifest

    network = devnet_from_manifest(manifest, rpc_url=rpc_url)
    body = manifest if isinstance(manifest, dict) else None
    account = (body or {}).get("market_account", "market.test.near")
    key_file = network.key_file_for(account)
    if key_file is None:
        handle.errors.append(f"no key for {account} in the manifest")
        return
    ctx = ToolContext.create(
        network, account, load_credentials(Path(key_file), account), max_slippage_bps=1_000
    )
    tools = registry.build_registry()
    try:
        while not handle.stopping.is_set():
            if max_trades is not None and handle.trades >= max_trades:
                break
            sell, buy, per_near = rng.choice(PAIRS)
            amount = str(rng.randint(1, max_trade_near) * per_near)
            args = {
                "token_in": sell,
                "token_out": buy,
                "amount_in": amount,
                "max_slippage_bps": 1_000,
            }
            try:
                action = await registry.prepare("swap", args, ctx, tools)
                await registry.execute(action, ctx, tools)
                handle.trades += 1
            except ToolError as exc:
                handle.errors.append(exc.message)
                log.warning("market maker swap failed: %s", exc.message)
            await asyncio.get_running_loop().run_in_executor(None, handle.stopping.wait, interval_s)
    finally:
        await ctx.aclose()
