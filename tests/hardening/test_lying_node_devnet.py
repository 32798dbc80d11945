"""A lying node between the agent and a real devnet: the agent never reports a lie as success.

The proxy forwards every request to the devnet and rewrites the final outcome of the submitted
transaction on its way back. The whole agent runs on top (planner, policy, executor, audit), so
this shows what a user would see: a failed step (or an unknown one), never "done" for an outcome
that does not prove success, and never an unhandled exception out of ``AgentSession.run``.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

import base58

from agent.home import Home
from agent.session import AgentSession
from agent.setup_home import write_config
from devnet.server import RunningDevnet
from tests.hardening.lying_proxy import LyingProxy

USER = "alice.test.near"
FAILED = {
    "Failure": {"ActionError": {"index": 0, "kind": {"AccountDoesNotExist": {"account_id": "bob"}}}}
}
Edit = Callable[[dict[str, Any]], None]


def failed_receipts(result: dict[str, Any]) -> None:
    for receipt in result.get("receipts_outcome") or []:
        receipt["outcome"]["status"] = FAILED


def garbage_value(result: dict[str, Any]) -> None:
    result["status"] = {"SuccessValue": "!!!not base64"}


def other_hash(result: dict[str, Any]) -> None:
    fake = base58.b58encode(bytes(range(32))).decode()
    result["transaction"]["hash"] = fake
    result["transaction_outcome"]["id"] = fake


def lying(edit: Edit) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def rewrite(envelope: dict[str, Any]) -> dict[str, Any]:
        envelope = copy.deepcopy(envelope)
        if isinstance(envelope.get("result"), dict):
            edit(envelope["result"])
        return envelope

    return rewrite


SUBMISSIONS = ("send_tx", "broadcast_tx_commit")


def run_through_liar(
    devnet: RunningDevnet, home: Home, edit: Edit, text: str, methods: tuple[str, ...] = SUBMISSIONS
) -> Any:
    async def body() -> Any:
        rewrite = lying(edit)
        proxy = LyingProxy(upstream=devnet.rpc_url, rewrites={m: rewrite for m in methods})
        async with proxy:
            manifest = json.loads((devnet.state_dir / "manifest.json").read_text())
            manifest["rpc_url"] = proxy.url
            copy_path = home.root / "manifest-via-proxy.json"
            copy_path.write_text(json.dumps(manifest))
            write_config(
                home, network="devnet", account_id=USER, devnet_manifest=copy_path, overwrite=True
            )
            session = await AgentSession.open(home)
            try:
                report = await session.run(text, confirm=lambda a, d: True)
                entries = session.audit.story(report.correlation_id)
                story = [(str(e.kind), e.status) for e in entries]
                return report, story, proxy.seen
            finally:
                await session.close()

    return asyncio.run(body())


def test_success_status_over_a_failed_receipt_is_a_failed_step(
    devnet: RunningDevnet, home: Home
) -> None:
    report, story, seen = run_through_liar(
        devnet, home, failed_receipts, "send 1 NEAR to bob.test.near"
    )
    assert "send_tx" in seen or "broadcast_tx_commit" in seen
    assert [s.status for s in report.steps] == ["failed"]
    assert ("tx_outcome", "failed") in story


def test_garbage_return_value_is_a_typed_failure(devnet: RunningDevnet, home: Home) -> None:
    report, story, _ = run_through_liar(devnet, home, garbage_value, "send 1 NEAR to bob.test.near")
    # the transaction was signed and journalled, so the executor cannot call it failed
    assert [s.status for s in report.steps] == ["unknown"]
    assert ("error", "unknown") in story


def test_outcome_of_another_transaction_is_not_done(devnet: RunningDevnet, home: Home) -> None:
    """The node lies on submission and on lookup: the step stays unknown, never done."""
    report, story, seen = run_through_liar(
        devnet, home, other_hash, "send 1 NEAR to bob.test.near", (*SUBMISSIONS, "tx")
    )
    assert "tx" in seen
    assert [s.status for s in report.steps] == ["unknown"]
    assert ("error", "unknown") in story


def test_outcome_of_another_transaction_is_looked_up_by_hash(
    devnet: RunningDevnet, home: Home
) -> None:
    """Only the submission lies: the real outcome, found by the signed hash, is reported."""
    report, _, seen = run_through_liar(devnet, home, other_hash, "send 1 NEAR to bob.test.near")
    assert "tx" in seen
    assert [s.status for s in report.steps] == ["done"]
    fake = base58.b58encode(bytes(range(32))).decode()
    result = report.steps[0].result
    assert result is not None and result.ok and len(result.tx_hashes) == 1
    assert result.tx_hashes[0] != fake
