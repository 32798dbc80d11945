"""Prices nobody can push: USD values and independent quotes from the exchange's pools.

One mechanism serves the policy (USD caps, the independent quote a swap's minimum is checked
against) and the scheduler's triggers (agent/scheduler/market.py). Anyone can create a pool, for
cents, at any ratio; so a price is the agreement of independent sources at the trade's size:

1. **Floor.** Every pool a source reads (the bridge hop too) must hold at least
   ``min_liquidity_usd`` on its stable side: the stablecoin reserve, or, for a pool without a
   stablecoin, its wNEAR reserve valued at wNEAR's median rate. A pool without either side cannot
   be measured and is not read. Pools of a kind ``tools.pools`` cannot quote are not read.
2. **Sources.** Each pool from the token to a stablecoin (USDC and USDT when listed), and each
   two-hop route through wNEAR, is one source. The primary stablecoin (the first) is one
   dollar; another counts as one only when the pools between it and the stablecoins already
   counted (directly, else through wNEAR) agree it is worth $1 within ``max_spread_bps``.
   Otherwise it is left out of pricing and each price records why: a configuration that
   declares a dollar that is not one (wNEAR, or a token that lost its peg) is priced in nothing.
   For a quote, the target is the token bought instead of a stablecoin.
3. **Agreement.** Each source's rate for a small trade (its spot rate, fee included) is compared:
   when the highest and lowest differ by more than ``max_spread_bps`` of their median, nothing is
   priced (PriceUnavailable names both). A pool pushed away from the others thus denies instead
   of moving the price, and a price is never more than the bound away from an honest source.
4. **Enough sources.** At least ``min_sources`` must agree. Fewer are accepted only when the
   deepest holds ``sole_source_min_liquidity_usd``: pushing such a pool costs its depth, and the
   devnet's genesis prices NEAR from one wNEAR/USDC pool ($300,000 deep), which must still price.
   Why 2 and $100,000: with two sources, moving the price means funding mispriced pools above
   the floor that arbitrageurs drain, and one pushed pool alone only denies; a lone pool is
   trusted at ten times the floor, where pushing it costs about its depth. Fewer sources or a
   wider spread mean no price: a deny, or a trigger that does not fire; never a guess. Anyone
   can cause that denial for the floor's cost until arbitrage closes the gap (the safe way to
   fail). All four are agent.yaml ``pricing:`` settings.
5. **Size.** Each source is quoted at the trade's size (``tools.pools.swap_out``, hop by hop).
   A source that agrees on the rate but is too shallow for this size (its quote trails the best by
   more than the bound) still counts as agreement, not in the median; the price is the median of
   the rest, as out per in. Without a size (0), or one too small for the pools to resolve,
   the rate for a small trade is the price.

**Which pools are read** (tools/market.py). Anyone can lend a pool depth for a moment and take
it back, so the depth a pool last showed decides nothing alone. For each pair that prices, the
snapshot reads 16 pools: first the pools that were sources of earlier accepted prices (up to 8,
longest established first; newer pools never displace them), then the deepest of the rest by
last-known amounts. A pushed pool is then read beside the honest established ones and the
agreement bound denies. The remaining bound: where no honest pool is established yet (a new home,
or a pair not priced before), the attacker must out-lend the honest deep pools on 16 pools of the
pair at once (each deeper than the deepest honest pool, at the fair price) when the agent first
prices it, and then push all of them; once established, honest sources leave the read only when
they stop passing the floor (their own depth is drained), and eight established sources are kept.

Prices are exact rationals (micro-USD per base unit); values are rounded up so a cap is never
passed by rounding. The engine never prices from the quote inside an action, and refuses prices
older than its staleness bound. Every price and quote carries its sources and the pools discarded
with the reason, for the audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, Protocol

from tools.action import NEAR
from tools.amounts import format_amount
from tools.pools import Pool, swap_out

BPS = 10_000
MICRO_USD = 10**6
PROBE_BPS = 1  # a spot rate is read by swapping this share of the pool's input reserve


@dataclass(frozen=True, slots=True)
class PriceRules:
    """The knobs of the price mechanism (defaults explained in the module docstring)."""

    min_liquidity_usd: int = 10_000
    max_spread_bps: int = 200
    min_sources: int = 2
    sole_source_min_liquidity_usd: int = 100_000

    def __post_init__(self) -> None:
        if self.min_liquidity_usd < 0 or self.sole_source_min_liquidity_usd < 0:
            raise ValueError("liquidity floors must not be negative")
        if not 0 <= self.max_spread_bps < BPS:
            raise ValueError("max_spread_bps must be between 0 and 9,999")
        if self.min_sources < 1:
            raise ValueError("min_sources must be at least 1")


@dataclass(frozen=True, slots=True)
class Source:
    """One independent source: a pool, or a two-hop route through wNEAR."""

    pools: tuple[int, ...]
    kinds: tuple[str, ...]
    target: str  # the token it prices in (a stablecoin, or the token a quote buys)
    amount_in: int
    amount_out: int  # at the trade's size, in ``target`` base units
    liquidity_usd_micro: int  # its shallowest pool's stable side
    spot: Fraction  # normalised rate for a small trade
    rate: Fraction  # normalised rate at the trade's size
    in_median: bool = True  # False: agrees, but too shallow for this size

    def to_dict(self) -> dict[str, Any]:
        return {
            "pools": list(self.pools),
            "kinds": list(self.kinds),
            "target": self.target,
            "amount_in": str(self.amount_in),
            "amount_out": str(self.amount_out),
            "liquidity_usd_micro": str(self.liquidity_usd_micro),
            "spot": str(self.spot),
            "rate": str(self.rate),
            "in_median": self.in_median,
        }


@dataclass(frozen=True, slots=True)
class Discarded:
    """A pool or route that was not used as a source, and why."""

    pools: tuple[int, ...]
    kinds: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"pools": list(self.pools), "kinds": list(self.kinds), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a price or quote was made of: its sources and what was left out."""

    sources: tuple[Source, ...] = ()
    discarded: tuple[Discarded, ...] = ()

    @property
    def source_pools(self) -> tuple[int, ...]:
        """The pools of every source, in order (what an accepted price keeps reading)."""
        return tuple(p for s in self.sources for p in s.pools)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [s.to_dict() for s in self.sources],
            "discarded": [d.to_dict() for d in self.discarded],
        }


