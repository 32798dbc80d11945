"""Round-2 attack on "Secrets stay out ... the value of the configured LLM API key [is]
redacted ... from every database write, log record and line the CLI prints, even when an
endpoint echoes them back".

A hostile endpoint echoes the key with a zero-width space inside, or JSON-escaped: redaction by
value (tools/secret_text.py hide_registered) matches the exact characters only, so the key is
printed and stored in a form that reads as the key (on screen, or after one json.loads)."""

from __future__ import annotations

import re

import pytest

from agent.home import Home
from tests.agent.test_secrets_cli import _stored_bytes, near_agent
from tests.support.openai_replay import ModelTurn, ReplayServer

API_KEY = "p9Xq2LmZ7rTq4vW8yB3nK6dF1hJ5sA0cE4"

ECHOES = {
    "zero-width-space": API_KEY[:17] + "\u200b" + API_KEY[17:],
    "json-escaped": "".join(f"\\u{ord(c):04x}" for c in API_KEY),
}


def _revealed(text: str) -> str:
    """What a reader takes the text to say: zero-width spaces unseen, ``\\uXXXX`` read."""
    unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return unescaped.replace("\u200b", "")


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(ECHOES))
def test_an_api_key_echoed_in_disguise_appears_nowhere(
    llm_home: tuple[Home, ReplayServer], form: str
) -> None:
    home, server = llm_home
    server.script(ModelTurn(content=f"Which account? (my key is {ECHOES[form]})"))
    server.script(ModelTurn(content=f"Which account? (my key is {ECHOES[form]})"))
    shown = near_agent(home, "plan", "send 1 NEAR to bob", api_key=API_KEY)
    done = near_agent(home, "do", "--yes", "send 1 NEAR to bob", api_key=API_KEY)
    assert len(server.requests) == 2  # the endpoint answered both
    for result in (shown, done):
        assert API_KEY not in _revealed(result.stdout + result.stderr), result.args
    stored = _stored_bytes(home).decode("utf-8", "replace")
    assert API_KEY not in _revealed(stored)
