"""One test per known bypass of delegated-signing policies, plus decoding edge cases."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from policies import evaluator
from policies.evaluator import DENY
from policies.grants import ContractRule, GrantFileError, parse_grants
from policies.store import GrantBook
from policies.windows import to_us
from tests.policy.helpers import (
    ALICE,
    BOB,
    CAROL,
    EVE,
    EXCHANGE,
    START,
    TASKS,
    USDC,
    WRAP,
    YOCTO,
    _action,
    call,
    ft_transfer,
    grants_doc,
    make_engine,
    near_transfer,
    submit_label,
    swap,
    swap_grant,
    swap_msg,
    tasks_grant,
    transfer_grant,
)
from tools.action import NEAR, TokenFlow, TransactionSpec, TransferSpec

ALL = grants_doc(transfer_grant(), swap_grant(), tasks_grant())


# ---- 1. a field the policy never checks -------------------------------------------------------


def test_deposit_on_a_harmless_looking_call_is_checked(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    assert engine.dry_run(submit_label()).outcome == "allow"
    hidden = submit_label(deposit=50 * YOCTO)
    decision = engine.dry_run(hidden)
    assert decision.outcome == DENY
    assert "recipient_not_allowed" in decision.reasons or "label_mismatch" in decision.reasons


def test_deposit_above_one_yocto_on_ft_transfer_is_denied(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    assert engine.dry_run(ft_transfer(USDC, BOB, 10**6)).outcome != DENY
    decision = engine.dry_run(ft_transfer(USDC, BOB, 10**6, deposit=100 * YOCTO))
    assert decision.outcome == DENY and decision.reasons == ["unexpected_deposit"]


def test_transfer_smuggled_into_a_swap_is_seen(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    base = swap(WRAP, USDC, YOCTO, 2_980_000)
    extra = TransactionSpec(
        signer_id=ALICE, receiver_id=EVE, actions=(TransferSpec(deposit=10 * YOCTO),)
    )
    smuggled = base.model_copy(update={"transactions": (*base.transactions, extra)})
    decision = engine.dry_run(smuggled)
    assert decision.outcome == DENY
    assert {"label_mismatch", "undeclared_flow"} <= set(decision.reasons)


def test_recipient_hidden_in_ft_transfer_call_msg(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    ok = swap(WRAP, USDC, YOCTO, 2_980_000)
    assert engine.dry_run(ok).outcome == "allow"
    to_eve = swap(
        WRAP, USDC, YOCTO, 2_980_000, msg=swap_msg(WRAP, USDC, YOCTO, 2_980_000, receiver_id=EVE)
    )
    decision = engine.dry_run(to_eve)
    assert decision.outcome == DENY and "recipient_not_allowed" in decision.reasons
    referral = swap(
        WRAP, USDC, YOCTO, 2_980_000, msg=swap_msg(WRAP, USDC, YOCTO, 2_980_000, referral_id=EVE)
    )
    assert engine.dry_run(referral).reasons == ["undecodable_msg"]


@pytest.mark.parametrize(
    "msg",
    [
        "not json",
        "{}",
        '{"actions": []}',
        '{"actions": [{"pool_id": 0}]}',
        '{"actions": [{"pool_id": 0, "token_in": "wrap.test.near", "token_out": "usdc.test.near",'
        ' "min_amount_out": "1", "deliver_to": "eve.test.near"}]}',
        '{"actions": [{"pool_id": 0, "token_in": "ref.test.near", "token_out": "usdc.test.near",'
        ' "min_amount_out": "1"}]}',
        '{"actions": [{"pool_id": 0, "token_in": "wrap.test.near", "token_out": "usdc.test.near",'
        ' "min_amount_out": 1.5}]}',
    ],
)
def test_undecodable_swap_msg_denies(tmp_path: Path, msg: str) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    decision = engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000, msg=msg))
    assert decision.outcome == DENY and decision.trace[0].rule == "decode"


def test_ft_transfer_call_with_msg_to_a_non_exchange_denies(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    tx = TransactionSpec(
        signer_id=ALICE,
        receiver_id=USDC,
        actions=(
            call(
                "ft_transfer_call",
                {"receiver_id": BOB, "amount": "5", "msg": '{"to":"eve.test.near"}'},
                1,
            ),
        ),
    )
    action = _action("transfer", [tx], [TokenFlow(token=USDC, amount=5, recipient=BOB)], [BOB])
    assert engine.dry_run(action).reasons == ["undecodable_msg"]


def test_unknown_method_denied_unless_allowlisted_and_moving_nothing(tmp_path: Path) -> None:
    doc = grants_doc(
        tasks_grant(contracts=[{"contract": TASKS, "methods": ["submit_label", "vote"]}])
    )
    with pytest.raises(GrantFileError, match="'vote'"):  # a method no tool calls: a dead rule
        parse_grants(doc)
    # A grant stored before files were checked for dead rules still cannot let `vote` through.
    valid = parse_grants(grants_doc(tasks_grant())).grants[0]
    stored = valid.model_copy(
        update={"contracts": (ContractRule(contract=TASKS, methods=("submit_label", "vote")),)}
    )
    book = GrantBook(tmp_path / "p.db")
    try:
        book.add({stored.id: stored.body_json()}, None, now_us=to_us(START))
    finally:
        book.close()
    engine, _ = make_engine(tmp_path / "p.db")
    vote = submit_label(method="vote")
    assert engine.dry_run(vote).reasons == ["label_mismatch"]  # vote is not a submit_label
    other = submit_label(method="submit_label", receiver="other.test.near")
    assert engine.dry_run(other).reasons == ["method_not_allowed"]


def test_declared_outflows_must_match(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    honest = near_transfer(BOB, YOCTO)
    understated = honest.model_copy(
        update={"outflows": (TokenFlow(token=NEAR, amount=1, recipient=BOB),)}
    )
    assert "declared_flow_mismatch" in engine.dry_run(understated).reasons
    no_recipient = honest.model_copy(update={"recipients": ()})
    assert "undeclared_recipient" in engine.dry_run(no_recipient).reasons


# ---- 2. the same bytes under another label -----------------------------------------------------


def test_a_transfer_labelled_as_balance_is_denied(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    disguised = near_transfer(BOB, YOCTO).model_copy(update={"tool": "balance"})
    decision = engine.dry_run(disguised)
    assert decision.outcome == DENY and "label_mismatch" in decision.reasons


def test_malformed_action_data_is_denied(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    data = near_transfer(BOB, YOCTO).model_dump(mode="json")
    data["transactions"][0]["actions"] = [{"kind": "add_key", "public_key": "ed25519:x"}]
    decision = engine.dry_run(data)
    assert decision.outcome == DENY and decision.reasons == ["malformed_action"]
    assert engine.reserve(data).reservation_id is None


# ---- 3. an error read as "the deny rule did not match" ------------------------------------------


def test_an_erroring_rule_denies_and_is_named(tmp_path: Path, monkeypatch) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome != DENY

    def broken(ctx, grant):
        raise KeyError("missing field")

    rules = tuple((n, broken if n == "recipients" else r) for n, r in evaluator.GRANT_RULES)
    monkeypatch.setattr(evaluator, "GRANT_RULES", rules)
    decision = engine.dry_run(near_transfer(BOB, YOCTO))
    assert decision.outcome == DENY and decision.reasons == ["rule_error"]
    failing = [t for t in decision.trace if t.result == DENY]
    assert failing[0].rule == "recipients" and "KeyError" in failing[0].detail


def test_a_price_source_that_raises_denies(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)

    class Exploding:
        def usd_price(self, token, amount=0):
            raise RuntimeError("rpc down")

    engine.prices = Exploding()
    decision = engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000))
    assert decision.outcome == DENY and decision.reasons == ["rule_error"]
    assert any(t.rule == "per_action" and "rpc down" in t.detail for t in decision.trace)


def test_stale_or_missing_price_denies_unless_a_base_unit_cap_decides(tmp_path: Path) -> None:
    from datetime import timedelta

    engine, clock = make_engine(tmp_path / "p.db", ALL)
    engine.prices.age = timedelta(minutes=5)
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000)).reasons == ["price_unavailable"]
    # a NEAR transfer is decided by its base-unit cap alone: no price needed
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "allow"
    engine.prices = None
    assert engine.dry_run(near_transfer(BOB, YOCTO)).outcome == "allow"
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000)).outcome == DENY


def test_stale_quote_and_wide_slippage_deny(tmp_path: Path) -> None:
    from datetime import timedelta

    engine, _ = make_engine(tmp_path / "p.db", ALL)
    # quote 3 USDC for 1 wNEAR; 100 bps floor = 2.97 USDC
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_970_000)).outcome == "allow"
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_969_999)).reasons == ["slippage_exceeded"]
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 0)).reasons == ["slippage_exceeded"]
    engine.quotes.age = timedelta(minutes=2)
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000)).reasons == ["stale_quote"]


# ---- 4. self-escalation ------------------------------------------------------------------------


def test_the_engine_cannot_write_grants(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", grants_doc(transfer_grant()))
    assert not any(hasattr(engine, name) for name in ("add", "add_grant", "revoke", "widen"))
    conn = engine._ledger.conn
    for sql in (
        "INSERT INTO grants VALUES ('x', 1, '{}', '', 0, '')",
        "UPDATE grants SET body = '{}'",
        "DELETE FROM revocations",
        "INSERT INTO ceilings VALUES (9, '{}', 0, '')",
        "DROP TABLE grants",
        "DROP TRIGGER grants_immutable_u",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute(sql)
    assert [g.version for g in engine.grants()] == [1]


def test_actions_that_would_widen_the_agents_power_are_denied(tmp_path: Path) -> None:
    doc = grants_doc(
        transfer_grant(), tasks_grant(contracts=[{"contract": TASKS, "methods": ["submit_label"]}])
    )
    engine, _ = make_engine(tmp_path / "p.db", doc)
    # a call on the user's own account (add_key/deploy-style) is never decodable
    own = submit_label(method="add_full_access_key", receiver=ALICE)
    assert engine.dry_run(own).reasons == ["self_call"]
    # a call asking some contract to widen a grant is an unknown method
    widen = submit_label(method="add_grant")
    assert engine.dry_run(widen).outcome == DENY
    assert engine.dry_run(widen.model_copy(update={"tool": "grants_add"})).outcome == DENY


# ---- 5. check-then-record races ------------------------------------------------------------------


def test_concurrent_threads_cannot_both_spend_the_last_of_a_budget(tmp_path: Path) -> None:
    doc = grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": "5", "period": "24h"}]))
    engine, _ = make_engine(tmp_path / "p.db", doc)
    barrier = threading.Barrier(8)
    results = []

    def spend() -> None:
        barrier.wait()
        results.append(engine.reserve(near_transfer(CAROL, 2 * YOCTO)))

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    allowed = [d for d in results if d.reservation_id]
    assert len(allowed) == 2  # 2 + 2 <= 5 < 2 + 2 + 2
    assert all(d.reasons == ["window_cap"] for d in results if not d.reservation_id)


def test_pending_reservations_count_and_release_restores(tmp_path: Path) -> None:
    doc = grants_doc(transfer_grant(windows=[{"token": "NEAR", "amount": "5", "period": "24h"}]))
    engine, _ = make_engine(tmp_path / "p.db", doc)
    first = engine.reserve(near_transfer(BOB, 4 * YOCTO))
    assert first.reservation_id
    assert engine.reserve(near_transfer(BOB, 2 * YOCTO)).reasons == ["window_cap"]
    engine.release(first.reservation_id, "tx failed")
    second = engine.reserve(near_transfer(BOB, 2 * YOCTO))
    assert second.reservation_id
    engine.settle(second.reservation_id, {NEAR: 1 * YOCTO})  # chain moved less
    assert engine.dry_run(near_transfer(BOB, 4 * YOCTO)).outcome != DENY
    assert engine.dry_run(near_transfer(BOB, 4 * YOCTO + 1)).reasons == ["window_cap"]
    with pytest.raises(Exception, match="already settled"):
        engine.release(second.reservation_id)


def test_exchange_must_be_granted(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", grants_doc(swap_grant(exchanges=["dex.test.near"])))
    assert engine.dry_run(swap(WRAP, USDC, YOCTO, 2_980_000)).reasons == ["exchange_not_allowed"]
    assert EXCHANGE


def test_storage_deposits_go_only_to_granted_tokens_and_exchanges(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", ALL)
    reg = call(
        "storage_deposit",
        {"account_id": BOB, "registration_only": True},
        1_250_000_000_000_000_000_000,
    )
    for contract, expected in ((USDC, "allow"), ("evil.test.near", DENY)):
        send = call("ft_transfer", {"receiver_id": BOB, "amount": "5"}, 1)
        tx = TransactionSpec(signer_id=ALICE, receiver_id=USDC, actions=(send,))
        reg_tx = TransactionSpec(signer_id=ALICE, receiver_id=contract, actions=(reg,))
        action = _action(
            "transfer", [reg_tx, tx], [TokenFlow(token=USDC, amount=5, recipient=BOB)], [BOB]
        )
        decision = engine.dry_run(action)
        assert decision.outcome == expected, decision.reasons
    assert decision.reasons == ["storage_deposit_not_allowed"]
    too_much = call("storage_deposit", {"account_id": BOB}, YOCTO)
    tx = TransactionSpec(signer_id=ALICE, receiver_id=USDC, actions=(too_much, send))
    action = _action("transfer", [tx], [TokenFlow(token=USDC, amount=5, recipient=BOB)], [BOB])
    assert engine.dry_run(action).reasons == ["storage_deposit_cap"]
