"""wNEAR counts as NEAR, so a limit written in wNEAR is a NEAR limit; a rule that can never
apply is refused when the grants file is read, with a message naming it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policies.evaluator import ALLOW, CONFIRM, DENY
from policies.grants import GrantFileError, load_grants_file, parse_grants
from policies.store import GrantBook
from policies.windows import to_us
from tests.policy.helpers import (
    BOB,
    EXCHANGE,
    START,
    TASKS,
    USDC,
    WRAP,
    YOCTO,
    grants_doc,
    make_engine,
    near_transfer,
    swap,
    swap_grant,
    tasks_grant,
    transfer_grant,
)
from tools.action import NEAR

EXAMPLE = Path(__file__).parents[2] / "policies" / "examples" / "demo-grant.yaml"

# The grant from the report: "2 wNEAR per 24 h, confirm above 1", USD cap far above.
WNEAR_GRANT = swap_grant(
    per_action_usd="100",
    windows=[{"token": "wNEAR", "amount": "2", "period": "24h"}],
    confirm={"above": {"wNEAR": "1"}},
)


def near_to_usdc(near: str) -> Any:
    """A NEAR -> USDC swap as the swap tool prepares it: wrap, then sell the wNEAR."""
    amount = int(Decimal(near) * YOCTO)
    return swap(WRAP, USDC, amount, amount * 3 // 10**18, wrap=True)  # NEAR at $3, no slippage


@pytest.mark.parametrize(
    ("near", "outcome", "reason"),
    [("4.5", DENY, "window_cap"), ("1.5", CONFIRM, "confirm_above"), ("0.5", ALLOW, "allowed")],
)
def test_a_wnear_window_and_threshold_govern_a_near_swap(
    tmp_path: Path, near: str, outcome: str, reason: str
) -> None:
    engine, _ = make_engine(tmp_path / "p.db", grants_doc(WNEAR_GRANT))
    decision = engine.dry_run(near_to_usdc(near))
    assert decision.outcome == outcome, decision.trace
    assert reason in decision.reasons


def test_the_wnear_window_counts_what_was_already_spent(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", grants_doc(WNEAR_GRANT))
    first = engine.reserve(near_to_usdc("0.8"))
    assert first.outcome == ALLOW
    second = engine.dry_run(near_to_usdc("0.9"))
    assert second.outcome == ALLOW
    engine.reserve(near_to_usdc("0.9"))
    third = engine.dry_run(near_to_usdc("0.5"))  # 0.8 + 0.9 + 0.5 > 2
    assert third.outcome == DENY and "window_cap" in third.reasons


def test_wnear_per_action_cap_and_ceiling_are_near_rules(tmp_path: Path) -> None:
    capped = swap_grant(per_action={"wNEAR": "2"})
    engine, _ = make_engine(tmp_path / "a.db", grants_doc(capped))
    assert "per_action_cap" in engine.dry_run(near_to_usdc("4.5")).reasons
    assert engine.dry_run(near_to_usdc("1.5")).outcome == ALLOW
    ceiling = [{"token": "wNEAR", "amount": "2", "period": "24h"}]
    engine, _ = make_engine(tmp_path / "b.db", grants_doc(swap_grant(), ceiling=ceiling))
    assert engine.dry_run(near_to_usdc("4.5")).reasons == ["global_ceiling"]


def test_stored_rules_are_keyed_near() -> None:
    ceiling = [{"token": "wNEAR", "amount": "3", "period": "1h"}]
    policy = parse_grants(grants_doc(WNEAR_GRANT, ceiling=ceiling))
    grant = policy.grants[0]
    assert grant.windows[0].token == NEAR and grant.windows[0].amount == 2 * YOCTO
    assert grant.confirm.above == {NEAR: YOCTO}
    assert WRAP in grant.tokens  # the allowlist keeps the contract: selling held wNEAR is allowed
    assert policy.ceiling is not None and policy.ceiling.windows[0].token == NEAR


def test_a_wrap_contract_under_another_symbol_is_near_too() -> None:
    doc = grants_doc(swap_grant(tokens=["NEAR", "WRAPPED", "USDC"], per_action={"WRAPPED": "2"}))
    doc["tokens"]["WRAPPED"] = {"contract_id": "wrap.near", "decimals": 24}  # mainnet's wNEAR
    assert parse_grants(doc).grants[0].per_action == {NEAR: 2 * YOCTO}
    doc["tokens"]["WRAPPED"] = {"contract_id": "wrap.other.near", "decimals": 24}
    configured = parse_grants(doc, wrapped_near=frozenset({"wrap.other.near"}))
    assert configured.grants[0].per_action == {NEAR: 2 * YOCTO}


@pytest.mark.parametrize(
    "overrides",
    [
        {"per_action": {"NEAR": "2", "wNEAR": "3"}},
        {"confirm": {"above": {"wNEAR": "1", "NEAR": "1"}}},
        {
            "windows": [
                {"token": "NEAR", "amount": "2", "period": "24h"},
                {"token": "wNEAR", "amount": "5", "period": "24h"},
            ]
        },
    ],
)
def test_near_and_wnear_for_the_same_rule_is_ambiguous(overrides: dict[str, Any]) -> None:
    with pytest.raises(GrantFileError, match="wNEAR counts as NEAR"):
        parse_grants(grants_doc(swap_grant(**overrides)))


def test_wnear_with_other_decimals_is_refused() -> None:
    doc = grants_doc(swap_grant())
    doc["tokens"]["wNEAR"]["decimals"] = 18
    with pytest.raises(GrantFileError, match="wrapped NEAR, which has 24 decimals"):
        parse_grants(doc)


# Each class of rule no action can ever trip, and the words that say why.
DEAD = [
    (
        transfer_grant(tokens=["USDC"], per_action={"NEAR": "5", "USDC": "1"}),
        "not in this grant's tokens",
    ),
    (transfer_grant(confirm={"above": {"REF": "1"}}), "not in this grant's tokens"),
    (
        transfer_grant(
            windows=[{"token": "wNEAR", "amount": "1", "period": "1h"}],
            tokens=["USDC"],
            per_action={"USDC": "1"},
        ),
        "NEAR (or wNEAR), which is not in this grant's tokens",
    ),
    (tasks_grant(per_action_usd="5"), "only claim_lostfound and swap and transfer move tokens"),
    (tasks_grant(recipients=[BOB]), "only claim_lostfound and swap and transfer move tokens"),
    (
        tasks_grant(confirm={"first_time_recipient": True}),
        "only claim_lostfound and swap and transfer move tokens",
    ),
    (transfer_grant(max_slippage_bps=50), "only apply to kind 'swap'"),
    (transfer_grant(exchanges=[EXCHANGE]), "only apply to kind 'swap'"),
    (transfer_grant(quote_max_age="30s"), "only apply to kind 'swap'"),
    (tasks_grant(contracts=[{"contract": TASKS, "methods": ["vote"]}]), "can never be called"),
    (
        tasks_grant(kinds=["balance", "submit_label"]),
        "can never be called",
    ),  # claim_rewards listed under contracts but not granted
    (transfer_grant(confirm={"kinds": ["swap"]}), "not among this grant's kinds"),
    (transfer_grant(hours_utc=["10:00-10:00"]), "start < end"),
    (transfer_grant(not_before="2030-01-01T00:00:00Z"), "not_before must be earlier"),
]


@pytest.mark.parametrize(("grant", "says"), DEAD)
def test_a_rule_that_can_never_apply_is_refused(grant: dict[str, Any], says: str) -> None:
    with pytest.raises(GrantFileError, match=r"grants\[0\]") as info:
        parse_grants(grants_doc(grant))
    assert says in str(info.value)


def test_the_example_grants_still_load_with_near_thresholds() -> None:
    policy = load_grants_file(EXAMPLE)
    swaps = next(g for g in policy.grants if g.id == "demo-swaps")
    assert swaps.confirm.above == {NEAR: 2 * YOCTO}


def test_a_near_cap_applies_to_a_plain_transfer_as_before(tmp_path: Path) -> None:
    engine, _ = make_engine(tmp_path / "p.db", grants_doc(transfer_grant()))
    assert engine.dry_run(near_transfer(BOB, 6 * YOCTO)).reasons == ["per_action_cap"]


def test_a_grant_stored_with_wnear_keyed_limits_reads_as_near(tmp_path: Path) -> None:
    """Grants an older version stored keyed by the wNEAR contract govern NEAR spending too."""
    body = json.loads(parse_grants(grants_doc(WNEAR_GRANT)).grants[0].body_json())
    body["windows"][0]["token"] = WRAP
    body["confirm"]["above"] = {WRAP: str(YOCTO)}
    body["per_action"] = {NEAR: str(9 * YOCTO), WRAP: str(5 * YOCTO)}  # both: the smaller holds
    book = GrantBook(tmp_path / "p.db")
    try:
        book.add({"swap": json.dumps(body)}, None, now_us=to_us(START))
    finally:
        book.close()
    engine, _ = make_engine(tmp_path / "p.db")
    assert "window_cap" in engine.dry_run(near_to_usdc("4.5")).reasons
    assert engine.dry_run(near_to_usdc("1.5")).outcome == CONFIRM
    (grant,) = engine.grants()
    assert grant.grant.per_action == {NEAR: 5 * YOCTO}
