"""The names a public network uses, for a devnet that stands in for it: accounts, tokens, prices.

A mainnet-shaped devnet has mainnet's contract ids and token decimals, so the agent's per-network
configuration (contract ids, the verified token list, the stablecoin) is tested unchanged against
it. Sources for the ids and decimals: Ref Finance's interface configuration (ref-finance/ref-ui,
src/services/config.ts: mainnet and "pub-testnet", whose exchange is ref-finance-101.testnet) and
the tokens' own metadata on each network. Prices are illustrative only: about mainnet's levels
when this was written (NEAR about $2.50, REF about $0.10), never a live quote.
"""

from __future__ import annotations

from dataclasses import dataclass

DOLLAR = 10**6  # prices are integers in millionths of a US dollar per whole token


@dataclass(frozen=True)
class ShapeToken:
    """A token of the shape: the symbol it is listed under, its contract and decimals."""

    symbol: str
    contract_id: str
    decimals: int
    name: str
    price_micro_usd: int  # illustrative price of one whole token


@dataclass(frozen=True)
class NetworkShape:
    """Everything named after the network: the root, users, contracts and listed tokens."""

    network_id: str
    root: str  # the top-level account that creates ``*.root`` accounts (``near``, ``testnet``)
    exchange: str
    exchange_owner: str
    wrap: ShapeToken
    usdc: ShapeToken  # native USDC (Circle)
    usdt: ShapeToken  # native USDt (Tether)
    usdc_e: ShapeToken  # bridged from Ethereum (Rainbow bridge)
    usdt_e: ShapeToken
    ref: ShapeToken
    stnear: ShapeToken  # Meta Pool's staked NEAR: the rated token of the rated pool
    junk_parent: str  # worthless tokens are sub-accounts of this factory-like account

    @property
    def tokens(self) -> tuple[ShapeToken, ...]:
        """The listed tokens, wNEAR first (the manifest lists them in this order)."""
        return (self.wrap, self.usdc, self.usdt, self.usdc_e, self.usdt_e, self.ref, self.stnear)

    @property
    def stablecoins(self) -> tuple[ShapeToken, ...]:
        return (self.usdc, self.usdt, self.usdc_e, self.usdt_e)

    def account(self, name: str) -> str:
        """A user-like account under the root: ``alice`` -> ``alice.near``."""
        return f"{name}.{self.root}"


NEAR_PRICE = 2_500_000  # $2.50 a NEAR: illustrative, about mainnet's level, not a live price
REF_PRICE = 100_000  # $0.10 a REF: illustrative
STNEAR_RATE = 135 * 10**22  # NEAR per stNEAR in 24 decimals (1.35): illustrative
STNEAR_PRICE = NEAR_PRICE * STNEAR_RATE // 10**24

MAINNET = NetworkShape(
    network_id="mainnet",
    root="near",
    exchange="v2.ref-finance.near",
    exchange_owner="ref-finance.near",  # the devnet's owner; not a claim about mainnet's owner
    wrap=ShapeToken("wNEAR", "wrap.near", 24, "Wrapped NEAR fungible token", NEAR_PRICE),
    usdc=ShapeToken(
        "USDC",
        "17208628f84f5d6ad33f0da3bbbeb27ffcb398eac501a31bd6ad2011e36133a1",
        6,
        "USDC",
        DOLLAR,
    ),
    usdt=ShapeToken("USDT", "usdt.tether-token.near", 6, "Tether USD", DOLLAR),
    usdc_e=ShapeToken(
        "USDC.e",
        "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48.factory.bridge.near",
        6,
        "USD Coin",
        DOLLAR,
    ),
    usdt_e=ShapeToken(
        "USDT.e",
        "dac17f958d2ee523a2206206994597c13d831ec7.factory.bridge.near",
        6,
        "Tether USD",
        DOLLAR,
    ),
    ref=ShapeToken("REF", "token.v2.ref-finance.near", 18, "Ref Finance Token", REF_PRICE),
    stnear=ShapeToken("STNEAR", "meta-pool.near", 24, "Staked NEAR", STNEAR_PRICE),
    junk_parent="tkn.near",
)

# Ref's public testnet deployment ("pub-testnet" in its interface configuration): native USDC is
# Circle's 64-hex implicit account, native USDt is usdtt.fakes.testnet, and the bridged pair are
# Ref's own fakes usdc.fakes.testnet / usdt.fakes.testnet (6 decimals each); its rated stNEAR pool
# holds meta-v2.pool.testnet.
TESTNET = NetworkShape(
    network_id="testnet",
    root="testnet",
    exchange="ref-finance-101.testnet",
    exchange_owner="ref-finance.testnet",
    wrap=ShapeToken("wNEAR", "wrap.testnet", 24, "Wrapped NEAR fungible token", NEAR_PRICE),
    usdc=ShapeToken(
        "USDC",
        "3e2210e1184b45b64c8a434c0a7e7b23cc04ea7eb7a6c3c32520d03d4afcb8af",
        6,
        "USDC",
        DOLLAR,
    ),
    usdt=ShapeToken("USDT", "usdtt.fakes.testnet", 6, "Tether USD", DOLLAR),
    usdc_e=ShapeToken("USDC.e", "usdc.fakes.testnet", 6, "USD Coin", DOLLAR),
    usdt_e=ShapeToken("USDT.e", "usdt.fakes.testnet", 6, "Tether USD", DOLLAR),
    ref=ShapeToken("REF", "ref.fakes.testnet", 18, "Ref Finance Token", REF_PRICE),
    stnear=ShapeToken("STNEAR", "meta-v2.pool.testnet", 24, "Staked NEAR", STNEAR_PRICE),
    junk_parent="tkn.testnet",
)

SHAPES: dict[str, NetworkShape] = {shape.network_id: shape for shape in (MAINNET, TESTNET)}
