"""wNEAR mints exactly the NEAR deposited and pays it back on withdraw, as wrap.near does."""

from __future__ import annotations

import pytest

from devnet.contracts.fungible_token import STORAGE_BALANCE
from devnet.contracts.wrapped_near import WrappedNear
from tests.devnet.contract_harness import NEAR, Chain, ft_balance, register


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    c.account("alice.near")
    c.account("bob.near")
    c.deploy("wrap.near", WrappedNear, balance=0)
    assert c.call("wrap.near", "new", {}, by="wrap.near").ok
    return c


def test_metadata_is_wnear(chain: Chain) -> None:
    meta = chain.view("wrap.near", "ft_metadata")
    assert (meta["symbol"], meta["decimals"], meta["spec"]) == ("wNEAR", 24, "ft-1.0.0")
    assert chain.view("wrap.near", "ft_total_supply") == "0"


def test_deposit_of_registered_account_mints_all(chain: Chain) -> None:
    register(chain, "wrap.near", "alice.near")
    out = chain.call("wrap.near", "near_deposit", {}, by="alice.near", deposit=3 * NEAR)
    assert out.ok, out.error
    assert ft_balance(chain, "wrap.near", "alice.near") == 3 * NEAR
    assert chain.view("wrap.near", "ft_total_supply") == str(3 * NEAR)
    assert out.events[-1]["event"] == "ft_mint"
    assert chain.balances["wrap.near"] == 3 * NEAR + STORAGE_BALANCE


def test_deposit_registers_unregistered_caller_from_the_deposit(chain: Chain) -> None:
    out = chain.call("wrap.near", "near_deposit", {}, by="bob.near", deposit=NEAR)
    assert out.ok, out.error
    assert ft_balance(chain, "wrap.near", "bob.near") == NEAR - STORAGE_BALANCE
    too_small = chain.call(
        "wrap.near", "near_deposit", {}, by="alice.near", deposit=STORAGE_BALANCE - 1
    )
    assert too_small.error == "ERR_DEPOSIT_TOO_SMALL"
    zero = chain.call("wrap.near", "near_deposit", {}, by="alice.near")
    assert zero.error == "Requires positive attached deposit"


def test_withdraw_burns_and_sends_near(chain: Chain) -> None:
    register(chain, "wrap.near", "alice.near")
    chain.call("wrap.near", "near_deposit", {}, by="alice.near", deposit=5 * NEAR)
    before = chain.balances["alice.near"]
    out = chain.call(
        "wrap.near", "near_withdraw", {"amount": str(2 * NEAR)}, by="alice.near", deposit=1
    )
    assert out.ok, out.error
    assert chain.balances["alice.near"] == before - 1 + 2 * NEAR
    assert ft_balance(chain, "wrap.near", "alice.near") == 3 * NEAR
    assert chain.view("wrap.near", "ft_total_supply") == str(3 * NEAR)
    assert out.events[-1]["event"] == "ft_burn"


def test_withdraw_rules(chain: Chain) -> None:
    register(chain, "wrap.near", "alice.near")
    chain.call("wrap.near", "near_deposit", {}, by="alice.near", deposit=NEAR)
    no_yocto = chain.call("wrap.near", "near_withdraw", {"amount": "1"}, by="alice.near")
    assert no_yocto.error == "Requires attached deposit of exactly 1 yoctoNEAR"
    too_much = chain.call(
        "wrap.near", "near_withdraw", {"amount": str(2 * NEAR)}, by="alice.near", deposit=1
    )
    assert too_much.error == "The account doesn't have enough balance"
    assert ft_balance(chain, "wrap.near", "alice.near") == NEAR
