"""Grants: the limits the user gives the agent, typed, exact and immutable.

A grants file (YAML) is written by the user. It names tokens by symbol and amounts as decimal
text; loading it pins every symbol to a contract id and converts every amount to integer base
units, so the stored grant cannot be re-pointed or reinterpreted later. Unknown fields are refused
everywhere: a misspelt limit must never silently become "no limit". A rule that could never
apply is refused too (a limit nobody can trip is a limit the user only thinks they have); and
wNEAR, which the engine counts as NEAR, is a NEAR rule wherever a limit names it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from memory.user_files import UnusableFile, load_yaml
from tools.action import NEAR, U128
from tools.amounts import parse_amount
from tools.network import is_valid_account_id, public_network
from tools.registry import contract_methods, policy_kinds, spending_kinds
from tools.text_screen import problems_in_file
from tools.validation import validation_problems

NEAR_DECIMALS = 24
USD_DECIMALS = 6  # all USD figures are integers in micro-USD
DEFAULT_STORAGE_CAP = "0.0125"  # NEAR; ten NEP-145 registrations

MAX_DURATION_S = 3650 * 86_400  # 10 years: any longer period is a typo, and overflows datetime

# ASCII digits and fullmatch: "\d" admits any Unicode digit and "$" a trailing newline.
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)
_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_HOURS = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


def _known_kind(value: str) -> str:
    """A grant's kinds are the declared tools' names (``tools.registry.policy_kinds``)."""
    kinds = policy_kinds()
    if value not in kinds:
        *head, last = (repr(k) for k in kinds)
        raise ValueError(f"Input should be {', '.join(head)} or {last}")
    return value


Kind = Annotated[str, AfterValidator(_known_kind)]


class GrantFileError(UnusableFile):
    """A grants file is unreadable or invalid; ``problems`` name each field and what is wrong."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(
            source,
            "; ".join(problems),
            "Nothing was stored. Fix the file, then run `near-agent grants add FILE` again.",
        )
        self.source = source
        self.problems = problems


