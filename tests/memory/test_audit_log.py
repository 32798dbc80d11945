from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from memory.audit import (
    AuditDraft,
    AuditKind,
    AuditLog,
    AuditPayloadError,
    Head,
    new_correlation_id,
)
from memory.audit.canonical import GENESIS_HASH, chain_hash


def _intent(log: AuditLog, cid: str) -> None:
    log.append(
        AuditKind.USER_MESSAGE,
        actor="user",
        correlation_id=cid,
        data={"text": "swap 5 NEAR to USDC"},
    )
    log.append(
        AuditKind.PLAN,
        actor="system",
        correlation_id=cid,
        data={"steps": [{"tool": "swap", "args": {"token_in": "NEAR", "amount_in": "5"}}]},
    )
    log.append(
        AuditKind.POLICY_DECISION,
        actor="system",
        correlation_id=cid,
        tool="swap",
        status="allow",
        data={
            "decision": "allow",
            "grant_version": 3,
            "reservation": {"token": "near", "amount": str(5 * 10**24)},
        },
    )
    log.append(
        AuditKind.TX_SUBMITTED,
        actor="system",
        correlation_id=cid,
        tool="swap",
        status="submitted",
        data={"tx_hash": "9xQ"},
    )
    log.append(
        AuditKind.TX_OUTCOME,
        actor="system",
        correlation_id=cid,
        tool="swap",
        status="success",
        data={"tx_hash": "9xQ", "balance_changes": {"near": "-5"}},
    )


def test_entries_chain_from_genesis_and_round_trip(log: AuditLog) -> None:
    cid = new_correlation_id()
    _intent(log, cid)
    entries = log.entries()
    assert [e.id for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert log.head() == Head(5, entries[-1].hash)
    assert entries[2].data["reservation"]["amount"] == str(5 * 10**24)
    assert entries[2].tool == "swap" and entries[2].status == "allow"
    assert entries[0].timestamp.tzinfo is UTC
    report = log.verify()
    assert report.ok and report.count == 5 and report.head_hash == entries[-1].hash


def test_hash_covers_prev_hash_and_every_field(log: AuditLog, audit_path: Path) -> None:
    entry = log.append(
        AuditKind.ERROR,
        actor="scheduler",
        correlation_id="c1",
        tool="swap",
        status="failed",
        data={"error": "pool moved", "n": 2**100},
    )
    body = log._conn.execute("SELECT body FROM entries WHERE id=1").fetchone()[0]
    assert chain_hash(GENESIS_HASH, body.encode()) == entry.hash
    fields = json.loads(body)
    assert fields == {
        "id": 1,
        "ts": entry.ts,
        "kind": "error",
        "actor": "scheduler",
        "correlation_id": "c1",
        "tool": "swap",
        "status": "failed",
        "data": {"error": "pool moved", "n": 2**100},
    }


def test_story_and_filters(log: AuditLog) -> None:
    first, second = new_correlation_id(), new_correlation_id()
    _intent(log, first)
    log.append(
        AuditKind.SCHEDULE_FIRED,
        actor="scheduler",
        correlation_id=second,
        tool="swap",
        data={"job": "dca-1"},
    )
    _intent(log, second)
    story = log.story(first)
    assert [e.kind for e in story] == [
        AuditKind.USER_MESSAGE,
        AuditKind.PLAN,
        AuditKind.POLICY_DECISION,
        AuditKind.TX_SUBMITTED,
        AuditKind.TX_OUTCOME,
    ]
    assert {e.correlation_id for e in story} == {first}
    assert [e.id for e in log.entries(actor="scheduler")] == [6]
    assert len(log.entries(kind="tx_outcome")) == 2
    assert len(log.entries(tool="swap", status="success")) == 2
    assert [e.id for e in log.entries(limit=2)] == [10, 11]
    assert [e.id for e in log.entries(limit=2, newest_first=True)] == [11, 10]
    assert log.entries(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(log.entries(since=datetime.now(UTC) - timedelta(minutes=1))) == 11
    assert [e.id for e in log.entries(data_match={"job": "dca-1"})] == [6]
    assert log.get(6) is not None and log.get(99) is None


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"amount": 1.5}, r"data\.amount is a float"),
        ({"legs": [{"min_out": 0.1}]}, r"data\.legs\[0\]\.min_out is a float"),
        ({1: "x"}, "non-string key"),
        ({"x": object()}, "type object"),
        ({"x": Decimal("NaN")}, "finite"),
    ],
)
def test_bad_payloads_are_refused_and_nothing_is_written(
    log: AuditLog, data: dict, needle: str
) -> None:
    log.append(AuditKind.USER_MESSAGE, actor="user", correlation_id="c", data={"text": "hi"})
    with pytest.raises(AuditPayloadError, match=needle):
        log.append_many(
            [
                AuditDraft(AuditKind.PLAN, "system", "c", {"ok": 1}),
                AuditDraft(AuditKind.PLAN, "system", "c", data),
            ]
        )
    assert log.head().count == 1


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "teleport"}, "unknown audit entry kind"),
        ({"actor": "planner"}, "actor must be one of"),
        ({"correlation_id": ""}, "correlation_id"),
    ],
)
def test_bad_envelopes_are_refused(log: AuditLog, kwargs: dict, needle: str) -> None:
    args = {"kind": "plan", "actor": "system", "correlation_id": "c"} | kwargs
    kind = args.pop("kind")
    with pytest.raises(AuditPayloadError, match=needle):
        log.append(kind, **args)
    assert log.head().count == 0


