"""Words and regex fragments the offline rules are built from, in English, Japanese and Chinese.

Slots are deliberately narrow (an amount is digits and separators, a recipient is account-id
characters), so a clause either matches a rule completely or is refused; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def amount(name: str = "amount") -> str:
    """Anything that looks like a number, signs and exponents included, so they can be refused."""
    return rf"(?P<{name}>[-+]?(?:\d[\d,._]{{0,100}}|\.\d[\d,._]{{0,100}})(?:[eE][-+]?\d{{1,9}})?)"


# Words that are never a token symbol, so an optional token slot does not swallow them.
_NOT_TOKEN = (
    r"(?!(?:my|the|wallet|account|total|to|for|into|with|using|and|of|in|on|me|do|i|is|are"
    r"|have|from|as|send|transfer|pay|give|swap|exchange|convert|trade|sell|buy|claim|label)\b)"
)


def token(name: str = "token") -> str:
    """A symbol ("NEAR", "usdc") or a contract id ("usdc.fakes.testnet", 64-hex implicit)."""
    return (
        rf"(?P<{name}>[0-9a-f]{{64}}(?![\w.])"
        rf"|{_NOT_TOKEN}[A-Za-z][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)"
    )


RECIPIENT = r"(?P<recipient>[A-Za-z0-9_\-]+(?:\.+[A-Za-z0-9_\-]+)*)"
TASK = r"#?(?P<task>\d{1,20})"
ITEM = r"#?(?P<item>\d{1,20})"
LABEL = r"(?P<label>\S.*)"
LABEL_LAZY = r"(?P<label>\S.*?)"
_ID_SEP = r"(?:\s*(?:,|、|&|\+|and|と|和|与|及|以及)\s*|\s+)"
IDS = rf"(?P<ids>#?\d{{1,20}}(?:{_ID_SEP}#?\d{{1,20}})*)"

# Verbs, longest alternatives first so a regex does not stop at a prefix.
EN_SEND_WORDS = r"send|transfer|pay|give|tip|wire"
EN_SWAP_WORDS = r"swap|exchange|convert|trade|sell"
EN_SEND = rf"(?:{EN_SEND_WORDS})"
EN_SWAP = rf"(?:{EN_SWAP_WORDS})"
JA_SEND = r"(?:送金|送信|送|振り?込|支払|払|転送)"
JA_SWAP = r"(?:交換|両替|スワップ|換え|替え|変換|換)"
ZH_SEND = r"(?:转账|转|汇款|汇|打款|发送|发|支付|付款|付|打)"
ZH_SWAP_INTO = r"(?:兑换成|兑换为|换成|换为|转换成|转换为|兑成|兑为|兑换|换)"

# Japanese verb endings are hiragana (て, して, ってください); nothing else may trail a verb.
JA_TAIL = r"[\u3040-\u309f\u30fc]*"
ZH_TAIL = r"(?:\s*(?:吧|一下|谢谢|了|吗|呢|啊|嗎))*"
ZH_MEASURE = r"(?:\s*(?:个|枚))?"

EN_OPEN = r"open|available|active|ongoing|current"
EN_CLOSED = r"closed|finished|completed|done|ended"
JA_OPEN = r"オープン|募集中|公開中|進行中|未完了|受付中|開いている|利用可能|参加可能|open"
JA_CLOSED = (
    r"クローズ済み|クローズ|終了済み|終了した|終了|締め切り済み|締切済み|完了した|完了|closed"
)
ZH_OPEN = r"开放中|开放|进行中|未完成|可用|可接|可以做|可做|开启|open"
ZH_CLOSED = r"已关闭|关闭|已结束|结束|已完成|完成|closed"

STATUS_WORDS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(EN_OPEN.split("|"), "open"),
        **dict.fromkeys(EN_CLOSED.split("|"), "closed"),
        **dict.fromkeys(JA_OPEN.split("|"), "open"),
        **dict.fromkeys(JA_CLOSED.split("|"), "closed"),
        **dict.fromkeys(ZH_OPEN.split("|"), "open"),
        **dict.fromkeys(ZH_CLOSED.split("|"), "closed"),
    }
)

# Words for "all of it", "half", ... in a payment: refused with their own message.
VAGUE_AMOUNT = (
    r"\b(?:all|everything|max|maximum|half|entire|whole|rest|remaining)\b"
    r"|全部|全額|すべて|全て|半分|ありったけ|残り|所有|全额|一半|剩下|剩余"
)
MONEY_VERB = rf"\b(?:{EN_SEND_WORDS}|{EN_SWAP_WORDS}|buy)\b|{JA_SEND}|{JA_SWAP}|{ZH_SEND}|换|兑"

PCT = (
    r"(?<![\d.,])(?P<pct>\d{1,6}(?:\.\d{1,8})?)\s*"
    r"(?P<unit>%|percent|pct|bps|basis\s+points?|ベーシスポイント|bp|个基点|基点)"
)
SLIPPAGE_WORD = r"slippage|slip|スリッページ|滑点"

TOKEN_WORDS_NOT_SYMBOLS = frozenset({"token", "tokens", "coin", "coins", "crypto", "money"})
