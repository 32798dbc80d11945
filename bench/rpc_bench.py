"""RPC requests per swap on a mainnet-shaped devnet: cold (a new home) and warm (a later process).

Run by hand: ``python -m bench.rpc_bench [--pools 5000] [--warm 3] [--json]``. A devnet with
mainnet's names and ``--pools`` exchange pools (devnet/genesis_mainnet.py) runs in this process,
so that every request it answers, from whichever process, is counted; each swap is a separate
``near-agent do "swap 1 NEAR to USDC" --yes`` process, as a user runs it. Baselines measured in
the same run: what reading every pool once costs on this devnet (the old way, twice per swap).
Then the devnet answers like a public endpoint (30 requests a minute, HTTP 429 beyond) and warm
swaps run one after another: how many complete in a row, and how long the first takes.
Request counts do not depend on the machine's speed; times are medians and only illustrate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

INTENT = "swap 1 NEAR to USDC"
USER = "alice.near"
RATE_LIMIT = "30/min"  # the deprecated public endpoints' documented limit
LIMITED_SWAPS = 3


def grants_yaml(manifest: dict[str, Any], expires_at: datetime) -> str:
    """A swap grant for the mainnet-shaped devnet's user (its ids are mainnet's)."""
    tokens = {t["symbol"]: t for t in manifest["tokens"]}
    when = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""tokens:
  wNEAR: {{contract_id: {tokens["wNEAR"]["contract_id"]}, decimals: 24}}
  USDC: {{contract_id: {tokens["USDC"]["contract_id"]}, decimals: 6}}
grants:
  - id: bench-swaps
    expires_at: {when}
    kinds: [swap]
    tokens: [NEAR, wNEAR, USDC]
    exchanges: [{manifest["exchange"]["contract_id"]}]
    per_action_usd: "50"
    max_slippage_bps: 100
"""


@contextmanager
def counting(node: Any) -> Iterator[Counter[str]]:
    """Count every request the node answers while the block runs, by method (views by name)."""
    original = dict(node.methods)
    counts: Counter[str] = Counter()

    def wrap(method: str, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        async def counted(params: Any) -> Any:
            name = method
            if method == "query" and isinstance(params, dict):
                kind = params.get("request_type")
                name = f"query:{kind}"
                if kind == "call_function":
                    name = f"view:{params.get('method_name')}"
            counts[name] += 1
            return await handler(params)

        return counted

    node.methods.update({m: wrap(m, h) for m, h in original.items()})
    try:
        yield counts
    finally:
        node.methods.update(original)


def agent(home: Path, *args: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "agent", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def _reason(output: str) -> str:
    """The line that says why a command stopped (not the pointer to its audit entry)."""
    lines = [line for line in output.strip().splitlines() if not line.startswith("(audit")]
    return lines[-1] if lines else "no output"


def full_scan_requests(rpc_url: str, exchange: str) -> int:
    """Requests to read every pool once, as every swap did twice before the pool index."""
    from tools.chain import ChainClient
    from tools.routing import fetch_pools

    async def scan() -> int:
        chain = ChainClient(rpc_url)
        try:
            return len(await fetch_pools(chain, exchange))
        finally:
            await chain.close()

    return asyncio.run(scan())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=5000)
    parser.add_argument("--warm", type=int, default=3, help="warm swaps (median reported)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from agent.home import Home
    from agent.setup_home import write_config
    from devnet.genesis_mainnet import build_mainnet_genesis
    from devnet.server import start_devnet

    root = Path(tempfile.mkdtemp(prefix="near-agent-rpc-bench-"))
    os.environ["NEAR_AGENT_STATE"] = str(root / "state")
    started = time.perf_counter()
    node = start_devnet(root / "devnet", genesis=build_mainnet_genesis(args.pools), reset=True)
    startup_s = time.perf_counter() - started
    figures: dict[str, float] = {}
    try:
        manifest = node.manifest
        home = Home(root / "home")
        write_config(
            home,
            network="devnet",
            account_id=USER,
            devnet_manifest=node.state_dir / "manifest.json",
        )
        grants = root / "grants.yaml"
        grants.write_text(grants_yaml(manifest, datetime.now(UTC) + timedelta(days=1)))
        code, out, _ = agent(home.root, "grants", "add", str(grants))
        if code != 0:
            print(f"grants add failed ({code}):\n{out}", file=sys.stderr)
            return 1
        runs: list[tuple[str, int, float, Counter[str]]] = []
        for label in ("cold", *("warm" for _ in range(args.warm))):
            with counting(node.devnet.node) as counts:
                code, out, took = agent(home.root, "do", INTENT, "--yes")
            if code != 0:
                print(f"{label} swap failed ({code}):\n{out}", file=sys.stderr)
                return 1
            runs.append((label, sum(counts.values()), took, counts))
            print(
                f"{label}: {sum(counts.values())} requests in {took:.2f} s: "
                f"{dict(sorted(counts.items()))}",
                file=sys.stderr,
            )
        warm = [r for r in runs if r[0] == "warm"]
        figures["cold_requests_per_swap"] = float(runs[0][1])
        figures["warm_requests_per_swap"] = float(statistics.median(r[1] for r in warm))
        figures["warm_swap_s"] = statistics.median(r[2] for r in warm)
        # the public endpoint's limit, a fresh window: swaps one after another until one would
        # need a longer wait than the agent accepts (rpc.max_retry_after_s, 30 s by default)
        node.set_rate_limit(RATE_LIMIT)
        limited: list[tuple[int, float, int]] = []
        for _ in range(LIMITED_SWAPS):
            before = node.request_counts()
            code, out, took = agent(home.root, "do", INTENT, "--yes")
            after = node.request_counts()
            refused = sum(after["rate_limited"].values()) - sum(before["rate_limited"].values())
            limited.append((code, took, refused))
            print(
                f"at {RATE_LIMIT}: exit {code} in {took:.2f} s, {refused} answered 429"
                + ("" if code == 0 else f": {_reason(out)}"),
                file=sys.stderr,
            )
        node.set_rate_limit(None)
        figures["swaps_through_30_per_min"] = float(
            next((i for i, run in enumerate(limited) if run[0] != 0), len(limited))
        )
        figures["first_swap_at_30_per_min_s"] = limited[0][1]
        with counting(node.devnet.node) as counts:
            read = full_scan_requests(node.rpc_url, manifest["exchange"]["contract_id"])
        figures["pools"] = float(read)
        figures["full_scan_requests"] = float(sum(counts.values()))
        figures["warm_vs_old_swap"] = figures["warm_requests_per_swap"] / (
            2 * figures["full_scan_requests"]
        )
        figures["devnet_start_s"] = startup_s
    finally:
        node.stop()
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name}: {value:,.3f}" if isinstance(value, float) else f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
