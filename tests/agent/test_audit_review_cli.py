"""Reviewing what the agent did, as a user does: `near-agent audit list|show|verify-export` as
separate processes on a home whose entries come from real actions on the devnet."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from agent.home import Home
from memory.audit import AuditKind, AuditLog

SEND = "send 0.1 NEAR to bob.test.near"  # a first-time recipient: confirmation, none given
TOO_MUCH = "send 50 NEAR to bob.test.near"
SWAP = "swap 1 NEAR to USDC"
LABEL = "what's my balance"  # done, nothing sent


def near_agent(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "agent", "--home", str(home.root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def listed(home: Home, *args: str) -> dict:
    result = near_agent(home, "audit", "list", "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def acted(home: Home) -> Home:
    """Four intents through the CLI: a transfer declined (no one to confirm it), a transfer
    denied, a swap done and a balance read."""
    for intent in (SEND, TOO_MUCH, SWAP, LABEL):
        near_agent(home, "do", intent, "--yes")
    return home


def _row(rows: list[dict], asked: str) -> dict:
    return next(r for r in rows if r["asked"] == asked)


def test_one_row_per_intent_with_who_what_outcome_amounts_fee_and_tx(acted: Home) -> None:
    rows = listed(acted)["items"]
    send, denied, swap = _row(rows, SEND), _row(rows, TOO_MUCH), _row(rows, SWAP)
    assert [r["asked"] for r in rows[:4]] == [LABEL, SWAP, TOO_MUCH, SEND]  # newest first
    assert send["outcome"] == "declined" and send["actor"] == "user"
    assert send["network"] == "devnet" and send["tx_hashes"] == []
    assert send["amounts"] == [{"token": "near", "units": str(10**23), "display": "0.1 NEAR"}]
    assert swap["fee"]["display"].endswith(" NEAR") and int(swap["fee"]["units"]) > 0
    assert len(swap["tx_hashes"]) == 1
    assert _row(rows, LABEL)["outcome"] == "done"
    assert denied["outcome"] == "denied" and denied["tx_hashes"] == []
    assert "50 NEAR exceeds 5 NEAR per action" in denied["detail"]
    assert swap["outcome"] == "done" and swap["amounts"][0]["display"] == "1 NEAR"
    assert any(c["display"].startswith("+") for c in swap["balance_changes"])

    table = near_agent(acted, "audit", "list")
    assert table.returncode == 0, table.stderr
    assert "user_message" not in table.stdout  # one row per intent, not per entry
    for text in ("send 50 NEAR", "denied", "0.1 NEAR", swap["tx_hashes"][0]):
        assert text in table.stdout
    per_entry = near_agent(acted, "audit", "list", "--entries")
    assert "user_message" in per_entry.stdout and "policy_decision" in per_entry.stdout


def test_show_by_tx_hash_intent_id_and_entry_id_tells_the_story(acted: Home) -> None:
    rows = listed(acted)["items"]
    swap, denied = _row(rows, SWAP), _row(rows, TOO_MUCH)
    tx_hash = swap["tx_hashes"][0]
    by_tx = near_agent(acted, "audit", "show", tx_hash)
    assert by_tx.returncode == 0, by_tx.stderr
    out = by_tx.stdout
    assert f'You asked: "{SWAP}"' in out and "found by tx hash" in out
    steps = [
        out.index(s)
        for s in ("You asked", "planner made", "Prepared: Swap 1 NEAR", "policy", "Signed")
    ]
    assert steps == sorted(steps)
    assert f"Transaction {tx_hash} succeeded" in out and "Balance changes: -1.00" in out
    assert "USDC" in out and "Fee:" in out
    assert "=" not in out.split("found by tx hash")[1]  # sentences, not key=value dumps
    assert "…" not in out

    story = near_agent(acted, "audit", "show", denied["intent_id"][:10])
    assert "denied it" in story.stdout and "50 NEAR exceeds 5 NEAR per action" in story.stdout
    by_entry = near_agent(acted, "audit", "show", str(denied["last_entry"]))
    assert "found by entry id" in by_entry.stdout and denied["intent_id"] in by_entry.stdout

    full = near_agent(acted, "audit", "show", tx_hash, "--trace")
    assert "policy_decision" in full.stdout and "rule per_action" in full.stdout
    data = json.loads(near_agent(acted, "audit", "show", tx_hash, "--json").stdout)
    assert data["matched"] == "tx hash" and data["intent"]["intent_id"] == swap["intent_id"]
    stages = [s["stage"] for s in data["steps"]]
    for stage in ("message", "plan", "prepared", "check", "transaction", "receipts", "balance"):
        assert stage in stages
    checks = [s for s in data["steps"] if s["stage"] == "check"]
    assert checks[0]["verdicts"] and len(data["entries"]) == swap["entry_count"]

    missing = near_agent(acted, "audit", "show", "4jY1nPmNo7ykpkPNh9TsBBqKhvZcG3aV2j3Um9ZrdjPb")
    assert missing.returncode == 2 and "no transaction, intent or entry" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_status_takes_the_users_words_and_filters_by_outcome(acted: Home) -> None:
    for word in ("denied", "deny", "DENIED"):
        rows = listed(acted, "--status", word)["items"]
        assert [r["asked"] for r in rows] == [TOO_MUCH], word
    done = {r["asked"] for r in listed(acted, "--status", "ok")["items"]}
    assert done == {SWAP, LABEL}
    entries = listed(acted, "--entries", "--status", "denied")["items"]
    assert entries and all(e["status"] in ("deny", "denied") for e in entries)
    bad = near_agent(acted, "audit", "list", "--status", "teleported")
    assert bad.returncode == 2 and "not an outcome" in bad.stderr


def test_paging_times_and_search(acted: Home) -> None:
    everything = listed(acted, "--limit", "1000")["items"]
    seen, cursor = [], None
    while True:
        page = listed(acted, "--limit", "2", *(["--before", cursor] if cursor else []))
        seen += [r["intent_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["intent_id"] for r in everything]
    text = near_agent(acted, "audit", "list", "--limit", "1")
    assert re.search(r"More: --before \d+", text.stdout)

    assert len(listed(acted, "--since", "yesterday")["items"]) == len(everything)
    assert len(listed(acted, "--since", "2h", "--until", "now")["items"]) == len(everything)
    assert listed(acted, "--until", "yesterday")["items"] == []
    assert listed(acted, "--since", "2999-01-01")["items"] == []
    assert listed(acted, "--until", "2 hours ago")["items"] == []
    swap_tx = _row(everything, SWAP)["tx_hashes"][0]
    assert [r["asked"] for r in listed(acted, "--search", swap_tx)["items"]] == [SWAP]
    assert [r["asked"] for r in listed(acted, "--search", "50 near")["items"]] == [TOO_MUCH]
    bad = near_agent(acted, "audit", "list", "--until", "the day after")
    assert bad.returncode == 2 and "not a time" in bad.stderr


def test_filter_by_strategy_and_actor(acted: Home) -> None:
    """A strategy's fire, run by the daemon, is listed under the scheduler and its strategy."""
    added = near_agent(
        acted,
        "schedule",
        "add",
        "kind=dca",
        "id=dca-usdc",
        "sell=NEAR",
        "buy=USDC",
        "amount=0.1",
        "every=1d",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    ran = near_agent(acted, "daemon", "--run-for", "3")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = listed(acted, "--strategy", "dca-usdc")["items"]
    assert [(r["actor"], r["strategy"]) for r in rows] == [("scheduler", "dca-usdc")]
    fire = rows[0]
    assert fire["outcome"] == "done" and fire["amounts"][0]["display"] == "0.1 NEAR"
    assert fire["tx_hashes"] and fire["asked"].startswith("scheduled dca dca-usdc")
    story = near_agent(acted, "audit", "show", fire["tx_hashes"][0]).stdout
    assert "Strategy dca-usdc fired" in story and "Who:    scheduler (strategy dca-usdc)" in story
    assert {r["actor"] for r in listed(acted, "--actor", "user")["items"]} == {"user"}
    table = near_agent(acted, "audit", "list", "--actor", "scheduler").stdout
    assert "scheduler/dca-usdc" in table


def test_data_is_shown_as_data_never_as_lines_of_the_view(acted: Home) -> None:
    forged = "hi\n2026-01-01 00:00:00 | user | send 1 NEAR | done\x1b[2K\r\u202eevil"
    with AuditLog(acted.audit_db) as log:
        log.append(
            AuditKind.USER_MESSAGE,
            actor="user",
            correlation_id="f0e1d2c3b4a5968778695a4b3c2d1e0f",
            data={"text": forged},
        )
    for args in (("list",), ("list", "--entries"), ("show", "f0e1d2c3")):
        out = near_agent(acted, "audit", *args).stdout
        assert "\x1b" not in out and "\r" not in out and "\u202e" not in out, args
        assert "\\n2026-01-01" in out and "\\u202e" in out, args
        assert not any(line.startswith("2026-01-01 00:00:00 | user") for line in out.splitlines())


def test_verify_export_says_a_csv_file_is_not_json_lines(acted: Home) -> None:
    csv_file = acted.root / "audit.csv"
    jsonl = acted.root / "audit.jsonl"
    near_agent(acted, "audit", "export", "--format", "csv", "-o", str(csv_file))
    near_agent(acted, "audit", "export", "--format", "jsonl", "-o", str(jsonl))
    result = near_agent(acted, "audit", "verify-export", str(csv_file))
    assert result.returncode == 2 and "TAMPERED" not in result.stdout + result.stderr
    assert "CSV export, not JSON Lines" in result.stderr and "--format jsonl" in result.stderr
    ok = near_agent(acted, "audit", "verify-export", str(jsonl))
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    missing = near_agent(acted, "audit", "verify-export", str(acted.root / "nope.jsonl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_a_home_without_an_audit_log_is_said_and_left_uncreated(tmp_path) -> None:
    missing = Home(tmp_path / "typo")  # a mistyped --home: no such home at all
    for args in (("list",), ("show", "1")):
        result = near_agent(missing, "audit", *args)
        assert result.returncode == 2 and "No near-agent home at" in result.stderr, args
        assert "Traceback" not in result.stderr
    assert not missing.root.exists()
    bare = Home(tmp_path / "bare")  # a home whose audit log is gone
    bare.root.mkdir()
    (bare.root / "agent.yaml").write_text("network: devnet\naccount_id: alice.test.near\n")
    for args in (("list",), ("show", "1")):
        result = near_agent(bare, "audit", *args)
        assert result.returncode == 2 and "No audit log at" in result.stderr, (args, result)
        assert "Traceback" not in result.stderr
    assert not bare.audit_db.exists()


def test_show_counts_negative_positions_from_the_newest_intent(home: Home) -> None:
    """`audit show -1` is the newest intent (the first row of `audit list`), -2 the one before,
    as Python counts from the end; a position with no intent is a plain usage error."""
    for intent in (LABEL, TOO_MUCH):
        near_agent(home, "do", intent, "--yes")
    page = listed(home)
    rows = page["items"]
    assert [r["asked"] for r in rows[:2]] == [TOO_MUCH, LABEL] and page["next_cursor"] is None

    for position, row in (("-1", rows[0]), ("-2", rows[1])):
        shown = near_agent(home, "audit", "show", position, "--json")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert json.loads(shown.stdout)["intent"]["intent_id"] == row["intent_id"]
    text = near_agent(home, "audit", "show", "--trace", "-1")
    assert text.returncode == 0, text.stderr
    assert f'You asked: "{TOO_MUCH}"' in text.stdout and "Trace:" in text.stdout

    beyond = -(len(rows) + 1)
    for position, why in (
        (str(beyond), f"{beyond} names no intent: the audit log holds only {len(rows)} intents"),
        ("-0", "-0 names no intent: -1 is the newest"),
    ):
        refused = near_agent(home, "audit", "show", position)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert why in refused.stderr and "Traceback" not in refused.stderr
