"""The Plan: what a planner proposes, as typed tool calls, before anything touches the chain.

A plan is the contract between the planners (offline rules or an LLM) and the executor, and it is
what ``near-agent plan "<intent>" --json`` prints, so its JSON shape is stable:

- understood: ``{"intent": "...", "steps": [{"tool": ..., "args": {...}}, ...], "planner": ...}``
- not understood: ``{"intent": "...", "steps": [], "error": "..."}``

The Python object always records which planner produced it (also for refusals, for logs), but
the JSON of a refusal carries no ``"planner"`` key, exactly as documented; ``Plan.from_json_dict``
accepts both shapes back.

Every step's arguments are validated here against ``StepArgs`` (tool name -> pydantic model), the
same field names the tool layer uses. These models are the gate for anything a model proposes:
unknown tools, unknown or missing fields, wrong types and float amounts are refused with a
message naming the step and the field. Amounts are decimal strings in whole tokens, never numbers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)

ToolName = Literal["transfer", "swap", "balance", "list_tasks", "submit_label", "claim_rewards"]
PlannerName = Literal["offline", "llm"]

MAX_AMOUNT_CHARS = 80
MAX_LABEL_CHARS = 1000
MAX_TASK_ID = 2**64 - 1

_ACCOUNT_ID = re.compile(r"^(?:[a-z\d]+[-_])*[a-z\d]+(?:\.(?:[a-z\d]+[-_])*[a-z\d]+)*$")
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}$")
_PLAIN_AMOUNT = re.compile(r"^(?P<int>\d+)?(?:\.(?P<frac>\d+))?$")
_GROUPED_AMOUNT = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+)(?:\.(?P<frac>\d+))?$")
_VAGUE_AMOUNTS = frozenset({"all", "everything", "max", "maximum", "half", "some", "any"})

CANONICAL_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"near": "NEAR", "wnear": "wNEAR", "usdc": "USDC", "usdt": "USDT", "ref": "REF"}
)


class AmountError(ValueError):
    """An amount that is not an exact positive decimal number of whole tokens."""


def is_account_id(text: str) -> bool:
    """NEAR account id rules: 2-64 chars, lowercase a-z 0-9 - _ ., no edge or doubled separators.

    Implicit accounts (64 lowercase hex chars) satisfy the same rule.
    """
    return isinstance(text, str) and 2 <= len(text) <= 64 and bool(_ACCOUNT_ID.match(text))


def canonical_token(text: str) -> str | None:
    """A known symbol in its canonical case, a symbol as written, or a contract id; else None.

    Symbols are compared case-insensitively ("usdc" -> "USDC"); a contract id is any valid
    account id containing a dot, or a 64-hex implicit account, passed through unchanged.
    """
    if not isinstance(text, str):
        return None
    word = text.strip()
    known = CANONICAL_SYMBOLS.get(word.lower())
    if known is not None:
        return known
    if ("." in word or len(word) == 64) and is_account_id(word):
        return word
    if _SYMBOL.match(word):
        return word
    return None


def normalise_amount(value: Any) -> str:
    """Exact decimal text of a positive amount: separators removed, value never changed.

    "1,000.25" -> "1000.25", ".5" -> "0.5", "007" -> "7". Numbers (float above all, int and
    bool too) are refused: a float cannot hold most amounts exactly, and an int from a model
    is a sign it guessed a unit.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        kind = type(value).__name__
        raise AmountError(
            f'must be a decimal string such as "2.5", not a {kind} ({value!r}); '
            "numbers lose precision, so write the amount in quotes"
        )
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise AmountError("is empty; write a positive decimal number such as 2.5")
    if len(text) > MAX_AMOUNT_CHARS:
        raise AmountError(f"is longer than {MAX_AMOUNT_CHARS} characters")
    low = text.lower()
    if low in _VAGUE_AMOUNTS:
        raise AmountError(f"{value!r} is not an exact amount; write the number, such as 2.5")
    if text.startswith(("-", "+")):
        raise AmountError(f"{value!r} has a sign; write a positive number such as 2.5")
    if re.fullmatch(r"[\d.,]*\d[\d.,]*e[+-]?\d*", low):
        raise AmountError(f"{value!r} uses an exponent; write the number out in full")
    match = _PLAIN_AMOUNT.match(text) or _GROUPED_AMOUNT.match(text)
    if match is None or not (match.group("int") or match.group("frac")):
        if re.fullmatch(r"[\d,]+(?:\.\d+)?", text):
            raise AmountError(
                f"{value!r} has a misplaced ','; use '.' for the decimal point and ',' only "
                "between groups of three digits"
            )
        raise AmountError(f"{value!r} is not a decimal number; write it like 2.5 or 1,000.25")
    int_part = (match.group("int") or "0").replace(",", "").lstrip("0") or "0"
    frac = match.group("frac")
    canonical = f"{int_part}.{frac}" if frac else int_part
    if Decimal(canonical) == 0:
        raise AmountError(f"{value!r} is zero; the amount must be positive")
    return canonical


