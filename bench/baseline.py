"""Baselines each benchmark measures in its own process and run, so its figures read as ratios.

On a shared machine a figure can move 4x between runs while its ratio to the same machine's bare
work (a raw commit, a hash loop, an interpreter start, an HTTP round-trip, an idle tick) moves far
less. A benchmark prints its baselines with :func:`emit` as one JSON line; ``bench.table`` divides.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit


def raw_commit_per_s(n: int, folder: Path | None = None) -> float:
    """The disk's bound: one-row SQLite commits with synchronous=FULL, nothing else."""
    from memory.db import connect

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        conn = connect(Path(tmp) / "raw.db").conn
        conn.execute("CREATE TABLE t (x INTEGER)")
        start = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (?)", (i,))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return n / elapsed


def hash_loop_per_s(n: int) -> float:
    """The CPU's bound: SHA-256 of a small JSON-sized message, in a bare Python loop."""
    message = b'{"kind":"transfer","receiver":"bob.near","amount":"1000000000000000000000000"}'
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for i in range(n):
        sha256(message + i.to_bytes(4, "little")).digest()
    return n / (time.perf_counter() - start)


def python_start_s(runs: int) -> float:
    """Median wall time of ``python -c pass``: what any command pays before importing anything."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def http_round_trips_per_s(rpc_url: str, seconds: float) -> float:
    """Sequential JSON-RPC ``status`` calls on one keep-alive connection: the node's bare cost."""
    url = urlsplit(rpc_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status", "params": []})
    headers = {"Content-Type": "application/json"}
    done = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            conn.request("POST", url.path or "/", body, headers)
            conn.getresponse().read()
            done += 1
    finally:
        conn.close()
    return done / (time.perf_counter() - start)


async def idle_tick_p99_ms(tick_s: float, seconds: float) -> float:
    """p99 lateness (ms) of an event loop waking every ``tick_s`` and doing nothing."""
    late: list[float] = []
    loop = asyncio.get_running_loop()
    due = loop.time() + tick_s
    end = loop.time() + seconds
    while due < end:
        await asyncio.sleep(max(0.0, due - loop.time()))
        late.append((loop.time() - due) * 1000)
        due += tick_s
    late.sort()
    return late[min(len(late) - 1, int(len(late) * 0.99))] if late else 0.0


def emit(**baselines: float) -> None:
    """Print the baselines as one JSON line of ``baseline_<name>`` figures."""
    print(json.dumps({f"baseline_{k}": round(v, 6) for k, v in baselines.items()}), flush=True)
