"""Preparing the user's words for the rules: normalise, protect quoted text, split into clauses.

Quoted text (a label such as 'send all NEAR to x.near') is set aside before anything else, so
nothing inside quotes can be split into a clause of its own or read as a command; it comes back
verbatim only where a rule takes free text (a label). Everything else has its full-width and
half-width forms folded (``fold_width``), so full-width digits, letters and punctuation typed with
Japanese or Chinese input methods read as ASCII, and an ideographic full stop between digits reads
as a decimal point. Nothing else is folded: NFKC would also read a superscript, circled or
mathematical digit ("2¹", "①") as a plain one and turn "2¹ NEAR" into 21 NEAR.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from agent.planner.mood import Mood, mood_of

PLACEHOLDER_BASE = 0xE000
MAX_QUOTES = 512

_QUOTED = re.compile(
    r"\"(?P<a>[^\"]*)\"|＂(?P<b>[^＂]*)＂|“(?P<c>[^”]*)”|「(?P<d>[^」]*)」|『(?P<e>[^』]*)』"
    r"|‘(?P<f>[^’]*)’|(?<!\w)'(?P<g>[^']*)'(?!\w)|(?<!\w)＇(?P<h>[^＇]*)＇(?!\w)"
)
_WIDTH_TAGS = ("<wide>", "<narrow>")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_DECIMAL_FULL_STOP = re.compile(r"(?<=\d)[。｡](?=\d)")
_SPACES = re.compile(r"\s+")
# Sentence ends (a line break was normalised to ";"); what ends a sentence also ends a clause.
_SENTENCE_END = re.compile(r"((?<=[A-Za-z])[.!?]\s+(?=[A-Za-z])|[。!?]\s*|\s*;\s*)")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85]+")

_EN_VERBS = (
    r"send|transfer|pay|give|tip|wire|swap|exchange|convert|trade|sell|buy|check|show|list|"
    r"label|tag|annotate|submit|claim|collect|what|how|get|tell|display|view|see"
)
_SPLIT = re.compile(
    r"\s*[,;]?\s*\b(?:and\s+then|and\s+after\s+that|after\s+that|afterwards|then)\b\s*[,]?\s*"
    rf"|\s*,?\s*\b(?:and\s+also|and|also)\s+(?=(?:{_EN_VERBS})\b)"
    r"|\s*;\s*"
    r"|(?<=[A-Za-z])[.!?]\s+(?=[A-Za-z])"
    r"|(?<=て)\s*から\s*[、,]?\s*|(?<=で)\s*から\s*[、,]\s*"
    r"|(?<=て)\s*[、,]\s*"
    r"|\s*[、,]?\s*(?:それから|その後|そのあと|次に|そして)\s*[、,]?\s*"
    r"|\s*[,;]?\s*(?:然后再?|之后再?|接着再?|随后再?|再然后)\s*[,]?\s*"
    r"|\s*,\s*(?:再|并且)\s*"
    r"|[。!?]\s*",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:\b(?:and|also|then|please|pls|kindly|now|just|can you|could you|would you"
    r"|i want to|i'd like to|i would like to|let's)\b"
    r"|そして|それから|请|麻烦你?|帮我|替我|我要|我想要?)(?: ?,)? ?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = " .!?,;:、~…"
_TRAILING_WORD = re.compile(r"\s(?:please|pls|now|thanks|thank you|for me|again)$", re.IGNORECASE)


@dataclass(frozen=True)
class Prepared:
    """The user's words as clauses, with quoted spans set aside by placeholder.

    ``moods`` holds, for each clause, the mood of the sentence it stands in.
    """

    clauses: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]  # (as written with its quote marks, inside the quotes)
    moods: tuple[Mood, ...] = ()
    sentence_of: tuple[int, ...] = ()  # for each clause, the index of its sentence

    def mood(self, index: int) -> Mood:
        """The mood of clause ``index`` (0-based): its sentence's, plus a denial or condition
        anywhere in the message, since "send 1 NEAR to bob. Actually, don't." is no request."""
        whole = Mood(
            negated=next((m.negated for m in self.moods if m.negated), None),
            hypothetical=next((m.hypothetical for m in self.moods if m.hypothetical), None),
        )
        own = self.moods[index] if index < len(self.moods) else Mood()
        return own.combined(whole)

    def restore(self, text: str) -> str:
        """Put quoted spans back; a text that is one whole quote becomes just its inside."""
        stripped = text.strip()
        index = _placeholder_index(stripped) if len(stripped) == 1 else None
        if index is not None:
            return self.quotes[index][1]
        return self.restore_all(text)

    def restore_all(self, text: str) -> str:
        """Put every quoted span back with its quote marks (for showing a clause to the user)."""
        return "".join(
            self.quotes[i][0] if (i := _placeholder_index(ch)) is not None else ch for ch in text
        )


def _placeholder_index(ch: str) -> int | None:
    code = ord(ch)
    if PLACEHOLDER_BASE <= code < PLACEHOLDER_BASE + MAX_QUOTES:
        return code - PLACEHOLDER_BASE
    return None


def _clean(text: str) -> str:
    """Drop control, format, private-use and unassigned characters (so no fake placeholders)."""
    return "".join(
        ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )


def protect_quotes(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Replace each quoted span by one private-use character; keep the spans verbatim."""
    quotes: list[tuple[str, str]] = []

    def _swap(match: re.Match[str]) -> str:
        if len(quotes) >= MAX_QUOTES:
            return match.group(0)
        inside = next(g for g in match.groups() if g is not None)
        quotes.append((match.group(0), inside))
        return chr(PLACEHOLDER_BASE + len(quotes) - 1)

    return _QUOTED.sub(_swap, text), tuple(quotes)


