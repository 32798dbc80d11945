"""Actions shaped exactly as the tool layer builds them decode and pass the demo grants."""

from __future__ import annotations

import json
from pathlib import Path

from policies.grants import load_grants_file
from tests.policy.helpers import (
    ALICE,
    BOB,
    EXCHANGE,
    TASKS,
    TGAS,
    USDC,
    WRAP,
    YOCTO,
    call,
    make_engine,
)
from tools.action import NEAR, CanonicalAction, TokenFlow, TransactionSpec

EXAMPLE = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"
STORAGE = 1_250_000_000_000_000_000_000


def _doc() -> dict:
    import yaml

    return yaml.safe_load(EXAMPLE.read_text())


def near_to_usdc_swap(amount_in: int, minimum: int) -> CanonicalAction:
    reg = call("storage_deposit", {"account_id": ALICE, "registration_only": True}, STORAGE)
    msg = json.dumps(
        {
            "actions": [
                {
                    "pool_id": 0,
                    "token_in": WRAP,
                    "token_out": USDC,
                    "amount_in": str(amount_in),
                    "min_amount_out": str(minimum),
                }
            ]
        },
        separators=(",", ":"),
    )
    txs = (
        TransactionSpec(
            signer_id=ALICE, receiver_id=WRAP, actions=(reg, call("near_deposit", {}, amount_in))
        ),
        TransactionSpec(signer_id=ALICE, receiver_id=USDC, actions=(reg,)),
        TransactionSpec(
            signer_id=ALICE,
            receiver_id=WRAP,
            actions=(
                call(
                    "ft_transfer_call",
                    {"receiver_id": EXCHANGE, "amount": str(amount_in), "msg": msg},
                    1,
                    180 * TGAS,
                ),
            ),
        ),
    )
    outflows = (
        TokenFlow(token=NEAR, amount=STORAGE, recipient=WRAP, purpose="storage_deposit"),
        TokenFlow(token=NEAR, amount=amount_in, recipient=WRAP, purpose="wrap"),
        TokenFlow(token=NEAR, amount=STORAGE, recipient=USDC, purpose="storage_deposit"),
        TokenFlow(token=WRAP, amount=amount_in, recipient=EXCHANGE, purpose="swap_in"),
        TokenFlow(token=NEAR, amount=1, recipient=WRAP, purpose="ft_transfer_deposit"),
    )
    return CanonicalAction(
        tool="swap",
        signer_id=ALICE,
        transactions=txs,
        outflows=outflows,
        recipients=(EXCHANGE,),
        preview="swap",
    )


def test_tool_shaped_swap_passes_demo_grants(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", _doc())
    assert load_grants_file(EXAMPLE)
    ok = engine.dry_run(near_to_usdc_swap(YOCTO, 2_970_000))
    assert ok.outcome == "allow", ok.trace
    assert ok.grant_id == "demo-swaps" and ok.spent == {NEAR: YOCTO}  # wNEAR counts as NEAR
    big = engine.dry_run(near_to_usdc_swap(3 * YOCTO, 3 * 2_970_000))
    assert big.outcome == "confirm" and big.reasons == ["confirm_above"]
    over_usd = engine.dry_run(near_to_usdc_swap(17 * YOCTO, 17 * 2_970_000))  # $51
    assert over_usd.reasons == ["per_action_usd_cap"]


def test_tool_shaped_ft_transfer_with_registration(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", _doc())
    tx = TransactionSpec(
        signer_id=ALICE,
        receiver_id=USDC,
        actions=(
            call("storage_deposit", {"account_id": BOB, "registration_only": True}, STORAGE),
            call("ft_transfer", {"receiver_id": BOB, "amount": "5000000"}, 1),
        ),
    )
    action = CanonicalAction(
        tool="transfer",
        signer_id=ALICE,
        transactions=(tx,),
        recipients=(BOB,),
        preview="x",
        outflows=(
            TokenFlow(token=NEAR, amount=STORAGE, recipient=USDC),
            TokenFlow(token=USDC, amount=5_000_000, recipient=BOB),
            TokenFlow(token=NEAR, amount=1, recipient=USDC),
        ),
    )
    decision = engine.dry_run(action)
    # the demo transfer grant allows NEAR only: USDC is refused by the token allowlist
    assert decision.outcome == "deny" and decision.reasons == ["token_not_allowed"]


def test_tool_shaped_submit_label_declares_the_contract(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", _doc())
    tx = TransactionSpec(
        signer_id=ALICE,
        receiver_id=TASKS,
        actions=(call("submit_label", {"task_id": 1, "item_id": 0, "label": "cat"}),),
    )
    action = CanonicalAction(
        tool="submit_label",
        signer_id=ALICE,
        transactions=(tx,),
        recipients=(TASKS,),
        preview="label",
    )
    assert engine.dry_run(action).outcome == "allow"


def test_near_sold_through_swaps_counts_against_the_global_near_ceiling(tmp_path: Path) -> None:
    """The demo's 25 NEAR / 24 h ceiling covers swaps that wrap NEAR, not only transfers."""
    engine, _ = make_engine(tmp_path / "p.db", _doc())
    allowed = 0
    for _ in range(40):
        decision = engine.reserve(near_to_usdc_swap(YOCTO, 2_970_000))
        if decision.outcome != "allow":
            assert "ceiling" in " ".join(decision.reasons), decision.reasons
            break
        engine.settle(decision.reservation_id)
        allowed += 1
    assert allowed == 25


def _claim(deposit: int, extra: tuple = ()) -> CanonicalAction:
    claim = call("claim_lostfound", {"token_id": USDC}, deposit)
    return CanonicalAction(
        tool="claim_lostfound",
        signer_id=ALICE,
        transactions=(
            TransactionSpec(signer_id=ALICE, receiver_id=EXCHANGE, actions=(claim, *extra)),
        ),
        outflows=(TokenFlow(token=NEAR, amount=deposit, recipient=EXCHANGE, purpose="security"),),
        recipients=(EXCHANGE,),
        preview="claim",
    )


def test_a_claim_decodes_as_a_claim_and_nothing_else_passes_for_one() -> None:
    """Ref's claim_lostfound with its 1 yoctoNEAR is the claim kind; the same call paying more,
    or carrying another call, is not a claim (the label cannot launder it)."""
    from policies.decode import decode

    decoded = decode(_claim(1), exchanges={EXCHANGE}, wrap_id=WRAP)
    assert decoded.implied_kind == "claim_lostfound"
    assert decoded.spent() == {}
    assert USDC in decoded.tokens
    from policies.decode import Undecodable

    try:
        decode(_claim(YOCTO), exchanges={EXCHANGE}, wrap_id=WRAP)
    except Undecodable as exc:
        assert exc.code == "unexpected_deposit"
    else:
        raise AssertionError("a claim paying 1 NEAR decoded")
    smuggled = _claim(1, (call("withdraw", {"token_id": USDC, "amount": "5"}, 1),))
    assert decode(smuggled, exchanges={EXCHANGE}, wrap_id=WRAP).implied_kind == "other"


def test_a_tool_shaped_claim_passes_the_demo_grants(tmp_path: Path) -> None:
    """The recovery the swap's message suggests is one the demo grants allow."""
    engine, _ = make_engine(tmp_path / "p.db", _doc())
    decision = engine.dry_run(_claim(1))
    assert decision.outcome == "allow", decision.trace
    assert decision.grant_id == "demo-recovery"
