"""A chat model as a plain function, answering from a script: the LLM planner's function seam.

The planner's unit tests need only the model's answers; the planner calls this in the chat
model's place (as pydantic-ai's FunctionModel) and checks its answer exactly as a real model's.
Turns are the replay server's (``tests.support.openai_replay``), so a test can move between the
two; the replay server stays for the end-to-end tests (the CLI in a subprocess over HTTP).
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from tests.support.openai_replay import ModelTurn, ToolCall


class ScriptedModel:
    """Answers each call with the next scripted turn; keeps what it was sent in ``requests``
    (messages, tool specs); with nothing scripted it fails as an endpoint would."""

    def __init__(self, *turns: ModelTurn) -> None:
        self.turns = list(turns)
        self.requests: list[tuple[list[BaseMessage], list[dict[str, Any]]]] = []

    def script(self, *turns: ModelTurn) -> None:
        self.turns.extend(turns)

    async def __call__(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> Any:
        self.requests.append((list(messages), tools))
        if not self.turns:
            raise ConnectionError("no scripted turn left")
        return answer(self.turns.pop(0))


def answer(turn: ModelTurn) -> AIMessage:
    """The AIMessage langchain would make of the turn: arguments that are not a JSON object
    become an invalid tool call, as from a real endpoint."""
    valid: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for index, call in enumerate(turn.tool_calls):
        args = _arguments(call)
        if isinstance(args, dict):
            valid.append(
                {"name": call.name, "args": args, "id": f"call_{index}", "type": "tool_call"}
            )
        else:
            invalid.append(
                {
                    "name": call.name,
                    "args": call.arguments,
                    "id": f"call_{index}",
                    "error": "arguments are not a JSON object",
                    "type": "invalid_tool_call",
                }
            )
    return AIMessage(content=turn.content or "", tool_calls=valid, invalid_tool_calls=invalid)


def _arguments(call: ToolCall) -> Any:
    if not isinstance(call.arguments, str):
        return json.loads(json.dumps(call.arguments))  # as it would travel: JSON values only
    try:
        return json.loads(call.arguments)
    except ValueError:
        return None
