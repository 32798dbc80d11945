"""The Plan: what a planner proposes, as typed tool calls, before anything touches the chain.

A plan is the contract between the planners (offline rules or an LLM) and the executor, and it is
what ``near-agent plan "<intent>" --json`` prints, so its JSON shape is stable:

- understood: ``{"intent": "...", "steps": [{"tool": ..., "args": {...}}, ...], "planner": ...}``
- not understood: ``{"intent": "...", "steps": [], "error": "..."}``

The Python object always records which planner produced it (also for refusals, for logs), but
the JSON of a refusal carries no ``"planner"`` key, exactly as documented; ``Plan.from_json_dict``
accepts both shapes back.

Every step's tool must be a declared tool and its arguments are validated against that tool's
argument model (``tools.registry``), the very one the tool parses its arguments with. That is
the gate for anything a model proposes: unknown tools, unknown or missing fields, wrong types and
float amounts are refused with a message naming the step and the field. Amounts are decimal
strings in whole tokens, never numbers. ``plan_json_schema`` describes the same shape, built
from the declared tools. The argument names are re-exported here for the planners.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools import registry
from tools.args import (
    CANONICAL_SYMBOLS,
    MAX_AMOUNT_CHARS,
    MAX_LABEL_CHARS,
    MAX_TASK_ID,
    AmountError,
    BalanceArgs,
    ClaimRewardsArgs,
    ListTasksArgs,
    SubmitLabelArgs,
    SwapArgs,
    TransferArgs,
    canonical_token,
    is_account_id,
    normalise_amount,
)
from tools.registry import StepError, check_args

__all__ = [
    "CANONICAL_SYMBOLS",
    "MAX_AMOUNT_CHARS",
    "MAX_LABEL_CHARS",
    "MAX_TASK_ID",
    "AmountError",
    "BalanceArgs",
    "ClaimRewardsArgs",
    "ListTasksArgs",
    "Plan",
    "PlanStep",
    "PlannerName",
    "StepError",
    "SubmitLabelArgs",
    "SwapArgs",
    "TransferArgs",
    "canonical_token",
    "check_args",
    "is_account_id",
    "normalise_amount",
    "plan_json_schema",
]

PlannerName = Literal["offline", "llm"]


class PlanStep(BaseModel):
    """One typed tool call; its tool and args are validated against the declared tools."""

    model_config = ConfigDict(extra="forbid")

    tool: str
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


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema of a plan, its steps one of the declared tools with that tool's args."""
    schema = Plan.model_json_schema()
    steps = []
    for name, model in registry.tool_args().items():
        args = model.model_json_schema()
        defs = args.pop("$defs", {})
        schema.setdefault("$defs", {}).update(defs)
        steps.append(
            {
                "type": "object",
                "properties": {"tool": {"const": name}, "args": args},
                "required": ["tool", "args"],
                "additionalProperties": False,
            }
        )
    schema["properties"]["steps"]["items"] = {"oneOf": steps}
    schema["$defs"].pop("PlanStep", None)
    return schema