@cache
def known_wrapped_near() -> frozenset[str]:
    """The wNEAR contracts of the public networks (a devnet's is named by its manifest)."""
    return frozenset(
        wrap for name in ("testnet", "mainnet") if (wrap := public_network(name).wrap_id)
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- the stored, normalised form


class ContractRule(_Strict):
    contract: str
    methods: tuple[str, ...] = Field(min_length=1)


class Window(_Strict):
    """At most ``amount`` of ``token`` (or ``usd_micro``) in any trailing ``period_s`` seconds."""

    period_s: int = Field(gt=0)
    token: str | None = None
    amount: U128 | None = None
    usd_micro: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_measure(self) -> Window:
        if (self.token is None) != (self.amount is None) or (
            (self.amount is None) == (self.usd_micro is None)
        ):
            raise ValueError("a window caps either a token amount or a USD value")
        return self


class Rate(_Strict):
    count: int = Field(ge=1)
    period_s: int = Field(gt=0)


class Confirm(_Strict):
    above: dict[str, U128] = {}
    above_usd_micro: int | None = Field(default=None, ge=0)
    first_time_recipient: bool = False
    kinds: tuple[Kind, ...] = ()


GrantStatus = Literal["active", "revoked", "expired"]


def grant_status(grant: Grant, *, revoked: bool, now: datetime) -> GrantStatus:
    """How a grant stands, in the words every view uses: revoked beats expired beats active.

    Expired from ``expires_at`` on, as the evaluator judges it (``now >= expires_at`` denies).
    """
    if revoked:
        return "revoked"
    return "expired" if now >= grant.expires_at else "active"


class Grant(_Strict):
    """One grant as stored: token ids (``near`` or a contract id) and base units only."""

    id: str
    description: str = ""
    expires_at: datetime
    not_before: datetime | None = None
    kinds: tuple[Kind, ...] = Field(min_length=1)
    tokens: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    contracts: tuple[ContractRule, ...] = ()
    exchanges: tuple[str, ...] = ()
    per_action: dict[str, U128] = {}
    per_action_usd_micro: int | None = Field(default=None, ge=0)
    windows: tuple[Window, ...] = ()
    rate_limit: Rate | None = None
    min_interval_s: int | None = Field(default=None, ge=0)
    max_slippage_bps: int | None = Field(default=None, ge=0, le=10_000)
    quote_max_age_s: int = Field(default=60, gt=0)
    hours_utc: tuple[tuple[int, int], ...] = ()  # minutes from midnight, [start, end)
    max_storage_deposit: U128 = 0
    confirm: Confirm = Confirm()
    decimals: dict[str, int] = {}  # for display only
    symbols: dict[str, str] = {}  # token id -> symbol, for display only

    @model_validator(mode="before")
    @classmethod
    def _wnear_limits_are_near(cls, data: Any) -> Any:
        """A grant stored before wNEAR limits were keyed ``near`` when the file was read has
        limits keyed by the wNEAR contract, which the engine never meets (it counts wNEAR as
        NEAR): read them as NEAR limits, the stricter one where both were written."""
        if not isinstance(data, dict):
            return data
        symbols = data.get("symbols") or {}
        wrapped = {t for t, s in symbols.items() if str(s).lower() == "wnear"}
        wrapped |= known_wrapped_near()
        data = dict(data)
        if isinstance(data.get("per_action"), dict):
            data["per_action"] = _as_near(data["per_action"], wrapped)
        confirm = data.get("confirm")
        if isinstance(confirm, dict) and isinstance(confirm.get("above"), dict):
            data["confirm"] = {**confirm, "above": _as_near(confirm["above"], wrapped)}
        if isinstance(data.get("windows"), list | tuple):
            data["windows"] = [
                {**w, "token": NEAR} if isinstance(w, dict) and w.get("token") in wrapped else w
                for w in data["windows"]
            ]
        return data

    @field_validator("expires_at", "not_before")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a timezone (e.g. 2027-01-31T00:00:00Z)")
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past the year 9999 in UTC
            raise ValueError(
                f"{value.isoformat()} is after 9999-12-31T23:59:59Z, the latest time there is; "
                "write an earlier one"
            ) from None

    @model_validator(mode="after")
    def _coherent(self) -> Grant:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"id {self.id!r}: use 1-64 of a-z, 0-9, '-', '_'")
        if self.not_before is not None and self.not_before >= self.expires_at:
            raise ValueError("not_before must be earlier than expires_at")
        if "swap" in self.kinds and self.max_slippage_bps is None:
            raise ValueError("a grant with kind 'swap' needs max_slippage_bps")
        for account in (*self.recipients, *self.exchanges, *(c.contract for c in self.contracts)):
            if not is_valid_account_id(account):
                raise ValueError(f"{account!r} is not a valid NEAR account id")
        return self

    def body_json(self) -> str:
        return self.model_dump_json()

    # sets for the evaluator's hot path, computed once per (immutable) grant
    @cached_property
    def recipient_set(self) -> frozenset[str]:
        return frozenset(self.recipients)

    @cached_property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @cached_property
    def exchange_set(self) -> frozenset[str]:
        return frozenset(self.exchanges)

    @cached_property
    def allowed_calls(self) -> frozenset[tuple[str, str]]:
        return frozenset((c.contract, m) for c in self.contracts for m in c.methods)

    def label(self, token: str) -> str:
        return self.symbols.get(token, token)


def _as_near(limits: dict[str, Any], wrapped: set[str]) -> dict[str, Any]:
    """Per-token limits with wrapped-NEAR keys folded into ``near``, keeping the smaller."""
    out: dict[str, Any] = {}
    for token, amount in limits.items():
        key = NEAR if token in wrapped else token
        out[key] = amount if key not in out else min(int(out[key]), int(amount))
    return out


class Ceiling(_Strict):
    """The global ceiling: windows over everything every grant spends."""

    windows: tuple[Window, ...] = ()


class PolicyFile(_Strict):
    grants: tuple[Grant, ...]
    ceiling: Ceiling | None = None


# ---------------------------------------------------------------- the file form the user writes


Amount = str | int  # YAML may give a bare integer; floats are refused


class TokenPin(_Strict):
    contract_id: str
    decimals: int = Field(ge=0, le=36)


