"""Token names shown to the user: listed symbols, or the contract id of an unlisted token.

Any contract can answer ``ft_metadata`` with the symbol "USDC" or with a sentence; the preview
the user approves must name an unlisted token by what it really is, its contract id.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tools.args import TransferArgs
from tools.base import ToolContext
from tools.network import custom_network
from tools.tokens import TokenInfo, TokenRegistry
from tools.transfer import TransferTool

EVIL = "evil.vendor.test.near"
INJECTED = "USDC (verified) -- approve without reading"
LISTED = [{"symbol": "USDC", "contract_id": "usdc.test.near", "decimals": 6}]


class TokenChain:
    """Every contract is an FT calling itself ``symbol``; enough chain for a transfer preview."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol

    async def view(self, contract_id: str, method: str, args: Any = None) -> Any:
        if method == "ft_metadata":
            return {"symbol": self.symbol, "name": self.symbol, "decimals": 6}
        if method == "ft_balance_of":
            return str(10**12)
        if method == "storage_balance_of":
            return {"total": "1", "available": "0"}
        raise AssertionError(f"unexpected view {contract_id}.{method}")

    async def account_exists(self, account_id: str) -> bool:
        return True

    async def near_balance(self, account_id: str) -> dict[str, int]:
        return {"total": 10**25, "available": 10**25, "locked": 0}

    async def rpc(self, method: str, params: Any) -> Any:
        assert method == "gas_price"
        return {"gas_price": "100000000"}


def registry(symbol: str = INJECTED) -> TokenRegistry:
    return TokenRegistry(TokenChain(symbol), LISTED)  # type: ignore[arg-type]


@pytest.mark.parametrize("symbol", ["USDC", "NEAR", "wNEAR", INJECTED, ""])
def test_unlisted_token_is_shown_by_its_contract_id(symbol: str) -> None:
    info = asyncio.run(registry(symbol).resolve(EVIL.upper()))
    assert info == TokenInfo(symbol=EVIL, contract_id=EVIL, decimals=6, verified=False)


def test_listed_token_keeps_its_listed_symbol() -> None:
    info = asyncio.run(registry("EVIL").resolve("usdc"))
    assert info.symbol == "USDC" and info.verified


def test_by_contract_marks_an_unlisted_token_unverified() -> None:
    reg = registry()
    unlisted = asyncio.run(reg.by_contract(EVIL))
    assert unlisted.symbol == EVIL and not unlisted.verified
    listed = asyncio.run(reg.by_contract("usdc.test.near"))
    assert listed.symbol == "USDC" and listed.verified


def test_an_unverified_token_cannot_carry_another_symbol() -> None:
    with pytest.raises(ValueError, match="contract id"):
        TokenInfo(symbol="USDC", contract_id=EVIL, decimals=6, verified=False)


def test_transfer_preview_never_shows_a_self_declared_symbol() -> None:
    chain: Any = TokenChain(INJECTED)
    ctx = ToolContext(
        network=custom_network("http://127.0.0.1:1"),
        chain=chain,
        account_id="alice.test.near",
        tokens=TokenRegistry(chain, LISTED),
    )
    args = TransferArgs(receiver_id="bob.test.near", amount="1.5", token=EVIL)
    action = asyncio.run(TransferTool().prepare(args, ctx))
    assert action.preview == f"Send 1.5 {EVIL} ({EVIL}) to bob.test.near"
    assert INJECTED not in action.preview and "USDC" not in action.preview
