from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from memory.audit import AuditKind, AuditLog
from memory.audit.anchor import AnchorNotary
from memory.audit.export import export, verify_jsonl
from memory.audit.labels import label_content_hash, record_label, trace_label

from .conftest import MemoryNotary
from .tampering import open_raw, rehash_all


def _fill(log: AuditLog, n: int, cid: str = "c") -> None:
    for i in range(n):
        log.append(AuditKind.TX_OUTCOME, actor="system", correlation_id=cid, data={"i": i})


def test_anchor_is_recorded_locally_in_the_chain_and_on_chain(
    log: AuditLog, notary: MemoryNotary
) -> None:
    assert isinstance(notary, AnchorNotary)
    _fill(log, 5)
    head = log.head()
    anchor = log.anchor(notary)
    assert (anchor.head_hash, anchor.entries) == (head.hash, 5)
    assert anchor.network == "devnet" and anchor.contract == "notary.test.near"
    assert notary.read_anchor(head.hash)["entries"] == 5
    assert log.anchors() == [anchor]
    recorded = log.entries(kind=AuditKind.ANCHOR)
    assert len(recorded) == 1 and recorded[0].data["tx_hash"] == anchor.tx_hash
    report = log.verify(anchored=notary)
    assert report.ok and report.anchors_checked == 1


def test_empty_log_cannot_be_anchored(log: AuditLog, notary: MemoryNotary) -> None:
    with pytest.raises(ValueError, match="empty"):
        log.anchor(notary)


def test_truncation_below_an_anchor_is_named(
    log: AuditLog, audit_path: Path, notary: MemoryNotary
) -> None:
    _fill(log, 6)
    log.anchor(notary)  # covers 6 entries; the anchor entry itself is 7
    _fill(log, 2)
    with open_raw(audit_path) as conn:
        conn.execute("DELETE FROM entries WHERE id > 4")
    report = log.verify()
    assert not report.ok and report.first_bad_id == 5 and "truncated" in report.reason


def test_a_full_rewrite_is_caught_only_by_the_chain(
    log: AuditLog, audit_path: Path, notary: MemoryNotary
) -> None:
    _fill(log, 4)
    log.anchor(notary)
    with open_raw(audit_path) as conn:
        body = conn.execute("SELECT body FROM entries WHERE id=2").fetchone()[0]
        conn.execute("UPDATE entries SET body=? WHERE id=2", (body.replace('"i":1', '"i":9'),))
        rehash_all(conn)
    report = log.verify()
    assert not report.ok and report.first_bad_id == 4  # the local anchor no longer matches
    # An attacker who also rewrites the local anchor records is still caught by the chain.
    new_head = log.head()
    with open_raw(audit_path) as conn:
        conn.execute(
            "UPDATE anchors SET head_hash=?, entries=?",
            (conn.execute("SELECT hash FROM entries WHERE id=4").fetchone()[0], 4),
        )
        conn.execute("DELETE FROM entries WHERE id = ?", (new_head.count,))  # the anchor entry
    assert log.verify().ok
    report = log.verify(anchored=notary)
    assert not report.ok and report.first_bad_id == 4 and "not on chain" in report.reason


def test_anchor_entry_count_must_match_the_chain(log: AuditLog, notary: MemoryNotary) -> None:
    _fill(log, 3)
    anchor = log.anchor(notary)
    notary.anchors[anchor.head_hash]["entries"] = 2
    report = log.verify(anchored=notary)
    assert not report.ok and "anchored on chain at 2 entries" in report.reason


def test_label_provenance_is_traceable(log: AuditLog) -> None:
    label = "猫 (cat)"
    entry = record_label(
        log,
        task_id=7,
        item_id="img-3",
        label=label,
        tx_hash="Ab1",
        actor="user",
        correlation_id="c-label",
    )
    record_label(
        log,
        task_id=7,
        item_id="img-4",
        label="dog",
        tx_hash="Ab2",
        actor="scheduler",
        correlation_id="c-label-2",
    )
    assert entry.data["content_hash"] == label_content_hash(label)
    assert len(label_content_hash(label)) == 64
    assert label not in json.dumps(entry.data, ensure_ascii=False)
    assert [e.id for e in trace_label(log, label=label)] == [entry.id]
    assert [e.id for e in trace_label(log, content_hash=entry.data["content_hash"].upper())] == [1]
    assert len(trace_label(log, task_id=7)) == 2
    assert [e.data["tx_hash"] for e in trace_label(log, task_id="7", item_id="img-4")] == ["Ab2"]
    assert trace_label(log, label="bird") == []


def test_export_jsonl_and_csv_carry_every_field(log: AuditLog) -> None:
    log.append(
        AuditKind.USER_MESSAGE,
        actor="user",
        correlation_id="c",
        data={"text": "2 NEAR を bob に送って"},
    )
    log.append(
        AuditKind.TX_SUBMITTED,
        actor="system",
        correlation_id="c",
        tool="transfer",
        status="submitted",
        data={"tx_hash": "H"},
    )
    out = io.StringIO()
    assert export(log, out, "jsonl") == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0]["data"]["text"] == "2 NEAR を bob に送って"
    assert rows[1]["prev_hash"] == rows[0]["hash"] and rows[1]["tool"] == "transfer"
    out = io.StringIO()
    assert export(log, out, "csv") == 2
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert table[1]["hash"] == rows[1]["hash"] and json.loads(table[1]["data"]) == {"tx_hash": "H"}
    assert table[0]["tool"] == ""
    with pytest.raises(ValueError, match="jsonl or csv"):
        export(log, io.StringIO(), "xml")  # type: ignore[arg-type]


def test_a_jsonl_export_verifies_on_its_own(log: AuditLog) -> None:
    for i in range(4):
        log.append(
            AuditKind.PLAN,
            actor="system",
            correlation_id=f"c{i}",
            data={"amount": str(10**30 + i), "text": "送金 ✓", "big": 2**70},
        )
    out = io.StringIO()
    export(log, out, "jsonl")
    lines = out.getvalue().splitlines()
    head = log.head()
    report = verify_jsonl(lines, expected_head=head)
    assert report.ok and report.count == 4 and report.head_hash == head.hash
    edited = lines.copy()
    edited[2] = edited[2].replace("送金", "返金")
    bad = verify_jsonl(edited)
    assert not bad.ok and bad.first_bad_id == 3
    cut = verify_jsonl(lines[:3], expected_head=head)
    assert not cut.ok and cut.first_bad_id == 4
    swapped = [lines[1], lines[0], *lines[2:]]
    assert verify_jsonl(swapped).first_bad_id == 1