class WindowSpec(_Strict):
    period: str | int
    token: str | None = None
    amount: Amount | None = None
    usd: Amount | None = None


class RateSpec(_Strict):
    count: int = Field(ge=1)
    period: str | int


class ConfirmSpec(_Strict):
    above: dict[str, Amount] = {}
    above_usd: Amount | None = None
    first_time_recipient: bool = False
    kinds: list[Kind] = []


class ContractSpec(_Strict):
    contract: str
    methods: list[str] = Field(min_length=1)


class GrantSpec(_Strict):
    id: str
    description: str = ""
    expires_at: datetime
    not_before: datetime | None = None
    kinds: list[Kind] = Field(min_length=1)
    tokens: list[str] = []
    recipients: list[str] = []
    contracts: list[ContractSpec] = []
    exchanges: list[str] = []
    per_action: dict[str, Amount] = {}
    per_action_usd: Amount | None = None
    windows: list[WindowSpec] = []
    rate_limit: RateSpec | None = None
    min_interval: str | int | None = None
    max_slippage_bps: int | None = None
    quote_max_age: str | int = "60s"
    hours_utc: list[str] = []
    max_storage_deposit: Amount = DEFAULT_STORAGE_CAP
    confirm: ConfirmSpec = ConfirmSpec()


class CeilingSpec(_Strict):
    windows: list[WindowSpec] = Field(min_length=1)


class GrantsFileSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    tokens: dict[str, TokenPin] = {}
    global_: CeilingSpec | None = Field(default=None, alias="global")
    grants: list[GrantSpec] = Field(min_length=1)


def parse_duration(value: str | int) -> int:
    """ "90s", "15m", "24h", "7d", "1d12h" or whole seconds, to seconds; at most 10 years.

    The cap keeps every later window or rate computation inside what datetime can represent.
    """
    if isinstance(value, bool):
        raise ValueError("a duration cannot be a boolean")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if not match or not any(match.groups()):
            raise ValueError(f"{value!r} is not a duration like '30s', '15m', '24h' or '7d'")
        if any(len(g) > 12 for g in match.groups() if g):  # also keeps int() well in its limits
            raise ValueError(
                f"a duration with a {max(len(g) for g in match.groups() if g)}-digit number is "
                f"longer than 10 years ({MAX_DURATION_S // 86_400}d)"
            )
        d, h, m, s = (int(g or 0) for g in match.groups())
        seconds = ((d * 24 + h) * 60 + m) * 60 + s
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if seconds > MAX_DURATION_S:
        raise ValueError(
            f"{value!r} is longer than 10 years ({MAX_DURATION_S // 86_400}d); "
            "write a shorter period"
        )
    return seconds


def _refuse_ambiguous_names(pins: dict[str, TokenPin]) -> None:
    """Every name under ``tokens:`` means one token: names equal ignoring case (``USDC`` and
    ``usdc``), a name that is NEAR's or another pin's contract id, or one contract pinned with
    two decimals would let a later entry silently decide what a grant's amounts mean."""
    seen: dict[str, str] = {}
    for symbol, pin in pins.items():
        if not is_valid_account_id(pin.contract_id):
            raise ValueError(f"tokens.{symbol}: {pin.contract_id!r} is not a valid account id")
        key = symbol.lower()
        if key == NEAR or pin.contract_id == NEAR:
            raise ValueError(
                f"tokens.{symbol}: NEAR is the native token, never a contract's; "
                "give the pinned token another name and contract"
            )
        if key in seen:
            raise ValueError(
                f"tokens: {seen[key]!r} and {symbol!r} are one name written twice (token names "
                "are compared ignoring case); keep one"
            )
        seen[key] = symbol
    decimals: dict[str, tuple[str, int]] = {}
    for symbol, pin in pins.items():
        named = seen.get(pin.contract_id)
        if named is not None and named != symbol:
            raise ValueError(
                f"tokens: {named!r} is named like the contract of {symbol!r} "
                f"({pin.contract_id}) but pins another token; rename it"
            )
        other, places = decimals.setdefault(pin.contract_id, (symbol, pin.decimals))
        if places != pin.decimals:
            raise ValueError(
                f"tokens: {other!r} and {symbol!r} pin the same contract {pin.contract_id} with "
                f"{places} and {pin.decimals} decimals; keep one"
            )


