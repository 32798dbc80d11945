"""Mood: whether a sentence tells the agent to act, or asks, denies or imagines instead.

"do NOT send 2 NEAR to bob", "how much USDC would 1 NEAR get me?", "2 NEARをbobに送らないで",
"如果价格涨了就把 10 USDC 换成 NEAR": the grammar can read a payment inside each of them, but
none of them asks for one. A sentence's mood is read from its own words (quoted text is already
set aside as a placeholder, so a label saying "don't" changes nothing); a payment, swap or claim
is only planned from a sentence that is a plain instruction. Words are matched generously:
refusing a sentence that only looked negated costs the user one rephrasing, while paying from a
sentence that said "don't" cannot be undone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _en(words: str) -> str:
    """English words standing alone (not inside an account id such as not.near or knot.near)."""
    return rf"(?<![\w.\-])(?:{words})(?![\w\-]|\.\w)"


# A request phrased politely ("could you send ...?", "can you please ...") is an instruction.
_POLITE = re.compile(
    r"^(?:(?:please|pls|kindly|ok|okay|so|hey|hi)[\s,]+)*"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+|kindly\s+)?)",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    "|".join(
        (
            _en(
                r"not|no|never|nor|neither|none|nothing|cancel|stop|abort|forget|refrain|cannot"
                r"|(?:do|does|did|wo|should|must|ca|is|are|was|were)n[’']?t"
            ),
            r"\w+n[’']t\b",
            # Japanese: 送らないで, 送らない, 送りません, 送らずに, やめて, 中止, キャンセル, だめ
            r"ない|ません|ず(?:に|で)|やめ|止め|中止|キャンセル|だめ|ダメ|禁止",
            # Chinese: 不要, 别, 不, 没, 勿, 莫, 禁止, 取消, 停止, 算了
            r"不|别|没|勿|莫|取消|停止|算了",
        )
    ),
    re.IGNORECASE,
)
_QUESTION = re.compile(
    "|".join(
        (
            r"\?",
            _en(r"how\s+(?:much|many)|what|which|whom?|whose|why|whether"),
            r"ですか|ますか|でしょうか|か\s*$|かな\s*$|いくら|どのくらい|どれくらい|何|なに|どう",
            r"吗|嗎|呢|多少|几|什么|怎么|如何|是否|能否|可否|么\s*$",
        )
    ),
    re.IGNORECASE,
)
_QUESTION_OPENING = re.compile(
    _en(
        r"how|what|which|who|whom|whose|why|when|where|should|shall|is|are|am|was|were|do|does"
        r"|did|can|could|would|will|may|might|must"
    ),
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    "|".join(
        (
            _en(
                r"if|unless|would|could|might|suppose|supposing|imagine|hypothetically"
                r"|in\s+case|when|whenever|maybe|perhaps|once"
            ),
            r"なら|たら|だら|れば|えば|ければ|もし|場合|仮に|としたら|とすれば",
            r"如果|假如|假设|要是|若|万一|的话|比如|假使|倘若",
        )
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mood:
    """The words that make a sentence something other than an instruction (None: it is one)."""

    negated: str | None = None
    question: str | None = None
    hypothetical: str | None = None

    @property
    def instruction(self) -> bool:
        return self.negated is None and self.question is None and self.hypothetical is None

    def combined(self, other: Mood) -> Mood:
        """This mood, with ``other``'s markers filling in the ones this one lacks."""
        return Mood(
            self.negated or other.negated,
            self.question or other.question,
            self.hypothetical or other.hypothetical,
        )

    def why_not_an_instruction(self) -> str:
        """What the sentence does instead of instructing, quoting the words that show it."""
        if self.negated is not None:
            return f'your words say not to ("{self.negated}")'
        if self.question is not None:
            return f'your words ask a question ("{self.question}") rather than give an instruction'
        if self.hypothetical is not None:
            return f'your words describe a hypothetical or a condition ("{self.hypothetical}")'
        return "it is an instruction"


def mood_of(sentence: str) -> Mood:
    """The mood of one sentence, as normalised text (quotes already replaced by placeholders)."""
    text = sentence.strip()
    polite = _POLITE.match(text)
    if polite is not None:
        text = text[polite.end() :]
        if text.endswith("?"):  # "could you send 1 NEAR to bob?" is a request
            text = text.rstrip("? ")
    negated = _NEGATION.search(text)
    question = _QUESTION.search(text) or _QUESTION_OPENING.match(text)
    hypothetical = _HYPOTHETICAL.search(text)
    return Mood(
        negated.group(0) if negated else None,
        question.group(0) if question else None,
        hypothetical.group(0) if hypothetical else None,
    )
