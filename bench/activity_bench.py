"""The activity view on a big log: one page of intents (``list_activity``) on 100,000 entries.

Run by hand: ``python -m bench.activity_bench [--entries 100000] [--repeats 7] [--json]``. The
log holds intents of eight entries each (message, plan, prepared, two checks, tx, outcome, one
denied in five); figures are medians of the repeats, each beside a same-run baseline: one raw
``SELECT`` of the newest 50 entries' bodies. The first call builds the activity index (timed on
its own); later calls only catch up. Target: a page in under 200 ms. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from memory.audit import AuditDraft, AuditKind, AuditLog
from memory.audit.activity import ActivityFilter, list_activity

_TX = "3CVf6bKodhKZ5QfoHa93fAVYkzayNbxFu477Vhaz8f"


def _intent(n: int) -> list[AuditDraft]:
    cid = f"{n:032x}"
    denied = n % 5 == 0
    amount = str((n % 9 + 1) * 10**23)
    action = {
        "preview": f"Send 0.{n % 9 + 1} NEAR to bob.near",
        "outflows": [{"token": "near", "amount": amount, "purpose": "transfer"}],
    }
    decision: dict[str, object] = {
        "outcome": "deny" if denied else "allow",
        "trace": [],
        "reasons": [],
    }
    drafts = [
        AuditDraft(AuditKind.USER_MESSAGE, "user", cid, {"text": f"send 0.{n % 9 + 1} NEAR"}),
        AuditDraft(AuditKind.PLAN, "user", cid, {"steps": []}, None, "ok"),
        AuditDraft(AuditKind.ACTION_PREPARED, "user", cid, {"action": action}, "transfer"),
        AuditDraft(AuditKind.POLICY_DECISION, "user", cid, decision, "transfer", "allow"),
    ]
    if denied:
        drafts.append(
            AuditDraft(AuditKind.POLICY_DECISION, "user", cid, decision, "transfer", "deny")
        )
        return drafts
    result = {"tx_hashes": [f"{_TX}{n:02d}"[:44]], "balance_changes": {"near": f"-{amount}"}}
    return drafts + [
        AuditDraft(AuditKind.POLICY_DECISION, "user", cid, decision, "transfer", "allow"),
        AuditDraft(AuditKind.TX_SUBMITTED, "user", cid, {"tx_hash": f"{_TX}{n}"}, "transfer"),
        AuditDraft(AuditKind.TX_OUTCOME, "user", cid, {"result": result}, "transfer", "ok"),
    ]


def build(path: Path, entries: int) -> int:
    written, n = 0, 0
    with AuditLog(path) as log:
        while written < entries:
            batch: list[AuditDraft] = []
            while len(batch) < 5_000 and written + len(batch) < entries:
                batch += _intent(n)
                n += 1
            log.append_many(batch[: entries - written])
            written += len(batch[: entries - written])
    return n


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="figures as one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        intents = build(path, args.entries)
        started = time.perf_counter()
        list_activity(path, limit=50)
        index_s = time.perf_counter() - started

        def raw() -> None:
            conn = sqlite3.connect(str(path))
            conn.execute("SELECT body FROM entries ORDER BY id DESC LIMIT 50").fetchall()
            conn.close()

        figures = {
            "entries": args.entries,
            "intents": intents,
            "index_build_s": index_s,
            "page_ms": _median_ms(lambda: list_activity(path, limit=50), args.repeats),
            "denied_page_ms": _median_ms(
                lambda: list_activity(path, ActivityFilter(outcome="denied"), limit=50),
                args.repeats,
            ),
            "deep_page_ms": _median_ms(
                lambda: list_activity(path, limit=50, before_cursor=str(args.entries // 2)),
                args.repeats,
            ),
            "search_ms": _median_ms(
                lambda: list_activity(path, ActivityFilter(text="0.7 near"), limit=50),
                args.repeats,
            ),
            "baseline_raw_select_ms": _median_ms(raw, args.repeats),
        }
    if args.json:
        print(json.dumps(figures))
        return
    base = figures["baseline_raw_select_ms"]
    print(f"{figures['entries']:,} entries, {figures['intents']:,} intents")
    print(f"index built on first read: {figures['index_build_s']:.2f} s")
    for name in ("page_ms", "denied_page_ms", "deep_page_ms", "search_ms"):
        ratio = figures[name] / base if base else float("nan")
        print(f"{name}: {figures[name]:.2f} ms ({ratio:.1f}x raw select; target < 200 ms)")
    print(f"baseline_raw_select_ms: {base:.2f} ms")


if __name__ == "__main__":
    main()
