from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import agent.cli_audit as cli_audit
from agent.cli_audit import audit_app, parse_since
from agent.home import Home
from memory.audit import AuditKind, AuditLog

from .conftest import MemoryNotary
from .tampering import flip_byte, open_raw

runner = CliRunner()


@pytest.fixture
def app(tmp_path: Path) -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _home(ctx: typer.Context) -> None:
        ctx.obj = Home(tmp_path)

    root.add_typer(audit_app, name="audit")
    return root


@pytest.fixture
def filled(tmp_path: Path) -> dict[str, str]:
    with AuditLog(Home(tmp_path).audit_db) as log:
        send = "send0000aaaa"
        log.append(
            AuditKind.USER_MESSAGE,
            actor="user",
            correlation_id=send,
            data={"text": "send 2 NEAR to bob"},
        )
        log.append(
            AuditKind.PLAN,
            actor="system",
            correlation_id=send,
            data={"steps": [{"tool": "transfer", "args": {"receiver_id": "bob.near"}}]},
        )
        log.append(
            AuditKind.POLICY_DECISION,
            actor="system",
            correlation_id=send,
            tool="transfer",
            status="allow",
            data={"decision": "allow"},
        )
        log.append(
            AuditKind.TX_SUBMITTED,
            actor="system",
            correlation_id=send,
            tool="transfer",
            status="submitted",
            data={"tx_hash": "HASH1"},
        )
        log.append(
            AuditKind.TX_OUTCOME,
            actor="system",
            correlation_id=send,
            tool="transfer",
            status="success",
            data={"tx_hash": "HASH1", "balance_changes": {"near": "-2"}},
        )
        dca = "dca00000bbbb"
        log.append(
            AuditKind.SCHEDULE_FIRED,
            actor="scheduler",
            correlation_id=dca,
            tool="swap",
            data={"job": "dca"},
        )
        log.append(
            AuditKind.POLICY_DECISION,
            actor="scheduler",
            correlation_id=dca,
            tool="swap",
            status="deny",
            data={"decision": "deny", "reasons": ["daily budget spent"]},
        )
    return {"send": send, "dca": dca}


def test_list_filters_and_limits(app: typer.Typer, filled: dict[str, str]) -> None:
    result = runner.invoke(app, ["audit", "list", "--entries"])
    assert result.exit_code == 0, result.output
    assert "user_message" in result.output and "schedule_fired" in result.output
    result = runner.invoke(
        app, ["audit", "list", "--entries", "--actor", "scheduler", "--status", "deny"]
    )
    assert "daily budget spent" in result.output and "user_message" not in result.output
    result = runner.invoke(app, ["audit", "list", "--entries", "--kind", "tx_outcome"])
    assert "HASH1" in result.output and "schedule_fired" not in result.output
    result = runner.invoke(app, ["audit", "list", "--entries", "--limit", "1"])
    assert "policy_decision" in result.output and "tx_outcome" not in result.output
    result = runner.invoke(app, ["audit", "list", "--entries", "--since", "1h", "--tool", "swap"])
    assert "schedule_fired" in result.output and "transfer" not in result.output
    result = runner.invoke(app, ["audit", "list", "--entries", "--since", "2999-01-01"])
    assert "No audit entries match" in result.output


def test_list_rejects_unknown_kind_and_bad_time(app: typer.Typer, filled: dict) -> None:
    result = runner.invoke(app, ["audit", "list", "--entries", "--kind", "teleport"])
    assert result.exit_code != 0 and "unknown kind" in result.output
    result = runner.invoke(app, ["audit", "list", "--since", "yesterday-ish"])
    assert result.exit_code != 0 and "not a time" in result.output


def test_show_tells_one_intents_story(app: typer.Typer, filled: dict[str, str]) -> None:
    by_id = runner.invoke(app, ["audit", "show", "4", "--trace"])
    assert by_id.exit_code == 0, by_id.output
    lines = by_id.output.split("Trace:")[1]  # the full trace, entry by entry
    order = [
        lines.index(k)
        for k in ("user_message", "plan", "policy_decision", "tx_submitted", "tx_outcome")
    ]
    assert order == sorted(order)
    assert "send 2 NEAR to bob" in lines and "schedule_fired" not in lines
    assert '"tx_hash": "HASH1"' in lines  # the chosen entry's data in full
    by_cid = runner.invoke(app, ["audit", "show", filled["dca"], "--trace"])
    assert "daily budget spent" in by_cid.output and "user_message" not in by_cid.output
    by_prefix = runner.invoke(app, ["audit", "show", "dca0", "--trace"])
    assert by_prefix.exit_code == 0 and "schedule_fired" in by_prefix.output
    missing = runner.invoke(app, ["audit", "show", "nope-nope"])
    assert missing.exit_code != 0 and "no transaction, intent or entry" in missing.output


