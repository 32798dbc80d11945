"""Redaction remembers what short texts read once redacted; a secret registered later must still
be hidden in a text that was seen (and left as it was) before it was registered."""

from __future__ import annotations

import secrets

from hypothesis import given
from hypothesis import strategies as st

from memory.redact import REDACTED, _redacted, redact, redact_text
from tools.secret_text import MIN_SECRET_CHARS, register_secret


def test_a_secret_registered_after_a_text_was_seen_is_hidden_in_it() -> None:
    value = "k" + secrets.token_hex(12)
    text = f"the node answered {value} for the key"
    assert redact_text(text) == text  # seen, and nothing in it is a secret yet
    assert redact({"detail": text}) == {"detail": text}
    register_secret(value)
    assert value not in redact_text(text)
    assert REDACTED in redact_text(text)
    assert redact({"detail": text}) == {"detail": text.replace(value, REDACTED)}


def test_a_bearer_token_is_hidden_whatever_the_case_of_its_label() -> None:
    token = secrets.token_urlsafe(24)
    for label in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert token not in redact_text(f"Authorization: {label} {token}")


SECRETISH = st.text(
    alphabet=st.sampled_from(
        "ed25519:skBEARERbearer-_ 123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdef%\\u\u200b"
    ),
    max_size=120,
)


@given(SECRETISH, st.booleans())
def test_remembering_never_changes_what_a_text_reads(text: str, public_key_field: bool) -> None:
    first = redact_text(text, public_key_field=public_key_field)
    again = redact_text(text, public_key_field=public_key_field)
    assert first == again == _redacted(text, public_key_field)


@given(st.text(max_size=MIN_SECRET_CHARS - 1), st.booleans())
def test_a_text_shorter_than_any_secret_is_never_changed(text: str, public_key_field: bool) -> None:
    register_secret("short-secret-" + secrets.token_hex(4))
    assert _redacted(text, public_key_field) == text