class PriceUnavailable(Exception):
    """No trustworthy price or quote; the evaluator denies and a trigger does not fire."""

    def __init__(self, message: str, evidence: Evidence | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or Evidence()


@dataclass(frozen=True, slots=True)
class PricePoint:
    token: str
    micro_usd_per_unit: Fraction
    fetched_at: datetime
    source: str
    amount: int = 0  # the size it was priced at (base units; 0: spot)
    evidence: Evidence = field(default_factory=Evidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "micro_usd_per_unit": str(self.micro_usd_per_unit),
            "fetched_at": self.fetched_at.isoformat(),
            "source": self.source,
            "amount": str(self.amount),
            **self.evidence.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class QuotePoint:
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    fetched_at: datetime
    source: str
    evidence: Evidence = field(default_factory=Evidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_in": self.token_in,
            "token_out": self.token_out,
            "amount_in": str(self.amount_in),
            "amount_out": str(self.amount_out),
            "fetched_at": self.fetched_at.isoformat(),
            "source": self.source,
            **self.evidence.to_dict(),
        }


class PriceSource(Protocol):
    def usd_price(self, token: str, amount: int = 0) -> PricePoint:
        """Micro-USD per base unit of ``token`` when ``amount`` of it is sold; PriceUnavailable
        when it cannot be priced."""
        ...


class QuoteSource(Protocol):
    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        """What ``amount_in`` buys now, from the source's own data."""
        ...


def usd_value(amount: int, price: PricePoint) -> int:
    """Micro-USD, rounded up."""
    value = amount * price.micro_usd_per_unit
    return -((-value.numerator) // value.denominator)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The agreed rate (normalised target units per base unit in) and its evidence."""

    rate: Fraction
    evidence: Evidence
    fetched_at: datetime | None  # the oldest pool read; None when any read time is unknown


@dataclass(frozen=True, slots=True)
class PriceInputs:
    """Pools, the declared stablecoins, wNEAR, and the rules: what a price reads.

    ``stablecoins`` maps each declared stablecoin's contract id to its decimals, the primary
    first. The primary is one dollar; each other one counts as a dollar only when the pools
    between it and the stablecoins already accepted agree it is worth one (within
    ``max_spread_bps``); otherwise it is left out of pricing (``left_out`` says why), so a
    configuration that declares a dollar that is not one (wNEAR) cannot make it one.
    ``face_value`` (contract id -> decimals) are stablecoins declared but not priced with here,
    valued at a dollar only to measure a pool's depth on their side.
    """

    pools: Sequence[Pool]
    stablecoins: Mapping[str, int]
    bridge: str | None
    rules: PriceRules = PriceRules()
    verify_stablecoins: bool = True
    face_value: Mapping[str, int] = field(default_factory=dict)
    dollars: Mapping[str, Fraction] = field(init=False)
    left_out: tuple[Discarded, ...] = field(init=False)

    def __post_init__(self) -> None:
        declared = {c: Fraction(MICRO_USD, 10**d) for c, d in self.stablecoins.items()}
        dollars, left_out = (
            _checked_dollars(self, declared) if self.verify_stablecoins else (declared, ())
        )
        object.__setattr__(self, "dollars", dollars)
        object.__setattr__(self, "left_out", left_out)

    def usd_targets(self) -> dict[str, Fraction]:
        """Each stablecoin accepted as a dollar, with the micro-USD one base unit is worth."""
        return dict(self.dollars)

    def measure(
        self, token_in: str, targets: Mapping[str, Fraction], amount_in: int
    ) -> Measurement:
        """The agreed rate from ``token_in`` to any of ``targets`` (each with the factor that
        makes its base units comparable); PriceUnavailable with the evidence otherwise."""
        return _measure(self, token_in, targets, amount_in)


def _checked_dollars(
    market: PriceInputs, declared: Mapping[str, Fraction]
) -> tuple[dict[str, Fraction], tuple[Discarded, ...]]:
    """The declared stablecoins the pools agree are worth a dollar (the primary always), and a
    record for each one left out."""
    coins = list(declared)
    if len(coins) <= 1:
        return dict(declared), ()
    accepted = {coins[0]: declared[coins[0]]}
    pending = coins[1:]
    why: dict[str, Discarded] = {}
    progress = True
    while pending and progress:
        progress = False
        for coin in list(pending):
            names = " or ".join(accepted)
            try:
                worth = _dollar_worth(market, coin, accepted)
            except PriceUnavailable as exc:
                pools = exc.evidence.source_pools
                why[coin] = Discarded(
                    pools,
                    (),
                    f"{coin} is declared a stablecoin, but no agreed price against {names} "
                    f"shows it is worth $1 ({exc}); it is left out of pricing",
                )
                continue
            dollar = declared[coin]
            if abs(worth.rate - dollar) * BPS > dollar * market.rules.max_spread_bps:
                whole = worth.rate * (MICRO_USD / dollar)
                sources = worth.evidence.sources
                why[coin] = Discarded(
                    worth.evidence.source_pools,
                    tuple(k for s in sources for k in s.kinds),
                    f"{coin} is declared a stablecoin, but its pools against {names} price it at "
                    f"{_usd(int(whole))}, more than {market.rules.max_spread_bps} bps from $1; "
                    "it is left out of pricing",
                )
                continue
            accepted[coin] = dollar
            pending.remove(coin)
            why.pop(coin, None)
            progress = True
    return accepted, tuple(why[c] for c in pending)


def _dollar_worth(market: PriceInputs, coin: str, accepted: Mapping[str, Fraction]) -> Measurement:
    """What ``coin`` is worth in the ``accepted`` stablecoins: by the pools directly between
    them when any passes the floor, else through wNEAR too."""
    stables = {c: market.stablecoins[c] for c in accepted}
    face = {coin: market.stablecoins[coin]}  # the coin on trial: its side must be deep too
    direct = PriceInputs(
        market.pools, stables, None, market.rules, verify_stablecoins=False, face_value=face
    )
    try:
        return direct.measure(coin, direct.usd_targets(), 0)
    except PriceUnavailable as exc:
        if exc.evidence.sources or market.bridge is None:
            raise  # direct pools disagree or are too few: that is the answer
    bridged = PriceInputs(
        market.pools,
        stables,
        market.bridge,
        market.rules,
        verify_stablecoins=False,
        face_value=face,
    )
    return bridged.measure(coin, bridged.usd_targets(), 0)


# ------------------------------------------------------------------------------ the mechanism


def _usd(micro: int) -> str:
    """Dollars for people, to the cent (rounded down)."""
    return f"${format_amount(micro // 10_000, 2)}"


def _spot(pool: Pool, token_in: str, token_out: str) -> Fraction:
    """The pool's rate for a small trade (fee included): out per in for 1 bp of its reserve."""
    probe = pool.reserve(token_in) * PROBE_BPS // BPS
    if probe <= 0:
        return Fraction(0)
    return Fraction(swap_out(pool, token_in, token_out, probe), probe)


def _median(values: Sequence[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


class _Liquidity:
    """The stable-side depth of a pool in micro-USD (None: it has no side that can be valued)."""

    def __init__(self, market: PriceInputs, usable: Sequence[Pool]) -> None:
        self.stable_usd = market.usd_targets()
        # a stablecoin on trial (is it worth a dollar?) is still a side that must be deep:
        # valued at face value, a dust side cannot pass the floor on its other side's depth
        # (a pool of $10,000 of wNEAR against 1 cent of USDT reads USDT at any price)
        self.face_usd = {
            coin: Fraction(MICRO_USD, 10**decimals)
            for coin, decimals in market.face_value.items()
            if coin not in self.stable_usd
        }
        self.bridge = market.bridge
        self.bridge_usd: Fraction | None = None
        if market.bridge is not None:
            floor = market.rules.min_liquidity_usd * MICRO_USD
            rates = [
                _spot(p, market.bridge, s) * self.stable_usd[s]
                for p in usable
                if market.bridge in p.tokens
                for s in self.stable_usd
                if s in p.tokens and p.reserve(s) * self.stable_usd[s] >= floor
            ]
            rates = [r for r in rates if r > 0]
            self.bridge_usd = _median(rates) if rates else None

    def of(self, pool: Pool) -> int | None:
        face = [pool.reserve(s) * f for s, f in self.face_usd.items() if s in pool.tokens]
        stable = [pool.reserve(s) * f for s, f in self.stable_usd.items() if s in pool.tokens]
        if stable:
            return int(min(stable + face))
        if self.bridge is not None and self.bridge in pool.tokens and self.bridge_usd:
            return int(min([pool.reserve(self.bridge) * self.bridge_usd, *face]))
        return int(min(face)) if face else None


def _routes(
    pools: Sequence[Pool], token_in: str, target: str, bridge: str | None
) -> Iterable[tuple[Pool, ...]]:
    """Every pool from ``token_in`` to ``target``, and every two-hop route through ``bridge``."""
    for pool in pools:
        if token_in in pool.tokens and target in pool.tokens:
            yield (pool,)
    if bridge is None or bridge in (token_in, target):
        return
    firsts = [p for p in pools if token_in in p.tokens and bridge in p.tokens]
    seconds = [p for p in pools if bridge in p.tokens and target in p.tokens]
    for first in firsts:
        for second in seconds:
            if first.pool_id != second.pool_id:
                yield (first, second)


def _on_a_route(pool: Pool, token_in: str, targets: Iterable[str], bridge: str | None) -> bool:
    """Whether ``pool`` could be one hop of a route from ``token_in`` to a target."""
    ends = [*targets, *([bridge] if bridge else [])]
    starts = [token_in, *([bridge] if bridge else [])]
    return any(a in pool.tokens and b in pool.tokens and a != b for a in starts for b in ends)


def _measure(
    market: PriceInputs, token_in: str, targets: Mapping[str, Fraction], amount_in: int
) -> Measurement:
    rules = market.rules
    floor = rules.min_liquidity_usd * MICRO_USD
    discarded: list[Discarded] = []
    usable: list[Pool] = []
    for pool in market.pools:
        if not pool.quotable:
            if _on_a_route(pool, token_in, targets, market.bridge):
                discarded.append(
                    Discarded((pool.pool_id,), (pool.kind,), f"{pool.kind} pools cannot be quoted")
                )
            continue
        usable.append(pool)
    depth = _Liquidity(market, usable)

    sources: list[Source] = []
    read_at: dict[int, datetime | None] = {}
    for target, factor in targets.items():
        if target == token_in:
            continue
        for route in _routes(usable, token_in, target, market.bridge):
            ids = tuple(p.pool_id for p in route)
            kinds = tuple(p.kind for p in route)
            levels = [depth.of(p) for p in route]
            problem = _too_shallow(route, levels, floor)
            if problem:
                discarded.append(Discarded(ids, kinds, problem))
                continue
            hops = [token_in, *([market.bridge] if len(route) == 2 else []), target]
            spot, out = Fraction(factor), amount_in
            for pool, hop_in, hop_out in zip(route, hops[:-1], hops[1:], strict=True):
                assert hop_in is not None and hop_out is not None
                spot *= _spot(pool, hop_in, hop_out)
                out = swap_out(pool, hop_in, hop_out, out) if out > 0 else 0
            if spot <= 0:
                discarded.append(Discarded(ids, kinds, "it quotes nothing"))
                continue
            # a trade too small for the pools to resolve is worth their rate
            rate = Fraction(out, amount_in) * factor if out > 0 else spot
            liquidity = min(level for level in levels if level is not None)
            sources.append(Source(ids, kinds, target, amount_in, out, liquidity, spot, rate))
            read_at.update((p.pool_id, p.fetched_at) for p in route)

    discarded.extend(market.left_out)
    evidence = Evidence(tuple(sources), tuple(discarded))
    names = " or ".join(sorted(targets))
    if not sources:
        raise PriceUnavailable(
            f"no pool with at least {_usd(floor)} of liquidity prices {token_in} in {names}",
            evidence,
        )
    spots = [s.spot for s in sources]
    middle = _median(spots)
    low = min(sources, key=lambda s: s.spot)
    high = max(sources, key=lambda s: s.spot)
    if (high.spot - low.spot) * BPS > middle * rules.max_spread_bps:
        spread = int((high.spot - low.spot) * BPS / middle)
        raise PriceUnavailable(
            f"the price sources for {token_in} disagree by {spread} bps (more than "
            f"{rules.max_spread_bps} allowed): {_route_name(high)} reads it highest, "
            f"{_route_name(low)} lowest",
            evidence,
        )
    deepest = max(s.liquidity_usd_micro for s in sources)
    sole = rules.sole_source_min_liquidity_usd * MICRO_USD
    if len(sources) < rules.min_sources and deepest < sole:
        raise PriceUnavailable(
            f"only {len(sources)} price source(s) for {token_in} above the liquidity floor "
            f"(the deepest holds {_usd(deepest)}); at least {rules.min_sources} must agree, or "
            f"one must hold {_usd(sole)}",
            evidence,
        )
    best = max(s.rate for s in sources)
    ranked = tuple(
        s if s.rate * BPS >= best * (BPS - rules.max_spread_bps) else replace(s, in_median=False)
        for s in sources
    )
    rate = _median([s.rate for s in ranked if s.in_median])
    reads = list(read_at.values())
    fetched_at = None if None in reads else min(r for r in reads if r is not None)
    return Measurement(rate, Evidence(ranked, tuple(discarded)), fetched_at)


def _too_shallow(route: tuple[Pool, ...], levels: list[int | None], floor: int) -> str:
    """Why a route may not be read ("" when every pool in it is deep enough)."""
    for pool, level in zip(route, levels, strict=True):
        if level is None:
            return (
                f"pool {pool.pool_id} has no stablecoin side, nor a wNEAR side while wNEAR has a "
                "price, to measure its liquidity by"
            )
        if level < floor:
            return f"pool {pool.pool_id} holds {_usd(level)}, under the {_usd(floor)} floor"
    return ""


def _route_name(source: Source) -> str:
    return " then ".join(f"pool {p}" for p in source.pools)


# ------------------------------------------------------------------------------ the policy's view


class PoolPrices:
    """PriceSource and QuoteSource over the pools ``pools()`` returns (read once per call).

    ``stablecoins`` (contract id -> decimals, the primary first) are worth one USD per whole
    token once the pools agree (:class:`PriceInputs`); other tokens are priced against those,
    through ``bridge`` (wNEAR) too. Native NEAR is priced as ``bridge``. ``on_sources`` is told
    the pools of each accepted price or quote (the market keeps reading them).
    """

    def __init__(
        self,
        pools: Callable[[], Sequence[Pool]],
        *,
        stablecoins: Mapping[str, int],
        bridge: str | None = None,
        source: str = "pools",
        rules: PriceRules = PriceRules(),
        on_sources: Callable[[Iterable[int]], None] | None = None,
    ) -> None:
        if not stablecoins:
            raise ValueError("at least one stablecoin is needed to price in USD")
        self._pools = pools
        self.stablecoins = dict(stablecoins)
        self.bridge = bridge
        self.source = source
        self.rules = rules
        self._on_sources = on_sources

    def _accepted(self, measured: Measurement) -> None:
        if self._on_sources is not None:
            self._on_sources(measured.evidence.source_pools)

    def _market(self) -> PriceInputs:
        return PriceInputs(list(self._pools()), self.stablecoins, self.bridge, self.rules)

    def usd_price(self, token: str, amount: int = 0) -> PricePoint:
        if token == NEAR:
            if self.bridge is None:
                raise PriceUnavailable("native NEAR has no wrapped token to price it by")
            token = self.bridge
        market = self._market()
        if token in market.dollars:  # one dollar (the pools agree), so never stale
            unit = market.dollars[token]
            evidence = Evidence(discarded=market.left_out)
            return PricePoint(token, unit, _far(), "stablecoin", amount, evidence)
        measured = market.measure(token, market.usd_targets(), amount)
        self._accepted(measured)
        return PricePoint(
            token,
            measured.rate,
            _read_time(measured),
            self.source,
            amount,
            measured.evidence,
        )

    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        if amount_in <= 0:
            raise PriceUnavailable("a quote needs a positive amount")
        measured = self._market().measure(token_in, {token_out: Fraction(1)}, amount_in)
        self._accepted(measured)
        out = measured.rate * amount_in
        return QuotePoint(
            token_in,
            token_out,
            amount_in,
            out.numerator // out.denominator,
            _read_time(measured),
            self.source,
            measured.evidence,
        )


def _read_time(measured: Measurement) -> datetime:
    if measured.fetched_at is None:
        raise PriceUnavailable("a pool's read time is unknown, so its age cannot be checked")
    return measured.fetched_at


def _far() -> datetime:
    """The stablecoin's price is fixed by definition, so it never goes stale."""
    return datetime.max.replace(tzinfo=UTC)