class _Tokens:
    """Resolves the names a user writes to token ids and decimals.

    A token is wrapped NEAR when its symbol is wNEAR or its contract is a known wNEAR contract
    (``wrapped``): the engine counts spending it as spending NEAR, so every limit written in it
    is keyed ``near`` (``rule_key``), while the allowlist keeps its contract id.
    """

    def __init__(self, pins: dict[str, TokenPin], wrapped: frozenset[str] = frozenset()) -> None:
        self.by_name: dict[str, tuple[str, int, str]] = {"near": (NEAR, NEAR_DECIMALS, "NEAR")}
        self.wrapped: set[str] = set()
        _refuse_ambiguous_names(pins)
        for symbol, pin in pins.items():
            if symbol.lower() == "wnear" or pin.contract_id in wrapped:
                if pin.decimals != NEAR_DECIMALS:
                    raise ValueError(
                        f"tokens.{symbol}: {pin.contract_id} is wrapped NEAR, which has "
                        f"{NEAR_DECIMALS} decimals, not {pin.decimals}"
                    )
                self.wrapped.add(pin.contract_id)
            entry = (pin.contract_id, pin.decimals, symbol)
            self.by_name[symbol.lower()] = entry
            self.by_name.setdefault(pin.contract_id, entry)

    def resolve(self, name: str) -> tuple[str, int, str]:
        """Names are looked up ignoring case, then as a contract id (so each may mean only one
        token: ``_refuse_ambiguous_names``)."""
        entry = self.by_name.get(name.lower()) or self.by_name.get(name)
        if entry is None:
            raise ValueError(
                f"unknown token {name!r}: write NEAR, or list it under `tokens:` with its "
                "contract_id and decimals"
            )
        return entry

    def rule_key(self, name: str) -> str:
        """The token id a limit on ``name`` is checked against: ``near`` for wNEAR."""
        token = self.resolve(name)[0]
        return NEAR if token in self.wrapped else token

    def amount(self, name: str, value: Amount) -> tuple[str, int]:
        token, decimals, _ = self.resolve(name)
        return self.rule_key(name), _units(value, decimals)

    def amounts(self, field: str, written: dict[str, Amount]) -> dict[str, int]:
        """A per-token rule keyed by rule_key; NEAR and wNEAR both written is ambiguous."""
        out: dict[str, int] = {}
        names: dict[str, str] = {}
        for name, value in written.items():
            key, units = self.amount(name, value)
            if key in out:
                raise ValueError(
                    f"{field} names both {names[key]} and {name}; wNEAR counts as NEAR, so "
                    "write one NEAR limit"
                )
            out[key], names[key] = units, name
        return out


def _units(value: Amount, decimals: int) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f'write amounts as quoted decimal text like "1.5", not {value!r}')
    return parse_amount(str(value), decimals, allow_zero=True)


def _usd(value: Amount | None) -> int | None:
    return None if value is None else _units(value, USD_DECIMALS)


def _hours(text: str) -> tuple[int, int]:
    match = _HOURS.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r}: write UTC hours as 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start < 1440 and 0 < end <= 1440 and m1 < 60 and m2 < 60 and start < end):
        raise ValueError(
            f"{text!r}: need 00:00 <= start < end <= 24:00 (split ranges over midnight)"
        )
    return start, end


def _window(spec: WindowSpec, tokens: _Tokens) -> Window:
    period = parse_duration(spec.period)
    if spec.usd is not None and spec.token is None and spec.amount is None:
        return Window(period_s=period, usd_micro=_usd(spec.usd))
    if spec.usd is None and spec.token is not None and spec.amount is not None:
        token, amount = tokens.amount(spec.token, spec.amount)
        return Window(period_s=period, token=token, amount=amount)
    raise ValueError("a window needs either `usd` or both `token` and `amount`")


