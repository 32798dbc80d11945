"""Strategies as typed configs, and what each one decides to do when it fires.

A strategy never chooses its own limits and never talks to a model: ``decide`` turns the config
and a market view into at most one tool call (a ``PlanStep``) or a reason to do nothing. The
policy engine and the guards judge that call afterwards, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.plan import PlanStep
from policies.grants import parse_duration
from policies.pricing import PriceUnavailable as PriceUnavailable  # no price: no trigger fires
from tools.amounts import format_amount

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class OrderSize:
    """How much of which token the order sells (whole tokens, decimal text): prices are read at
    this size, because a price for one unit is not what the order would get."""

    token: str
    amount: str


class Market(Protocol):
    """What strategies read: exchange prices (with their age) and the account's balances."""

    async def price(self, base: str, quote: str, size: OrderSize | None = None) -> Fraction:
        """Whole ``quote`` tokens per whole ``base`` token when an order of ``size`` trades
        (None: one whole ``base``); PriceUnavailable when stale, absent or disputed."""
        ...

    async def balance(self, token: str) -> int:
        """The account's balance of ``token`` in base units."""
        ...

    async def decimals(self, token: str) -> int: ...


@dataclass(frozen=True)
class Decision:
    """One tool call to make, or none with the reason (shown in ``schedule show``)."""

    step: PlanStep | None
    note: str
    one_shot: bool = False  # the strategy is completed once this fires

    @property
    def acts(self) -> bool:
        return self.step is not None


def _decimal_text(value: str) -> str:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"{value!r} is not a decimal number") from exc
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{value!r} must be a positive number")
    return value


def _exact_number(value: Any) -> Any:
    """A YAML integer (``amount: 3``) is exact and taken as its text; a YAML float is not."""
    if isinstance(value, bool):
        return value  # refused as not text, as before
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(
            f'{value!r} is a YAML float, which is not exact money: quote it, e.g. "{value!r}"'
        )
    return value


# An amount or a price level: decimal text (a YAML integer is accepted as its text)
Number = Annotated[str, BeforeValidator(_exact_number)]


def _fraction(text: str) -> Fraction:
    return Fraction(Decimal(text))


def show_price(price: Fraction) -> str:
    """A price for people to read (8 significant digits); never used for arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 8
        return str(Decimal(price.numerator) / Decimal(price.denominator))


class Guards(BaseModel):
    """Guard rails outside any model, checked before every fire acts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_trades: int = Field(default=24, ge=1, description="trades at most per `per`")
    per: str = "24h"
    cooldown: str | None = None  # least time between two trades
    max_failures: int = Field(default=3, ge=1, description="auto-pause after N failures in a row")

    @field_validator("per", "cooldown")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.per))

    @property
    def cooldown_delta(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.cooldown)) if self.cooldown else timedelta(0)


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    every: str = Field(default="1h", description="how often it fires (or checks its trigger)")
    misfire_grace: str = Field(default="5m", description="a fire later than this is missed")
    coalesce: bool = Field(default=True, description="several missed fires run once")
    max_slippage_bps: int | None = Field(default=None, ge=0, le=10_000)
    guards: Guards = Guards()

    @field_validator("every", "misfire_grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.every))

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.misfire_grace))

    def swap(self, token_in: str, token_out: str, amount: str) -> PlanStep:
        args: dict[str, Any] = {"token_in": token_in, "token_out": token_out, "amount_in": amount}
        if self.max_slippage_bps is not None:
            args["max_slippage_bps"] = self.max_slippage_bps
        return PlanStep(tool="swap", args=args)

    def describe(self) -> str:
        raise NotImplementedError

    def tokens(self) -> list[str]:
        """Every token the strategy names (each must exist on the network)."""
        return []

    def sample_step(self) -> PlanStep | None:
        """The tool call a fire makes, when it is known before the fire (checked at ``add``)."""
        return None

    async def decide(self, market: Market) -> Decision:
        raise NotImplementedError


class DCA(_Base):
    """Buy ``buy`` with ``amount`` of ``sell`` every interval."""

    kind: Literal["dca"] = "dca"
    sell: str
    buy: str
    amount: Number

    _amount = field_validator("amount")(_decimal_text)

    def describe(self) -> str:
        return f"every {self.every}: swap {self.amount} {self.sell} to {self.buy}"

    def tokens(self) -> list[str]:
        return [self.sell, self.buy]

    def sample_step(self) -> PlanStep | None:
        return self.swap(self.sell, self.buy, self.amount)

    async def decide(self, market: Market) -> Decision:
        return Decision(self.swap(self.sell, self.buy, self.amount), "scheduled buy")


def _price_note(price_of: str, shown: str, price_in: str, state: str) -> str:
    return f"{price_of} at {shown} {price_in}: {state}"


