"""What near-agent ships for testnet and mainnet: contract ids, verified tokens, stablecoins.

Data only. Every value here can be overridden in agent.yaml (``contracts:``, ``tokens:``,
``stablecoins:``); ``tools.network`` merges the two. Sources, checked when the list was written:

- mainnet: Ref Finance's own front end (ref-finance/ref-ui ``src/services/config.ts``, network
  "mainnet": REF_FI_CONTRACT_ID v2.ref-finance.near, WRAP_NEAR_CONTRACT_ID wrap.near,
  USDC_TOKEN_ID (Circle's native USDC, a 64-hex implicit account), USDT_TOKEN_ID
  usdt.tether-token.near, USDCe_TOKEN_ID / USDTe_TOKEN_ID (Rainbow Bridge factory tokens),
  REF_TOKEN_ID token.v2.ref-finance.near).
- testnet: the same file, network "pub-testnet" (Ref's public testnet deployment,
  ref-finance-101.testnet, wrap.testnet): USDC is Circle's testnet USDC (64-hex implicit),
  USDt usdtt.fakes.testnet, USDC.e usdc.fakes.testnet, USDT.e usdt.fakes.testnet, REF
  ref.fakes.testnet.

Decimals: every stablecoin here has 6, wNEAR 24, REF 18. The listed decimals are a fallback only:
the token registry reads each token's own ``ft_metadata`` first.

Native and bridged stablecoins are named apart (USDC vs USDC.e, USDt vs USDT.e): they are
different tokens with different issuers, and a grant for one must never spend the other.

The tasks and notary contracts are near-agent's own (devnet/contracts); nobody runs them on a
public network, so none is shipped: set ``contracts.tasks`` / ``contracts.notary`` to one you
deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ContractRole = Literal["exchange", "wrap", "tasks", "notary"]
CONTRACT_ROLES: tuple[ContractRole, ...] = get_args(ContractRole)

# Roles whose contract is near-agent's own: it exists on the devnet, nowhere else by default.
DEVNET_ONLY_ROLES: frozenset[ContractRole] = frozenset({"tasks", "notary"})

WNEAR_SYMBOL = "wNEAR"
WNEAR_DECIMALS = 24


@dataclass(frozen=True)
class ListedToken:
    """One verified token of a network: the symbol users write, its contract, its decimals."""

    symbol: str
    contract_id: str
    decimals: int | None = None

    def as_entry(self) -> dict[str, object]:
        return {"symbol": self.symbol, "contract_id": self.contract_id, "decimals": self.decimals}


@dataclass(frozen=True)
class ShippedNetwork:
    """What near-agent knows about a public network before agent.yaml says anything."""

    contracts: dict[ContractRole, str | None]
    tokens: tuple[ListedToken, ...]
    stablecoins: tuple[str, ...]  # symbols, the first is the default ``defaults.stablecoin``


_MAINNET_USDC = "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1"
_TESTNET_USDC = "3e2210e1184b45b64c8a434c0a7e7b23cc04ea7eb7a6c3c32520d03d4afcb8af"
_MAINNET_USDC_E = "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48.factory.bridge.near"
_MAINNET_USDT_E = "dac17f958d2ee523a2206206994597c13d831ec7.factory.bridge.near"

SHIPPED: dict[str, ShippedNetwork] = {
    "mainnet": ShippedNetwork(
        contracts={
            "exchange": "v2.ref-finance.near",
            "wrap": "wrap.near",
            "tasks": None,
            "notary": None,
        },
        tokens=(
            ListedToken(WNEAR_SYMBOL, "wrap.near", WNEAR_DECIMALS),
            ListedToken("USDC", _MAINNET_USDC, 6),
            ListedToken("USDt", "usdt.tether-token.near", 6),
            ListedToken("USDC.e", _MAINNET_USDC_E, 6),
            ListedToken("USDT.e", _MAINNET_USDT_E, 6),
            ListedToken("REF", "token.v2.ref-finance.near", 18),
        ),
        stablecoins=("USDC", "USDt"),
    ),
    "testnet": ShippedNetwork(
        contracts={
            "exchange": "ref-finance-101.testnet",
            "wrap": "wrap.testnet",
            "tasks": None,
            "notary": None,
        },
        tokens=(
            ListedToken(WNEAR_SYMBOL, "wrap.testnet", WNEAR_DECIMALS),
            ListedToken("USDC", _TESTNET_USDC, 6),
            ListedToken("USDt", "usdtt.fakes.testnet", 6),
            ListedToken("USDC.e", "usdc.fakes.testnet", 6),
            ListedToken("USDT.e", "usdt.fakes.testnet", 6),
            ListedToken("REF", "ref.fakes.testnet", 18),
        ),
        stablecoins=("USDC", "USDt"),
    ),
}

# Symbols a devnet manifest's stablecoins default to, in order, when it names none.
DEFAULT_STABLECOIN_SYMBOLS: tuple[str, ...] = ("USDC", "USDt")


def shipped(network_id: str) -> ShippedNetwork | None:
    """The shipped catalog of a public network, or None (devnet, custom)."""
    return SHIPPED.get(network_id)
