"""The exchange reproduces Ref's instant swap: formula, multi-hop, slippage refund, lostfound."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devnet.contracts.exchange import (
    LP_STORAGE_COST,
    MIN_STORAGE_BALANCE,
    POOL_STORAGE_COST,
    Exchange,
    swap_return,
)
from tests.devnet.contract_harness import NEAR, TGAS, Chain, deploy_token, ft_balance, register

E18 = 10**18
EX = "ex.near"
A, B, C = "a.near", "b.near", "c.near"
RESERVES = {0: (1_000 * E18, 3_000 * E18), 1: (3_000 * E18, 500 * E18)}  # pools A/B, B/C


def expected_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int = 30) -> int:
    """The formula from Ref's documentation, written out independently."""
    net = amount_in * (10_000 - fee)
    return (net * reserve_out) // (reserve_in * 10_000 + net)


def ft_call(chain: Chain, token: str, sender: str, amount: int, msg: str):
    return chain.call(
        token,
        "ft_transfer_call",
        {"receiver_id": EX, "amount": str(amount), "msg": msg},
        by=sender,
        deposit=1,
        gas=180 * TGAS,
    )


def swap_msg(*actions: dict) -> str:
    return json.dumps({"actions": list(actions)})


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    for name in ("owner.near", "mm.near", "alice.near", "bob.near"):
        c.account(name, 1_000 * NEAR)
    for token in (A, B, C):
        deploy_token(c, token, "mm.near", 10**9 * E18, symbol=token[0].upper())
    c.deploy(EX, Exchange)
    assert c.call(
        EX, "new", {"owner_id": "owner.near", "exchange_fee": 0, "referral_fee": 0}, by=EX
    ).ok
    assert c.call(EX, "extend_whitelisted_tokens", {"tokens": [A, B, C]}, by="owner.near").ok
    for token in (A, B, C):
        register(c, token, EX)
    assert c.call(EX, "storage_deposit", {}, by="mm.near", deposit=NEAR // 10).ok
    for pool_id, (left, right) in ((0, (A, B)), (1, (B, C))):
        out = c.call(
            EX,
            "add_simple_pool",
            {"tokens": [left, right], "fee": 30},
            by="mm.near",
            deposit=POOL_STORAGE_COST,
        )
        assert out.value == pool_id
        ra, rb = RESERVES[pool_id]
        assert ft_call(c, left, "mm.near", ra, "").ok
        assert ft_call(c, right, "mm.near", rb, "").ok
        out = c.call(
            EX,
            "add_liquidity",
            {"pool_id": pool_id, "amounts": [str(ra), str(rb)]},
            by="mm.near",
            deposit=LP_STORAGE_COST,
        )
        assert out.ok, out.error
    for token in (A, B):
        register(c, token, "alice.near")
    c.call(
        A,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(100 * E18)},
        by="mm.near",
        deposit=1,
    )
    return c


def pool_amounts(chain: Chain, pool_id: int) -> list[int]:
    return [int(a) for a in chain.view(EX, "get_pool", pool_id=pool_id)["amounts"]]


def test_views_have_refs_shapes(chain: Chain) -> None:
    assert chain.view(EX, "get_number_of_pools") == 2
    pool = chain.view(EX, "get_pool", pool_id=0)
    assert pool == {
        "pool_kind": "SIMPLE_POOL",
        "token_account_ids": [A, B],
        "amounts": [str(1_000 * E18), str(3_000 * E18)],
        "total_fee": 30,
        "shares_total_supply": str(10**24),
        "amp": 0,
    }
    assert chain.view(EX, "get_pools", from_index=1, limit=5)[0]["token_account_ids"] == [B, C]
    assert chain.view(EX, "storage_balance_bounds") == {
        "min": str(MIN_STORAGE_BALANCE),
        "max": None,
    }
    assert chain.view(EX, "get_whitelisted_tokens") == [A, B, C]
    assert chain.view(EX, "get_deposits", account_id="mm.near") == {A: "0", B: "0", C: "0"}
    assert chain.view(EX, "get_deposits", account_id="nobody.near") == {}


def test_swap_return_matches_formula() -> None:
    assert swap_return(10 * E18, 1_000 * E18, 3_000 * E18, 30) == expected_out(
        10 * E18, 1_000 * E18, 3_000 * E18
    )


