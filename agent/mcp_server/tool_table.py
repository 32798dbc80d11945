"""What an MCP client is offered: six of the agent's tools, ``check`` and ``recent_activity``.

Each tool's input schema is its own argument model's JSON schema (``tools.registry``), the very
model the tool parses its arguments with, so the schema a client sees and the gate its
arguments pass through cannot drift. Nothing that manages keys, grants or accounts is offered:
the table names the tools it exposes, so a tool added to the project is not exposed by accident.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from tools import registry

AGENT_TOOLS = ("balance", "transfer", "swap", "list_tasks", "submit_label", "claim_rewards")
"""The agent's tools an MCP client may call (every call under the policy)."""

CHECK = "check"
RECENT_ACTIVITY = "recent_activity"
MAX_ACTIVITY = 100


class RecentActivityArgs(BaseModel):
    """The newest entries of the audit log (what the agent did, asked and was refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[StrictInt, Field(ge=1, le=MAX_ACTIVITY)] = Field(
        default=20, description=f"how many entries, newest first (1-{MAX_ACTIVITY})"
    )


CHECK_DESCRIPTION = (
    "Dry-run the policy on one tool call: the decision (allow, confirm or deny), the reasons, "
    "each rule's words and the budget left. Nothing is signed or reserved."
)
ACTIVITY_DESCRIPTION = "The newest audit log entries, as data."


def offered_agent_tools(unavailable: dict[str, str]) -> tuple[str, ...]:
    """The exposed agent tools the network can run (``registry.unavailable`` decides)."""
    return tuple(name for name in AGENT_TOOLS if name not in unavailable)


def agent_tool_schema(name: str) -> dict[str, Any]:
    """The tool's argument model as JSON schema, as declared (a fresh copy each time)."""
    return registry.tool_args()[name].model_json_schema()


def check_schema(names: tuple[str, ...]) -> dict[str, Any]:
    """``{"tool": NAME, "args": {...}}``, ``args`` being that tool's own argument schema."""
    defs: dict[str, Any] = {}
    calls = []
    for name in names:
        args = agent_tool_schema(name)
        defs.update(args.pop("$defs", {}))
        calls.append(
            {
                "type": "object",
                "properties": {"tool": {"const": name}, "args": args},
                "required": ["tool", "args"],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = {
        "type": "object",
        "description": CHECK_DESCRIPTION,
        "properties": {
            "tool": {"enum": list(names), "description": "the tool to dry-run"},
            "args": {"type": "object", "description": "its arguments, as for calling it"},
        },
        "required": ["tool", "args"],
        "additionalProperties": False,
        "oneOf": calls,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def tool_specs(unavailable: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, description, input schema) of every offered tool, in a stable order."""
    names = offered_agent_tools(unavailable)
    declared = registry.declared()
    specs = [(name, declared[name].description, agent_tool_schema(name)) for name in names]
    specs.append((CHECK, CHECK_DESCRIPTION, check_schema(names)))
    specs.append((RECENT_ACTIVITY, ACTIVITY_DESCRIPTION, RecentActivityArgs.model_json_schema()))
    return specs
