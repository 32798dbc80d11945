"""The rules, applied to what an action really does, with a trace of every one.

Outcome precedence is DENY > CONFIRM > ALLOW and the default is DENY: no grant covering the
action, anything undecodable, any rule that raises (named in the trace), a missing price or a
stale quote all deny. Grants are alternatives: the action passes if one active grant allows it
(the first by id), and the global rules (decoding, labelling, declared flows, the global ceiling)
apply whichever grant is chosen. The evaluator reads state but never writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from policies.decode import SPEND, STORAGE, Decoded, Undecodable, decode
from policies.grants import NEAR_DECIMALS, Ceiling, Grant
from policies.pricing import (
    PricePoint,
    PriceSource,
    PriceUnavailable,
    QuotePoint,
    QuoteSource,
    usd_value,
)
from policies.windows import US, BudgetLine, State, check_windows, to_us
from tools.action import NEAR, CanonicalAction
from tools.amounts import format_amount
from tools.registry import contract_methods, implied_kinds

ALLOW, CONFIRM, DENY = "allow", "confirm", "deny"
_RANK = {ALLOW: 0, CONFIRM: 1, DENY: 2}
_OUTCOMES = (ALLOW, CONFIRM, DENY)


class Trace(NamedTuple):
    rule: str
    result: str  # allow | confirm | deny
    code: str
    detail: str = ""
    grant: str = ""  # the grant the rule was checked against ("" for global rules)

    def to_dict(self) -> dict[str, str]:
        return self._asdict()


@dataclass
class Decision:
    outcome: str
    reasons: list[str]
    trace: list[Trace]
    action_hash: str
    evaluated_at: datetime
    grant_id: str | None = None
    grant_version: int | None = None
    prices: dict[str, PricePoint] = field(default_factory=dict)  # the prices the rules used
    quotes: list[QuotePoint] = field(default_factory=list)  # the independent quotes they used
    unpriced: dict[str, dict[str, Any]] = field(default_factory=dict)  # why a price was refused
    budgets: list[BudgetLine] = field(default_factory=list)
    reservation_id: str | None = None
    approval_id: str | None = None
    dry_run: bool = True
    spent: dict[str, int] = field(default_factory=dict)  # per token, base units
    usd: dict[str, int] = field(default_factory=dict)  # per token, micro-USD (when priced)
    recipients: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOW

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the audit log and ``grants check``."""
        return {
            "outcome": self.outcome,
            "reasons": self.reasons,
            "trace": [t.to_dict() for t in self.trace],
            "action_hash": self.action_hash,
            "evaluated_at": self.evaluated_at.isoformat(),
            "grant_id": self.grant_id,
            "grant_version": self.grant_version,
            "prices": {t: p.to_dict() for t, p in self.prices.items()},
            "quotes": [q.to_dict() for q in self.quotes],
            "unpriced": self.unpriced,
            "budgets": [b.to_dict() for b in self.budgets],
            "reservation_id": self.reservation_id,
            "approval_id": self.approval_id,
            "dry_run": self.dry_run,
            "spent": {t: str(a) for t, a in self.spent.items()},
            "usd_micro": {t: str(a) for t, a in self.usd.items()},
            "recipients": list(self.recipients),
        }


@dataclass(frozen=True)
class ActiveGrant:
    grant: Grant
    version: int
    revoked: bool = False


@dataclass(frozen=True)
class ChainFacts:
    """What decoding needs to know about the network: the swap exchange(s) and wNEAR."""

    exchanges: frozenset[str] = frozenset()
    wrap_id: str | None = None


