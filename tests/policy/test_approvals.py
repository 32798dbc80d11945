from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from policies.approvals import ApprovalRefused
from policies.evaluator import CONFIRM, DENY
from policies.store import GrantBook
from tests.policy.helpers import (
    BOB,
    CAROL,
    YOCTO,
    grants_doc,
    make_engine,
    near_transfer,
    transfer_grant,
)

CONFIRMING = grants_doc(
    transfer_grant(
        confirm={"above": {"NEAR": "2"}},
        windows=[{"token": "NEAR", "amount": "5", "period": "24h"}],
    )
)


def test_approval_turns_confirm_into_allow_once(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", CONFIRMING)
    action = near_transfer(BOB, 3 * YOCTO)
    first = engine.reserve(action)
    assert first.outcome == CONFIRM and first.reservation_id is None
    approval = engine.approve(action)
    assert approval.action_hash == action.action_hash()
    ok = engine.reserve(action, approval_id=approval.id)
    assert ok.outcome == "allow" and ok.reservation_id and ok.approval_id == approval.id
    engine.release(ok.reservation_id)
    again = engine.reserve(action, approval_id=approval.id)
    assert again.outcome == CONFIRM and "approval_used" in again.reasons
    assert again.reservation_id is None


def test_approval_is_bound_to_the_action_hash(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", CONFIRMING)
    approval = engine.approve(near_transfer(BOB, 3 * YOCTO))
    for changed in (near_transfer(BOB, 3 * YOCTO + 1), near_transfer(CAROL, 3 * YOCTO)):
        decision = engine.reserve(changed, approval_id=approval.id)
        assert decision.reservation_id is None
        assert "approval_other_action" in decision.reasons
    # still usable for the exact action
    assert engine.reserve(near_transfer(BOB, 3 * YOCTO), approval_id=approval.id).reservation_id


def test_approval_expires(tmp_path: Path) -> None:
    engine, clock = make_engine(tmp_path / "p.db", CONFIRMING)
    action = near_transfer(BOB, 3 * YOCTO)
    approval = engine.approve(action, ttl=timedelta(minutes=2))
    clock.advance(minutes=2)
    decision = engine.reserve(action, approval_id=approval.id)
    assert decision.reservation_id is None and "approval_expired" in decision.reasons


def test_approved_action_is_evaluated_again_in_full(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", CONFIRMING)
    action = near_transfer(BOB, 3 * YOCTO)
    approval = engine.approve(action)
    # the budget is used up meanwhile: the approval cannot override the DENY
    for _ in range(2):
        assert engine.reserve(near_transfer(BOB, 2 * YOCTO)).reservation_id
    denied = engine.reserve(action, approval_id=approval.id)
    assert denied.outcome == DENY and denied.reasons == ["window_cap"]
    assert engine._ledger.approval(approval.id).used_us is None


def test_approval_survives_nothing_after_revocation(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", CONFIRMING)
    action = near_transfer(BOB, 3 * YOCTO)
    approval = engine.approve(action)
    book = GrantBook(tmp_path / "p.db")
    book.revoke("pay", now_us=0)
    book.close()
    decision = engine.reserve(action, approval_id=approval.id)
    assert decision.outcome == DENY and "grant_revoked" in decision.reasons


def test_only_confirm_decisions_can_be_approved(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", CONFIRMING)
    with pytest.raises(ApprovalRefused, match="deny"):
        engine.approve(near_transfer(BOB, 6 * YOCTO))  # over the per-action cap
    with pytest.raises(ApprovalRefused, match="allow"):
        engine.approve(near_transfer(BOB, YOCTO))