def test_decimals_and_models_are_stored_exactly(log: AuditLog) -> None:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    entry = log.append(
        AuditKind.ACTION_PREPARED,
        actor="system",
        correlation_id="c",
        data={"price": Decimal("0.000001234"), "when": when},
    )
    assert entry.data == {"price": "0.000001234", "when": "2026-01-02T00:00:00+00:00"}


def test_append_many_is_one_contiguous_run(log: AuditLog) -> None:
    drafts = [AuditDraft(AuditKind.TX_OUTCOME, "scheduler", f"c{i}", {"i": i}) for i in range(50)]
    written = log.append_many(drafts)
    assert [e.id for e in written] == list(range(1, 51))
    assert log.append_many([]) == []
    assert log.verify().ok


def test_the_database_refuses_updates_and_deletes(log: AuditLog) -> None:
    log.append(AuditKind.PAUSED, actor="user", correlation_id="c")
    with pytest.raises(Exception, match="append-only"):
        log._conn.execute("UPDATE entries SET prev_hash = 'x'")
    with pytest.raises(Exception, match="append-only"):
        log._conn.execute("DELETE FROM entries")


def test_reopening_continues_the_same_chain(audit_path: Path) -> None:
    with AuditLog(audit_path) as first:
        first.append(AuditKind.PAUSED, actor="user", correlation_id="c")
    with AuditLog(audit_path) as second:
        entry = second.append(AuditKind.RESUMED, actor="user", correlation_id="c")
        assert entry.id == 2
        assert second.verify().ok


def test_a_canonical_action_is_stored_as_its_action_hash_covers_it(log: AuditLog) -> None:
    from tools.action import CanonicalAction, TokenFlow, TransactionSpec, TransferSpec

    action = CanonicalAction(
        tool="transfer",
        signer_id="alice.near",
        transactions=(
            TransactionSpec(
                signer_id="alice.near",
                receiver_id="bob.near",
                actions=(TransferSpec(deposit=2 * 10**24),),
            ),
        ),
        outflows=(TokenFlow(token="near", amount=2 * 10**24, recipient="bob.near"),),
        recipients=("bob.near",),
        preview="Send 2 NEAR to bob.near",
    )
    data = {"action": action, "action_hash": action.action_hash()}
    entry = log.append(
        AuditKind.ACTION_PREPARED, actor="user", correlation_id="c", tool="transfer", data=data
    )
    stored = CanonicalAction.model_validate(entry.data["action"])
    assert stored.action_hash() == entry.data["action_hash"] == action.action_hash()
    assert entry.data["action"]["outflows"][0]["amount"] == str(2 * 10**24)


def test_oversized_entries_are_refused(log: AuditLog) -> None:
    from memory.audit import MAX_ENTRY_BYTES

    with pytest.raises(AuditPayloadError, match="limit"):
        log.append(
            AuditKind.TX_OUTCOME,
            actor="system",
            correlation_id="c",
            data={"logs": "x" * MAX_ENTRY_BYTES},
        )
    assert log.head().count == 0
    assert log.append(AuditKind.TX_OUTCOME, actor="system", correlation_id="c").id == 1


def test_threads_sharing_one_log_and_separate_handles_keep_one_chain(audit_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    shared = AuditLog(audit_path)

    def write(worker: int) -> list[int]:
        if worker % 2:
            return [
                shared.append(AuditKind.PLAN, actor="system", correlation_id=f"t{worker}").id
                for _ in range(50)
            ]
        with AuditLog(audit_path) as own:
            return [
                own.append(AuditKind.PLAN, actor="system", correlation_id=f"t{worker}").id
                for _ in range(50)
            ]

    with ThreadPoolExecutor(6) as pool:
        ids = [i for batch in pool.map(write, range(6)) for i in batch]
    assert sorted(ids) == list(range(1, 301))
    report = shared.verify()
    shared.close()
    assert report.ok and report.count == 300


def test_a_dropped_table_is_reported_not_raised(log: AuditLog, audit_path: Path) -> None:
    import sqlite3

    log.append(AuditKind.PAUSED, actor="user", correlation_id="c")
    with sqlite3.connect(audit_path) as conn:
        conn.execute("DROP TABLE entries")
        conn.execute("DROP TABLE anchors")
    report = log.verify()
    assert not report.ok and report.first_bad_id == 1 and "cannot be read" in report.reason