class _Deny(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class Context:
    """Everything the rules may read about one evaluation; prices and quotes are fetched once."""

    def __init__(
        self,
        action: CanonicalAction,
        decoded: Decoded,
        now: datetime,
        state: State,
        prices: PriceSource | None,
        quotes: QuoteSource | None,
        price_max_age: timedelta,
        price_cache: dict[tuple[str, int], PricePoint],
        quote_cache: dict[tuple[str, str, int], QuotePoint],
    ) -> None:
        self.action, self.decoded, self.now, self.state = action, decoded, now, state
        self.now_us = to_us(now)
        self.price_source, self.quote_source = prices, quotes
        self.price_max_age = price_max_age
        self.price_cache, self.quote_cache = price_cache, quote_cache
        self.used_prices: dict[str, PricePoint] = {}
        self.used_quotes: dict[tuple[str, str, int], QuotePoint] = {}
        self.unpriced: dict[str, dict[str, Any]] = {}  # token or pair -> reason and evidence
        self.spent = decoded.spent()
        self.budgets: list[BudgetLine] = []
        self._usd: dict[str, int] | None = None

    def price(self, token: str, amount: int) -> PricePoint:
        """The USD price of ``token`` when ``amount`` of it is spent (priced at that size)."""
        key = (token, amount)
        point = self.price_cache.get(key)
        if point is None:
            if self.price_source is None:
                raise PriceUnavailable("no price source is configured")
            try:
                point = self.price_source.usd_price(token, amount)
            except PriceUnavailable as exc:
                self.unpriced[token] = {"reason": str(exc), **exc.evidence.to_dict()}
                raise
            self.price_cache[key] = point
        if self.now - point.fetched_at > self.price_max_age:
            raise PriceUnavailable(f"the price of {token} is older than {self.price_max_age}")
        if point.micro_usd_per_unit <= 0:
            raise PriceUnavailable(f"the price of {token} is not positive")
        self.used_prices[token] = point
        return point

    def usd(self) -> dict[str, int]:
        """Micro-USD per spent token, rounded up; PriceUnavailable for any unpriced token."""
        if self._usd is None:
            self._usd = {t: usd_value(a, self.price(t, a)) for t, a in self.spent.items()}
        return self._usd

    def usd_total(self) -> int:
        return sum(self.usd().values())

    def quote(self, token_in: str, token_out: str, amount_in: int) -> QuotePoint:
        key = (token_in, token_out, amount_in)
        point = self.quote_cache.get(key)
        if point is None:
            if self.quote_source is None:
                raise PriceUnavailable("no independent quote source is configured")
            try:
                point = self.quote_source.quote(token_in, token_out, amount_in)
            except PriceUnavailable as exc:
                pair = f"{token_in}->{token_out}"
                self.unpriced[pair] = {"reason": str(exc), **exc.evidence.to_dict()}
                raise
            self.quote_cache[key] = point
        self.used_quotes[key] = point
        return point


Rule = Callable[[Context, Grant], "tuple[str, str, str] | None"]


def _fmt(g: Grant, token: str, amount: int) -> str:
    """Whole tokens for people where the grant knows the decimals, base units otherwise."""
    decimals = NEAR_DECIMALS if token == NEAR else g.decimals.get(token)
    if decimals is None:
        return f"{amount} (base units of {token})"
    return f"{format_amount(amount, decimals)} {'NEAR' if token == NEAR else g.label(token)}"


def _fmt_usd(micro: int) -> str:
    return f"${format_amount(micro, 6)}"


# ---------------------------------------------------------------- per-grant rules
# Each returns None (nothing to say: allow) or (result, code, detail); raising denies.


def rule_kind(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if ctx.action.tool not in g.kinds:
        return DENY, "kind_not_granted", f"{ctx.action.tool} is not among {list(g.kinds)}"
    return None


def rule_time(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if not g.hours_utc:
        return None
    minute = ctx.now.hour * 60 + ctx.now.minute
    if any(start <= minute < end for start, end in g.hours_utc):
        return None
    return DENY, "outside_hours", f"{ctx.now:%H:%M} UTC is outside the granted hours"


def _tool_methods() -> set[str]:
    """The contract methods the tools call directly (a deposit on them is checked as a spend)."""
    return {m for methods in contract_methods().values() for m in methods}


def rule_contracts(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    for call in ctx.decoded.calls:
        if (call.contract, call.method) not in g.allowed_calls:
            return DENY, "method_not_allowed", f"{call.contract}.{call.method} is not allowlisted"
        if call.deposit and call.method not in _tool_methods():
            return (
                DENY,
                "unknown_method_moves_value",
                (f"{call.contract}.{call.method} attaches {call.deposit} yoctoNEAR"),
            )
    return None


def rule_exchanges(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    for swap in ctx.decoded.swaps:
        if swap.exchange not in g.exchanges:
            return DENY, "exchange_not_allowed", f"{swap.exchange} is not an allowed exchange"
    return None


def rule_recipients(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if ctx.decoded.recipients <= g.recipient_set:
        return None
    outside = sorted(ctx.decoded.recipients - g.recipient_set)
    if outside:
        return DENY, "recipient_not_allowed", f"{outside} not in the recipient allowlist"
    return None


def rule_tokens(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if ctx.decoded.tokens <= g.token_set:
        return None
    outside = sorted(ctx.decoded.tokens - g.token_set)
    if outside:
        return DENY, "token_not_allowed", f"{outside} not in the token allowlist"
    return None


def rule_storage(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    for flow in ctx.decoded.flows:
        if flow.category == STORAGE and not (
            flow.recipient in g.token_set or flow.recipient in g.exchange_set
        ):
            return (
                DENY,
                "storage_deposit_not_allowed",
                (
                    f"storage deposit to {flow.recipient}, which is neither a granted token nor "
                    "a granted exchange"
                ),
            )
    storage = ctx.decoded.storage()
    if storage > g.max_storage_deposit:
        return (
            DENY,
            "storage_deposit_cap",
            (f"storage deposits of {storage} yoctoNEAR exceed {g.max_storage_deposit}"),
        )
    return None


def rule_per_action(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    for token, amount in ctx.spent.items():
        cap = g.per_action.get(token)
        if cap is None and g.per_action_usd_micro is None:
            return DENY, "no_cap_for_token", f"the grant caps no spending of {g.label(token)}"
        if cap is not None and amount > cap:
            return (
                DENY,
                "per_action_cap",
                (f"{_fmt(g, token, amount)} exceeds {_fmt(g, token, cap)} per action"),
            )
    if g.per_action_usd_micro is not None and ctx.spent:
        total = ctx.usd_total()
        if total > g.per_action_usd_micro:
            return (
                DENY,
                "per_action_usd_cap",
                (f"{_fmt_usd(total)} exceeds {_fmt_usd(g.per_action_usd_micro)} per action"),
            )
    return None


def rule_windows(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if not g.windows:
        return None
    usd = ctx.usd_total() if any(w.usd_micro is not None for w in g.windows) else None
    lines = check_windows(g.id, g.windows, ctx.state, g.id, ctx.now_us, ctx.spent, usd)
    ctx.budgets.extend(lines)
    for line in lines:
        if not line.fits:
            measure = line.measure

            def show(amount: int, measure: str = measure) -> str:
                return _fmt_usd(amount) if measure == "usd" else _fmt(g, measure, amount)

            return (
                DENY,
                "window_cap",
                (
                    f"{show(line.used)} used + {show(line.requested)} would pass "
                    f"{show(line.cap)} in any {line.period_s}s"
                ),
            )
    return None


def rule_rate(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    if g.rate_limit is None and g.min_interval_s is None:
        return None
    period = g.rate_limit.period_s if g.rate_limit else 0
    count, last = ctx.state.activity(
        g.id, ctx.now_us - period * US, want_last=g.min_interval_s is not None
    )
    if g.rate_limit is not None and count + 1 > g.rate_limit.count:
        return (
            DENY,
            "rate_limit",
            (f"{count} actions in the last {g.rate_limit.period_s}s; at most {g.rate_limit.count}"),
        )
    if (
        g.min_interval_s is not None
        and last is not None
        and (ctx.now_us - last < g.min_interval_s * US)
    ):
        return DENY, "min_interval", f"less than {g.min_interval_s}s since the last action"
    return None


def rule_slippage(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    for swap in ctx.decoded.swaps:
        if g.max_slippage_bps is None:
            return DENY, "no_slippage_bound", "the grant sets no max_slippage_bps"
        quote = ctx.quote(swap.token_in, swap.token_out, swap.amount_in)
        age = ctx.now - quote.fetched_at
        if age > timedelta(seconds=g.quote_max_age_s) or age < -timedelta(seconds=5):
            return DENY, "stale_quote", f"independent quote is {age} old"
        floor = -(-quote.amount_out * (10_000 - g.max_slippage_bps) // 10_000)
        if quote.amount_out <= 0 or swap.min_amount_out < floor:
            return (
                DENY,
                "slippage_exceeded",
                (
                    f"min_amount_out {swap.min_amount_out} is below {floor} "
                    f"({g.max_slippage_bps} bps under the independent quote {quote.amount_out})"
                ),
            )
    return None


def rule_confirm(ctx: Context, g: Grant) -> tuple[str, str, str] | None:
    c = g.confirm
    if ctx.action.tool in c.kinds:
        return CONFIRM, "confirm_kind", f"{ctx.action.tool} always needs confirmation"
    for token, threshold in c.above.items():
        if ctx.spent.get(token, 0) > threshold:
            return (
                CONFIRM,
                "confirm_above",
                (f"{_fmt(g, token, ctx.spent[token])} is above {_fmt(g, token, threshold)}"),
            )
    if c.above_usd_micro is not None and ctx.spent and ctx.usd_total() > c.above_usd_micro:
        return (
            CONFIRM,
            "confirm_above_usd",
            (f"{_fmt_usd(ctx.usd_total())} is above {_fmt_usd(c.above_usd_micro)}"),
        )
    if c.first_time_recipient:
        new = sorted(r for r in ctx.decoded.recipients if not ctx.state.seen(r))
        if new:
            return CONFIRM, "first_time_recipient", f"never paid before: {new}"
    return None


GRANT_RULES: tuple[tuple[str, Rule], ...] = (
    ("kind", rule_kind),
    ("hours_utc", rule_time),
    ("contracts", rule_contracts),
    ("exchanges", rule_exchanges),
    ("recipients", rule_recipients),
    ("tokens", rule_tokens),
    ("storage", rule_storage),
    ("per_action", rule_per_action),
    ("windows", rule_windows),
    ("rate_limit", rule_rate),
    ("slippage", rule_slippage),
    ("confirm", rule_confirm),
)


# ---------------------------------------------------------------- global rules


def rule_label(ctx: Context) -> tuple[str, str, str] | None:
    expected = implied_kinds().get(ctx.action.tool)
    if expected is None:
        return DENY, "unknown_kind", f"no such action kind {ctx.action.tool!r}"
    if ctx.decoded.implied_kind != expected:
        return (
            DENY,
            "label_mismatch",
            (
                f"labelled {ctx.action.tool} but the transactions amount to "
                f"{ctx.decoded.implied_kind}"
            ),
        )
    return None


def rule_declared(ctx: Context) -> tuple[str, str, str] | None:
    """The tool's declared outflows and recipients must match what the transactions do."""
    decoded = list(ctx.decoded.flows)
    for declared in ctx.action.outflows:
        for i, flow in enumerate(decoded):
            if (flow.token, flow.amount, flow.recipient) == (
                declared.token,
                declared.amount,
                declared.recipient,
            ):
                del decoded[i]
                break
        else:
            return (
                DENY,
                "declared_flow_mismatch",
                (
                    f"declared {declared.amount} {declared.token} to {declared.recipient} "
                    "does not happen"
                ),
            )
    hidden = [f for f in decoded if f.category == SPEND]
    if hidden:
        f = hidden[0]
        return DENY, "undeclared_flow", f"{f.amount} {f.token} to {f.recipient} is not declared"
    undeclared = sorted(ctx.decoded.recipients - set(ctx.action.recipients))
    if undeclared:
        return DENY, "undeclared_recipient", f"{undeclared} receive value but are not declared"
    return None


def rule_ceiling(ctx: Context, ceiling: Ceiling | None) -> tuple[str, str, str] | None:
    if ceiling is None or not ceiling.windows or not ctx.spent:
        return None
    usd = ctx.usd_total() if any(w.usd_micro is not None for w in ceiling.windows) else None
    lines = check_windows("global", ceiling.windows, ctx.state, None, ctx.now_us, ctx.spent, usd)
    ctx.budgets.extend(lines)
    for line in lines:
        if not line.fits:
            return (
                DENY,
                "global_ceiling",
                (
                    f"{line.measure}: {line.used} used + {line.requested} > {line.cap} "
                    f"in any {line.period_s}s across all grants"
                ),
            )
    return None


# ---------------------------------------------------------------- evaluation


def _run(
    name: str,
    fn: Callable[..., tuple[str, str, str] | None],
    args: tuple[Any, ...],
    grant: str,
    trace: list[Trace],
) -> int:
    """Apply one rule and trace it; returns the outcome's rank (0 allow, 1 confirm, 2 deny)."""
    try:
        result = fn(*args)
    except PriceUnavailable as exc:
        result = (DENY, "price_unavailable", str(exc))
    except Exception as exc:  # an erroring rule denies; it is never "no match"
        result = (DENY, "rule_error", f"{name}: {type(exc).__name__}: {exc}")
    if result is None:
        trace.append(Trace(name, ALLOW, "ok", "", grant))
        return 0
    trace.append(Trace(name, result[0], result[1], result[2], grant))
    return _RANK[result[0]]


def _grant_state(ctx: Context, ag: ActiveGrant) -> tuple[str, str, str] | None:
    g = ag.grant
    if ag.revoked:
        return DENY, "grant_revoked", f"{g.id} v{ag.version} was revoked"
    if ctx.now >= g.expires_at:
        return DENY, "grant_expired", f"{g.id} expired at {g.expires_at.isoformat()}"
    if g.not_before is not None and ctx.now < g.not_before:
        return DENY, "grant_not_yet_valid", f"{g.id} starts at {g.not_before.isoformat()}"
    return None


def evaluate(
    action: CanonicalAction,
    grants: list[ActiveGrant],
    *,
    now: datetime,
    state: State,
    facts: ChainFacts,
    ceiling: Ceiling | None = None,
    prices: PriceSource | None = None,
    quotes: QuoteSource | None = None,
    price_max_age: timedelta = timedelta(seconds=60),
    price_cache: dict[tuple[str, int], PricePoint] | None = None,
    quote_cache: dict[tuple[str, str, int], QuotePoint] | None = None,
    action_hash: str | None = None,
) -> Decision:
    """Decide on ``action``. Pure apart from reading ``state``, ``prices`` and ``quotes``."""
    trace: list[Trace] = []
    digest = action_hash or action.action_hash()
    exchanges = facts.exchanges.union(*(ag.grant.exchange_set for ag in grants))
    try:
        decoded = decode(action, exchanges=exchanges, wrap_id=facts.wrap_id)
    except Undecodable as exc:
        trace.append(Trace("decode", DENY, exc.code, exc.detail))
        return Decision(DENY, [exc.code], trace, digest, now)
    except Exception as exc:
        trace.append(Trace("decode", DENY, "rule_error", f"decode: {type(exc).__name__}: {exc}"))
        return Decision(DENY, ["rule_error"], trace, digest, now)
    trace.append(Trace("decode", ALLOW, "ok", f"implies {decoded.implied_kind}"))
    ctx = Context(
        action,
        decoded,
        now,
        state,
        prices,
        quotes,
        price_max_age,
        {} if price_cache is None else price_cache,
        {} if quote_cache is None else quote_cache,
    )

    worst = max(
        _run("label", rule_label, (ctx,), "", trace),
        _run("declared", rule_declared, (ctx,), "", trace),
    )

    candidates = [ag for ag in grants if action.tool in ag.grant.kinds]
    if not candidates:
        trace.append(Trace("grant", DENY, "no_grant", f"no grant covers {action.tool}"))
        return _finish(ctx, DENY, trace, None, digest)
    if len(candidates) > 1:
        candidates.sort(key=lambda a: a.grant.id)
    chosen: tuple[int, ActiveGrant] | None = None
    for ag in candidates:
        gid = ag.grant.id
        g_rank = _run("grant_active", _grant_state, (ctx, ag), gid, trace)
        if g_rank < 2:
            for name, rule in GRANT_RULES:
                rank = _run(name, rule, (ctx, ag.grant), gid, trace)
                if rank > g_rank:
                    g_rank = rank
                    if rank == 2:
                        break
        if chosen is None or g_rank < chosen[0]:
            chosen = (g_rank, ag)
        if g_rank == 0:
            break
    assert chosen is not None
    worst = max(worst, chosen[0])
    if worst < 2:
        worst = max(worst, _run("global_ceiling", rule_ceiling, (ctx, ceiling), "", trace))
    return _finish(ctx, _OUTCOMES[worst], trace, chosen[1] if chosen[0] < 2 else None, digest)


def _finish(
    ctx: Context, outcome: str, trace: list[Trace], chosen: ActiveGrant | None, digest: str
) -> Decision:
    if outcome == DENY:
        reasons = list(dict.fromkeys(t.code for t in trace if t.result == DENY))
    elif outcome == CONFIRM:
        reasons = list(dict.fromkeys(t.code for t in trace if t.result == CONFIRM))
    else:
        reasons = ["allowed"]
    usd: dict[str, int] = {}
    if ctx.spent and (ctx.price_source is not None or ctx.price_cache):
        try:
            usd = ctx.usd()
        except Exception:  # valuation for the record only; rules that needed it already denied
            usd = {}
    prices = dict(ctx.used_prices)
    return Decision(
        outcome,
        reasons,
        trace,
        digest,
        ctx.now,
        grant_id=chosen.grant.id if chosen else None,
        grant_version=chosen.version if chosen else None,
        prices=prices,
        quotes=list(ctx.used_quotes.values()),
        unpriced=dict(ctx.unpriced),
        budgets=ctx.budgets,
        spent=dict(ctx.spent),
        usd=dict(usd),
        recipients=tuple(sorted(ctx.decoded.recipients)),
    )