def test_verify_passes_then_names_the_tampered_entry(
    app: typer.Typer, filled: dict, tmp_path: Path
) -> None:
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 7 entries" in ok.output
    with open_raw(Home(tmp_path).audit_db) as conn:
        flip_byte(conn, 3, "body", 40, 0x01)
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "TAMPERED: entry 3" in bad.output and "first 2 entries verify" in bad.output


def test_anchor_and_verify_anchored_use_the_notary(
    app: typer.Typer, filled: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    notary = MemoryNotary()
    monkeypatch.setattr(cli_audit, "load_notary", lambda home, signing: notary)
    made = runner.invoke(app, ["audit", "anchor"])
    assert made.exit_code == 0, made.output
    assert "Anchored 7 entries" in made.output
    ok = runner.invoke(app, ["audit", "verify", "--anchored"])
    assert ok.exit_code == 0 and "1 anchor(s) checked on chain" in ok.output
    notary.anchors.clear()
    bad = runner.invoke(app, ["audit", "verify", "--anchored"])
    assert bad.exit_code == 1 and "not on chain" in bad.output


def test_anchored_without_configuration_says_why(app: typer.Typer, filled: dict) -> None:
    result = runner.invoke(app, ["audit", "verify", "--anchored"])
    assert result.exit_code == 2 and "Cannot use the anchor notary" in result.output


def test_export_jsonl_and_csv(app: typer.Typer, filled: dict, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = runner.invoke(app, ["audit", "export", "--format", "jsonl", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(1, 8))
    assert rows[0]["data"] == {"text": "send 2 NEAR to bob"}
    stdout = runner.invoke(app, ["audit", "export", "--format", "csv"])
    table = list(csv.DictReader(stdout.output.splitlines()))
    assert len(table) == 7 and table[6]["status"] == "deny"
    bad = runner.invoke(app, ["audit", "export", "--format", "xml"])
    assert bad.exit_code != 0


def test_parse_since() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-04-30T10:00", now) == datetime(2026, 4, 30, 10, tzinfo=UTC)
    assert parse_since("2026-04-30T10:00+09:00", now).utcoffset() == timedelta(hours=9)


def test_recorded_head_catches_a_cut_tail(app: typer.Typer, filled: dict, tmp_path: Path) -> None:
    head = runner.invoke(app, ["audit", "head"]).output.strip()
    assert head.startswith("7:") and len(head) == 2 + 64
    ok = runner.invoke(app, ["audit", "verify", "--expect-head", head])
    assert ok.exit_code == 0, ok.output
    with open_raw(Home(tmp_path).audit_db) as conn:
        conn.execute("DELETE FROM entries WHERE id >= 6")
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    cut = runner.invoke(app, ["audit", "verify", "--expect-head", head])
    assert cut.exit_code == 1 and "TAMPERED: entry 6" in cut.output and "truncated" in cut.output
    bad = runner.invoke(app, ["audit", "verify", "--expect-head", "seven"])
    assert bad.exit_code != 0 and "COUNT:HASH" in bad.output


def test_reading_a_damaged_log_says_so(app: typer.Typer, filled: dict, tmp_path: Path) -> None:
    with open_raw(Home(tmp_path).audit_db) as conn:
        conn.execute("UPDATE entries SET body = 'garbage' WHERE id = 7")
    listed = runner.invoke(app, ["audit", "list"])
    assert listed.exit_code == 1 and "audit verify" in listed.output
    exported = runner.invoke(app, ["audit", "export"])
    assert exported.exit_code == 1 and "damaged" in exported.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 1 and "entry 7" in verified.output


def test_an_export_can_be_verified_without_the_database(
    app: typer.Typer, filled: dict, tmp_path: Path
) -> None:
    out = tmp_path / "audit.jsonl"
    runner.invoke(app, ["audit", "export", "--output", str(out)])
    head = runner.invoke(app, ["audit", "head"]).output.strip()
    ok = runner.invoke(app, ["audit", "verify-export", str(out), "--expect-head", head])
    assert ok.exit_code == 0 and "OK: 7 entries" in ok.output
    out.write_text(out.read_text().replace("daily budget spent", "nothing to see"))
    bad = runner.invoke(app, ["audit", "verify-export", str(out)])
    assert bad.exit_code == 1 and "TAMPERED: entry 7" in bad.output
