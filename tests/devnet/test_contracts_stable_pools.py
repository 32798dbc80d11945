"""Stable and rated pools in the exchange contract: who may create them, Ref's views and logs,
fees and admin-fee shares, rates and their expiry, and the pool-kind rules of each method."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from devnet.contract import Context, ContractPanic, call
from devnet.contracts.exchange import LP_STORAGE_COST, Exchange, stable_pool_storage_cost
from devnet.contracts.fungible_token import FungibleToken
from devnet.contracts.stable_math import Curve, Fees
from tests.devnet.contract_harness import NEAR, TGAS, Chain, deploy_token, ft_balance, register

EX = "ex.near"
USDT, USDC, DAI = "usdt.near", "usdc.near", "dai.near"
STNEAR, WRAP = "stnear.near", "wrap.near"
E6, E18, E24 = 10**6, 10**18, 10**24
DAY_NS = 24 * 3600 * 10**9


class StNearToken(FungibleToken):
    """A token that answers Meta Pool's price method, as stNEAR's contract does on mainnet.

    A call rather than a view only because the test harness runs views only from a test."""

    code_name = "test_stnear"

    @call
    def get_st_near_price(self, ctx: Context) -> str:
        return str(ctx.storage.get("price", E24))

    @call
    def set_price(self, ctx: Context, price: str) -> None:
        ctx.storage["price"] = int(price)


def ft_call(chain: Chain, token: str, sender: str, amount: int, msg: str):
    return chain.call(
        token,
        "ft_transfer_call",
        {"receiver_id": EX, "amount": str(amount), "msg": msg},
        by=sender,
        deposit=1,
        gas=180 * TGAS,
    )


def swap_msg(pool_id: int, token_in: str, token_out: str, min_out: int = 0) -> str:
    action = {
        "pool_id": pool_id,
        "token_in": token_in,
        "token_out": token_out,
        "min_amount_out": str(min_out),
    }
    return json.dumps({"actions": [action]})


def owner_call(chain: Chain, method: str, args: dict[str, Any], deposit: int = 1):
    return chain.call(EX, method, args, by="owner.near", deposit=deposit)


def add_stable_pool(chain: Chain, tokens: list[str], decimals: list[int], **kw: Any) -> int:
    out = chain.call(
        EX,
        kw.get("method", "add_stable_swap_pool"),
        {
            "tokens": tokens,
            "decimals": decimals,
            "fee": kw.get("fee", 5),
            "amp_factor": kw.get("amp", 240),
        },
        by=kw.get("by", "owner.near"),
        deposit=stable_pool_storage_cost(len(tokens)),
    )
    assert out.ok, out.error
    return int(out.value)


def provide(chain: Chain, pool_id: int, tokens: list[str], amounts: list[int]) -> Any:
    for token, amount in zip(tokens, amounts, strict=True):
        if amount:
            assert ft_call(chain, token, "mm.near", amount, "").ok
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": pool_id, "amounts": [str(a) for a in amounts], "min_shares": "1"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.ok, out.error
    return out


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    for name in ("owner.near", "guardian.near", "mm.near", "alice.near", "bob.near"):
        c.account(name, 1_000 * NEAR)
    for token, decimals in ((USDT, 6), (USDC, 6), (DAI, 18), (WRAP, 24)):
        deploy_token(c, token, "mm.near", 10**12 * 10**decimals, decimals=decimals)
    c.deploy(STNEAR, StNearToken)
    assert c.call(
        STNEAR,
        "new",
        {
            "owner_id": "mm.near",
            "total_supply": str(10**12 * E24),
            "metadata": {"spec": "ft-1.0.0", "name": "stNEAR", "symbol": "STNEAR", "decimals": 24},
        },
        by=STNEAR,
    ).ok
    c.deploy(EX, Exchange)
    assert c.call(
        EX, "new", {"owner_id": "owner.near", "exchange_fee": 0, "referral_fee": 0}, by=EX
    ).ok
    tokens = [USDT, USDC, DAI, WRAP, STNEAR]
    assert c.call(EX, "extend_whitelisted_tokens", {"tokens": tokens}, by="owner.near").ok
    for token in tokens:
        register(c, token, EX)
        register(c, token, "alice.near")
    assert c.call(EX, "storage_deposit", {}, by="mm.near", deposit=NEAR // 10).ok
    return c


# ---- creation -------------------------------------------------------------------------------
def test_only_owner_or_guardian_creates_and_refs_checks_apply(chain: Chain) -> None:
    cost = stable_pool_storage_cost(2)
    args = {"tokens": [USDT, USDC], "decimals": [6, 6], "fee": 5, "amp_factor": 240}
    out = chain.call(EX, "add_stable_swap_pool", args, by="mm.near", deposit=cost)
    assert out.error == "E100: no permission to invoke this"
    assert owner_call(chain, "extend_guardians", {"guardians": ["guardian.near"]}).ok
    assert chain.view(EX, "get_guardians") == ["guardian.near"]
    assert add_stable_pool(chain, [USDT, USDC], [6, 6], by="guardian.near") == 0
    short = chain.call(EX, "add_stable_swap_pool", args, by="owner.near", deposit=cost - 1)
    assert short.error == f"ERR_STORAGE_DEPOSIT need {cost}, attatched {cost - 1}"
    for bad, error in (
        ({"decimals": [6]}, "The number of tokens is inconsistent with the number of decimals."),
        ({"tokens": [USDT, USDT]}, "E92: token duplicated"),
        ({"decimals": [6, 25]}, "E60: illegal decimal"),
        ({"decimals": [0, 6]}, "E60: illegal decimal"),
        ({"amp_factor": 0}, "E61: illegal amp"),
        ({"amp_factor": 1_000_001}, "E61: illegal amp"),
        ({"fee": 10_000}, "E62: illegal fee"),
    ):
        out = chain.call(EX, "add_stable_swap_pool", args | bad, by="owner.near", deposit=cost)
        assert out.error == error, bad
    assert chain.view(EX, "get_number_of_pools") == 1


# ---- views ----------------------------------------------------------------------------------
def test_views_have_refs_shapes_for_every_kind(chain: Chain) -> None:
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    stable_id = add_stable_pool(chain, [USDT, USDC, DAI], [6, 6, 18], fee=5, amp=240)
    provide(chain, stable_id, [USDT, USDC, DAI], [1_000 * E6, 2_000 * E6, 3_000 * E18])
    pool = chain.view(EX, "get_pool", pool_id=stable_id)
    assert pool == {
        "pool_kind": "STABLE_SWAP",
        "token_account_ids": [USDT, USDC, DAI],
        "amounts": [str(1_000 * E6), str(2_000 * E6), str(3_000 * E18)],
        "total_fee": 5,
        "shares_total_supply": pool["shares_total_supply"],
        "amp": 240,
    }
    supply = int(pool["shares_total_supply"])
    assert supply == Curve(240).compute_d([1_000 * E18, 2_000 * E18, 3_000 * E18])
    detail = chain.view(EX, "get_stable_pool", pool_id=stable_id)
    assert detail == {
        "token_account_ids": [USDT, USDC, DAI],
        "decimals": [6, 6, 18],
        "amounts": pool["amounts"],
        "c_amounts": [str(1_000 * E18), str(2_000 * E18), str(3_000 * E18)],
        "total_fee": 5,
        "shares_total_supply": str(supply),
        "amp": 240,
    }
    kinds = [p["pool_kind"] for p in chain.view(EX, "get_pools", from_index=0, limit=10)]
    assert kinds == ["SIMPLE_POOL", "STABLE_SWAP"]
    assert chain.view(EX, "get_pools", from_index=1, limit=1) == [pool]
    assert chain.view(EX, "get_pools", from_index=5, limit=3) == []
    by_ids = chain.view(EX, "get_pool_by_ids", pool_ids=[1, 0, 1])
    assert [p["pool_kind"] for p in by_ids] == ["STABLE_SWAP", "SIMPLE_POOL", "STABLE_SWAP"]
    with pytest.raises(ContractPanic, match="E85: invalid pool id"):
        chain.view(EX, "get_pool_by_ids", pool_ids=[0, 2])
    with pytest.raises(ContractPanic, match="^not implemented$"):
        chain.view(EX, "get_rated_pool", pool_id=stable_id)
    with pytest.raises(ContractPanic, match="^not implemented$"):
        chain.view(EX, "get_stable_pool", pool_id=0)
    assert chain.view(EX, "get_pool_fee", pool_id=stable_id) == 5


def test_get_pools_needs_both_arguments_as_on_ref(chain: Chain) -> None:
    with pytest.raises(TypeError):  # the devnet runtime answers this with Ref's deserialize error
        chain.view(EX, "get_pools")
    with pytest.raises(ContractPanic, match="Failed to deserialize input from JSON."):
        chain.view(EX, "get_pools", from_index=0, limit="5")


# ---- swaps, fees and admin fee ----------------------------------------------------------
def test_instant_swap_pays_get_return_and_logs_as_ref(chain: Chain) -> None:
    assert owner_call(chain, "modify_admin_fee", {"admin_fee_bps": 2_000}).ok
    pool_id = add_stable_pool(chain, [USDT, USDC], [6, 6], fee=5, amp=240)
    provide(chain, pool_id, [USDT, USDC], [1_000_000 * E6, 1_000_000 * E6])
    before = chain.view(EX, "get_stable_pool", pool_id=pool_id)
    chain.call(
        USDT,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(500 * E6)},
        by="mm.near",
        deposit=1,
    )
    quote = int(
        chain.view(
            EX,
            "get_return",
            pool_id=pool_id,
            token_in=USDT,
            amount_in=str(100 * E6),
            token_out=USDC,
        )
    )
    # Ref's arithmetic, step by step, on the pool as it stood
    c_amounts = [int(c) for c in before["c_amounts"]]
    expected = Curve(240).swap_to(0, 100 * E18, 1, c_amounts, Fees(5, 2_000))
    assert quote == expected.amount_swapped // 10**12
    out = ft_call(chain, USDT, "alice.near", 100 * E6, swap_msg(pool_id, USDT, USDC, quote))
    assert out.ok, out.error
    assert ft_balance(chain, USDC, "alice.near") == quote
    shares = int(chain.view(EX, "get_pool_shares", pool_id=pool_id, account_id=EX))
    assert shares > 0
    exchange_logs = [line for c in out.calls if c.receiver_id == EX for line in c.logs]
    assert exchange_logs[:2] == [
        f"Swapped {100 * E6} {USDT} for {quote} {USDC}, total fee {expected.fee // 10**12}, "
        f"admin fee {expected.admin_fee // 10**12}",
        f"Exchange {EX} got {shares} shares, No referral fee",
    ]
    after = chain.view(EX, "get_stable_pool", pool_id=pool_id)
    assert int(after["c_amounts"][1]) == expected.new_destination_amount + expected.admin_fee
    provider = int(chain.view(EX, "get_pool_shares", pool_id=pool_id, account_id="mm.near"))
    assert int(after["shares_total_supply"]) == provider + shares


def test_slippage_refunds_and_admin_fee_rules(chain: Chain) -> None:
    pool_id = add_stable_pool(chain, [USDT, USDC], [6, 6])
    provide(chain, pool_id, [USDT, USDC], [1_000 * E6, 1_000 * E6])
    chain.call(
        USDT,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(10 * E6)},
        by="mm.near",
        deposit=1,
    )
    refused = ft_call(chain, USDT, "alice.near", E6, swap_msg(pool_id, USDT, USDC, E6))
    assert "E68: slippage error" in (refused.failed_calls()[0].error or "")
    assert ft_balance(chain, USDT, "alice.near") == 10 * E6
    # no admin fee configured: no exchange shares, no "Exchange ... got" line
    out = ft_call(chain, USDT, "alice.near", E6, swap_msg(pool_id, USDT, USDC))
    assert not any(line.startswith("Exchange ") for line in out.logs)
    assert chain.view(EX, "get_pool_shares", pool_id=pool_id, account_id=EX) == "0"
    assert owner_call(chain, "modify_admin_fee", {"admin_fee_bps": 8_001}).error == (
        "E101: illegal fee"
    )
    out = chain.call(EX, "modify_admin_fee", {"admin_fee_bps": 100}, by="mm.near", deposit=1)
    assert out.error == "E100: no permission to invoke this"


def test_liquidity_methods_follow_the_pool_kind(chain: Chain) -> None:
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    stable_id = add_stable_pool(chain, [USDT, USDC], [6, 6], fee=5)
    out = chain.call(
        EX,
        "add_liquidity",
        {"pool_id": stable_id, "amounts": ["1", "1"]},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.error == "not implemented"
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": 0, "amounts": ["1", "1"], "min_shares": "0"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.error == "not implemented"
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": stable_id, "amounts": [str(E6), "0"], "min_shares": "0"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.error == "E65: init token balance should be non-zero"
    first = provide(chain, stable_id, [USDT, USDC], [100 * E6, 100 * E6])
    minted = int(first.value)
    assert first.logs[-1] == f"Mint {minted} shares for mm.near, fee is 0 shares"
    # one-sided: the imbalance pays a fee, part of it the exchange's (admin fee 0 here)
    second = provide(chain, stable_id, [USDT, USDC], [50 * E6, 0])
    fee_line = [line for line in second.logs if line.startswith("Mint ")][0]
    assert fee_line.endswith("shares") and not fee_line.endswith("fee is 0 shares")
    assert second.logs[-1] == f"Exchange {EX} got 0 shares, No referral fee, from add_liquidity"
    held = int(chain.view(EX, "get_pool_shares", pool_id=stable_id, account_id="mm.near"))
    deposits = chain.view(EX, "get_deposits", account_id="mm.near")
    out = chain.call(
        EX,
        "remove_liquidity",
        {"pool_id": stable_id, "shares": str(held // 2), "min_amounts": ["1", "1"]},
        by="mm.near",
        deposit=1,
    )
    assert out.ok, out.error
    got = [int(a) for a in out.value]
    assert out.logs == [f"LP mm.near remove {held // 2} shares to gain tokens [{got[0]}, {got[1]}]"]
    after = chain.view(EX, "get_deposits", account_id="mm.near")
    assert int(after[USDT]) == int(deposits[USDT]) + got[0]
    predicted = int(
        chain.view(
            EX, "predict_remove_liquidity_by_tokens", pool_id=stable_id, amounts=[str(E6), str(E6)]
        )
    )
    out = chain.call(
        EX,
        "remove_liquidity_by_tokens",
        {"pool_id": stable_id, "amounts": [str(E6), str(E6)], "max_burn_shares": str(predicted)},
        by="mm.near",
        deposit=1,
    )
    assert out.ok and int(out.value) == predicted
    over = chain.call(
        EX,
        "remove_liquidity",
        {"pool_id": stable_id, "shares": str(held), "min_amounts": ["0", "0"]},
        by="mm.near",
        deposit=1,
    )
    assert over.error == "E34: insufficient lp shares"


def test_predict_swap_actions_matches_a_real_two_hop(chain: Chain) -> None:
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    for token, amount in ((WRAP, 1_000 * E24), (USDC, 3_000 * E6)):
        assert ft_call(chain, token, "mm.near", amount, "").ok
    assert chain.call(
        EX,
        "add_liquidity",
        {"pool_id": 0, "amounts": [str(1_000 * E24), str(3_000 * E6)]},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    ).ok
    stable_id = add_stable_pool(chain, [USDT, USDC], [6, 6])
    provide(chain, stable_id, [USDT, USDC], [10_000 * E6, 10_000 * E6])
    actions = [
        {
            "pool_id": 0,
            "token_in": WRAP,
            "token_out": USDC,
            "amount_in": str(E24),
            "min_amount_out": "0",
        },
        {"pool_id": stable_id, "token_in": USDC, "token_out": USDT, "min_amount_out": "0"},
    ]
    predicted = chain.view(
        EX, "predict_swap_actions", token_deposit={WRAP: str(E24)}, actions=actions
    )
    chain.call(
        WRAP,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(E24)},
        by="mm.near",
        deposit=1,
    )
    out = ft_call(chain, WRAP, "alice.near", E24, json.dumps({"actions": actions}))
    assert out.ok
    assert predicted == {USDT: str(ft_balance(chain, USDT, "alice.near"))}


# ---- rated pools --------------------------------------------------------------------------
def rated_setup(chain: Chain) -> int:
    out = owner_call(chain, "register_rated_token", {"rate_type": "STNEAR", "token_id": STNEAR})
    assert out.ok and out.logs == [
        f"New STNEAR typed rated token {STNEAR} registered by owner.near"
    ]
    return add_stable_pool(chain, [STNEAR, WRAP], [24, 24], method="add_rated_swap_pool", fee=5)


def test_rated_token_starts_expired_until_its_rate_is_set(chain: Chain) -> None:
    pool_id = rated_setup(chain)
    info = chain.view(EX, "list_rated_tokens")
    assert info == {
        STNEAR: {
            "rate_type": "STNEAR",
            "rate_price": str(E24),
            "last_update_ts": "0",
            "is_valid": False,
            "extra_info": None,
        }
    }
    for token in (STNEAR, WRAP):
        assert ft_call(chain, token, "mm.near", 1_000 * E24, "").ok
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": pool_id, "amounts": [str(1_000 * E24)] * 2, "min_shares": "1"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.error == "E120: Rates expired"
    again = owner_call(chain, "register_rated_token", {"rate_type": "STNEAR", "token_id": STNEAR})
    assert again.error == f"Rated token {STNEAR} already exist"
    bad = owner_call(chain, "register_rated_token", {"rate_type": "XYZ", "token_id": DAI})
    assert bad.error == "E127: Invalid rate type"
    not_owner = chain.call(
        EX, "set_token_rate", {"token_id": STNEAR, "rate": str(E24)}, by="mm.near", deposit=1
    )
    assert not_owner.error == "E100: no permission to invoke this"
    assert owner_call(chain, "set_token_rate", {"token_id": STNEAR, "rate": str(12 * E24 // 10)}).ok
    assert chain.view(EX, "list_rated_tokens")[STNEAR]["is_valid"] is True
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": pool_id, "amounts": [str(1_000 * E24)] * 2, "min_shares": "1"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.ok, out.error
    rated = chain.view(EX, "get_rated_pool", pool_id=pool_id)
    assert rated["rates"] == [str(12 * E24 // 10), str(E24)]
    assert set(rated) == {
        "token_account_ids",
        "decimals",
        "amounts",
        "c_amounts",
        "total_fee",
        "shares_total_supply",
        "amp",
        "rates",
    }
    assert chain.view(EX, "get_pool", pool_id=pool_id)["pool_kind"] == "RATED_SWAP"
    with pytest.raises(ContractPanic, match="^not implemented$"):
        chain.view(EX, "get_stable_pool", pool_id=pool_id)


def test_rates_expire_after_a_day_and_update_from_the_token(chain: Chain) -> None:
    pool_id = rated_setup(chain)
    assert owner_call(chain, "set_token_rate", {"token_id": STNEAR, "rate": str(E24)}).ok
    for token in (STNEAR, WRAP):
        assert ft_call(chain, token, "mm.near", 1_000 * E24, "").ok
    out = chain.call(
        EX,
        "add_stable_liquidity",
        {"pool_id": pool_id, "amounts": [str(1_000 * E24)] * 2, "min_shares": "1"},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    )
    assert out.ok, out.error
    quote_args = {"pool_id": pool_id, "token_in": STNEAR, "amount_in": str(E24), "token_out": WRAP}
    at_par = int(chain.view(EX, "get_return", **quote_args))
    chain.block_timestamp += DAY_NS  # exactly a day: still valid
    assert int(chain.view(EX, "get_return", **quote_args)) == at_par
    chain.block_timestamp += 1
    with pytest.raises(ContractPanic, match="^E120: Rates expired$"):
        chain.view(EX, "get_return", **quote_args)
    chain.call(
        STNEAR,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(E24)},
        by="mm.near",
        deposit=1,
    )
    refused = ft_call(chain, STNEAR, "alice.near", E24, swap_msg(pool_id, STNEAR, WRAP))
    assert "E120: Rates expired" in (refused.failed_calls()[0].error or "")
    assert ft_balance(chain, STNEAR, "alice.near") == E24  # refunded
    # anyone asks the token for its price; the exchange stores it with this block's time
    assert chain.call(STNEAR, "set_price", {"price": str(13 * E24 // 10)}, by="mm.near").ok
    update = chain.call(EX, "update_token_rate", {"token_id": STNEAR}, by="bob.near")
    assert update.ok, update.error
    assert update.logs == [
        f"Caller bob.near invokes token {STNEAR} rait async-update.",
        f"Token {STNEAR} got new rate {13 * E24 // 10} from cross-contract call.",
    ]
    record = chain.view(EX, "list_rated_tokens")[STNEAR]
    assert record["rate_price"] == str(13 * E24 // 10)
    assert record["last_update_ts"] == str(chain.block_timestamp) and record["is_valid"]
    assert int(chain.view(EX, "get_return", **quote_args)) > at_par  # stNEAR now worth more
    swapped = ft_call(chain, STNEAR, "alice.near", E24, swap_msg(pool_id, STNEAR, WRAP))
    assert swapped.ok and ft_balance(chain, WRAP, "alice.near") > 12 * E24 // 10
    unknown = chain.call(EX, "update_token_rate", {"token_id": DAI}, by="bob.near")
    assert unknown.ok and unknown.value is True
    assert unknown.logs == [
        f"Caller bob.near invokes token {DAI} rait async-update but it is not a valid token."
    ]
    assert (
        int(chain.view(EX, "get_rated_return", **quote_args, rates=[str(E24), str(E24)]))
        < at_par + E24 // 100
    )


def test_amp_ramps_linearly_and_stops(chain: Chain) -> None:
    pool_id = add_stable_pool(chain, [USDT, USDC], [6, 6], amp=240)
    provide(chain, pool_id, [USDT, USDC], [1_000 * E6, 1_000 * E6])
    now = chain.block_timestamp
    ramp = {"pool_id": pool_id, "future_amp_factor": 480, "future_amp_time": str(now + 2 * DAY_NS)}
    short = ramp | {"future_amp_time": str(now + DAY_NS - 1)}
    assert owner_call(chain, "stable_swap_ramp_amp", short).error == "E82: insufficient ramp time"
    big = ramp | {"future_amp_factor": 2_401}
    assert owner_call(chain, "stable_swap_ramp_amp", big).error == (
        "E84: amp factor change is too large"
    )
    assert owner_call(chain, "stable_swap_ramp_amp", ramp).ok
    chain.block_timestamp = now + DAY_NS - 1  # a ramp locks the amp for a day
    again = owner_call(chain, "stable_swap_ramp_amp", ramp)
    assert again.error == "E81: amp is currently in lock"
    chain.block_timestamp = now + DAY_NS
    assert chain.view(EX, "get_pool", pool_id=pool_id)["amp"] == 360
    assert owner_call(chain, "stable_swap_stop_ramp_amp", {"pool_id": pool_id}).ok
    chain.block_timestamp = now + 3 * DAY_NS
    assert chain.view(EX, "get_stable_pool", pool_id=pool_id)["amp"] == 360
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    simple = owner_call(chain, "stable_swap_stop_ramp_amp", {"pool_id": pool_id + 1})
    assert simple.error == "E88: not stable pool"


def test_simple_pools_pay_the_same_admin_fee_as_ref(chain: Chain) -> None:
    """Ref's simple pool: admin shares = growth of sqrt(x*y) * supply / (old sqrt * 10000 / bps)."""
    assert owner_call(chain, "modify_admin_fee", {"admin_fee_bps": 2_000}).ok
    assert chain.view(EX, "metadata")["admin_fee_bps"] == 2_000
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [USDT, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    reserves = [1_000_000 * E6, 1_000_000 * E6]
    for token, amount in zip((USDT, USDC), reserves, strict=True):
        assert ft_call(chain, token, "mm.near", amount, "").ok
    assert chain.call(
        EX,
        "add_liquidity",
        {"pool_id": 0, "amounts": [str(a) for a in reserves]},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    ).ok
    chain.call(
        USDT,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(E6 * 1000)},
        by="mm.near",
        deposit=1,
    )
    out = ft_call(chain, USDT, "alice.near", 1_000 * E6, swap_msg(0, USDT, USDC))
    got = ft_balance(chain, USDC, "alice.near")
    supply = 10**24  # Ref's INIT_SHARES_SUPPLY
    before = math.isqrt(reserves[0] * reserves[1])
    after = math.isqrt((reserves[0] + 1_000 * E6) * (reserves[1] - got))
    expected = (after - before) * supply // (before * 10_000 // 2_000)
    assert expected > 0
    assert f"Exchange {EX} got {expected} shares, No referral fee" in out.logs
    assert chain.view(EX, "get_pool_shares", pool_id=0, account_id=EX) == str(expected)
    assert chain.view(EX, "get_pool", pool_id=0)["shares_total_supply"] == str(supply + expected)


