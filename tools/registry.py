"""Every tool, found where it is declared: its class (see ``tools.base.Tool``).

Adding a tool is one new module in the ``tools`` package defining a ``Tool`` subclass: defining
the class declares it, and ``declared()`` imports every module of the package once, so the tool
is found with nothing else to edit. Everything that lists tools reads them from here: the plan's
tool names and argument models, the planners' tool schemas (``tool_schemas``), the policy's
kinds (``policy_kinds``, ``implied_kinds``) and what grounding checks. ``parse_args`` validates
planner output through the same gate the plan uses (``tools.args.validate_args``), so a tool
never sees arguments a plan would have refused.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from typing import Any

import tools
from tools.action import CanonicalAction
from tools.args import StepError, validate_args
from tools.base import OnSigned, Tool, ToolArgs, ToolContext, ToolResult, declared_tools
from tools.errors import InvalidAccountIdError, ToolError


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


def tool_schemas(registry: dict[str, Tool[Any]] | None = None) -> list[dict[str, Any]]:
    """Every tool's function spec, as the LLM planner binds them."""
    found = registry.values() if registry is not None else declared().values()
    return [tool_schema(tool) for tool in found]


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