def _account(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a NEAR account id string, not a {type(value).__name__}")
    if not is_account_id(value):
        raise ValueError(
            f"{value!r} is not a valid NEAR account id (2-64 chars of lowercase a-z, 0-9, "
            "'-', '_', '.', with no separator at either end or twice in a row)"
        )
    return value


def _token(value: Any) -> str:
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ValueError(f"must be a token symbol or contract id string, not {kind}")
    token = canonical_token(value)
    if token is None:
        raise ValueError(
            f"{value!r} is neither a token symbol (like NEAR or USDC) nor a contract account id"
        )
    return token


def _label(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not a {type(value).__name__}")
    if not value.strip():
        raise ValueError("is empty")
    if len(value) > MAX_LABEL_CHARS:
        raise ValueError(f"is longer than {MAX_LABEL_CHARS} characters")
    return value


Amount = Annotated[
    str,
    BeforeValidator(normalise_amount),
    Field(description='Decimal string in whole tokens exactly as the user wrote it, e.g. "2.5"'),
]
AccountId = Annotated[
    str, BeforeValidator(_account), Field(description="NEAR account id, e.g. bob.near")
]
Token = Annotated[
    str,
    BeforeValidator(_token),
    Field(description='"NEAR", a token symbol such as "USDC", or a token contract id'),
]
Label = Annotated[str, BeforeValidator(_label), Field(description="The label text")]
TaskId = Annotated[StrictInt, Field(ge=0, le=MAX_TASK_ID)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferArgs(_Args):
    """Send an amount of NEAR or a fungible token to an account."""

    receiver_id: AccountId
    amount: Amount
    token: Token


class SwapArgs(_Args):
    """Swap an exact amount of one token for another on the exchange."""

    token_in: Token
    token_out: Token
    amount_in: Amount
    max_slippage_bps: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None

    @model_validator(mode="after")
    def _different_tokens(self) -> SwapArgs:
        if self.token_in.lower() == self.token_out.lower():
            raise ValueError(f"token_in and token_out are both {self.token_in!r}")
        return self


class BalanceArgs(_Args):
    """Show the balance of one token, or of every known token."""

    token: Token | None = None


class ListTasksArgs(_Args):
    """List labelling tasks, optionally only open or closed ones."""

    status: Literal["open", "closed"] | None = None


class SubmitLabelArgs(_Args):
    """Submit a label for an item of a labelling task."""

    task_id: TaskId
    item_id: TaskId | None = None
    label: Label


class ClaimRewardsArgs(_Args):
    """Claim the rewards earned on labelling tasks (all of them when no ids are given)."""

    task_ids: Annotated[list[TaskId], Field(min_length=1, max_length=100)] | None = None


StepArgs: Mapping[str, type[BaseModel]] = MappingProxyType(
    {
        "transfer": TransferArgs,
        "swap": SwapArgs,
        "balance": BalanceArgs,
        "list_tasks": ListTasksArgs,
        "submit_label": SubmitLabelArgs,
        "claim_rewards": ClaimRewardsArgs,
    }
)
TOOL_NAMES: tuple[str, ...] = tuple(StepArgs)


class StepError(ValueError):
    """A step whose tool or arguments do not match the tool contract."""


def _describe(exc: ValidationError, model: type[BaseModel]) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(args)"
    kind = first["type"]
    if kind == "missing":
        return f"missing required field {field!r}"
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return f"unknown field {field!r} (allowed: {allowed})"
    if kind == "value_error":
        message = str(first.get("ctx", {}).get("error", first["msg"]))
        if field == "(args)":
            return message
        joiner = " " if message.startswith(("is ", "must ", "has ")) else ": "
        return f"field {field!r}{joiner}{message}"
    return f"field {field!r}: {first['msg']} (got {first.get('input')!r})"


def check_args(tool: Any, args: Any, index: int | None = None) -> dict[str, Any]:
    """Validated, normalised arguments for one call of ``tool``; StepError naming what is wrong."""
    where = f"step {index}" if index is not None else "step"
    model = StepArgs.get(tool) if isinstance(tool, str) else None
    if model is None:
        raise StepError(f"{where}: unknown tool {tool!r} (known: {', '.join(TOOL_NAMES)})")
    if not isinstance(args, Mapping):
        raise StepError(f"{where} ({tool}): args must be an object, not {type(args).__name__}")
    try:
        validated = model.model_validate(dict(args))
    except ValidationError as exc:
        raise StepError(f"{where} ({tool}): {_describe(exc, model)}") from None
    return validated.model_dump(exclude_none=True)


class PlanStep(BaseModel):
    """One typed tool call; its args are validated against ``StepArgs`` on construction."""

    model_config = ConfigDict(extra="forbid")

    tool: ToolName
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _validate_call(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "tool" in data:
            data = dict(data)
            data["args"] = check_args(data["tool"], data.get("args", {}))
        return data


def _steps_with_index(raw: Any) -> Any:
    if not isinstance(raw, list):
        return raw
    out: list[Any] = []
    for index, step in enumerate(raw, start=1):
        if isinstance(step, Mapping):
            extra = set(step) - {"tool", "args"}
            if extra:
                raise StepError(f"step {index}: unknown key(s) {sorted(extra)} (use tool, args)")
            args = check_args(step.get("tool"), step.get("args", {}), index)
            out.append({"tool": step.get("tool"), "args": args})
        else:
            out.append(step)
    return out


class Plan(BaseModel):
    """What to do, in order; or, with no steps, why the intent was refused."""

    model_config = ConfigDict(extra="forbid")

    intent: str
    steps: list[PlanStep] = Field(default_factory=list)
    planner: PlannerName
    error: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_steps(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "steps" in data:
            data = dict(data)
            data["steps"] = _steps_with_index(data["steps"])
        return data

    @model_validator(mode="after")
    def _steps_or_error(self) -> Plan:
        if self.error is not None and self.steps:
            raise ValueError("a plan with an error must have no steps")
        if self.error is None and not self.steps:
            raise ValueError("a plan with no steps must say why in 'error'")
        if self.error is not None and not self.error.strip():
            raise ValueError("the error of a refused plan must not be empty")
        return self

    @classmethod
    def refuse(cls, intent: str, error: str, planner: PlannerName) -> Plan:
        """A plan with no steps that says why, for the user to read."""
        return cls(intent=intent, steps=[], planner=planner, error=error)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json_dict(self) -> dict[str, Any]:
        """The documented JSON shape (a refusal carries "error" and no "planner")."""
        steps = [{"tool": s.tool, "args": dict(s.args)} for s in self.steps]
        if self.error is not None:
            return {"intent": self.intent, "steps": [], "error": self.error}
        return {"intent": self.intent, "steps": steps, "planner": self.planner}

    def to_json(self, indent: int | None = None) -> str:
        """``to_json_dict`` as text; non-ASCII intents stay readable."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any], planner: PlannerName = "offline") -> Plan:
        """Read either documented shape; ``planner`` fills in what a refusal's JSON leaves out."""
        body = dict(data)
        body.setdefault("planner", planner)
        return cls.model_validate(body)