def test_instant_swap_pays_formula_and_equals_get_return(chain: Chain) -> None:
    amount = 10 * E18
    quoted = int(
        chain.view(EX, "get_return", pool_id=0, token_in=A, amount_in=str(amount), token_out=B)
    )
    want = expected_out(amount, *RESERVES[0])
    assert quoted == want
    out = ft_call(
        chain,
        A,
        "alice.near",
        amount,
        swap_msg(
            {
                "pool_id": 0,
                "token_in": A,
                "token_out": B,
                "amount_in": str(amount),
                "min_amount_out": str(want),
            }
        ),
    )
    assert out.ok, out.error
    assert out.value == str(amount)  # ft_transfer_call's result: the amount used
    assert ft_balance(chain, B, "alice.near") == want
    assert ft_balance(chain, A, "alice.near") == 90 * E18
    assert pool_amounts(chain, 0) == [RESERVES[0][0] + amount, RESERVES[0][1] - want]
    assert f"Swapped {amount} {A} for {want} {B}" in out.logs
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {}


def test_multi_hop_uses_previous_output(chain: Chain) -> None:
    register(chain, C, "alice.near")
    amount = 5 * E18
    mid = expected_out(amount, *RESERVES[0])
    final = expected_out(mid, *RESERVES[1])
    out = ft_call(
        chain,
        A,
        "alice.near",
        amount,
        swap_msg(
            {
                "pool_id": 0,
                "token_in": A,
                "token_out": B,
                "amount_in": str(amount),
                "min_amount_out": "0",
            },
            {"pool_id": 1, "token_in": B, "token_out": C, "min_amount_out": str(final)},
        ),
    )
    assert out.ok, out.error
    assert ft_balance(chain, C, "alice.near") == final
    assert ft_balance(chain, B, "alice.near") == 0  # the intermediate token is fully spent
    assert pool_amounts(chain, 1) == [RESERVES[1][0] + mid, RESERVES[1][1] - final]
    sends = [c for c in out.calls if c.method == "ft_transfer" and c.receiver_id != A]
    assert [(c.receiver_id, c.args["amount"]) for c in sends] == [(C, str(final))]


def test_slippage_panics_and_refunds_input(chain: Chain) -> None:
    amount = 10 * E18
    want = expected_out(amount, *RESERVES[0])
    out = ft_call(
        chain,
        A,
        "alice.near",
        amount,
        swap_msg(
            {
                "pool_id": 0,
                "token_in": A,
                "token_out": B,
                "amount_in": str(amount),
                "min_amount_out": str(want + 1),
            }
        ),
    )
    on_transfer = next(c for c in out.calls if c.method == "ft_on_transfer")
    assert on_transfer.error == "E68: slippage error"
    assert out.ok and out.value == "0"  # the transaction succeeds; nothing was used
    assert ft_balance(chain, A, "alice.near") == 100 * E18
    assert pool_amounts(chain, 0) == list(RESERVES[0])


def test_bad_msg_and_unknown_pool_refund(chain: Chain) -> None:
    for msg, error in (
        ("{nope", "E28: Illegal msg in ft_transfer_call"),
        (
            swap_msg({"pool_id": 9, "token_in": A, "token_out": B, "min_amount_out": "0"}),
            "E85: invalid pool id",
        ),
        (
            swap_msg({"pool_id": 0, "token_in": A, "token_out": B, "min_amount_out": 0}),
            "E28: Illegal msg in ft_transfer_call",
        ),
    ):
        out = ft_call(chain, A, "alice.near", E18, msg)
        assert next(c for c in out.calls if c.method == "ft_on_transfer").error == error
        assert ft_balance(chain, A, "alice.near") == 100 * E18


def test_output_to_unregistered_user_parks_in_lostfound(chain: Chain) -> None:
    # alice is registered on neither token C nor the exchange, and the exchange holds less than
    # Ref's 100 NEAR of free balance: Ref credits the owner (its "Tier 3")
    mid = expected_out(E18, *RESERVES[0])
    final = expected_out(mid, *RESERVES[1])
    out = ft_call(
        chain,
        A,
        "alice.near",
        E18,
        swap_msg(
            {"pool_id": 0, "token_in": A, "token_out": B, "min_amount_out": "0"},
            {"pool_id": 1, "token_in": B, "token_out": C, "min_amount_out": "0"},
        ),
    )
    assert out.ok
    failed = [c for c in out.calls if c.method == "ft_transfer" and not c.ok]
    assert failed and failed[0].error == "The account alice.near is not registered"
    assert out.logs[-2:] == [
        "Account alice.near is not registered. Depositing to owner or user lostfound account.",
        "Not enough free NEAR for user lostfound. Total: 10, Storage locked: 0. "
        "Depositing to owner.",
    ]
    assert chain.view(EX, "get_deposit", account_id="owner.near", token_id=C) == str(final)
    assert ft_balance(chain, A, "alice.near") == 99 * E18  # the input is not refunded


