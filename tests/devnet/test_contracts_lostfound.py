"""Ref's three homes for an output the exchange cannot deliver (ref-exchange account_deposit.rs,
account_lostfound.rs): the user's deposit, the user's own lost-and-found, or the owner's deposit."""

from __future__ import annotations

import json

import pytest

from devnet.contracts.exchange import LP_STORAGE_COST, MIN_STORAGE_BALANCE, Exchange
from tests.devnet.contract_harness import NEAR, TGAS, Chain, deploy_token, ft_balance, register

EX = "ex.near"
A, B = "a.near", "b.near"
E18 = 10**18
NOT_REGISTERED = (
    "Account alice.near is not registered. Depositing to owner or user lostfound account."
)


def world(exchange_balance: int) -> Chain:
    c = Chain()
    for name in ("owner.near", "mm.near", "alice.near"):
        c.account(name, 1_000 * NEAR)
    c.deploy(EX, Exchange, balance=exchange_balance)
    for token in (A, B):
        deploy_token(c, token, "mm.near", 10**9 * E18)
        register(c, token, EX)
    register(c, A, "alice.near")  # alice holds A, but has no storage on B
    c.call(
        A,
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": str(10 * E18)},
        by="mm.near",
        deposit=1,
    )
    assert c.call(
        EX, "new", {"owner_id": "owner.near", "exchange_fee": 0, "referral_fee": 0}, by=EX
    ).ok
    assert c.call(EX, "extend_whitelisted_tokens", {"tokens": [A, B]}, by="owner.near").ok
    assert c.call(EX, "storage_deposit", {}, by="mm.near", deposit=NEAR // 10).ok
    assert c.call(
        EX, "add_simple_pool", {"tokens": [A, B], "fee": 30}, by="mm.near", deposit=NEAR
    ).ok
    for token in (A, B):
        assert swap(c, token, "mm.near", 1_000 * E18, "").ok
    assert c.call(
        EX,
        "add_liquidity",
        {"pool_id": 0, "amounts": [str(1_000 * E18)] * 2},
        by="mm.near",
        deposit=LP_STORAGE_COST,
    ).ok
    return c


def swap(chain: Chain, token: str, sender: str, amount: int, msg: str | None = None):
    if msg is None:
        action = {"pool_id": 0, "token_in": A, "token_out": B, "min_amount_out": "0"}
        msg = json.dumps({"actions": [action]})
    return chain.call(
        token,
        "ft_transfer_call",
        {"receiver_id": EX, "amount": str(amount), "msg": msg},
        by=sender,
        deposit=1,
        gas=180 * TGAS,
    )


def exchange_logs(outcome) -> list[str]:
    return [line for c in outcome.calls if c.receiver_id == EX for line in c.logs]


@pytest.fixture
def rich() -> Chain:
    """An exchange holding more than Ref's 100 NEAR of free balance."""
    return world(500 * NEAR)


def test_unregistered_receiver_gets_a_lostfound_and_claims_it(rich: Chain) -> None:
    out = swap(rich, A, "alice.near", E18)
    assert out.ok
    got = int(out.calls[1].logs[0].split(" for ")[1].split(" ")[0])  # "Swapped ... for N b.near"
    assert exchange_logs(out)[-2:] == [NOT_REGISTERED, "Depositing to user lostfound account."]
    assert rich.view(EX, "get_lostfound_token", account_id="alice.near", token_id=B) == str(got)
    assert rich.view(EX, "list_lostfound_tokens", account_id="alice.near") == {B: str(got)}
    assert rich.view(EX, "get_deposit", account_id="owner.near", token_id=B) == "0"
    # claimed while still unregistered on B: the transfer fails and it goes back, as on Ref
    again = rich.call(EX, "claim_lostfound", {"token_id": B}, by="alice.near", deposit=1)
    assert again.ok and again.value == "0"
    assert exchange_logs(again)[-2:] == [NOT_REGISTERED, "Depositing to user lostfound account."]
    assert rich.view(EX, "get_lostfound_token", account_id="alice.near", token_id=B) == str(got)
    no_yocto = rich.call(EX, "claim_lostfound", {"token_id": B}, by="alice.near")
    assert no_yocto.error == "Requires attached deposit of exactly 1 yoctoNEAR"
    register(rich, B, "alice.near")
    claimed = rich.call(EX, "claim_lostfound", {"token_id": B}, by="alice.near", deposit=1)
    assert claimed.ok and claimed.value == str(got)
    assert ft_balance(rich, B, "alice.near") == got
    assert rich.view(EX, "list_lostfound_tokens", account_id="alice.near") == {}
    nothing = rich.call(EX, "claim_lostfound", {"token_id": B}, by="alice.near", deposit=1)
    assert nothing.error == "E29: Illegal withdraw amount"


def test_registered_without_room_for_the_token_also_goes_to_lostfound(rich: Chain) -> None:
    assert rich.call(
        EX,
        "storage_deposit",
        {"registration_only": True},
        by="alice.near",
        deposit=MIN_STORAGE_BALANCE,
    ).ok
    out = swap(rich, A, "alice.near", E18)
    assert exchange_logs(out)[-2:] == [
        "Account alice.near has not enough storage. Depositing to owner or user lostfound account.",
        "Depositing to user lostfound account.",
    ]
    assert rich.view(EX, "get_deposits", account_id="alice.near") == {}
    assert int(rich.view(EX, "get_lostfound_token", account_id="alice.near", token_id=B)) > 0


def test_registered_with_room_gets_it_in_the_deposit(rich: Chain) -> None:
    assert rich.call(EX, "storage_deposit", {}, by="alice.near", deposit=NEAR // 10).ok
    out = swap(rich, A, "alice.near", E18)
    assert not any("lostfound" in line for line in exchange_logs(out))
    assert int(rich.view(EX, "get_deposit", account_id="alice.near", token_id=B)) > 0
    assert rich.view(EX, "list_lostfound_tokens", account_id="alice.near") == {}


def test_poor_exchange_parks_with_the_owner() -> None:
    poor = world(50 * NEAR)
    out = swap(poor, A, "alice.near", E18)
    logs = exchange_logs(out)
    assert logs[-2] == NOT_REGISTERED
    assert logs[-1].startswith("Not enough free NEAR for user lostfound. Total: ")
    assert logs[-1].endswith(", Storage locked: 0. Depositing to owner.")
    assert int(poor.view(EX, "get_deposit", account_id="owner.near", token_id=B)) > 0
    assert poor.view(EX, "list_lostfound_tokens", account_id="alice.near") == {}


def test_lostfound_paging(rich: Chain) -> None:
    rich.call(
        A, "ft_transfer", {"receiver_id": "alice.near", "amount": str(E18)}, by="mm.near", deposit=1
    )
    swap(rich, A, "alice.near", E18)
    listed = rich.view(EX, "list_lostfound_tokens", account_id="alice.near", from_index=0, limit=1)
    assert list(listed) == [B]
    assert rich.view(EX, "list_lostfound_tokens", account_id="alice.near", from_index=1) == {}
    assert rich.view(EX, "get_lostfound_token", account_id="bob.near", token_id=B) == "0"
