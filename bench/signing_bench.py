"""Parallel signing: N independent transfers from one account with a key pool of K keys.

Run by hand: ``python -m bench.signing_bench [--transfers 32] [--pools 1 2 4 8]
[--block-interval 0.2] [--json]``. The node runs in a separate process with blocks every
``--block-interval`` seconds while it has work (as a real chain has a block time), so a transfer
waited to finality takes a few blocks whatever the machine. All N transfers are sent at once
through the agent's own ChainClient and NonceLedger (one in flight per key, the ledger shared as
across processes), signed by a pool of the account's first K full-access keys. K = 1 is the
baseline, measured in the same run: the speed-up at K is its wall time over K's. Also printed,
and required to be 0: nonces the node refused, transfers that failed, tx hashes seen twice, and
the receiver's balance off from N transfers landing exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SENDER = "alice.test.near"
RECEIVER = "bob.test.near"
MILLI_NEAR = 10**21


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(
    state_dir: Path, block_interval_s: float
) -> tuple[dict[str, Any], Callable[[], None]]:
    """A devnet in its own process (the client's work never slows its blocks); its manifest."""
    port = _free_port()
    code = (
        "from pathlib import Path; from devnet.server import serve_forever; "
        f"serve_forever(Path({str(state_dir)!r}), port={port}, reset=True, "
        f"block_interval_s={block_interval_s!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        proc.wait(10)

    manifest_file = state_dir / "manifest.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the node's own process: nothing to await but its file
        if manifest_file.exists():
            manifest = json.loads(manifest_file.read_text())
            if manifest.get("rpc_url", "").endswith(f":{port}"):
                return manifest, stop
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop()
    raise RuntimeError("the devnet did not start")


def counting_ledger(folder: Path) -> Any:
    """The agent's NonceLedger, counting the nonces the node refused (each one ``advance``)."""
    from tools.nonce_ledger import NonceKey, NonceLedger

    class Counting(NonceLedger):
        refused = 0

        def advance(self, key: NonceKey, used: int) -> None:
            type(self).refused += 1
            super().advance(key, used)

    return Counting(folder)


async def add_pool_keys(chain: Any, main: Any, count: int) -> list[Any]:
    """``count`` more full-access keys on the sender, in one transaction (as ``keys pool add``)."""
    from tools.keypair import KeyPair
    from tools.keys import Credentials
    from tools.signing import FullAccessKeyGrant, KeyTransaction

    pairs = [KeyPair.generate() for _ in range(count)]
    spec = KeyTransaction(
        signer_id=SENDER, add=tuple(FullAccessKeyGrant(p.public_key) for p in pairs)
    )
    await chain.send(main, spec)
    return [Credentials(SENDER, p) for p in pairs]


async def run_transfers(chain: Any, signer: Any, n: int, amount: int) -> dict[str, Any]:
    """Send ``n`` transfers at once with ``signer``; wall time, hashes, failures."""
    from tools.action import TransactionSpec, TransferSpec

    spec = TransactionSpec(
        signer_id=SENDER, receiver_id=RECEIVER, actions=(TransferSpec(deposit=amount),)
    )
    before = (await chain.near_balance(RECEIVER))["total"]
    start = time.perf_counter()
    results = await asyncio.gather(
        *(chain.send(signer, spec) for _ in range(n)), return_exceptions=True
    )
    wall = time.perf_counter() - start
    outcomes = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors[:3]:
        print(f"  transfer failed: {error!r}", file=sys.stderr)
    hashes = [o.tx_hash for o in outcomes]
    after = (await chain.near_balance(RECEIVER))["total"]
    return {
        "wall_s": wall,
        "failed": len(errors) + sum(1 for o in outcomes if not o.ok),
        "duplicate_hashes": len(hashes) - len(set(hashes)),
        "balance_off_units": abs((after - before) - n * amount),
    }


async def bench(rpc_url: str, key_file: str, pools: list[int], n: int, state: Path) -> dict:
    from tools.chain import ChainClient
    from tools.key_pool import KeyPool
    from tools.keys import load_credentials

    ledger = counting_ledger(state)
    chain = ChainClient(rpc_url, nonces=ledger, timeout_s=30)
    try:
        main = load_credentials(Path(key_file), SENDER)
        extra = await add_pool_keys(chain, main, max(pools) - 1) if max(pools) > 1 else []
        keys = [main, *extra]
        await run_transfers(chain, main, 1, MILLI_NEAR)  # warm: connections, first block
        figures: dict[str, float] = {}
        for k in pools:
            refused_before = ledger.refused
            signer = KeyPool(tuple(keys[:k])) if k > 1 else main
            done = await run_transfers(chain, signer, n, MILLI_NEAR)
            figures[f"wall_s_at_{k}"] = round(done["wall_s"], 4)
            figures[f"nonce_errors_at_{k}"] = ledger.refused - refused_before
            figures[f"failed_at_{k}"] = done["failed"]
            figures[f"duplicate_sends_at_{k}"] = done["duplicate_hashes"]
            figures[f"balance_off_at_{k}"] = done["balance_off_units"]
        base = figures[f"wall_s_at_{pools[0]}"]
        for k in pools:
            figures[f"speedup_at_{k}"] = round(base / figures[f"wall_s_at_{k}"], 3)
        return figures
    finally:
        await chain.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=32)
    parser.add_argument("--pools", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--block-interval", type=float, default=0.2, help="seconds per block")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pools = sorted(set(args.pools))
    if pools[0] != 1:
        parser.error("--pools must include 1: the baseline of the same run")
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        manifest, stop = start_node(Path(tmp) / "devnet", args.block_interval)
        try:
            sender = next(a for a in manifest["accounts"] if a["account_id"] == SENDER)
            figures = asyncio.run(
                bench(manifest["rpc_url"], sender["key_file"], pools, args.transfers, Path(tmp))
            )
        finally:
            stop()
    figures["baseline_wall_s_one_key"] = figures["wall_s_at_1"]
    print(
        f"{args.transfers} transfers at once, blocks every {args.block_interval:g} s, "
        "one ChainClient and NonceLedger"
    )
    print(
        f"{'keys':>5} {'wall s':>8} {'speed-up':>9} {'nonce errors':>13} {'failed':>7} "
        f"{'dup sends':>10} {'balance off':>12}"
    )
    for k in pools:
        print(
            f"{k:>5} {figures[f'wall_s_at_{k}']:>8.2f} {figures[f'speedup_at_{k}']:>8.2f}x "
            f"{figures[f'nonce_errors_at_{k}']:>13} {figures[f'failed_at_{k}']:>7} "
            f"{figures[f'duplicate_sends_at_{k}']:>10} {figures[f'balance_off_at_{k}']:>12}"
        )
    if args.json:
        print(json.dumps(figures))
    bad = [
        name
        for name, value in figures.items()
        if name.split("_at_")[0] in ("nonce_errors", "failed", "duplicate_sends", "balance_off")
        and value
    ]
    if bad:
        print(f"NOT CLEAN: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