def test_output_to_user_registered_on_exchange_goes_to_deposit(chain: Chain) -> None:
    chain.call(EX, "storage_deposit", {}, by="alice.near", deposit=NEAR // 10)
    mid = expected_out(E18, *RESERVES[0])
    final = expected_out(mid, *RESERVES[1])
    out = ft_call(
        chain,
        A,
        "alice.near",
        E18,
        swap_msg(
            {"pool_id": 0, "token_in": A, "token_out": B, "min_amount_out": "0"},
            {"pool_id": 1, "token_in": B, "token_out": C, "min_amount_out": "0"},
        ),
    )
    assert out.ok
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {C: str(final)}
    assert chain.view(EX, "get_deposit", account_id="owner.near", token_id=C) == "0"


def test_deposit_requires_exchange_registration(chain: Chain) -> None:
    out = ft_call(chain, A, "alice.near", E18, "")
    assert (
        next(c for c in out.calls if c.method == "ft_on_transfer").error
        == "E10: account not registered"
    )
    assert ft_balance(chain, A, "alice.near") == 100 * E18


def test_deposit_swap_and_withdraw(chain: Chain) -> None:
    chain.call(EX, "storage_deposit", {}, by="alice.near", deposit=NEAR // 10)
    assert ft_call(chain, A, "alice.near", 10 * E18, "").ok
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {A: str(10 * E18)}
    want = expected_out(4 * E18, *RESERVES[0])
    out = chain.call(
        EX,
        "swap",
        {
            "actions": [
                {
                    "pool_id": 0,
                    "token_in": A,
                    "token_out": B,
                    "amount_in": str(4 * E18),
                    "min_amount_out": "1",
                }
            ]
        },
        by="alice.near",
        deposit=1,
    )
    assert out.ok and out.value == str(want)
    out = chain.call(
        EX, "withdraw", {"token_id": B, "amount": str(want)}, by="alice.near", deposit=1
    )
    assert out.ok, out.error
    assert ft_balance(chain, B, "alice.near") == want
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {A: str(6 * E18), B: "0"}
    over = chain.call(
        EX, "withdraw", {"token_id": A, "amount": str(7 * E18)}, by="alice.near", deposit=1
    )
    assert over.error == "E22: not enough tokens in deposit"


def test_failed_withdraw_credits_deposit_back(chain: Chain) -> None:
    chain.call(EX, "storage_deposit", {}, by="bob.near", deposit=NEAR // 10)
    chain.call(A, "ft_transfer", {"receiver_id": EX, "amount": "1"}, by="mm.near", deposit=1)
    chain.storage[EX]["acct:bob.near"]["tokens"][C] = 500  # bob is not registered on C
    out = chain.call(EX, "withdraw", {"token_id": C, "amount": "500"}, by="bob.near", deposit=1)
    assert out.ok  # withdraw's own receipt succeeded; the ft_transfer failed
    assert chain.view(EX, "get_deposit", account_id="bob.near", token_id=C) == "500"


def test_second_provider_gets_proportional_shares(chain: Chain) -> None:
    chain.call(EX, "storage_deposit", {}, by="bob.near", deposit=NEAR // 10)
    for token in (A, B):
        register(chain, token, "bob.near")
        chain.call(
            token,
            "ft_transfer",
            {"receiver_id": "bob.near", "amount": str(1000 * E18)},
            by="mm.near",
            deposit=1,
        )
        assert ft_call(chain, token, "bob.near", 1000 * E18, "").ok
    out = chain.call(
        EX,
        "add_liquidity",
        {"pool_id": 0, "amounts": [str(100 * E18), str(900 * E18)]},
        by="bob.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.ok and out.value == str(10**24 // 10)
    deposits = chain.view(EX, "get_deposits", account_id="bob.near")
    assert deposits == {A: str(900 * E18), B: str(700 * E18)}  # only 300 B were needed
    assert chain.view(EX, "get_pool_shares", pool_id=0, account_id="bob.near") == str(10**23)


def test_pool_creation_rules(chain: Chain) -> None:
    assert (
        chain.call(
            EX,
            "add_simple_pool",
            {"tokens": [A, A], "fee": 30},
            by="mm.near",
            deposit=POOL_STORAGE_COST,
        ).error
        == "E92: token duplicated"
    )
    assert (
        chain.call(
            EX,
            "add_simple_pool",
            {"tokens": [A, C], "fee": 10_000},
            by="mm.near",
            deposit=POOL_STORAGE_COST,
        ).error
        == "E90: fee too large"
    )
    assert (
        chain.call(EX, "add_simple_pool", {"tokens": [A, C], "fee": 30}, by="mm.near").error
        == "E11: insufficient $NEAR storage deposit"
    )
    assert (
        chain.call(EX, "extend_whitelisted_tokens", {"tokens": ["x.near"]}, by="mm.near").error
        == "E100: no permission to invoke this"
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**6 * E18)),
        min_size=1,
        max_size=8,
    )
)
def test_constant_product_never_decreases(swaps: list[tuple[bool, int]]) -> None:
    c = Chain()
    c.deploy(EX, Exchange)
    c.account("owner.near")
    c.call(EX, "new", {"owner_id": "owner.near", "exchange_fee": 0, "referral_fee": 0}, by=EX)
    c.storage[EX]["pool_count"] = 1
    c.storage[EX]["pool:0"] = {
        "token_account_ids": [A, B],
        "amounts": [10**4 * E18, 3 * 10**4 * E18],
        "total_fee": 30,
        "shares_total_supply": 10**24,
    }
    c.storage[EX]["whitelist"] = [A, B]
    for a_to_b, amount in swaps:
        before = pool_amounts(c, 0)
        token_in, token_out = (A, B) if a_to_b else (B, A)
        quoted = c.view(
            EX,
            "get_return",
            pool_id=0,
            token_in=token_in,
            amount_in=str(amount),
            token_out=token_out,
        )
        c.account(token_in, 0)
        out = c.call(
            EX,
            "ft_on_transfer",
            {
                "sender_id": "owner.near",
                "amount": str(amount),
                "msg": swap_msg(
                    {
                        "pool_id": 0,
                        "token_in": token_in,
                        "token_out": token_out,
                        "min_amount_out": "0",
                    }
                ),
            },
            by=token_in,
            follow=False,
        )
        assert out.ok, out.error
        after = pool_amounts(c, 0)
        assert after[0] * after[1] >= before[0] * before[1]
        assert all(x > 0 for x in after)
        sent = [
            json.loads(p.actions[0].args)["amount"]
            for p in out.promises
            if p.receiver_id == token_out
        ]
        assert sent == ([] if quoted == "0" else [quoted])  # a zero output is not sent


def test_token_registration_and_storage_limits(chain: Chain) -> None:
    deploy_token(chain, "d.near", "alice.near", 10**6, symbol="D")
    register(chain, "d.near", EX)
    out = chain.call(
        EX, "storage_deposit", {"registration_only": True}, by="alice.near", deposit=NEAR
    )
    assert out.value == {"total": str(MIN_STORAGE_BALANCE), "available": "0"}
    on_transfer = next(
        c
        for c in ft_call(chain, "d.near", "alice.near", 10, "").calls
        if c.method == "ft_on_transfer"
    )
    assert on_transfer.error == "E12: token not whitelisted"
    # holding a token costs storage the minimum registration does not cover
    out = chain.call(EX, "register_tokens", {"token_ids": ["d.near"]}, by="alice.near", deposit=1)
    assert out.error == "E11: insufficient $NEAR storage deposit"
    chain.call(EX, "storage_deposit", {}, by="alice.near", deposit=NEAR // 100)
    assert chain.call(
        EX, "register_tokens", {"token_ids": ["d.near"]}, by="alice.near", deposit=1
    ).ok
    assert ft_call(chain, "d.near", "alice.near", 10, "").ok
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {"d.near": "10"}
    assert (
        chain.call(
            EX, "unregister_tokens", {"token_ids": ["d.near"]}, by="alice.near", deposit=1
        ).error
        == "E24: non-zero token balance"
    )
