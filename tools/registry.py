"""Every tool, found where it is declared: its class (see ``tools.base.Tool``).

Adding a tool is one new module in the ``tools`` package defining a ``Tool`` subclass: defining
the class declares it, and ``declared()`` imports every module of the package once, so the tool
is found with nothing else to edit. Everything that lists tools reads them from here: the plan's
tool names and argument models, the planners' tool schemas (``tool_schemas``), the policy's
kinds (``policy_kinds``, ``implied_kinds``) and what grounding checks. What a network offers is
decided here too (``unavailable``): a tool whose contract the network lacks is not offered to
either planner, and says why when named. ``parse_args`` validates
planner output through the same gate the plan uses (``validate_args``, here), so a tool
never sees arguments a plan would have refused.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

import tools
from tools.action import CanonicalAction
from tools.base import OnSigned, Tool, ToolArgs, ToolContext, ToolResult, declared_tools
from tools.errors import InvalidAccountIdError, ToolError
from tools.network import Network
from tools.validation import validation_problems


@cache
def _import_tool_modules() -> None:
    """Import every module of the ``tools`` package once, so each tool class is defined."""
    for module in pkgutil.iter_modules(tools.__path__, "tools."):
        importlib.import_module(module.name)


def declared() -> dict[str, type[Tool[Any]]]:
    """Every declared tool class by name, in name order (whatever order they were imported in)."""
    _import_tool_modules()
    return dict(sorted(declared_tools().items()))


def tool_args() -> dict[str, type[ToolArgs]]:
    """Tool name -> its argument model."""
    return {name: cls.Args for name, cls in declared().items()}


def tool_names() -> tuple[str, ...]:
    return tuple(declared())


def read_only_tools() -> frozenset[str]:
    return frozenset(name for name, cls in declared().items() if cls.read_only)


def implied_kinds() -> dict[str, str]:
    """Tool name -> what its transactions must amount to for the policy (``read_only`` when it
    signs nothing, else its own name)."""
    return {name: cls.implied_kind() for name, cls in declared().items()}


def policy_kinds() -> tuple[str, ...]:
    """The kinds a grant may name: one per tool."""
    return tool_names()


def spending_kinds() -> frozenset[str]:
    """The kinds whose actions move tokens."""
    return frozenset(name for name, cls in declared().items() if cls.moves_funds)


def contract_methods() -> Mapping[str, tuple[str, ...]]:
    """Tool name -> the contract methods it calls directly (each allowlisted per grant)."""
    return {name: cls.contract_methods for name, cls in declared().items() if cls.contract_methods}


def unavailable(network: Network) -> dict[str, str]:
    """Tool name -> why it cannot run on ``network`` (a contract it needs is not configured),
    for every tool the network does not offer; the one place availability is decided."""
    out: dict[str, str] = {}
    for name, cls in declared().items():
        what = cls.asks_to or name.replace("_", " ")
        for role in cls.needs_contracts:
            reason = network.missing(role, what)
            if reason is not None:
                out[name] = reason
                break
    return out


def offered(network: Network) -> dict[str, type[Tool[Any]]]:
    """The tools a planner may propose on ``network``, by name."""
    missing = unavailable(network)
    return {name: cls for name, cls in declared().items() if name not in missing}


class UnknownToolError(ToolError):
    code = "unknown_tool"


class InvalidArgumentsError(ToolError):
    code = "invalid_arguments"


def build_registry() -> dict[str, Tool[Any]]:
    """A fresh mapping of every tool, one instance each, by name."""
    return {name: cls() for name, cls in declared().items()}


def get_tool(name: str, registry: dict[str, Tool[Any]] | None = None) -> Tool[Any]:
    tools = registry if registry is not None else build_registry()
    if name not in tools:
        raise UnknownToolError(f"unknown tool {name!r}; tools: {', '.join(sorted(tools))}")
    return tools[name]


def parse_args(
    name: str, args: dict[str, Any], registry: dict[str, Tool[Any]] | None = None
) -> ToolArgs:
    """Validate planner output for ``name``; InvalidArgumentsError lists every problem.

    An invalid account id keeps its own error (InvalidAccountIdError), as the tools report it.
    """
    get_tool(name, registry)
    try:
        return validate_args(name, args)
    except StepError as exc:
        if isinstance(exc.cause, InvalidAccountIdError):
            raise exc.cause from None
        problems = "; ".join(exc.problems) or exc.detail
        raise InvalidArgumentsError(f"{name}: {problems}") from None


def tool_schema(tool: type[Tool[Any]] | Tool[Any]) -> dict[str, Any]:
    """One tool as a function spec: name, one-line description, JSON schema of its arguments."""
    return {
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.Args.model_json_schema(),
    }


def tool_schemas(
    registry: dict[str, Tool[Any]] | None = None, *, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Every tool's function spec, as the LLM planner binds them, but those in ``exclude`` (the
    tools the network does not offer, see ``unavailable``)."""
    found = registry.values() if registry is not None else declared().values()
    left_out = frozenset(exclude)
    return [tool_schema(tool) for tool in found if tool.name not in left_out]


