"""Thousands of exchange pools like mainnet Ref's, planned deterministically from a seed.

What a reader of a permissionless exchange meets: a few deep pools at the market price, realistic
mid-sized pools on the same pairs, dust pools whose price is far off in both directions, pools
never funded, pools drained to a few base units on one side, pools of worthless tokens, and many
pools on pairs that no NEAR/stablecoin swap needs (so choosing candidate pools matters).

The richer side of every dust or drained pool is worth at most ``DUST_MAX_VALUE`` at the shape's
prices: what an attacker risks to push a price read, or what arbitrage leaves behind. A small
swap may still do better through one of them than through a deep pool (the router is right to
take it); a price read must not believe them.
Ids are creation order; the plan is shuffled so deep pools are not simply the first ids.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from devnet.genesis_shapes import DOLLAR, NetworkShape, ShapeToken

SIMPLE_POOL = "SIMPLE_POOL"
STABLE_SWAP = "STABLE_SWAP"
RATED_SWAP = "RATED_SWAP"
STABLE_AMP = 240  # illustrative amplification and fee of the stable and rated pools
STABLE_FEE_BPS = 5
DUST_MAX_VALUE = 25 * DOLLAR
FEES_BPS = (5, 10, 20, 25, 30, 60, 100)  # fee tiers seen on Ref's simple pools
# how far off a dust pool's price is: (numerator, denominator) of the real price, both directions
DUST_SKEWS = ((1, 100), (1, 8), (1, 3), (1, 1), (3, 1), (8, 1), (100, 1))
JUNK_WORDS = ("moon", "pepe", "doge", "frog", "rocket", "lambo", "gem", "shib", "cat", "air")
JUNK_DECIMALS = (0, 6, 8, 18, 24)
# share of the non-deep pools per role (the rest are unrelated pairs); each role gets at least one
ROLE_SHARES = (("mid", 0.06), ("dust", 0.12), ("drained", 0.03), ("empty", 0.04), ("junk", 0.30))
ROLES = ("deep", "mid", "dust", "drained", "empty", "junk", "unrelated")


@dataclass(frozen=True)
class JunkToken:
    """A worthless token: listed nowhere, it exists only to fill pools."""

    contract_id: str
    symbol: str
    decimals: int


@dataclass(frozen=True)
class PlannedPool:
    """One pool to create: its role (see ROLES), tokens and reserves in base units."""

    role: str
    tokens: tuple[str, ...]
    amounts: tuple[int, ...]  # all zero: created, never funded
    fee_bps: int
    kind: str = SIMPLE_POOL
    amp: int = 0  # stable and rated pools: the amplification coefficient


@dataclass(frozen=True)
class PoolPlan:
    pools: tuple[PlannedPool, ...]  # in pool id order
    junk: tuple[JunkToken, ...]

    def deposits(self) -> Counter[str]:
        """Base units of each token the liquidity provider must deposit into the exchange."""
        total: Counter[str] = Counter()
        for pool in self.pools:
            for token, amount in zip(pool.tokens, pool.amounts, strict=True):
                total[token] += amount
        return total

    def roles(self) -> Counter[str]:
        return Counter(pool.role for pool in self.pools)


def amount_for_value(token: ShapeToken, value_micro_usd: int) -> int:
    """Base units of ``token`` worth ``value_micro_usd`` at the shape's price (at least 1)."""
    return max(1, value_micro_usd * 10**token.decimals // token.price_micro_usd)


def deep_pools(shape: NetworkShape) -> tuple[PlannedPool, ...]:
    """The pools real swaps go through, at the shape's prices (value of each side in dollars):
    simple pools of wNEAR, stable pools of the stablecoins, a rated pool of stNEAR/wNEAR."""
    s = shape
    sides = (
        (s.wrap, s.usdc, 1_000_000),
        (s.wrap, s.usdt, 750_000),
        (s.wrap, s.usdc_e, 150_000),
        (s.wrap, s.usdt_e, 150_000),
        (s.wrap, s.ref, 250_000),
    )
    simple = tuple(_priced("deep", a, b, dollars * DOLLAR, 30) for a, b, dollars in sides)
    stable = (
        _curve(STABLE_SWAP, (s.usdc, s.usdt), 2_000_000),
        _curve(STABLE_SWAP, (s.usdt, s.usdc, s.usdt_e, s.usdc_e), 500_000),
        _curve(RATED_SWAP, (s.stnear, s.wrap), 500_000),
    )
    return simple + stable


def _curve(kind: str, tokens: tuple[ShapeToken, ...], dollars: int) -> PlannedPool:
    """A stable or rated pool holding ``dollars`` of each token."""
    return PlannedPool(
        role="deep",
        tokens=tuple(t.contract_id for t in tokens),
        amounts=tuple(amount_for_value(t, dollars * DOLLAR) for t in tokens),
        fee_bps=STABLE_FEE_BPS,
        kind=kind,
        amp=STABLE_AMP,
    )


def minimum_pools(shape: NetworkShape) -> int:
    """The fewest pools a plan can hold: the deep ones and one of every other role."""
    return len(deep_pools(shape)) + len(ROLES) - 1


def plan_pools(shape: NetworkShape, count: int, seed: int) -> PoolPlan:
    """``count`` pools of every role, the same for the same (shape, count, seed)."""
    deep = deep_pools(shape)
    if count < minimum_pools(shape):
        raise ValueError(
            f"a {shape.network_id}-shaped devnet needs at least "
            f"{minimum_pools(shape)} pools, not {count}"
        )
    rng = random.Random(f"{shape.network_id}:{count}:{seed}")
    rest = count - len(deep)
    per_role = {role: max(1, int(rest * share)) for role, share in ROLE_SHARES}
    per_role["unrelated"] = rest - sum(per_role.values())
    if per_role["unrelated"] < 1:  # few pools: take the missing ones from the biggest role
        per_role["junk"] -= 1 - per_role["unrelated"]
        per_role["unrelated"] = 1
    junk = _junk_tokens(shape, max(4, rest // 50), rng)
    makers = {
        "mid": lambda: _mid(shape, rng),
        "dust": lambda: _dust(shape, rng),
        "drained": lambda: _drained(shape, rng),
        "empty": lambda: _empty(shape, junk, rng),
        "junk": lambda: _junk_pool(shape, junk, rng),
        "unrelated": lambda: _unrelated(junk, rng),
    }
    pools = list(deep)
    for role, n in per_role.items():
        pools += [makers[role]() for _ in range(n)]
    rng.shuffle(pools)
    return PoolPlan(pools=tuple(_oriented(p, rng) for p in pools), junk=junk)


# -- roles ----------------------------------------------------------------------------------


def _main_pairs(shape: NetworkShape) -> tuple[tuple[ShapeToken, ShapeToken], ...]:
    s = shape
    return (
        (s.wrap, s.usdc),
        (s.wrap, s.usdt),
        (s.wrap, s.usdc_e),
        (s.wrap, s.usdt_e),
        (s.wrap, s.ref),
        (s.ref, s.usdc),
        (s.ref, s.usdt),
        (s.usdc, s.usdt),
        (s.usdc, s.usdc_e),
        (s.usdt, s.usdt_e),
    )


def _priced(
    role: str, a: ShapeToken, b: ShapeToken, value: int, fee: int, skew: tuple[int, int] = (1, 1)
) -> PlannedPool:
    """A pool with ``value`` micro-dollars of ``a``; ``b`` at ``skew`` times its real value."""
    num, den = skew
    return PlannedPool(
        role=role,
        tokens=(a.contract_id, b.contract_id),
        amounts=(amount_for_value(a, value), amount_for_value(b, value * num // den)),
        fee_bps=fee,
    )


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    """An integer between low and high, spread evenly over orders of magnitude."""
    return round(low * (high / low) ** rng.random())


def _mid(shape: NetworkShape, rng: random.Random) -> PlannedPool:
    a, b = rng.choice(_main_pairs(shape))
    value = _log_uniform(rng, 2_000, 200_000) * DOLLAR
    jitter = 10_000 + rng.randint(-30, 30)  # within 0.3% of the market price
    return _priced("mid", a, b, value, rng.choice(FEES_BPS), (jitter, 10_000))


def _dust(shape: NetworkShape, rng: random.Random) -> PlannedPool:
    a, b = rng.choice(_main_pairs(shape)[:7])  # pairs with NEAR or REF: their price can be pushed
    num, den = rng.choice(DUST_SKEWS)
    richer = _log_uniform(rng, 10_000, DUST_MAX_VALUE)  # the richer side: 1 cent to $25
    value_a = richer if den >= num else richer * den // num
    return _priced("dust", a, b, max(1, value_a), rng.choice(FEES_BPS), (num, den))


def _drained(shape: NetworkShape, rng: random.Random) -> PlannedPool:
    """One side emptied to a few base units by arbitrage; the other worth at most $25."""
    a, b = rng.choice(_main_pairs(shape)[:7])
    if rng.random() < 0.5:
        a, b = b, a
    full = amount_for_value(b, _log_uniform(rng, 10_000, DUST_MAX_VALUE))
    return PlannedPool("drained", (a.contract_id, b.contract_id), (rng.randint(1, 1_000), full), 30)


def _empty(shape: NetworkShape, junk: tuple[JunkToken, ...], rng: random.Random) -> PlannedPool:
    a, b = rng.choice(_main_pairs(shape))
    tokens = (a.contract_id, b.contract_id)
    if rng.random() < 0.5:
        tokens = (rng.choice(junk).contract_id, a.contract_id)
    return PlannedPool("empty", tokens, (0, 0), rng.choice(FEES_BPS))


def _junk_amount(token: JunkToken, rng: random.Random) -> int:
    return _log_uniform(rng, 1_000, 10**9) * 10**token.decimals


def _junk_pool(shape: NetworkShape, junk: tuple[JunkToken, ...], rng: random.Random) -> PlannedPool:
    """A worthless token against a real one holding $1 to $500 of it."""
    token = rng.choice(junk)
    real = rng.choice((shape.wrap, shape.wrap, shape.usdc, shape.usdt, shape.ref, shape.usdc_e))
    value = _log_uniform(rng, DOLLAR, 500 * DOLLAR)
    return PlannedPool(
        "junk",
        (token.contract_id, real.contract_id),
        (_junk_amount(token, rng), amount_for_value(real, value)),
        rng.choice(FEES_BPS),
    )


def _unrelated(junk: tuple[JunkToken, ...], rng: random.Random) -> PlannedPool:
    """Two worthless tokens: a pair no NEAR or stablecoin swap ever needs."""
    a, b = rng.sample(junk, 2)
    return PlannedPool(
        "unrelated",
        (a.contract_id, b.contract_id),
        (_junk_amount(a, rng), _junk_amount(b, rng)),
        rng.choice(FEES_BPS),
    )


def _junk_tokens(shape: NetworkShape, n: int, rng: random.Random) -> tuple[JunkToken, ...]:
    tokens = []
    for i in range(n):
        word = JUNK_WORDS[i % len(JUNK_WORDS)]
        symbol = f"{word.upper()}{i}"
        contract = f"{word}{i}.{shape.junk_parent}"
        tokens.append(JunkToken(contract, symbol, rng.choice(JUNK_DECIMALS)))
    return tuple(tokens)


def _oriented(pool: PlannedPool, rng: random.Random) -> PlannedPool:
    """Either token order, as pool creators choose it (stable pools keep their given order)."""
    if rng.random() < 0.5 or pool.kind != SIMPLE_POOL:
        return pool
    return PlannedPool(pool.role, pool.tokens[::-1], pool.amounts[::-1], pool.fee_bps)
