"""What a refusal says: the reason, then examples in the language the user wrote in.

A refusal is the planner's only answer when it is unsure, so it has to teach the phrasing that
works rather than just say no.
"""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")

EXAMPLES: dict[str, tuple[str, ...]] = {
    "en": (
        "send 2.5 NEAR to bob.near",
        "swap 5 NEAR to USDC with 0.5% slippage",
        "what's my balance",
        "list open tasks",
        "label task 3 item 2 as cat",
        "claim my rewards",
    ),
    "ja": (
        "1 NEARをbob.nearに送って",
        "5 NEARをUSDCに交換して",
        "残高を教えて",
        "タスク一覧",
        "タスク3のアイテム2に cat とラベル付け",
        "報酬を受け取って",
    ),
    "zh": (
        "给 bob.near 转 2 NEAR",
        "把 10 USDC 换成 NEAR",
        "我的余额",
        "任务列表",
        "给任务3的第2项标注 cat",
        "领取奖励",
    ),
}


NOT_UNDERSTOOD = {
    "en": 'I did not understand "{clause}", so nothing will run.',
    "ja": "「{clause}」を理解できなかったため、何も実行しません。",
    "zh": "没有理解“{clause}”，因此不会执行任何操作。",
}
TRY_FOR_EXAMPLE = {
    "en": "Try for example: ",
    "ja": "例えば次のように言えます (Try for example): ",
    "zh": "例如可以说 (Try for example): ",
}


def chosen_language(text: str, preference: str | None = None) -> str:
    """The preferred reply language when one is set ("en", "ja", "zh"), else the text's."""
    return preference if preference in EXAMPLES else language_of(text)


def language_of(text: str) -> str:
    """ "ja" if the text has kana, "zh" if it has Han characters only, else "en"."""
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    return "en"


def examples_for(text: str, preference: str | None = None) -> str:
    """A line of examples in the user's language (English ones too when that is not English)."""
    language = chosen_language(text, preference)
    shown = list(EXAMPLES[language])
    if language != "en":
        shown += list(EXAMPLES["en"][:2])
    return TRY_FOR_EXAMPLE[language] + "; ".join(f'"{e}"' for e in shown) + "."


def not_understood(clause: str, preference: str | None = None) -> str:
    """The clause that matched no rule; nothing will run (in the user's language)."""
    return NOT_UNDERSTOOD[chosen_language(clause, preference)].format(clause=clause)


def unknown_contact(name: str) -> str:
    """An unknown recipient name, and how to add it as a contact."""
    return (
        f'"{name}" is not a known contact or a full account id, so nothing will run. Use the '
        f"account id (like {name.lower()}.near) or add the contact first: "
        f"near-agent contacts add {name.lower()} {name.lower()}.near"
    )


def too_long(limit: int) -> str:
    """Text over the length limit is refused rather than partly read."""
    return f"That request is longer than {limit} characters; say one thing at a time."