def price_in_note(note: str) -> Decimal | None:
    """The price a trigger's note states (``_price_note``'s format), for the console's chart."""
    head, sep, _ = note.partition(": ")
    parts = head.split(" ")
    if not sep or len(parts) != 4 or parts[1] != "at":
        return None
    try:
        price = Decimal(parts[2])
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


class _PriceTrigger(_Base):
    """Swap once when the price of ``price_of`` in ``price_in`` crosses a level."""

    sell: str
    buy: str
    amount: Number
    price_of: str
    price_in: str
    every: str = "30s"

    _amount = field_validator("amount")(_decimal_text)

    def _crossed(self, price: Fraction) -> bool:
        raise NotImplementedError

    def tokens(self) -> list[str]:
        return [self.sell, self.buy, self.price_of, self.price_in]

    def sample_step(self) -> PlanStep | None:
        return self.swap(self.sell, self.buy, self.amount)

    def _level_text(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        return (
            f"when {self.price_of} is {self._level_text()} {self.price_in}: "
            f"swap {self.amount} {self.sell} to {self.buy} (once)"
        )

    async def decide(self, market: Market) -> Decision:
        size = OrderSize(self.sell, self.amount)
        price = await market.price(self.price_of, self.price_in, size)
        shown = show_price(price)
        if not self._crossed(price):
            return Decision(None, _price_note(self.price_of, shown, self.price_in, "waiting"))
        return Decision(
            self.swap(self.sell, self.buy, self.amount),
            _price_note(self.price_of, shown, self.price_in, "triggered"),
            one_shot=True,
        )


class LimitOrder(_PriceTrigger):
    """A limit order: ``below`` or ``above`` (exactly one) a price."""

    kind: Literal["limit"] = "limit"
    below: Number | None = None
    above: Number | None = None

    @model_validator(mode="after")
    def _one_level(self) -> LimitOrder:
        if (self.below is None) == (self.above is None):
            raise ValueError("a limit order needs exactly one of 'below' or 'above'")
        _decimal_text(self.below or self.above or "")
        return self

    def _crossed(self, price: Fraction) -> bool:
        if self.below is not None:
            return price <= _fraction(self.below)
        return price >= _fraction(self.above or "0")

    def _level_text(self) -> str:
        return f"<= {self.below}" if self.below is not None else f">= {self.above}"


class StopLoss(_PriceTrigger):
    """Sell a position when its price falls to ``below``."""

    kind: Literal["stop_loss"] = "stop_loss"
    below: Number

    _level = field_validator("below")(_decimal_text)

    def _crossed(self, price: Fraction) -> bool:
        return price <= _fraction(self.below)

    def _level_text(self) -> str:
        return f"<= {self.below}"


class TakeProfit(_PriceTrigger):
    """Sell a position when its price rises to ``above``."""

    kind: Literal["take_profit"] = "take_profit"
    above: Number

    _level = field_validator("above")(_decimal_text)

    def _crossed(self, price: Fraction) -> bool:
        return price >= _fraction(self.above)

    def _level_text(self) -> str:
        return f">= {self.above}"


class Rebalance(_Base):
    """Keep the portfolio near target weights (percent), valued in ``value_in``."""

    kind: Literal["rebalance"] = "rebalance"
    weights: dict[str, int] = Field(min_length=2)
    value_in: str
    threshold_bps: int = Field(default=500, ge=1, le=10_000)
    every: str = "1d"

    @field_validator("weights")
    @classmethod
    def _sum_100(cls, weights: dict[str, int]) -> dict[str, int]:
        if any(w < 0 for w in weights.values()) or sum(weights.values()) != 100:
            raise ValueError("weights must be non-negative percentages that sum to 100")
        return weights

    def tokens(self) -> list[str]:
        return [*self.weights, self.value_in]

    def describe(self) -> str:
        parts = ", ".join(f"{t} {w}%" for t, w in self.weights.items())
        return f"every {self.every}: rebalance to {parts} (drift over {self.threshold_bps} bps)"

    async def decide(self, market: Market) -> Decision:
        values: dict[str, Fraction] = {}
        decimals: dict[str, int] = {}
        prices: dict[str, Fraction] = {}
        for token in self.weights:
            decimals[token] = await market.decimals(token)
            units = await market.balance(token)
            holding = OrderSize(token, format_amount(units, decimals[token])) if units > 0 else None
            price = (
                Fraction(1)
                if token == self.value_in
                else await market.price(token, self.value_in, holding)
            )
            prices[token] = price
            values[token] = Fraction(units, 10 ** decimals[token]) * price
        total = sum(values.values(), Fraction(0))
        if total <= 0:
            return Decision(None, "nothing to rebalance")
        drift = {t: values[t] / total - Fraction(w, 100) for t, w in self.weights.items()}
        over = max(drift, key=lambda t: drift[t])
        under = min(drift, key=lambda t: drift[t])
        if drift[over] * 10_000 <= self.threshold_bps:
            return Decision(None, f"within {self.threshold_bps} bps of target")
        move_value = min(drift[over], -drift[under]) * total
        units = int(move_value / prices[over] * 10 ** decimals[over])
        if units <= 0:
            return Decision(None, "drift too small to trade")
        amount = format_amount(units, decimals[over])
        return Decision(self.swap(over, under, amount), f"{over} over target, buying {under}")


class ClaimRewards(_Base):
    """Claim task rewards periodically."""

    kind: Literal["claim_rewards"] = "claim_rewards"
    task_ids: list[int] | None = None
    every: str = "1d"

    def describe(self) -> str:
        which = "all tasks" if self.task_ids is None else f"tasks {self.task_ids}"
        return f"every {self.every}: claim rewards from {which}"

    async def decide(self, market: Market) -> Decision:
        args: dict[str, Any] = {} if self.task_ids is None else {"task_ids": self.task_ids}
        return Decision(PlanStep(tool="claim_rewards", args=args), "scheduled claim")


Strategy = Annotated[
    DCA | LimitOrder | StopLoss | TakeProfit | Rebalance | ClaimRewards,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[Strategy] = TypeAdapter(Strategy)
KINDS = ("dca", "limit", "stop_loss", "take_profit", "rebalance", "claim_rewards")
# Other spellings of a kind a user may write (the README's "stop-loss", "limit order"):
# declared once, turned into the kind above before validation.
KIND_ALIASES = {
    "limit_order": "limit",
    "stoploss": "stop_loss",
    "takeprofit": "take_profit",
    "claim": "claim_rewards",
    "rewards": "claim_rewards",
}


def canonical_kind(text: str) -> str:
    """``stop-loss``, ``Stop Loss`` and ``stop_loss`` are one kind; unknown text is kept."""
    key = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    return KIND_ALIASES.get(key, key)


def _with_kind(data: Any) -> Any:
    if isinstance(data, dict) and isinstance(data.get("kind"), str):
        return {**data, "kind": canonical_kind(data["kind"])}
    return data


def parse_strategy(data: dict[str, Any]) -> Strategy:
    """A strategy from its config (an agent.yaml ``strategies:`` entry or the CLI).

    Raises ValueError (pydantic's ValidationError) when the config is not valid;
    ``strategy_problems`` words it for people.
    """
    return _ADAPTER.validate_python(_with_kind(data))


def strategy_problems(exc: ValidationError) -> list[str]:
    """One line per problem, naming the setting as the user wrote it (never the kind's tag)."""
    problems: list[str] = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"][1:]) or "(entry)"
        kind = err["loc"][0] if err["loc"] else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            tag = (err.get("ctx") or {}).get("tag", "")
            where, message = (
                "kind",
                f"{tag!r} is not a strategy kind; use one of {', '.join(KINDS)}",
            )
        elif err["type"] == "union_tag_not_found":
            where, message = "kind", f"Field required: one of {', '.join(KINDS)}"
        elif err["type"] == "extra_forbidden":
            message = f"not a setting of a {kind} strategy"
        elif err["type"] == "string_type":
            message = 'must be text (quote it in YAML, e.g. "3")'
        problems.append(f"{where}: {message}")
    return problems


# Kinds whose interval is how often they spend: never a silent default.
INTERVAL_REQUIRED = ("dca",)


def interval_problem(spec: dict[str, Any]) -> str | None:
    """A strategy that spends at every fire must say how often (``every``) when it is added
    (agent.yaml files written before this rule still load: their interval is shown)."""
    kind = canonical_kind(str(spec.get("kind", "")))
    if kind in INTERVAL_REQUIRED and "every" not in spec:
        return f"every: required for a {kind} strategy (how often it spends), e.g. every=1d"
    return None


def parse_strategies(items: list[dict[str, Any]]) -> list[Strategy]:
    """Validate agent.yaml's ``strategies:`` list; ValueError names each bad entry and field."""
    parsed: list[Strategy] = []
    problems: list[str] = []
    for n, item in enumerate(items):
        name = item.get("id", "?") if isinstance(item, dict) else "?"
        try:
            parsed.append(parse_strategy(item))
        except ValidationError as exc:
            problems.extend(f"strategies[{n}] ({name}) {p}" for p in strategy_problems(exc))
    ids = [s.id for s in parsed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"strategy ids must be unique: {', '.join(duplicates)}")
    if problems:
        raise ValueError("; ".join(problems))
    return parsed
