"""The fungible token behaves as NEP-141's reference implementation (messages, refunds, events)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devnet.contract import PromiseResult
from devnet.contracts.fungible_token import STORAGE_BALANCE, FungibleToken
from tests.devnet.contract_harness import NEAR, TGAS, Chain, deploy_token, ft_balance, register

SUPPLY = 1_000_000 * 10**18


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    for name in ("owner.near", "alice.near", "bob.near", "carol.near"):
        c.account(name)
    deploy_token(c, "token.near", "owner.near", SUPPLY)
    register(c, "token.near", "alice.near")
    return c


def test_new_mints_supply_to_owner_and_emits_ft_mint() -> None:
    c = Chain()
    c.account("owner.near")
    c.deploy("token.near", FungibleToken)
    out = c.call(
        "token.near",
        "new",
        {
            "owner_id": "owner.near",
            "total_supply": "1000",
            "metadata": {"spec": "ft-1.0.0", "name": "T", "symbol": "T", "decimals": 6},
        },
        by="token.near",
    )
    assert out.ok
    assert out.events == [
        {
            "standard": "nep141",
            "version": "1.0.0",
            "event": "ft_mint",
            "data": [{"owner_id": "owner.near", "amount": "1000", "memo": "new tokens are minted"}],
        }
    ]
    assert c.view("token.near", "ft_total_supply") == "1000"
    assert ft_balance(c, "token.near", "owner.near") == 1000
    meta = c.view("token.near", "ft_metadata")
    assert meta == {
        "spec": "ft-1.0.0",
        "name": "T",
        "symbol": "T",
        "icon": None,
        "reference": None,
        "reference_hash": None,
        "decimals": 6,
    }
    again = c.call(
        "token.near",
        "new",
        {
            "owner_id": "owner.near",
            "total_supply": "1",
            "metadata": {"name": "T", "symbol": "T", "decimals": 6},
        },
        by="token.near",
    )
    assert again.error == "The contract has already been initialized"


def test_transfer_moves_balance_and_emits_event(chain: Chain) -> None:
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "250", "memo": "hi"},
        by="owner.near",
        deposit=1,
    )
    assert out.ok, out.error
    assert ft_balance(chain, "token.near", "alice.near") == 250
    assert ft_balance(chain, "token.near", "owner.near") == SUPPLY - 250
    assert out.events[0]["event"] == "ft_transfer"
    assert out.events[0]["data"] == [
        {"old_owner_id": "owner.near", "new_owner_id": "alice.near", "amount": "250", "memo": "hi"}
    ]


@pytest.mark.parametrize("deposit", [0, 2, NEAR])
def test_transfer_requires_exactly_one_yocto(chain: Chain, deposit: int) -> None:
    before = chain.balances["owner.near"]
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "1"},
        by="owner.near",
        deposit=deposit,
    )
    assert not out.ok
    assert out.error == "Requires attached deposit of exactly 1 yoctoNEAR"
    assert ft_balance(chain, "token.near", "alice.near") == 0
    assert chain.balances["owner.near"] == before  # the deposit came back


def test_transfer_to_unregistered_account_fails_and_rolls_back(chain: Chain) -> None:
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "bob.near", "amount": "5"},
        by="owner.near",
        deposit=1,
    )
    assert out.error == "The account bob.near is not registered"
    assert ft_balance(chain, "token.near", "owner.near") == SUPPLY  # withdrawal rolled back


def test_transfer_more_than_balance(chain: Chain) -> None:
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "owner.near", "amount": "1"},
        by="alice.near",
        deposit=1,
    )
    assert out.error == "The account doesn't have enough balance"
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "owner.near", "amount": "1"},
        by="bob.near",
        deposit=1,
    )
    assert out.error == "The account bob.near is not registered"


@pytest.mark.parametrize("amount", [5, "5.0", "-1", "", "0x10"])
def test_amount_must_be_a_decimal_string(chain: Chain, amount: object) -> None:
    out = chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": amount},
        by="owner.near",
        deposit=1,
    )
    assert out.error == "Failed to deserialize input from JSON."


def test_storage_deposit_registers_and_refunds_excess(chain: Chain) -> None:
    bounds = chain.view("token.near", "storage_balance_bounds")
    assert bounds == {"min": str(STORAGE_BALANCE), "max": str(STORAGE_BALANCE)}
    assert chain.view("token.near", "storage_balance_of", account_id="bob.near") is None
    before = chain.balances["carol.near"]
    out = chain.call(
        "token.near", "storage_deposit", {"account_id": "bob.near"}, by="carol.near", deposit=NEAR
    )
    assert out.ok
    assert out.value == {"total": str(STORAGE_BALANCE), "available": "0"}
    assert chain.balances["carol.near"] == before - STORAGE_BALANCE  # the rest refunded
    assert chain.view("token.near", "storage_balance_of", account_id="bob.near") == out.value
    # registering again refunds the whole deposit
    out = chain.call("token.near", "storage_deposit", {}, by="bob.near", deposit=NEAR)
    assert out.ok and "The account is already registered, refunding the deposit" in out.logs
    too_small = chain.call(
        "token.near", "storage_deposit", {}, by="carol.near", deposit=STORAGE_BALANCE - 1
    )
    assert too_small.error == "The attached deposit is less than the minimum storage balance"


def test_storage_unregister_requires_zero_balance_or_force(chain: Chain) -> None:
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "7"},
        by="owner.near",
        deposit=1,
    )
    out = chain.call("token.near", "storage_unregister", {}, by="alice.near", deposit=1)
    assert out.error == "Can't unregister the account with the positive balance without force"
    out = chain.call(
        "token.near", "storage_unregister", {"force": True}, by="alice.near", deposit=1
    )
    assert out.ok and out.value is True
    assert chain.view("token.near", "ft_total_supply") == str(SUPPLY - 7)
    assert chain.view("token.near", "storage_balance_of", account_id="alice.near") is None


def _resolve(chain: Chain, amount: int, result: PromiseResult) -> object:
    out = chain.call(
        "token.near",
        "ft_resolve_transfer",
        {"sender_id": "owner.near", "receiver_id": "alice.near", "amount": str(amount)},
        by="token.near",
        results=[result],
    )
    assert out.ok, out.error
    return out


@pytest.mark.parametrize(("unused", "used"), [("0", 100), ("30", 70), ("100", 0), ("500", 0)])
def test_resolve_transfer_refunds_unused(chain: Chain, unused: str, used: int) -> None:
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "100"},
        by="owner.near",
        deposit=1,
    )
    out = _resolve(chain, 100, PromiseResult(True, json.dumps(unused).encode()))
    assert out.value == str(used)
    assert ft_balance(chain, "token.near", "alice.near") == used
    assert ft_balance(chain, "token.near", "owner.near") == SUPPLY - used


@pytest.mark.parametrize(
    "result", [PromiseResult(False), PromiseResult(True, b"42"), PromiseResult(True, b"not json")]
)
def test_resolve_transfer_full_refund_on_failure_or_garbage(
    chain: Chain, result: PromiseResult
) -> None:
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "100"},
        by="owner.near",
        deposit=1,
    )
    out = _resolve(chain, 100, result)
    assert out.value == "0"
    assert ft_balance(chain, "token.near", "owner.near") == SUPPLY
    refund = out.events[-1]
    assert refund["event"] == "ft_transfer" and refund["data"][0]["memo"] == "refund"


def test_resolve_refund_limited_by_receiver_balance(chain: Chain) -> None:
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "100"},
        by="owner.near",
        deposit=1,
    )
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "owner.near", "amount": "60"},
        by="alice.near",
        deposit=1,
    )  # the receiver already spent 60
    out = _resolve(chain, 100, PromiseResult(False))
    assert out.value == "60"  # only 40 could come back
    assert ft_balance(chain, "token.near", "alice.near") == 0


def test_resolve_burns_when_sender_is_gone(chain: Chain) -> None:
    chain.call(
        "token.near",
        "ft_transfer",
        {"receiver_id": "alice.near", "amount": "100"},
        by="owner.near",
        deposit=1,
    )
    chain.storage["token.near"].pop("bal:owner.near")  # the sender unregistered meanwhile
    out = _resolve(chain, 100, PromiseResult(False))
    assert out.value == "100"
    assert chain.view("token.near", "ft_total_supply") == str(SUPPLY - 100)
    assert "The account of the sender was deleted" in out.logs


def test_resolve_is_private(chain: Chain) -> None:
    out = chain.call(
        "token.near",
        "ft_resolve_transfer",
        {"sender_id": "owner.near", "receiver_id": "alice.near", "amount": "1"},
        by="alice.near",
        results=[PromiseResult(False)],
    )
    assert out.error == "Method ft_resolve_transfer is private"


def test_transfer_call_chain_to_failing_receiver_refunds_all(chain: Chain) -> None:
    register(chain, "token.near", "bob.near")
    out = chain.call(
        "token.near",
        "ft_transfer_call",
        {"receiver_id": "bob.near", "amount": "100", "msg": ""},
        by="owner.near",
        deposit=1,
        gas=100 * TGAS,
    )
    assert [c.method for c in out.calls] == [
        "ft_transfer_call",
        "ft_on_transfer",
        "ft_resolve_transfer",
    ]
    assert out.calls[1].error == "CodeDoesNotExist"
    assert out.ok and out.value == "0"
    assert ft_balance(chain, "token.near", "owner.near") == SUPPLY


def test_transfer_call_needs_gas(chain: Chain) -> None:
    out = chain.call(
        "token.near",
        "ft_transfer_call",
        {"receiver_id": "alice.near", "amount": "1", "msg": ""},
        by="owner.near",
        deposit=1,
        gas=30 * TGAS,
    )
    assert out.error == "More gas is required"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["owner.near", "alice.near", "bob.near"]),
            st.sampled_from(["owner.near", "alice.near", "bob.near", "carol.near"]),
            st.integers(min_value=0, max_value=SUPPLY),
        ),
        max_size=15,
    )
)
def test_total_supply_is_conserved(moves: list[tuple[str, str, int]]) -> None:
    c = Chain()
    for name in ("owner.near", "alice.near", "bob.near", "carol.near"):
        c.account(name)
    deploy_token(c, "token.near", "owner.near", SUPPLY)
    register(c, "token.near", "alice.near")
    register(c, "token.near", "bob.near")
    for sender, receiver, amount in moves:
        c.call(
            "token.near",
            "ft_transfer",
            {"receiver_id": receiver, "amount": str(amount)},
            by=sender,
            deposit=1,
        )
        holders = ("owner.near", "alice.near", "bob.near")
        assert sum(ft_balance(c, "token.near", h) for h in holders) == SUPPLY
        assert c.view("token.near", "ft_total_supply") == str(SUPPLY)
        assert all(ft_balance(c, "token.near", h) >= 0 for h in holders)
