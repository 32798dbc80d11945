"""A public key labelled as one stays readable on the terminal (``status``, ``keys list
--json``); every other ed25519 value, and a secret however it is labelled, is still hidden."""

from __future__ import annotations

import base58
from hypothesis import given
from hypothesis import strategies as st

from memory.redact import REDACTED, redact_text

LABELS = ['"public_key": "{}"', "public_key: {}", "public key {}", "signer_public_key={}"]


# an ed25519 key's base58 is 43 or 44 characters (fewer only for keys of leading zero bytes)
KEY = st.binary(min_size=32, max_size=32).filter(lambda raw: len(base58.b58encode(raw)) >= 43)


def ed25519(raw: bytes) -> str:
    return "ed25519:" + base58.b58encode(raw).decode()


@given(KEY, st.sampled_from(LABELS))
def test_a_labelled_public_key_is_kept(raw: bytes, label: str) -> None:
    line = label.format(ed25519(raw))
    assert redact_text(line) == line


@given(st.binary(min_size=64, max_size=64), st.sampled_from(LABELS))
def test_a_secret_key_is_hidden_whatever_its_label(raw: bytes, label: str) -> None:
    out = redact_text(label.format(ed25519(raw)))
    assert REDACTED in out and ed25519(raw) not in out


@given(KEY, st.sampled_from(["key {}", '"seed": "{}"', "{}"]))
def test_an_unlabelled_value_is_hidden(raw: bytes, text: str) -> None:
    out = redact_text(text.format(ed25519(raw)))
    assert REDACTED in out and ed25519(raw) not in out
