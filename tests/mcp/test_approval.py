"""The executor's ``confirm`` for an MCP call approves only the action the user was shown, and
a call no one could be asked about goes to the inbox, never approved."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from agent.mcp_server.approval import Answer, Confirmer, can_elicit

hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(shown=hashes, asked=hashes, approved=st.booleans())
def test_an_answer_approves_only_the_action_it_was_given_for(
    shown: str, asked: str, approved: bool
) -> None:
    filed: list[Any] = []
    confirm = Confirmer(Answer(shown, approved, "accept"), lambda a, d: filed.append(d) or "x")
    decision = SimpleNamespace(action_hash=asked, reasons=["first_time_recipient"])
    assert confirm(object(), decision) is (approved and shown == asked)
    assert not filed and not confirm.inbox_ids


def test_without_an_answer_the_call_is_filed_and_declined() -> None:
    confirm = Confirmer(None, lambda action, decision: "inbox-1")
    assert confirm(object(), SimpleNamespace(action_hash="h", reasons=[])) is False
    assert confirm.inbox_ids == ["inbox-1"]


def session(elicitation: Any, can_send: bool = True) -> Any:
    caps = SimpleNamespace(elicitation=elicitation)
    return SimpleNamespace(client_capabilities=caps, can_send_request=can_send)


def test_elicitation_needs_the_declared_form_capability_and_a_back_channel() -> None:
    form = SimpleNamespace(form=SimpleNamespace(), url=None)
    assert can_elicit(session(form))
    assert can_elicit(session(SimpleNamespace(form=None, url=None)))  # {} means form mode
    assert not can_elicit(session(SimpleNamespace(form=None, url=SimpleNamespace())))
    assert not can_elicit(session(None))
    assert not can_elicit(session(form, can_send=False))
    assert not can_elicit(SimpleNamespace(client_capabilities=None, can_send_request=True))