def test_get_return_refuses_as_refs_swap_does(chain: Chain) -> None:
    assert chain.call(
        EX, "add_simple_pool", {"tokens": [WRAP, USDC], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    stable_id = add_stable_pool(chain, [USDT, USDC], [6, 6])
    provide(chain, stable_id, [USDT, USDC], [1_000 * E6, 1_000 * E6])
    cases = [
        (0, USDC, USDC, "E73: same token swap"),
        (0, DAI, USDC, "E102: invalid token id"),
        (0, WRAP, USDC, "E76: invalid params"),  # an empty pool
        (stable_id, USDC, USDC, "E71: illegal swap with duplicated tokens"),
        (stable_id, DAI, USDC, "E63: missing token"),
        (7, USDC, USDT, "E85: invalid pool id"),
    ]
    for pool_id, token_in, token_out, error in cases:
        with pytest.raises(ContractPanic, match=f"^{error}$"):
            chain.view(
                EX,
                "get_return",
                pool_id=pool_id,
                token_in=token_in,
                amount_in="1000",
                token_out=token_out,
            )
    # a swap that would leave a fee-free stable pool under MIN_RESERVE is refused, as on Ref
    fee_free = add_stable_pool(chain, [USDT, USDC], [6, 6], fee=0)
    provide(chain, fee_free, [USDT, USDC], [1_000 * E6, 1_000 * E6])
    with pytest.raises(
        ContractPanic, match="^E69: pool reserved token balance less than MIN_RESERVE$"
    ):
        chain.view(
            EX,
            "get_return",
            pool_id=fee_free,
            token_in=USDT,
            amount_in=str(10**9 * E6),
            token_out=USDC,
        )


def test_a_zero_swap_moves_nothing_and_registers_nothing(chain: Chain) -> None:
    """Ref's Account::withdraw/deposit skip zero amounts; a stable pool pays 0 for 0
    (test_stable_julia_02), so the caller's deposits stay exactly as they were."""
    stable_id = add_stable_pool(chain, [USDT, USDC], [6, 6])
    provide(chain, stable_id, [USDT, USDC], [1_000 * E6, 1_000 * E6])
    assert chain.call(EX, "storage_deposit", {}, by="alice.near", deposit=NEAR // 10).ok
    action = {
        "pool_id": stable_id,
        "token_in": USDT,
        "token_out": USDC,
        "amount_in": "0",
        "min_amount_out": "0",
    }
    out = chain.call(EX, "swap", {"actions": [action]}, by="alice.near", deposit=1)
    assert out.ok and out.value == "0", out.error
    assert chain.view(EX, "get_deposits", account_id="alice.near") == {}