async def prepare(
    name: str, args: dict[str, Any], ctx: ToolContext, registry: dict[str, Tool[Any]] | None = None
) -> CanonicalAction:
    """Validate planner arguments and prepare the action (nothing is signed)."""
    tool = get_tool(name, registry)
    return await tool.prepare(parse_args(name, args, registry), ctx)


async def execute(
    action: CanonicalAction,
    ctx: ToolContext,
    registry: dict[str, Tool[Any]] | None = None,
    *,
    on_signed: OnSigned | None = None,
) -> ToolResult:
    """Execute an approved action with the tool that prepared it; ``on_signed`` is called with
    each signed transaction before it is first sent (the executor journals it there)."""
    return await get_tool(action.tool, registry).execute(action, ctx, on_signed)


class StepError(ValueError):
    """A step whose tool or arguments do not match the tool contract.

    ``detail`` is the message without its "step N (tool)" prefix; ``cause`` is the validator's
    own error (an AmountError, an AccountIdError, ...) when there is one; ``problems`` lists
    every problem pydantic found as ``field: message``, for callers that report them all.
    """

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        cause: Exception | None = None,
        problems: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.detail = message if detail is None else detail
        self.cause = cause
        self.problems = problems


def _describe(error: Mapping[str, Any], model: type[ToolArgs]) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "(args)"
    kind = error["type"]
    if kind == "missing":
        return f"missing required field {field!r}"
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return f"unknown field {field!r} (allowed: {allowed})"
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        if field == "(args)":
            return message
        joiner = " " if message.startswith(("is ", "must ", "has ")) else ": "
        return f"field {field!r}{joiner}{message}"
    return f"field {field!r}: {error['msg']} (got {error.get('input')!r})"


def validate_args(tool: Any, args: Any, index: int | None = None) -> ToolArgs:
    """The validated arguments model for one call of ``tool``; StepError naming what is wrong."""
    where = f"step {index}" if index is not None else "step"
    models = tool_args()
    model = models.get(tool) if isinstance(tool, str) else None
    if model is None:
        detail = f"unknown tool {tool!r} (known: {', '.join(models)})"
        raise StepError(f"{where}: {detail}", detail=detail)
    where = f"{where} ({tool})"
    if not isinstance(args, Mapping):
        detail = f"args must be an object, not {type(args).__name__}"
        raise StepError(f"{where}: {detail}", detail=detail)
    try:
        return model.model_validate(dict(args))
    except ValidationError as exc:
        errors = exc.errors()
        detail = _describe(errors[0], model)
        cause = errors[0].get("ctx", {}).get("error")
        problems = tuple(validation_problems(exc, whole="(args)"))
        raise StepError(
            f"{where}: {detail}",
            detail=detail,
            problems=problems,
            cause=cause if isinstance(cause, Exception) else None,
        ) from None


def check_args(tool: Any, args: Any, index: int | None = None) -> dict[str, Any]:
    """Validated, normalised arguments for one call of ``tool`` as plain JSON-ready data."""
    return validate_args(tool, args, index).model_dump(exclude_none=True)
