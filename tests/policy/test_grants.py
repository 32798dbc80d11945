from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from policies.grants import GrantFileError, load_grants_file, parse_grants
from policies.store import GrantBook
from tests.policy.helpers import BOB, grants_doc, store_grants, transfer_grant
from tools.action import NEAR

EXAMPLE = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"


def test_demo_grant_file_is_valid_and_exact() -> None:
    policy = load_grants_file(EXAMPLE)
    by_id = {g.id: g for g in policy.grants}
    pay = by_id["demo-transfers"]
    assert pay.per_action == {NEAR: 5 * 10**24}
    assert pay.windows[0].amount == 20 * 10**24 and pay.windows[0].period_s == 86_400
    assert set(pay.recipients) == {"bob.test.near", "carol.test.near"}
    assert pay.confirm.above == {NEAR: 2 * 10**24} and pay.confirm.first_time_recipient
    swaps = by_id["demo-swaps"]
    assert swaps.per_action_usd_micro == 50_000_000 and swaps.max_slippage_bps == 100
    tasks = by_id["demo-tasks"]
    assert {m for c in tasks.contracts for m in c.methods} == {"submit_label", "claim_rewards"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"per_acton": {"NEAR": "1"}}, "per_acton"),
        ({"expires_at": None}, "expires_at"),
        ({"kinds": ["transfer", "teleport"]}, "kinds"),
        ({"per_action": {"NEAR": 1.5}}, "per_action"),
        ({"per_action": {"DOGE": "1"}}, "DOGE"),
        ({"per_action": {"NEAR": "1.0000000000000000000000001"}}, "decimal places"),
        ({"recipients": ["Bob.Test.Near"]}, "Bob.Test.Near"),
        ({"kinds": ["swap"]}, "max_slippage_bps"),
        ({"expires_at": "2030-01-01T00:00:00"}, "timezone"),
        ({"windows": [{"token": "NEAR", "period": "24h"}]}, "window"),
        ({"hours_utc": ["22:00-02:00"]}, "midnight"),
    ],
)
def test_bad_grants_are_refused_naming_the_field(change: dict, field: str) -> None:
    grant = transfer_grant(**change)
    if grant.get("expires_at", "") is None:
        doc = grants_doc(grant)
        del doc["grants"][0]["expires_at"]
    else:
        doc = grants_doc(grant)
    with pytest.raises(GrantFileError) as err:
        parse_grants(doc)
    assert field in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(GrantFileError, match="does not exist"):
        load_grants_file(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grants: [unclosed")
    with pytest.raises(GrantFileError, match="YAML"):
        load_grants_file(bad)


def test_versions_are_kept_and_immutable(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store_grants(db, grants_doc(transfer_grant()))
    store_grants(db, grants_doc(transfer_grant()))  # unchanged: no new version
    store_grants(db, grants_doc(transfer_grant(recipients=[BOB])))
    book = GrantBook(db)
    history = book.grants("pay", history=True)
    assert [r.version for r in history] == [1, 2]
    assert [r.version for r in book.grants()] == [2]
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        book.conn.execute("UPDATE grants SET body = '{}' WHERE grant_id = 'pay'")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        book.conn.execute("DELETE FROM grants")
    book.close()


def test_revoke_one_and_all(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store_grants(db, grants_doc(transfer_grant(), transfer_grant(id="pay2")))
    book = GrantBook(db)
    assert book.revoke("pay", now_us=1) == ["pay"]
    assert {r.grant_id: r.revoked for r in book.grants()} == {"pay": True, "pay2": False}
    assert sorted(book.revoke(None, now_us=2)) == ["pay", "pay2"]
    assert all(r.revoked for r in book.grants())
    book.close()
    # re-adding after revocation is the user's explicit new version
    store_grants(db, grants_doc(transfer_grant()))
    book = GrantBook(db)
    latest = {r.grant_id: r for r in book.grants()}
    assert latest["pay"].version == 2 and not latest["pay"].revoked
    book.close()
