"""The text screen: hidden characters and look-alike digits are found and shown escaped."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.text_screen import (
    DeceptiveTextError,
    check_digits,
    check_visible,
    escaped,
    hidden_characters,
    is_hidden,
    problems_in_file,
)

ORDINARY = [
    "send 2 NEAR to bob.test.near",
    "swap 5 NEAR to USDC, then send 1,000.25 USDC to alice.near",
    "１０ NEARをbobに送って",
    "给bob转账２。５ NEAR",
    "二〇二六年に一度だけ bob に 1 NEAR 送って",
    "send 1 NEAR to bob\n",
    "é à ü ß ñ 😀 — “quoted” ‘text’",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_in_any_language_passes(text: str) -> None:
    assert check_digits(check_visible(text, "intent"), "intent") == text


@pytest.mark.parametrize(
    "ch", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
           "\u2069", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad",
           "\u2060", "\x00", "\x1b", "\x7f", "\u2028", "\u2029", "\u3164", "\ue000"],
)  # fmt: skip
def test_bidi_controls_and_invisible_characters_are_refused(ch: str) -> None:
    with pytest.raises(DeceptiveTextError) as info:
        check_visible(f"bob{ch}.test.near", "account id")
    shown = f"\\u{ord(ch):04x}"
    assert f"bob{shown}.test.near" in info.value.message
    assert f"U+{ord(ch):04X}" in info.value.message
    assert ch not in info.value.message  # the message itself hides nothing


_ESCAPE = re.compile(r"\\u[0-9a-f]{4}|\\U[0-9a-f]{8}")


@given(st.text().filter(lambda t: "\\" not in t))
def test_escaped_text_hides_nothing_and_reads_back_exactly(text: str) -> None:
    shown = escaped(text)
    assert hidden_characters(shown) == []
    assert _ESCAPE.sub(lambda m: chr(int(m.group(0)[2:], 16)), shown) == text


@given(st.characters())
def test_every_format_character_is_hidden(ch: str) -> None:
    if unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Co", "Cs"):
        assert is_hidden(ch)


@pytest.mark.parametrize("ch", ["¹", "²", "①", "𝟏", "½", "١", "۱", "१", "๓", "⑴", "⒈"])
def test_look_alike_digits_are_refused(ch: str) -> None:
    with pytest.raises(DeceptiveTextError, match="not read as a digit"):
        check_digits(f"send {ch} NEAR to bob.test.near", "intent")


def test_a_grant_file_names_each_line_with_hidden_characters() -> None:
    text = "grants:\r\n  - id: pay\r\n    recipients: [bob\u202e.test.near]\n    note: ok\u200b\n"
    problems = problems_in_file(text)
    assert len(problems) == 2
    assert problems[0].startswith("line 3 ") and "bob\\u202e.test.near" in problems[0]
    assert problems[1].startswith("line 4 ") and "U+200B ZERO WIDTH SPACE" in problems[1]
    assert problems_in_file("grants:\r\n  - id: pay\r\n") == []