def _width_folded(ch: str) -> str:
    decomposition = unicodedata.decomposition(ch)
    if decomposition.startswith(_WIDTH_TAGS):
        return "".join(chr(int(code, 16)) for code in decomposition.split()[1:])
    return ch


def fold_width(text: str) -> str:
    """Full-width and half-width forms as their ordinary characters (``１０``, ``ＮＥＡＲ``,
    ``ｶﾞ`` become ``10``, ``NEAR``, ``ガ``), then NFC; superscripts, circled, fraction and other
    compatibility characters stay as written, so they are never read as digits."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", "".join(_width_folded(ch) for ch in text))


def normalise(text: str) -> str:
    """Widths folded, ideographic full stop between digits as '.', line breaks as ';', spaces
    collapsed."""
    out = fold_width(text)
    out = _DECIMAL_FULL_STOP.sub(".", out)
    out = _LINE_BREAKS.sub(" ; ", out)
    return _SPACES.sub(" ", out).strip()


def tidy_clause(clause: str) -> str:
    """A clause without leading connectors or politeness and without trailing punctuation."""
    out = clause.strip()
    previous = None
    while previous != out:
        previous = out
        out = _LEADING.sub("", out, count=1).strip()
        out = _TRAILING_WORD.sub("", out.rstrip(_TRAILING_PUNCTUATION)).strip()
    return out


def sentences(normal: str) -> list[tuple[str, Mood]]:
    """A normalised text's sentences, each with its mood (read with its final "?" or "!")."""
    pieces = _SENTENCE_END.split(normal)
    out = []
    for start in range(0, len(pieces), 2):
        sentence = pieces[start]
        end = pieces[start + 1] if start + 1 < len(pieces) else ""
        if sentence.strip() or end.strip(" ;"):
            out.append((sentence, mood_of(sentence + end.strip())))
    return out


def prepare(text: str) -> Prepared:
    """Quotes set aside, normalised, split into sentences and at sequencing words into tidy
    non-empty clauses, each with its sentence's mood."""
    protected, quotes = protect_quotes(_clean(text))
    clauses: list[str] = []
    moods: list[Mood] = []
    sentence_of: list[int] = []
    for number, (sentence, mood) in enumerate(sentences(normalise(protected))):
        for part in _SPLIT.split(sentence):
            clause = tidy_clause(part)
            if clause:
                clauses.append(clause)
                moods.append(mood)
                sentence_of.append(number)
    return Prepared(
        clauses=tuple(clauses), quotes=quotes, moods=tuple(moods), sentence_of=tuple(sentence_of)
    )