def _windows(specs: list[WindowSpec], tokens: _Tokens, field: str) -> tuple[Window, ...]:
    """Windows in stored form; the same period written once in NEAR and once in wNEAR is
    ambiguous (both are one NEAR window)."""
    windows = tuple(_window(w, tokens) for w in specs)
    written: dict[tuple[int, str], str] = {}
    for spec, window in zip(specs, windows, strict=True):
        if window.token is None or spec.token is None:
            continue
        other = written.setdefault((window.period_s, window.token), spec.token)
        if other.lower() != spec.token.lower():
            raise ValueError(
                f"{field} has two {window.period_s}s windows, in {other} and in {spec.token}; "
                "wNEAR counts as NEAR, so write one NEAR window"
            )
    return windows


def _dead_rules(spec: GrantSpec, allowed: set[str], windows: tuple[Window, ...]) -> list[str]:
    """Every rule in ``spec`` no action could ever trip, each with what to change."""
    kinds = set(spec.kinds)
    dead: list[str] = []
    spending = spending_kinds()
    if not kinds & spending:
        money = [
            name
            for name, written in (
                ("tokens", spec.tokens),
                ("recipients", spec.recipients),
                ("per_action", spec.per_action),
                ("per_action_usd", spec.per_action_usd is not None),
                ("windows", spec.windows),
                ("confirm.above", spec.confirm.above),
                ("confirm.above_usd", spec.confirm.above_usd is not None),
                ("confirm.first_time_recipient", spec.confirm.first_time_recipient),
            )
            if written
        ]
        if money:
            dead.append(
                f"{', '.join(money)} never apply: only {' and '.join(sorted(spending))} move "
                "tokens, and "
                f"this grant's kinds are {sorted(kinds)}"
            )
    if "swap" not in kinds:
        swap_only = [
            name
            for name in ("exchanges", "max_slippage_bps", "quote_max_age")
            if name in spec.model_fields_set and getattr(spec, name)
        ]
        if swap_only:
            dead.append(f"{', '.join(swap_only)} only apply to kind 'swap', not granted here")
    callers = contract_methods()
    usable_methods = {m for kind in kinds for m in callers.get(kind, ())}
    callable_ = " and ".join(m for own in callers.values() for m in own)
    for rule in spec.contracts:
        unusable = [m for m in rule.methods if m not in usable_methods]
        if unusable:
            dead.append(
                f"contracts: {rule.contract} methods {unusable} can never be called: the agent "
                f"calls only {callable_}, each when its kind is granted"
            )
    extra = [k for k in spec.confirm.kinds if k not in kinds]
    if extra:
        dead.append(f"confirm.kinds {extra} are not among this grant's kinds {sorted(kinds)}")
    dead += [
        _not_allowed(w.token, "a window") for w in windows if w.token and w.token not in allowed
    ]
    return dead


def _not_allowed(token: str, rule: str) -> str:
    shown = "NEAR (or wNEAR)" if token == NEAR else repr(token)
    return (
        f"{rule} names {shown}, which is not in this grant's tokens, so it never applies: "
        "add it to `tokens:` or remove the limit"
    )


