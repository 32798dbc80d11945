"""Audit log throughput: durable appends per second (one by one and batched) and verify time.

Run by hand: ``python -m bench.audit_bench [--entries 1000000]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench import baseline
from memory.audit import AuditDraft, AuditKind, AuditLog, new_correlation_id


def _draft(i: int) -> AuditDraft:
    return AuditDraft(
        AuditKind.TX_OUTCOME,
        "scheduler",
        f"bench-{i // 8}",
        {
            "tx_hash": f"{i:044d}",
            "receiver_id": "v2.ref-finance.near",
            "amount_in": str(10**24 + i),
            "min_amount_out": str(4_950_000 + i),
            "status": "SuccessValue",
        },
        tool="swap",
        status="final",
    )


def bench_single(log: AuditLog, n: int) -> float:
    started = time.perf_counter()
    cid = new_correlation_id()
    for i in range(n):
        log.append(AuditKind.USER_MESSAGE, actor="user", correlation_id=cid, data={"i": i})
    return n / (time.perf_counter() - started)


def bench_batched(log: AuditLog, n: int, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, n, batch):
        log.append_many([_draft(i) for i in range(start, min(n, start + batch))])
    return n / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000, help="size of the verify run")
    parser.add_argument("--single", type=int, default=2_000, help="one-by-one appends to time")
    parser.add_argument("--batch", type=int, default=100, help="entries per append_many call")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        with AuditLog(Path(tmp) / "single.db") as log:
            rate = bench_single(log, args.single)
        print(f"durable appends, one per transaction: {rate:,.0f}/s ({args.single} entries)")

        with AuditLog(Path(tmp) / "batched.db") as log:
            rate = bench_batched(log, 50_000, args.batch)
        print(f"durable appends, batches of {args.batch}: {rate:,.0f}/s (50,000 entries)")

        with AuditLog(Path(tmp) / "big.db") as log:
            started = time.perf_counter()
            bench_batched(log, args.entries, 10_000)
            built = time.perf_counter() - started
            print(f"built {args.entries:,} entries in {built:.1f} s")
            started = time.perf_counter()
            report = log.verify()
            took = time.perf_counter() - started
            size = (Path(tmp) / "big.db").stat().st_size / 2**20
            print(f"verify {report.count:,} entries: {took:.2f} s (ok={report.ok}, {size:.0f} MiB)")
        baseline.emit(
            raw_commit_per_s=baseline.raw_commit_per_s(args.single, Path(tmp)),
            hash_per_s=baseline.hash_loop_per_s(200_000),
        )


if __name__ == "__main__":
    main()
