"""A registered secret is found in disguise, and a seed phrase whatever separates its words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory.redact import REDACTED, redact_text
from tools.secret_text import has_seed_phrase, reading, register_secret, secret_in_typed_text
from tools.text_screen import DEFAULT_IGNORABLE_RANGES

SECRET = "Hk4wPlainKeyNoShape27q"

_INVISIBLE = st.sampled_from(DEFAULT_IGNORABLE_RANGES).flatmap(
    lambda r: st.integers(min_value=r[0], max_value=r[1]).map(chr)
)


def _disguise(ch: str, how: int) -> str:
    """One character of the secret as written: plain, JSON-escaped or percent-encoded."""
    return [ch, f"\\u{ord(ch):04x}", f"\\U{ord(ch):08X}", f"%{ord(ch):02X}"][how]


@given(
    st.lists(st.integers(min_value=0, max_value=3), min_size=len(SECRET), max_size=len(SECRET)),
    st.lists(st.lists(_INVISIBLE, max_size=2), min_size=len(SECRET), max_size=len(SECRET)),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_a_registered_secret_is_redacted_however_it_is_disguised(
    hows: list[int], hidden: list[list[str]], before: str, after: str
) -> None:
    register_secret(SECRET)
    disguised = "".join(
        _disguise(c, h) + "".join(x) for c, h, x in zip(SECRET, hows, hidden, strict=True)
    )
    text = f"{before} {disguised} {after}"
    out = redact_text(text)
    assert SECRET.lower() not in reading(out).text.lower()
    assert REDACTED in out
    assert secret_in_typed_text(text) is not None


@given(st.text(max_size=60))
def test_reading_maps_each_character_back_to_what_spells_it(text: str) -> None:
    view = reading(text)
    assert len(view.text) == len(view.starts) == len(view.ends)
    for i, ch in enumerate(view.text):
        assert reading(text[view.starts[i] : view.ends[i]]).text == ch


def test_text_without_the_secret_is_unchanged() -> None:
    register_secret(SECRET)
    for text in ["100% sure", "a \\u0041 escape", "zero\u200bwidth", "%41%42"]:
        assert redact_text(text) == text


WORDS = "abandon ability able about above absent absorb abstract absurd abuse access accident"


@pytest.mark.parametrize(
    "text",
    [
        WORDS.replace(" ", ", "),
        WORDS.replace(" ", "、"),
        "助记词:" + WORDS,
        "シードは「" + WORDS.replace(" ", "・") + "」です",
        " ".join(f"{n}.{w}" for n, w in enumerate(WORDS.split(), start=1)),
        WORDS.replace(" ", "\n"),
        WORDS.replace(" ", "-"),
    ],
    ids=["commas", "ideographic-commas", "glued-to-chinese", "japanese-middle-dots", "numbered",
         "lines", "hyphens"],
)  # fmt: skip
def test_a_seed_phrase_is_found_whatever_separates_its_words(text: str) -> None:
    assert has_seed_phrase(text)
    assert secret_in_typed_text(text) == "a seed phrase"


@pytest.mark.parametrize(
    "text",
    [
        "swap five near for usdc when the price looks good, then send some to bob, thanks",
        "１０ NEARをbobに送って、それからaliceにも送って",
        "send, swap, claim, label: which tools are there and what does each of them cost",
        WORDS.rsplit(" ", 1)[0].replace(" ", ", "),  # eleven words
    ],
)
def test_sentences_with_punctuation_are_not_seed_phrases(text: str) -> None:
    assert not has_seed_phrase(text)
