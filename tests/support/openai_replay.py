"""A local OpenAI-compatible chat-completions server that replays scripted model turns.

The LLM planner is exercised through the real openai client and langchain-openai over HTTP; only
the model's answers are scripted. Every request body is kept so tests can assert what the model
was shown and how many times it was called. ``{api_key}`` in a scripted turn's text or arguments
is replaced by the bearer token the request carried: an endpoint that echoes the key back.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ToolCall:
    name: str
    arguments: str | dict[str, Any]  # a dict is encoded; a str is sent as is (even if malformed)


@dataclass
class ModelTurn:
    """One scripted assistant message: text, tool calls, or both."""

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


class ReplayServer:
    """Serves ``POST /v1/chat/completions`` from a queue of :class:`ModelTurn`."""

    def __init__(self, turns: list[ModelTurn] | None = None) -> None:
        self.turns: list[ModelTurn] = list(turns or [])
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # a short poll: shutdown() waits for it, and every test using the server pays it once
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *turns: ModelTurn) -> None:
        with self._lock:
            self.turns.extend(turns)

    def _next_reply(self, body: dict[str, Any], api_key: str = "") -> dict[str, Any]:
        with self._lock:
            self.requests.append(body)
            if not self.turns:
                return {"error": {"message": "no scripted turn left", "type": "test_script"}}
            turn = _echoing(self.turns.pop(0), api_key)
        message: dict[str, Any] = {"role": "assistant", "content": turn.content}
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{index}",
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.arguments
                        if isinstance(call.arguments, str)
                        else json.dumps(call.arguments),
                    },
                }
                for index, call in enumerate(turn.tool_calls)
            ]
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if turn.tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"unknown path {self.path}"}})
                    return
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                reply = server._next_reply(body, bearer)
                self._send(500 if "error" in reply else 200, reply)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        return Handler


def _echoing(turn: ModelTurn, api_key: str) -> ModelTurn:
    """The turn with ``{api_key}`` replaced by the key the request was sent with."""

    def fill(text: str) -> str:
        return text.replace("{api_key}", api_key)

    return ModelTurn(
        content=fill(turn.content) if turn.content is not None else None,
        tool_calls=[
            ToolCall(
                call.name,
                fill(call.arguments)
                if isinstance(call.arguments, str)
                else json.loads(fill(json.dumps(call.arguments))),
            )
            for call in turn.tool_calls
        ],
    )
