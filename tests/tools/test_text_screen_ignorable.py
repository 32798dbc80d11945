"""Default-ignorable code points (rendered as nothing) are refused, whatever their category.

Variation selectors and Khmer inherent vowels are nonspacing marks (Mn), Hangul fillers letters
(Lo): a category test lets them through, so ``USDC`` + U+FE0F would pass for ``USDC``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.text_screen import (
    DEFAULT_IGNORABLE_RANGES,
    DeceptiveTextError,
    check_visible,
    is_default_ignorable,
    is_hidden,
    problems_in_file,
)

IGNORABLE = {
    "\u034f": "COMBINING GRAPHEME JOINER",
    "\u061c": "ARABIC LETTER MARK",
    "\u115f": "HANGUL CHOSEONG FILLER",
    "\u1160": "HANGUL JUNGSEONG FILLER",
    "\u17b4": "KHMER VOWEL INHERENT AQ",
    "\u17b5": "KHMER VOWEL INHERENT AA",
    "\u180b": "MONGOLIAN FREE VARIATION SELECTOR ONE",
    "\u180c": "MONGOLIAN FREE VARIATION SELECTOR TWO",
    "\u180d": "MONGOLIAN FREE VARIATION SELECTOR THREE",
    "\u180f": "MONGOLIAN FREE VARIATION SELECTOR FOUR",
    "\u2061": "FUNCTION APPLICATION",
    "\u2064": "INVISIBLE PLUS",
    "\u206f": "NOMINAL DIGIT SHAPES",
    "\u3164": "HANGUL FILLER",
    "\ufe00": "VARIATION SELECTOR-1",
    "\ufe0f": "VARIATION SELECTOR-16",
    "\uffa0": "HALFWIDTH HANGUL FILLER",
    "\U0001bca0": "SHORTHAND FORMAT LETTER OVERLAP",
    "\U0001d173": "MUSICAL SYMBOL BEGIN BEAM",
    "\U0001d17a": "MUSICAL SYMBOL END PHRASE",
    "\U000e0001": "LANGUAGE TAG",
    "\U000e0041": "TAG LATIN CAPITAL LETTER A",
    "\U000e007f": "CANCEL TAG",
    "\U000e0100": "VARIATION SELECTOR-17",
    "\U000e01ef": "VARIATION SELECTOR-256",
}


@pytest.mark.parametrize("ch", sorted(IGNORABLE), ids=[IGNORABLE[c] for c in sorted(IGNORABLE)])
def test_each_default_ignorable_is_refused_and_shown_escaped(ch: str) -> None:
    shown = f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
    with pytest.raises(DeceptiveTextError) as info:
        check_visible(f"USDC{ch}", "token name")
    assert f"USDC{shown}" in info.value.message
    assert IGNORABLE[ch] in info.value.message
    assert ch not in info.value.message
    assert problems_in_file(f"tokens:\n  USDC{ch}: x\n")[0].startswith("line 2 ")


@given(
    st.sampled_from(DEFAULT_IGNORABLE_RANGES).flatmap(
        lambda r: st.integers(min_value=r[0], max_value=r[1])
    )
)
def test_every_code_point_of_the_ignorable_ranges_is_hidden(code: int) -> None:
    assert is_default_ignorable(chr(code)) and is_hidden(chr(code))


def test_the_ranges_are_unicodes_default_ignorable_property() -> None:
    """Cross-checked against the regex module's Default_Ignorable_Code_Point (a dependency of
    the OpenAI tokenizer, installed with langchain-openai)."""
    regex = pytest.importorskip("regex")
    prop = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    differ = [
        c for c in range(0x110000) if bool(prop.match(chr(c))) != is_default_ignorable(chr(c))
    ]
    assert differ == []


VISIBLE = [
    "１０ NEARをbobに送って",  # Japanese, full-width digits
    "カタカナ ひらがな 漢字 ー 々 〆",
    "给bob转账２。５ NEAR，谢谢",
    "繁體中文：轉帳給鮑勃",
    "한국어 송금",  # Hangul syllables (not the fillers)
    "café résumé naïve",  # precomposed accents
    "cafe\u0301 re\u0301sume\u0301 nai\u0308ve",  # e + combining acute, i + combining diaeresis
    "Ελληνικά Русский עברית العربية",
    "ក្រុមហ៊ុន",  # Khmer with visible signs and a coeng
    "ᠮᠣᠩᠭᠣᠯ",  # Mongolian letters
]


@pytest.mark.parametrize("text", VISIBLE)
def test_ordinary_text_and_combining_accents_pass(text: str) -> None:
    assert check_visible(text, "intent") == text
