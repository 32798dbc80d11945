"""The agent's own overhead per intent, and the CLI's cold start: ``python -m bench.agent_bench``.

Overhead is plan -> prepare -> evaluate -> audit with the chain's time taken out: every JSON-RPC
round trip the tool layer makes during prepare is timed and subtracted, so what remains is this
project's code (planner, token and route arithmetic, the canonical action, the policy rules, the
durable audit appends: one commit for the run's entries, as the executor writes them). No model
is involved (the offline planner). Target: at most 1.5x one raw durable commit per intent.

With strace installed it also counts the fsyncs of one real ``near-agent do "swap 1 NEAR to
USDC" --yes`` against the same devnet (target: at most 8).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import baseline

INTENTS = ("send 1 NEAR to bob", "swap 1 NEAR to USDC", "label task 2 item 1 as hello")
SWAP = "swap 1 NEAR to USDC"


async def _overhead(rounds: int) -> dict[str, float]:
    from agent.demo import demo_grants
    from agent.grant_changes import give_grants
    from agent.home import Home
    from agent.session import AgentSession
    from agent.setup_home import write_config
    from devnet.server import start_devnet
    from memory.audit import AuditDraft, AuditKind, AuditLog, new_correlation_id, prepare_draft
    from tools import registry

    root = Path(tempfile.mkdtemp(prefix="near-agent-bench-"))
    home = Home(root)
    node = start_devnet(home.devnet_dir, port=0, reset=True)
    try:
        write_config(home, network="devnet", account_id="alice.test.near")
        (root / "grants.yaml").write_text(demo_grants(datetime.now(UTC) + timedelta(days=1)))
        session = await AgentSession.open(home)
        with AuditLog(home.audit_db) as audit:  # the user's `grants add grants.yaml`
            give_grants(home, home.root / "grants.yaml", audit)
        session.contacts.add("bob", "bob.test.near")
        chain_time = 0.0
        original = session.ctx.chain.rpc_once

        async def timed_rpc(method: str, params: Any, *, transport: Any = None) -> Any:
            nonlocal chain_time
            start = time.perf_counter()
            try:
                return await original(method, params, transport=transport)
            finally:
                chain_time += time.perf_counter() - start

        session.ctx.chain.rpc_once = timed_rpc  # type: ignore[method-assign]
        await session.feed.refresh(session.ctx)
        stages: dict[str, list[float]] = {"plan": [], "prepare": [], "evaluate": [], "audit": []}
        for index in range(rounds):
            text = INTENTS[index % len(INTENTS)]
            t0 = time.perf_counter()
            plan = await session.plan(text)
            t1 = time.perf_counter()
            chain_time = 0.0
            action = await registry.prepare(plan.steps[0].tool, plan.steps[0].args, session.ctx)
            t2 = time.perf_counter()
            prepare = (t2 - t1) - chain_time
            decision = session.policy.dry_run(action)
            t3 = time.perf_counter()
            cid = new_correlation_id()
            drafts = [  # staged as the executor stages them, then one commit
                prepare_draft(AuditDraft(kind, "user", cid, data))
                for kind, data in (
                    (AuditKind.USER_MESSAGE, {"text": text}),
                    (AuditKind.PLAN, plan.to_json_dict()),
                    (AuditKind.ACTION_PREPARED, {"action": action}),
                    (AuditKind.POLICY_DECISION, decision.to_dict()),
                )
            ]
            session.audit.append_many(drafts)
            t4 = time.perf_counter()
            stages["plan"].append(t1 - t0)
            stages["prepare"].append(prepare)
            stages["evaluate"].append(t3 - t2)
            stages["audit"].append(t4 - t3)
        await session.close()
        syncs = _syncs_per_swap(root)
    finally:
        node.stop()
    medians = {name: statistics.median(values) * 1000 for name, values in stages.items()}
    per_intent = [sum(values) for values in zip(*stages.values(), strict=True)]
    medians["total"] = statistics.median(per_intent) * 1000
    medians["total_p95"] = sorted(per_intent)[int(len(per_intent) * 0.95) - 1] * 1000
    if syncs is not None:
        medians["syncs_per_swap"] = syncs
    return medians


def _syncs_per_swap(home: Path) -> float | None:
    """fsync and fdatasync calls of one ``do`` of a swap, as a user runs it (None: no strace)."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    command = [sys.executable, "-m", "agent", "--home", str(home), "do", SWAP, "--yes"]
    subprocess.run(command, check=True, capture_output=True)  # every file exists afterwards
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.txt"
        traced = [strace, "-f", "-e", "trace=fsync,fdatasync", "-o", str(trace), *command]
        if subprocess.run(traced, capture_output=True).returncode != 0:
            return None
        return float(len(re.findall(r"\b(?:fsync|fdatasync)\(", trace.read_text())))


def _cold_start(runs: int) -> float:
    """Median wall time of ``near-agent --help`` in a fresh interpreter, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "agent", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150, help="intents to time")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rounds = 30 if args.quick else args.rounds
    stages = asyncio.run(_overhead(rounds))
    cold = _cold_start(3 if args.quick else 7)
    figures = {
        "overhead_ms_per_intent": round(stages["total"], 3),
        "overhead_ms_p95": round(stages["total_p95"], 3),
        **{
            f"{name}_ms": round(stages[name], 3)
            for name in ("plan", "prepare", "evaluate", "audit")
        },
        "cli_cold_start_s": round(cold, 3),
    }
    if "syncs_per_swap" in stages:
        figures["syncs_per_swap"] = stages["syncs_per_swap"]
    raw_commit_ms = 1000 / baseline.raw_commit_per_s(100 if args.quick else 500)
    python_start = baseline.python_start_s(3 if args.quick else 7)
    if args.json:
        print(json.dumps(figures))
        baseline.emit(raw_commit_ms=raw_commit_ms, python_start_s=python_start)
        return
    print(f"agent overhead per intent (median of {rounds}, chain time excluded):")
    for name in ("plan", "prepare", "evaluate", "audit"):
        print(f"  {name:<9} {stages[name]:8.3f} ms")
    print(
        f"  total     {stages['total']:8.3f} ms   (p95 {stages['total_p95']:.3f} ms; target < 5 ms)"
    )
    print(f"near-agent --help cold start: {cold:.3f} s (median; target < 0.5 s)")
    if "syncs_per_swap" in stages:
        print(f"fsyncs of one `do` of a swap: {stages['syncs_per_swap']:.0f} (target <= 8)")
    baseline.emit(raw_commit_ms=raw_commit_ms, python_start_s=python_start)


if __name__ == "__main__":
    main()
