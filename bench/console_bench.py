"""The console's activity page over a large audit log: server time to render it.

Run by hand: ``python -m bench.console_bench [--entries 100000] [--json]``. The app is called
directly as ASGI (no socket, no browser), so the figure is the server's own time: the guard,
the activity query (``memory.audit.activity.list_activity``) and the template. The first render
also catches the activity index up with the whole log (shown apart); the figure is the median of
the warm renders after it. The baseline is the same page over an empty log, in the same process.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.home import Home
from bench import baseline
from memory.audit import AuditDraft, AuditKind, AuditLog

HOST = "127.0.0.1:8737"
TOKEN = "bench-token"


def _intent(i: int) -> list[AuditDraft]:
    """One user intent as the executor records it: message, plan, decision, tx, outcome."""
    cid = f"bench-intent-{i:08d}"
    tx = f"{i:044d}"
    return [
        AuditDraft(AuditKind.USER_MESSAGE, "user", cid, {"text": f"swap {i % 7 + 1} NEAR to USDC"}),
        AuditDraft(
            AuditKind.PLAN,
            "user",
            cid,
            {"planner": "offline", "steps": [{"tool": "swap", "args": {"amount_in": "1"}}]},
        ),
        AuditDraft(
            AuditKind.POLICY_DECISION,
            "user",
            cid,
            {"decision": "allow", "reasons": [], "trace": []},
            tool="swap",
            status="allow",
        ),
        AuditDraft(
            AuditKind.TX_SUBMITTED,
            "user",
            cid,
            {"tx_hash": tx, "receiver_id": "exchange.test.near"},
            tool="swap",
        ),
        AuditDraft(
            AuditKind.TX_OUTCOME,
            "user",
            cid,
            {"tx_hash": tx, "status": "SuccessValue"},
            tool="swap",
            status="done",
        ),
    ]


def build_log(path: Path, entries: int) -> None:
    per = len(_intent(0))
    with AuditLog(path) as log:
        batch: list[AuditDraft] = []
        for i in range(entries // per):
            batch.extend(_intent(i))
            if len(batch) >= 10_000:
                log.append_many(batch)
                batch = []
        if batch:
            log.append_many(batch)


async def _get(app: Any, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", HOST.encode()), (b"cookie", f"near_agent_console={TOKEN}".encode())],
        "client": None,  # an in-process call: no connection whose owner could be read
        "server": ("127.0.0.1", 8737),
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


def render_ms(app: Any, path: str) -> float:
    started = time.perf_counter()
    status, body = asyncio.run(_get(app, path))
    took = (time.perf_counter() - started) * 1000
    if status != 200 or b"<table" not in body:
        raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
    return took


def measure(home: Home, repeats: int) -> tuple[float, float]:
    """(first render ms, median warm render ms) of /activity for ``home``."""
    from agent.console.app import build_app
    from agent.console.security import allowed_hosts

    app = build_app(home, token=TOKEN, hosts=allowed_hosts("127.0.0.1", 8737))
    first = render_ms(app, "/activity")
    warm = [render_ms(app, "/activity") for _ in range(repeats)]
    return first, statistics.median(warm)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000, help="audit log entries")
    parser.add_argument("--repeats", type=int, default=15, help="warm renders (median shown)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        empty, big = Home(Path(tmp) / "empty"), Home(Path(tmp) / "big")
        for home in (empty, big):
            home.root.mkdir(parents=True)
        started = time.perf_counter()
        build_log(big.audit_db, args.entries)
        with AuditLog(big.audit_db) as log:
            count = log.head().count
        print(f"built an audit log of {count:,} entries in {time.perf_counter() - started:.1f} s")
        AuditLog(empty.audit_db).close()
        _, base_ms = measure(empty, repeats)
        first_ms, page_ms = measure(big, repeats)
        print(f"activity page, first render (index caught up): {first_ms:.1f} ms")
        print(
            f"activity page, {count:,} entries: {page_ms:.1f} ms server time (median of {repeats})"
        )
        print(f"activity page, empty log (baseline): {base_ms:.1f} ms")
        if args.json:
            print(
                json.dumps(
                    {
                        "activity_page_ms": round(page_ms, 2),
                        "activity_first_render_ms": round(first_ms, 2),
                        "audit_entries": count,
                        "baseline_empty_page_ms": round(base_ms, 2),
                    }
                )
            )
        baseline.emit(hash_per_s=baseline.hash_loop_per_s(200_000))


if __name__ == "__main__":
    main()
