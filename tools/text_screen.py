"""Text that lies to the eye: characters that change how text looks without being seen.

A right-to-left override (U+202E) makes ``\u202eraen.tset.bob`` display as ``bob.test.near``; a
zero-width space hides inside a name; a Hangul filler looks like a blank. Intents, account ids,
contacts and grant files are screened here, and refused with the offenders shown escaped
(``bob\\u202e.test.near``) so the user sees what the screen did not show them.

Refused: every format character (Unicode category Cf: bidi embeddings, overrides and isolates,
zero-width spaces and joiners, the byte-order mark, soft hyphens...), control characters other
than tab, line feed and carriage return (Cc), line and paragraph separators (Zl, Zp), surrogates,
private-use and unassigned code points (Cs, Co, Cn), the braille blank, and every
default-ignorable code point (Unicode's Default_Ignorable_Code_Point: what a renderer shows as
nothing when it has no glyph for it). The last are the class a category test misses: variation
selectors (U+FE00-FE0F, U+E0100-E01EF) and Mongolian free variation selectors (U+180B-180F),
Khmer's inherent vowels (U+17B4, U+17B5) and the combining grapheme joiner are nonspacing marks
(Mn), the Hangul fillers are letters (Lo); ``USDC`` + U+FE0F reads as ``USDC`` yet is another
name. Ordinary combining accents (``e`` + U+0301) are visible marks and pass.

Digits are ASCII 0-9 and the full-width ０-９ of Japanese and Chinese input methods. A character
that NFKC would turn into a digit (``¹``, ``①``, ``𝟏``, ``½``) or another script's decimal digit
(Arabic-Indic ``١``) looks like, or is read as, a number the user may not have typed: it is a
"look-alike digit", refused in intents and amounts with the text shown escaped (``2\\u00b9``).
Ideographic numerals (``一``, ``〇``) are words, not digits, and pass.
"""

from __future__ import annotations

import re
import unicodedata

from tools.errors import ToolError

_REFUSED_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp", "Cs", "Co", "Cn"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_BRAILLE_BLANK = "\u2800"
# Default_Ignorable_Code_Point, DerivedCoreProperties.txt (unchanged since Unicode 6.1): the
# ``unicodedata`` module does not expose the property, so its ranges are listed here.
DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, joiners, directional marks
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte-order mark)
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0xFFF0, 0xFFF8),  # unassigned, reserved as ignorable
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol beam and tie controls
    (0xE0000, 0xE0FFF),  # tag characters, variation selectors 17-256, reserved
)

DEFAULT_IGNORABLE = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in DEFAULT_IGNORABLE_RANGES) + "]"
)
"""One default-ignorable code point."""


class DeceptiveTextError(ToolError, ValueError):
    """Text holds characters that are invisible, change its direction, or pose as digits."""

    code = "deceptive_text"


_FULL_WIDTH_DIGITS = frozenset("０１２３４５６７８９")


def is_lookalike_digit(ch: str) -> bool:
    """A digit other than ASCII or full-width, or a character NFKC turns into a digit."""
    if ch.isascii() or ch in _FULL_WIDTH_DIGITS:
        return False
    if unicodedata.category(ch) == "Nd":
        return True
    return any("0" <= c <= "9" for c in unicodedata.normalize("NFKC", ch))


def lookalike_digits(text: str) -> list[str]:
    """The distinct look-alike digits in ``text``, in order of appearance."""
    if text.isascii():
        return []
    return list(dict.fromkeys(ch for ch in text if is_lookalike_digit(ch)))


def check_digits(text: str, what: str) -> str:
    """``text`` when every digit in it is a real one; DeceptiveTextError naming each look-alike
    digit and showing the text with them escaped (``send 2\\u00b9 NEAR``), since on screen
    they pass for the digits they imitate."""
    found = lookalike_digits(text)
    if not found:
        return text
    shown = "".join(_escape(ch) if is_hidden(ch) or ch in found else ch for ch in text)
    named = ", ".join(f"{ch!r} ({describe([ch])})" for ch in found)
    raise DeceptiveTextError(
        f"the {what} contains {named}, not read as a digit here: "
        f'"{_shortened(shown)}"; write the digits 0-9 (full-width ０-９ work too)',
        text=shown,
    )


def is_hidden(ch: str) -> bool:
    """Would this character change or hide what the text looks like?"""
    if ch.isascii():
        return ch < " " and ch not in _ALLOWED_CONTROLS or ch == "\x7f"
    return (
        ch == _BRAILLE_BLANK
        or is_default_ignorable(ch)
        or unicodedata.category(ch) in _REFUSED_CATEGORIES
    )


def is_default_ignorable(ch: str) -> bool:
    """Is ``ch`` a default-ignorable code point (rendered as nothing, see the module doc)?"""
    return DEFAULT_IGNORABLE.fullmatch(ch) is not None


def hidden_characters(text: str) -> list[str]:
    """The distinct hidden characters in ``text``, in order of appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in seen and is_hidden(ch):
            seen[ch] = None
    return list(seen)


def escaped(text: str) -> str:
    """``text`` with each hidden character written as ``\\uXXXX`` (everything else as is)."""
    return "".join(_escape(ch) if is_hidden(ch) else ch for ch in text)


def describe(chars: list[str]) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE``."""
    return ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in chars)


def check_visible(text: str, what: str) -> str:
    """``text`` when it hides nothing; DeceptiveTextError naming and showing what it hides."""
    found = hidden_characters(text)
    if not found:
        return text
    raise DeceptiveTextError(
        f"the {what} contains invisible or direction-changing characters ({describe(found)}): "
        f'"{escaped(_shortened(text))}"; retype it without them',
        text=escaped(text),
    )


def problems_in_file(text: str) -> list[str]:
    """One problem per line of a file (a grants file, say) that holds hidden characters.

    Returned, not raised, so a loader can report them with its other problems; a CRLF line end
    is not a problem.
    """
    problems = []
    for number, line in enumerate(text.split("\n"), start=1):
        found = hidden_characters(line.removesuffix("\r"))
        if found:
            problems.append(
                f"line {number} contains invisible or direction-changing characters "
                f'({describe(found)}): "{escaped(_shortened(line.removesuffix(chr(13))))}"'
            )
    return problems


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
