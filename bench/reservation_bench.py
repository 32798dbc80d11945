"""Reservations from several processes on one budget: ``python -m bench.reservation_bench``.

Each of 1, 2, 4 and 8 processes reserves the same transfer over and over, all on one grant
whose window admits only part of what they ask for, as a scheduler daemon and several ``do``
runs of one home would. Prints, per process count, the p99 and median latency of one
``PolicyEngine.reserve`` (decided and committed, ``synchronous=FULL``), the total rate and the
overspend (what was reserved beyond the window: must be 0). The baseline is one raw durable
commit on the same disk in the same run. Target: p99 under 20 ms at 8 processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baseline

PROCESSES = (1, 2, 4, 8)
YOCTO = 10**24


def _grants(budget_near: int) -> dict[str, Any]:
    from bench.policy_bench import BOB

    return {
        "grants": [
            {
                "id": "pay",
                "expires_at": "2030-01-01T00:00:00Z",
                "kinds": ["transfer"],
                "tokens": ["NEAR"],
                "recipients": [BOB],
                "per_action": {"NEAR": "5"},
                "windows": [{"token": "NEAR", "amount": str(budget_near), "period": "24h"}],
                "rate_limit": {"count": 1_000_000, "period": "1h"},
            }
        ]
    }


def _make_store(db: Path, budget_near: int) -> None:
    from policies.engine import to_us
    from policies.grants import parse_grants
    from policies.store import GrantBook

    policy = parse_grants(_grants(budget_near))
    book = GrantBook(db)
    book.add({g.id: g.body_json() for g in policy.grants}, None, now_us=to_us(datetime.now(UTC)))
    book.close()


def _worker(db: str, rounds: int, start: Any, out: Any) -> None:
    """One process: wait for the others, then reserve ``rounds`` times, timing each call."""
    from bench.policy_bench import FACTS, StaticPrices, sample_actions
    from policies.engine import PolicyEngine

    prices = StaticPrices()
    engine = PolicyEngine(db, facts=FACTS, prices=prices, quotes=prices)
    action = sample_actions()[0]  # 1 NEAR to bob
    engine.dry_run(action)  # warm: grants read, statements prepared
    start.wait()
    latencies: list[float] = []
    allowed = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        decision = engine.reserve(action)
        latencies.append(time.perf_counter() - t0)
        allowed += decision.reservation_id is not None
    engine.close()
    out.put((latencies, allowed))


def run(processes: int, rounds: int, folder: Path) -> dict[str, float]:
    """``processes`` workers of ``rounds`` reservations each, on a budget for 3/4 of them."""
    db = folder / f"policy-{processes}.db"
    budget_near = max(1, processes * rounds * 3 // 4)  # 1 NEAR each: the window runs out
    _make_store(db, budget_near)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    out = context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(db), rounds, start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    results = [out.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    allowed = sum(a for _, a in results)
    return {
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "p50_ms": statistics.median(latencies) * 1000,
        "per_s": len(latencies) / elapsed,
        "overspend_near": max(0, allowed - budget_near),
        "allowed": allowed,
        "budget": budget_near,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400, help="reservations per process")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rounds = 120 if args.quick else args.rounds
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = {n: run(n, rounds, folder) for n in PROCESSES}
        raw_commit_ms = 1000 / baseline.raw_commit_per_s(200 if args.quick else 1000, folder)
    for n, row in rows.items():
        figures[f"reserve_p99_ms_at_{n}"] = round(row["p99_ms"], 3)
        figures[f"reserve_per_s_at_{n}"] = round(row["per_s"], 1)
        figures[f"overspend_near_at_{n}"] = row["overspend_near"]
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"reservations on one budget, {rounds} per process (synchronous=FULL):")
        print("  procs   p50 ms   p99 ms   reserves/s   allowed/budget   overspend")
        for n, row in rows.items():
            print(
                f"  {n:>5} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['per_s']:12,.0f}"
                f"   {row['allowed']:>6}/{row['budget']:<7} {row['overspend_near']:>9}"
            )
    baseline.emit(raw_commit_ms=raw_commit_ms)


if __name__ == "__main__":
    main()
