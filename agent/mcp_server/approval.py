"""Who answers a CONFIRM: the user through MCP elicitation, or later through the approval inbox.

The executor asks its ``confirm`` question synchronously, while MCP elicitation is a request to
the client that must be awaited. So the question is asked *before* the executor runs, on the
action the policy's dry run said needs confirming, and the executor's ``confirm`` then approves
only that very action (same action hash): if the action prepared again differs, the answer does
not carry over and nothing is signed. A client that cannot elicit never approves anything: the
call is filed in the approval inbox (``near-agent approvals``) and its id returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ELICIT_TIMEOUT_S = 300  # unanswered by then: the call waits in the inbox instead
ELICIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {
            "type": "boolean",
            "title": "Sign and send it",
            "description": "true to sign and send exactly the action shown",
            "default": False,
        }
    },
    "required": ["approve"],
}


def can_elicit(session: Any) -> bool:
    """The client declared form elicitation and this request can carry a request back."""
    caps = getattr(session, "client_capabilities", None)
    elicitation = getattr(caps, "elicitation", None)
    if elicitation is None or not session.can_send_request:
        return False
    # an empty elicitation capability means form mode (the spec's default)
    return elicitation.form is not None or getattr(elicitation, "url", None) is None


def elicit_message(preview: str, reasons: list[str], rules: list[dict[str, str]]) -> str:
    """The question shown to the user: the exact action and why the policy asks."""
    why = "; ".join(r["detail"] or r["code"] for r in rules) or ", ".join(reasons)
    return f"near-agent asks before signing: {preview}\nWhy you are asked: {why}"


@dataclass
class Answer:
    """What the user said to one elicited action."""

    action_hash: str
    approved: bool
    how: str  # accept | decline | cancel


async def ask_by_elicitation(
    session: Any, request_id: Any, action_hash: str, message: str
) -> Answer | None:
    """Send one form elicitation; only an accept with ``approve: true`` approves. None when
    the client could not answer (an error): the call then waits in the inbox instead."""
    import anyio
    from mcp.shared.exceptions import MCPError

    result = None
    try:
        with anyio.move_on_after(ELICIT_TIMEOUT_S):
            result = await session.elicit_form(
                message=message, requested_schema=ELICIT_SCHEMA, related_request_id=request_id
            )
    except (MCPError, ValueError, RuntimeError):  # no answer; nothing is approved
        return None
    if result is None:  # no answer in time
        return None
    content = result.content or {}
    approved = result.action == "accept" and content.get("approve") is True
    return Answer(action_hash, approved, str(result.action))


@dataclass
class Confirmer:
    """The executor's ``confirm`` for one MCP call.

    With an elicited answer: True only for the action the user saw. Without one: the call is
    filed in the inbox (its id kept in ``inbox_ids``) and the answer is no.
    """

    answer: Answer | None
    file_in_inbox: Any  # (action, decision) -> inbox id
    inbox_ids: list[str] = field(default_factory=list)

    def __call__(self, action: Any, decision: Any) -> bool:
        if self.answer is not None:
            return self.answer.approved and self.answer.action_hash == decision.action_hash
        self.inbox_ids.append(self.file_in_inbox(action, decision))
        return False
