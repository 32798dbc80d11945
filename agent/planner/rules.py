"""The clause grammar: one regex per way of saying each tool call, in three languages.

A rule must match a whole clause (fullmatch), so extra words anywhere make the clause
not understood rather than silently dropped. Rules only capture raw slots; turning them into
arguments (amounts, tokens, recipients) is the planner's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.planner.lexicon import (
    EN_CLOSED,
    EN_OPEN,
    EN_SEND,
    EN_SWAP,
    IDS,
    ITEM,
    JA_CLOSED,
    JA_OPEN,
    JA_SEND,
    JA_SWAP,
    JA_TAIL,
    LABEL,
    LABEL_LAZY,
    PCT,
    RECIPIENT,
    SLIPPAGE_WORD,
    TASK,
    ZH_CLOSED,
    ZH_MEASURE,
    ZH_OPEN,
    ZH_SEND,
    ZH_SWAP_INTO,
    ZH_TAIL,
    amount,
    token,
)

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Rule:
    """A tool and one whole-clause pattern whose named groups are its raw slots."""

    tool: str
    pattern: re.Pattern[str]


def _rule(tool: str, pattern: str) -> Rule:
    return Rule(tool, re.compile(pattern, _FLAGS))


_AMT = amount()
_TOK = token()
_TOK_IN = token("token_in")
_TOK_OUT = token("token_out")
_AMT_IN = amount("amount_in")

_EN_TRANSFER = (
    rf"{EN_SEND}\s+{_AMT}\s*(?:{_TOK}\s+)?to\s+{RECIPIENT}",
    rf"{EN_SEND}\s+(?:to\s+)?{RECIPIENT}\s+{_AMT}(?:\s*{_TOK})?",
)
_JA_TRANSFER = (
    rf"{_AMT}\s*(?:{_TOK})?\s*を\s*{RECIPIENT}\s*(?:さん)?\s*(?:に|へ|宛てに|あてに)\s*{JA_SEND}{JA_TAIL}",
    rf"{RECIPIENT}\s*(?:さん)?\s*(?:に|へ)\s*{_AMT}\s*(?:{_TOK})?\s*(?:を)?\s*{JA_SEND}{JA_TAIL}",
)
_ZH_TRANSFER = (
    rf"(?:给|向|对)\s*{RECIPIENT}\s*{ZH_SEND}\s*{_AMT}{ZH_MEASURE}\s*(?:{_TOK})?{ZH_TAIL}",
    rf"{ZH_SEND}\s*{_AMT}{ZH_MEASURE}\s*(?:{_TOK})?\s*(?:给|到)\s*{RECIPIENT}{ZH_TAIL}",
    rf"(?:把|将)\s*{_AMT}{ZH_MEASURE}\s*(?:{_TOK})?\s*{ZH_SEND}\s*(?:给|到)\s*{RECIPIENT}{ZH_TAIL}",
)

_EN_SWAP = (
    rf"{EN_SWAP}\s+{_AMT_IN}\s*{_TOK_IN}\s+(?:to|for|into|->|→)\s+{_TOK_OUT}",
    rf"(?:buy|get)\s+{_AMT_IN}\s*{_TOK_IN}\s+worth\s+of\s+{_TOK_OUT}",
    rf"buy\s+{_TOK_OUT}\s+(?:with|using|for)\s+{_AMT_IN}\s*{_TOK_IN}",
)
_JA_SWAP = (
    rf"{_AMT_IN}\s*{_TOK_IN}\s*を\s*{_TOK_OUT}\s*(?:に|へ)\s*{JA_SWAP}{JA_TAIL}",
    rf"{_AMT_IN}\s*{_TOK_IN}\s*で\s*{_TOK_OUT}\s*を\s*(?:買|購入){JA_TAIL}",
)
# "buy 1 NEAR with USDC": the amount is what to receive, which no swap here can do exactly; a
# rule of its own so the clause is refused with a reason instead of read as selling 1 NEAR.
_AMT_OUT = amount("amount_out")
_EXACT_OUT = (
    rf"buy\s+{_AMT_OUT}\s*{_TOK_OUT}\s+(?:with|using|for)\s+{_TOK_IN}",
    rf"{_AMT_OUT}\s*{_TOK_OUT}\s*を\s*{_TOK_IN}\s*で\s*(?:買|購入){JA_TAIL}",
    rf"用\s*{_TOK_IN}\s*(?:兑换|换|买|购买)\s*{_AMT_OUT}{ZH_MEASURE}\s*{_TOK_OUT}{ZH_TAIL}",
)
_ZH_SWAP = (
    rf"(?:把|将)\s*{_AMT_IN}{ZH_MEASURE}\s*{_TOK_IN}\s*{ZH_SWAP_INTO}\s*{_TOK_OUT}{ZH_TAIL}",
    rf"用\s*{_AMT_IN}{ZH_MEASURE}\s*{_TOK_IN}\s*(?:兑换|换|买|购买)\s*{_TOK_OUT}{ZH_TAIL}",
    rf"(?:兑换|换|交换)\s*{_AMT_IN}{ZH_MEASURE}\s*{_TOK_IN}\s*(?:为|成|到|换成)\s*{_TOK_OUT}{ZH_TAIL}",
)

_EN_ASK = r"(?:what(?:'s|s|\s+is|\s+are)|show(?:\s+me)?|check|get|tell\s+me|display|see|view)"
_EN_BALANCE = (
    rf"(?:{_EN_ASK}\s+)?(?:my\s+|the\s+)?(?:{_TOK}\s+)?(?:wallet\s+|account\s+)?balances?",
    rf"(?:{_EN_ASK}\s+)?(?:my\s+|the\s+)?balances?\s+(?:of|in|for)\s+{_TOK}",
    rf"how\s+much\s+(?:{_TOK}\s+)?(?:do\s+i\s+have|have\s+i\s+got|do\s+i\s+own"
    r"|is\s+(?:in\s+)?my\s+(?:wallet|account))",
)
_JA_BALANCE = (
    rf"(?:(?:私|わたし|僕|ぼく|俺)の\s*)?(?:{_TOK}\s*の\s*)?(?:残高|残金)\s*(?:を|は|が)?\s*"
    rf"(?:教えて|確認|見せて|表示|チェック|いくら|知りたい|どのくらい|どれくらい)?{JA_TAIL}",
    rf"{_TOK}\s*(?:は|が)\s*(?:いくら|どのくらい|どれくらい)\s*(?:持って)?{JA_TAIL}",
)
_ZH_BALANCE = (
    rf"(?:查询|查看|查|看看?|显示|告诉我)?\s*(?:一下)?\s*(?:我的)?\s*(?:{_TOK}\s*的?)?\s*"
    rf"(?:余额|结余)\s*(?:是)?\s*(?:多少|有多少)?{ZH_TAIL}",
    rf"我\s*(?:还)?\s*有\s*多少\s*(?:个)?\s*(?:{_TOK}|钱)?{ZH_TAIL}",
)

_EN_LIST = (
    rf"(?:(?:list|show|get|see|view|display|find|what\s+are)\s+(?:me\s+)?)?(?:all\s+|the\s+|my\s+)?"
    rf"(?:(?P<status>{EN_OPEN}|{EN_CLOSED})\s+)?(?:labell?ing\s+)?tasks?(?:\s+list)?",
    rf"(?:which|what)\s+tasks\s+are\s+(?P<status>{EN_OPEN}|{EN_CLOSED})",
    rf"(?:list|show)\s+(?:me\s+)?(?:the\s+)?tasks\s+(?:that\s+are\s+)?(?P<status>{EN_OPEN}|{EN_CLOSED})",
)
_JA_STATUS = rf"(?:(?P<status>{JA_OPEN}|{JA_CLOSED})\s*(?:の|な)?\s*)?"
_JA_TASKS = r"(?:ラベリング|ラベル付け|アノテーション)?\s*タスク"
_JA_LIST = (
    # タスク一覧, すべてのタスクを表示, 募集中のタスク一覧を見せて, タスクを一覧にして
    rf"(?:(?:すべて|全て|全部)の\s*|全\s*|今ある\s*)?{_JA_STATUS}{_JA_TASKS}\s*(?:の|を|は)?\s*"
    r"(?:一覧|リスト)?\s*(?:を|で|に)?\s*"
    rf"(?:一覧表示|表示|見せ|教え|確認|見|出し)?{JA_TAIL}",
    # どんなタスクがある, タスクは何がありますか
    rf"(?:どんな|どの|何の|なんの)\s*{_JA_STATUS}{_JA_TASKS}\s*が\s*(?:ある|あります){JA_TAIL}",
    rf"{_JA_STATUS}{_JA_TASKS}\s*(?:は|って)\s*(?:何|なに)\s*が\s*(?:ある|あります){JA_TAIL}",
)
_ZH_LOOK = r"(?:查看|查询|列出|显示|看看|给我看|列|查|看)(?:\s*一下)?"
_ZH_STATUS = rf"(?:(?P<status>{ZH_OPEN}|{ZH_CLOSED})\s*(?:的)?\s*)?"
_ZH_LIST = (
    rf"(?:{_ZH_LOOK})?\s*(?:所有|全部)?\s*(?:的)?\s*{_ZH_STATUS}(?:标注)?任务\s*(?:列表|清单)?{ZH_TAIL}",
    # 有哪些任务, 现在有什么开放的任务, 看看有哪些任务
    rf"(?:{_ZH_LOOK})?\s*(?:现在|目前)?\s*(?:还)?\s*有\s*(?:哪些|什么|啥)\s*{_ZH_STATUS}"
    rf"(?:标注)?任务(?:\s*(?:可做|可以做))?{ZH_TAIL}",
)

_EN_LABEL_VERB = r"(?:label|tag|annotate|mark)"
_EN_LABEL = (
    rf"{_EN_LABEL_VERB}\s+task\s*{TASK}(?:\s*,?\s*(?:item|#)\s*{ITEM})?\s+(?:as|with)\s+{LABEL}",
    rf"{_EN_LABEL_VERB}\s+item\s*{ITEM}\s+(?:of|in|on)\s+task\s*{TASK}\s+(?:as|with)\s+{LABEL}",
    rf"submit\s+(?:the\s+|a\s+)?label\s+{LABEL_LAZY}\s+(?:for|to|on)\s+task\s*{TASK}"
    rf"(?:\s*,?\s*item\s*{ITEM})?",
)
_JA_LABEL = (
    rf"タスク\s*{TASK}\s*(?:の\s*(?:アイテム|項目|データ)\s*{ITEM})?\s*(?:に|へ)\s*{LABEL_LAZY}\s*"
    rf"(?:と|で|という)\s*(?:ラベリング|ラベル|タグ|アノテーション)\s*(?:を)?\s*"
    rf"(?:付け|つけ|付与|登録)?{JA_TAIL}",
)
_ZH_ITEM = rf"(?:(?:第|项目|条目|数据|样本)\s*{ITEM}\s*(?:项|条|个|号)?(?:数据|条目|样本)?)"
_ZH_LABEL = (
    rf"(?:给|为|把|将)?\s*任务\s*{TASK}\s*(?:的)?\s*(?:{_ZH_ITEM})?\s*"
    rf"(?:标注|标记|打标签|贴标签)\s*(?:为|成|是|:)?\s*{LABEL}",
    rf"(?:标注|标记)\s*任务\s*{TASK}\s*(?:的)?\s*(?:{_ZH_ITEM})?\s*(?:为|成)\s*{LABEL}",
)

_EN_CLAIM = (
    r"(?:claim|collect|withdraw|redeem|get)\s+(?:all\s+)?(?:of\s+)?(?:my\s+|the\s+)?(?:task\s+)?"
    rf"(?:rewards?|earnings|payouts?)(?:\s+(?:for|from|on|of)\s+(?:the\s+)?(?:tasks?\s*)?{IDS})?",
)
_JA_REWARDS = (
    r"(?:(?:私|わたし|僕|ぼく|俺)の\s*)?(?:(?:すべて|全て|全部)の\s*)?"
    rf"(?:タスク\s*{IDS}\s*の\s*|タスクの\s*)?"
    r"(?:(?:稼いだ|獲得した|貯まった|たまった|未受取の|未受け取りの)\s*)?(?:報酬|リワード|賞金)"
)
# Only what asks or wants (受け取って, 受け取りたい, 請求する), never a past or a potential form:
# "報酬を受け取った" says it happened, "報酬を受け取れる" asks whether it can.
_JA_CLAIM_TAIL = (
    r"(?:って(?:ください|下さい|ほしい|くれ|ちょうだい)?|る|ります|りたい(?:です)?|ろう|う|います"
    r"|いたい(?:です)?|して(?:ください|下さい|ほしい|くれ)?|する|します|したい(?:です)?|しよう|す)?"
)
_JA_CLAIM = (
    # 報酬を受け取って, タスク3の報酬を全部受け取って, 報酬をもらいたい
    rf"{_JA_REWARDS}\s*(?:を)?\s*(?:(?:すべて|全て|全部)\s*)?"
    rf"(?:受け取|受取|請求|受領|回収|もら|引き出|取得|クレーム|ゲット){_JA_CLAIM_TAIL}",
    # 報酬をください
    rf"{_JA_REWARDS}\s*を\s*ください",
    # 報酬の受け取り, 報酬の受け取りをお願いします
    rf"{_JA_REWARDS}\s*(?:の|を)?\s*(?:受け取り|受取り?|請求|回収)\s*(?:を)?\s*"
    r"(?:お願い(?:します|いたします)?|して(?:ください)?|したい(?:です)?)?",
)
_ZH_REWARDS = (
    r"(?:所有|全部)?\s*(?:的)?\s*(?:我的)?\s*"
    rf"(?:任务\s*{IDS}\s*的\s*|任务\s*的?\s*)?(?:(?:赚到|获得|得到|累计)的\s*)?"
    r"(?:奖励|报酬|收益|奖金|赏金)"
)
_ZH_CLAIM = (
    # 领取奖励, 领取一下我的奖励, 提现奖励
    rf"(?:领取|提取|认领|申领|收取|领回|提现|领)(?:\s*一下)?\s*{_ZH_REWARDS}{ZH_TAIL}",
    # 把奖励领了, 把我的报酬领出来
    rf"(?:把|将)\s*{_ZH_REWARDS}\s*(?:都|全部)?\s*(?:领取|提取|领|提|取|收)(?:出来|回来|下)?"
    rf"{ZH_TAIL}",
)

# "recover my tokens from the exchange", "claim my REF from the lost-and-found"
_EN_LOSTFOUND = (
    r"(?:recover|claim|reclaim|retrieve|get\s+back)\s+(?:all\s+)?(?:of\s+)?(?:my\s+|the\s+)?"
    rf"(?:(?:lost|parked|stuck)\s+)?(?:tokens|token|funds|{_TOK})(?:\s+back)?\s+"
    r"(?:from|on|in)\s+(?:the\s+|my\s+)?"
    r"(?:exchange|lost[\s-]*(?:and|&)[\s-]*found|lostfound)(?:\s+account)?",
)

RULES: tuple[Rule, ...] = tuple(
    _rule(tool, pattern)
    for tool, patterns in (
        ("submit_label", _EN_LABEL + _JA_LABEL + _ZH_LABEL),
        ("transfer", _EN_TRANSFER + _JA_TRANSFER + _ZH_TRANSFER),
        ("swap", _EN_SWAP + _JA_SWAP + _ZH_SWAP),
        ("balance", _EN_BALANCE + _JA_BALANCE + _ZH_BALANCE),
        ("list_tasks", _EN_LIST + _JA_LIST + _ZH_LIST),
        ("claim_rewards", _EN_CLAIM + _JA_CLAIM + _ZH_CLAIM),
        ("claim_lostfound", _EN_LOSTFOUND),
        ("exact_out", _EXACT_OUT),
    )
    for pattern in patterns
)

_EN_SLIP_LEAD = r"(?:\s*,)?\s*(?:\b(?:with|at)\s+)?(?:\b(?:a|an)\s+)?(?:\bmax(?:imum)?\s+)?"
_SLIPPAGE_PHRASES = (
    rf"{_EN_SLIP_LEAD}(?:slippage|slip)\s+(?:of\s+|at\s+|to\s+|up\s+to\s+|=\s*|:\s*)?"
    rf"(?:max(?:imum)?\s+)?{PCT}",
    rf"{_EN_SLIP_LEAD}{PCT}\s+(?:max(?:imum)?\s+)?(?:slippage|slip)(?:\s+max(?:imum)?)?",
    rf"\s*[、,]?\s*(?:許容)?スリッページ\s*(?:は|を|:)?\s*{PCT}\s*(?:以内|まで)?\s*(?:で|に)?\s*[、,]?\s*",
    rf"\s*[、,]?\s*{PCT}\s*(?:の)?\s*(?:許容)?スリッページ\s*(?:で)?\s*[、,]?\s*",
    rf"\s*,?\s*(?:以|按)?\s*(?:最大)?\s*滑点\s*(?:为|是|设为|设置为|:)?\s*{PCT}\s*(?:以内)?\s*,?\s*",
    rf"\s*,?\s*(?:以|按)?\s*{PCT}\s*(?:的)?\s*滑点\s*,?\s*",
)
SLIPPAGE: tuple[re.Pattern[str], ...] = tuple(re.compile(p, _FLAGS) for p in _SLIPPAGE_PHRASES)
SLIPPAGE_MENTION = re.compile(SLIPPAGE_WORD, _FLAGS)


def match_clause(clause: str) -> tuple[str, dict[str, str]] | None:
    """The first rule matching the whole clause: its tool and the slots it filled."""
    for rule in RULES:
        found = rule.pattern.fullmatch(clause)
        if found is not None:
            slots = {k: v for k, v in found.groupdict().items() if v is not None}
            return rule.tool, slots
    return None
