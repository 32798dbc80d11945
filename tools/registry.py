"""Tool name -> tool, and the JSON schemas of their arguments for the planner.

The planner binds ``tool_schemas()`` (names and argument fields exactly as docs/architecture.md
lists them); ``parse_args`` validates what it produced through the same gate the plan uses
(``tools.args.validate_args``), so a tool never sees arguments a plan would have refused.
"""

from __future__ import annotations

from typing import Any

from tools.action import CanonicalAction
from tools.args import StepError, validate_args
from tools.balance import BalanceTool
from tools.base import Tool, ToolArgs, ToolContext, ToolResult
from tools.errors import InvalidAccountIdError, ToolError
from tools.swap import SwapTool
from tools.tasks import ClaimRewardsTool, ListTasksTool, SubmitLabelTool
from tools.transfer import TransferTool


class UnknownToolError(ToolError):
    code = "unknown_tool"


class InvalidArgumentsError(ToolError):
    code = "invalid_arguments"


def build_registry() -> dict[str, Tool]:
    """A fresh mapping of every tool by name."""
    tools: list[Tool] = [
        TransferTool(),
        SwapTool(),
        BalanceTool(),
        ListTasksTool(),
        SubmitLabelTool(),
        ClaimRewardsTool(),
    ]
    return {tool.name: tool for tool in tools}


def get_tool(name: str, registry: dict[str, Tool] | None = None) -> Tool:
    tools = registry if registry is not None else build_registry()
    if name not in tools:
        raise UnknownToolError(f"unknown tool {name!r}; tools: {', '.join(sorted(tools))}")
    return tools[name]


def parse_args(
    name: str, args: dict[str, Any], registry: dict[str, Tool] | None = None
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


def tool_schemas(registry: dict[str, Tool] | None = None) -> list[dict[str, Any]]:
    """OpenAI-style function specs: name, description, JSON schema of the arguments."""
    tools = registry if registry is not None else build_registry()
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.Args.model_json_schema(),
        }
        for tool in tools.values()
    ]


async def prepare(
    name: str, args: dict[str, Any], ctx: ToolContext, registry: dict[str, Tool] | None = None
) -> CanonicalAction:
    """Validate planner arguments and prepare the action (nothing is signed)."""
    tool = get_tool(name, registry)
    return await tool.prepare(parse_args(name, args, registry), ctx)


async def execute(
    action: CanonicalAction, ctx: ToolContext, registry: dict[str, Tool] | None = None
) -> ToolResult:
    """Execute an approved action with the tool that prepared it."""
    return await get_tool(action.tool, registry).execute(action, ctx)