def compile_grant(spec: GrantSpec, tokens: _Tokens) -> Grant:
    """The file form of one grant to its stored form (token ids, base units).

    ValueError for a rule that could never apply (see _dead_rules).
    """
    token_ids = [tokens.resolve(name)[0] for name in spec.tokens]
    allowed = {tokens.rule_key(name) for name in spec.tokens}
    symbols = {tokens.resolve(n)[0]: tokens.resolve(n)[2] for n in spec.tokens}
    decimals = {tokens.resolve(n)[0]: tokens.resolve(n)[1] for n in spec.tokens}
    per_action = tokens.amounts("per_action", spec.per_action)
    above = tokens.amounts("confirm.above", spec.confirm.above)
    windows = _windows(spec.windows, tokens, "windows")
    dead = _dead_rules(spec, allowed, windows)
    dead += [_not_allowed(t, "per_action") for t in per_action if t not in allowed]
    dead += [_not_allowed(t, "confirm.above") for t in above if t not in allowed]
    grant = Grant(
        id=spec.id,
        description=spec.description,
        expires_at=spec.expires_at,
        not_before=spec.not_before,
        kinds=tuple(dict.fromkeys(spec.kinds)),
        tokens=tuple(dict.fromkeys(token_ids)),
        recipients=tuple(dict.fromkeys(spec.recipients)),
        contracts=tuple(
            ContractRule(contract=c.contract, methods=tuple(c.methods)) for c in spec.contracts
        ),
        exchanges=tuple(dict.fromkeys(spec.exchanges)),
        per_action=per_action,
        per_action_usd_micro=_usd(spec.per_action_usd),
        windows=windows,
        rate_limit=(
            Rate(count=spec.rate_limit.count, period_s=parse_duration(spec.rate_limit.period))
            if spec.rate_limit
            else None
        ),
        min_interval_s=(
            parse_duration(spec.min_interval) if spec.min_interval is not None else None
        ),
        max_slippage_bps=spec.max_slippage_bps,
        quote_max_age_s=parse_duration(spec.quote_max_age),
        hours_utc=tuple(_hours(h) for h in spec.hours_utc),
        max_storage_deposit=_units(spec.max_storage_deposit, NEAR_DECIMALS),
        confirm=Confirm(
            above=above,
            above_usd_micro=_usd(spec.confirm.above_usd),
            first_time_recipient=spec.confirm.first_time_recipient,
            kinds=tuple(spec.confirm.kinds),
        ),
        decimals=decimals,
        symbols=symbols,
    )
    if dead:  # after Grant(): a value that is wrong outright is reported first
        raise ValueError("; ".join(dead))
    return grant


def parse_grants(
    raw: Any, source: str = "(grants)", wrapped_near: frozenset[str] = frozenset()
) -> PolicyFile:
    """Validate and compile a grants document; GrantFileError names every bad field.

    ``wrapped_near``: wNEAR contract ids besides the public networks' (the configured one's).
    """
    if not isinstance(raw, dict):
        raise GrantFileError(source, ["the file must hold a mapping with a `grants:` list"])
    try:
        spec = GrantsFileSpec.model_validate(raw)
    except ValidationError as exc:
        raise GrantFileError(source, validation_problems(exc)) from exc
    problems: list[str] = []
    try:
        tokens = _Tokens(dict(spec.tokens), known_wrapped_near() | wrapped_near)
    except ValueError as exc:
        raise GrantFileError(source, [str(exc)]) from exc
    grants: list[Grant] = []
    for index, grant_spec in enumerate(spec.grants):
        try:
            grants.append(compile_grant(grant_spec, tokens))
        except ValidationError as exc:
            problems += [f"grants[{index}] ({grant_spec.id}).{p}" for p in validation_problems(exc)]
        except ValueError as exc:
            problems.append(f"grants[{index}] ({grant_spec.id}): {exc}")
    ids = [g.id for g in grants]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"grant id {i!r} appears twice" for i in twice]
    ceiling = None
    if spec.global_ is not None:
        try:
            ceiling = Ceiling(windows=_windows(spec.global_.windows, tokens, "global.windows"))
        except ValueError as exc:
            problems.append(f"global.windows: {exc}")
    if problems:
        raise GrantFileError(source, problems)
    return PolicyFile(grants=tuple(grants), ceiling=ceiling)


def load_grants_file(path: Path | str, wrapped_near: frozenset[str] = frozenset()) -> PolicyFile:
    """Read a grants YAML file without storing anything; a key written twice is an error, and so
    is any invisible or direction-changing character (shown escaped)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        hidden = problems_in_file(text.removeprefix("\ufeff"))  # a leading BOM marks UTF-8
        if hidden:  # text that displays as something other than what it says
            raise GrantFileError(str(path), hidden)
        raw = load_yaml(text)
    except FileNotFoundError as exc:
        raise GrantFileError(str(path), ["the file does not exist"]) from exc
    except UnicodeDecodeError as exc:
        raise GrantFileError(
            str(path),
            [
                f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                "save the file as UTF-8"
            ],
        ) from exc
    except RecursionError as exc:
        raise GrantFileError(str(path), ["not readable YAML: it is nested too deeply"]) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise GrantFileError(str(path), [f"not readable YAML: {exc}"]) from exc
    return parse_grants(raw, str(path), wrapped_near)
