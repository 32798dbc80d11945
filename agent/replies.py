"""What the user is told after an intent, in the user's language.

Every sentence a reply can hold is declared once, in ``MESSAGES`` (English, Japanese, Chinese).
The language is the ``language`` preference, or with ``auto`` the language the intent is written
in. Amounts are integers in base units until shown here with ``tools.amounts.display_amount``;
what a step did comes from its structured result (hashes, explorer links, fee, balances, tasks),
not from re-reading an English summary. Text from the chain (a task's title) is data: shown
quoted, hidden characters escaped, never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent.planner.messages import language_of
from policies.explain import deciding_words
from tools.amounts import display_amount
from tools.text_screen import escaped

if TYPE_CHECKING:
    from agent.executor import RunReport, StepReport

NEAR_DECIMALS = 24
LANGUAGES = ("en", "ja", "zh")
TITLE_CHARS = 80  # a task title longer than this is cut (the whole title is in --json/audit)

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "done": {
        "en": "{tool}: done: {what}",
        "ja": "{tool}: 完了: {what}",
        "zh": "{tool}: 完成: {what}",
    },
    "tx": {"en": "  tx {tx}", "ja": "  トランザクション {tx}", "zh": "  交易 {tx}"},
    "fee": {"en": "  fee {fee} NEAR", "ja": "  手数料 {fee} NEAR", "zh": "  手续费 {fee} NEAR"},
    "sent": {
        "en": "sent {amount} {token} to {to}",
        "ja": "{to} に {amount} {token} を送りました",
        "zh": "已向 {to} 转账 {amount} {token}",
    },
    "swapped": {
        "en": "swapped {amount} {token_in} to {token_out}",
        "ja": "{amount} {token_in} を {token_out} に交換しました",
        "zh": "已把 {amount} {token_in} 兑换成 {token_out}",
    },
    "claimed": {
        "en": "claimed {amount} NEAR of rewards",
        "ja": "報酬 {amount} NEAR を受け取りました",
        "zh": "已领取奖励 {amount} NEAR",
    },
    "balances": {"en": "{rows}", "ja": "残高 {rows}", "zh": "余额 {rows}"},
    "tasks": {
        "en": "{count} {status}task(s)",
        "ja": "{status}タスク {count} 件",
        "zh": "{count} 个{status}任务",
    },
    "task_row": {
        "en": "  #{id}  {reward} NEAR per label  {title}",
        "ja": "  #{id}  1ラベル {reward} NEAR  {title}",
        "zh": "  #{id}  每个标注 {reward} NEAR  {title}",
    },
    "status_open": {"en": "open ", "ja": "公開中の", "zh": "开放"},
    "status_closed": {"en": "closed ", "ja": "終了した", "zh": "已关闭"},
    "denied": {
        "en": "{tool}: denied by your grants: {why}. Nothing was sent.",
        "ja": "{tool}: 許可(grant)の範囲外のため拒否しました: {why}。何も送信していません。",
        "zh": "{tool}: 超出授权(grant)范围，已拒绝：{why}。未发送任何交易。",
    },
    "declined": {
        "en": "{tool}: not sent: you declined.",
        "ja": "{tool}: 送信していません: 実行しないことを選びました。",
        "zh": "{tool}: 未发送：您选择了不执行。",
    },
    "no_terminal": {
        "en": "{tool}: not sent: it needs your confirmation and there is no terminal to ask on, "
        "so it was declined without asking. Run it in a terminal (`near-agent do` or "
        "`near-agent chat`) to answer, or change the grant so it does not ask "
        "(`near-agent grants check` shows which rule asks).",
        "ja": "{tool}: 送信していません: 確認が必要ですが、確認できる端末がないため、"
        "尋ねずに見送りました。端末で `near-agent do` か `near-agent chat` を実行して答えるか、"
        "確認を求めない許可(grant)に変更してください"
        "(`near-agent grants check` で理由を確認できます)。",
        "zh": "{tool}: 未发送：需要您确认，但没有可询问的终端，因此未经询问即放弃。"
        "请在终端中运行 `near-agent do` 或 `near-agent chat` 来回答，或修改授权(grant)使其无需确认"
        "(`near-agent grants check` 会显示是哪条规则要求确认)。",
    },
    "refused": {
        "en": "{tool}: cannot be done: {why}",
        "ja": "{tool}: 実行できません: {why}",
        "zh": "{tool}: 无法执行：{why}",
    },
    "failed": {
        "en": "{tool}: failed: {why}",
        "ja": "{tool}: 失敗: {why}",
        "zh": "{tool}: 失败：{why}",
    },
    "unknown": {
        "en": "{tool}: outcome unknown: {why}",
        "ja": "{tool}: 結果不明: {why}",
        "zh": "{tool}: 结果未知：{why}",
    },
    "not_run": {
        "en": "{tool}: not run: an earlier step did not complete",
        "ja": "{tool}: 未実行: 前の手順が完了しませんでした",
        "zh": "{tool}: 未执行：前一步没有完成",
    },
    "confirm": {"en": "Go ahead?", "ja": "実行しますか?", "zh": "确定执行吗?"},
    "why_asked": {"en": "asked because", "ja": "確認の理由", "zh": "需要确认的原因"},
    "audit": {
        "en": "(audit: near-agent audit show {cid})",
        "ja": "(監査ログ: near-agent audit show {cid})",
        "zh": "(审计日志: near-agent audit show {cid})",
    },
}


def reply_language(preference: str, intent: str) -> str:
    """The ``language`` preference, or with ``auto`` (or anything unknown) the intent's."""
    return preference if preference in LANGUAGES else language_of(intent)


def say(key: str, language: str, **slots: Any) -> str:
    """One declared sentence in ``language`` (English when the table lacks it)."""
    table = MESSAGES[key]
    return table.get(language, table["en"]).format(**slots)


def render(report: RunReport, language: str, *, unasked: bool = False) -> list[str]:
    """The lines that tell the user what happened, step by step, ending with the audit id.

    ``unasked``: a confirmation was declined because no one could be asked (no terminal).
    """
    if not report.plan.ok:
        lines = [report.plan.error or ""]  # the planner's words, in the user's language
    else:
        lines = []
        for index, step in enumerate(report.steps):
            args = report.plan.steps[index].args if index < len(report.plan.steps) else {}
            lines.extend(_step_lines(step, dict(args), language, unasked))
    lines.append(say("audit", language, cid=report.correlation_id))
    return lines


def quoted(text: Any, limit: int = TITLE_CHARS) -> str:
    """Text from outside shown as data: in quotes, JSON-escaped, hidden characters written out."""
    body = str(text)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    return escaped(json.dumps(body, ensure_ascii=False))


def _step_lines(step: StepReport, args: dict[str, Any], language: str, unasked: bool) -> list[str]:
    tool = step.tool
    if step.status == "done":
        return _done_lines(step, args, language)
    if step.status == "denied":
        why = "; ".join(deciding_words(step.decision or {})) or step.message
        return [say("denied", language, tool=tool, why=why)]
    if step.status == "declined":
        return [say("no_terminal" if unasked else "declined", language, tool=tool)]
    if step.status in ("refused", "failed", "unknown"):
        lines = [say(step.status, language, tool=tool, why=step.message)]
        if step.result is not None:  # what a failed step did send is shown all the same
            lines += _chain_lines(step.result.transactions, step.result.tx_hashes, language)
        return lines
    return [say("not_run", language, tool=tool)]


def _done_lines(step: StepReport, args: dict[str, Any], language: str) -> list[str]:
    result = step.result
    data = result.data if result is not None else {}
    extra: list[str] = []
    if step.tool == "transfer":
        what = say(
            "sent",
            language,
            amount=args.get("amount"),
            token=args.get("token"),
            to=args.get("receiver_id"),
        )
    elif step.tool == "swap" and language != "en":
        what = say(
            "swapped",
            language,
            amount=args.get("amount_in"),
            token_in=args.get("token_in"),
            token_out=args.get("token_out"),
        )
    elif step.tool == "claim_rewards" and "claimed" in data:
        what = say("claimed", language, amount=display_amount(int(data["claimed"]), NEAR_DECIMALS))
    elif step.tool == "balance" and isinstance(data.get("balances"), list):
        rows = ", ".join(
            f"{display_amount(int(r['balance']), int(r['decimals']))} {r['symbol']}"
            for r in data["balances"]
        )
        what = say("balances", language, rows=rows)
    elif step.tool == "list_tasks" and isinstance(data.get("tasks"), list):
        status = data.get("status")
        word = say(f"status_{status}", language) if status in ("open", "closed") else ""
        what = say("tasks", language, count=len(data["tasks"]), status=word)
        extra = [_task_row(task, language) for task in data["tasks"]]
    else:
        what = step.message
    if result is not None and what != step.message and step.message.startswith(result.summary):
        what += step.message[len(result.summary) :]  # what the executor added (a note)
    lines = [say("done", language, tool=step.tool, what=what), *extra]
    if result is not None:
        lines.extend(_chain_lines(result.transactions, result.tx_hashes, language))
    return lines


def _task_row(task: Any, language: str) -> str:
    if not isinstance(task, Mapping):
        return f"  {quoted(task)}"
    try:
        reward = display_amount(int(task.get("reward_per_label", 0)), NEAR_DECIMALS)
    except (TypeError, ValueError):
        reward = quoted(task.get("reward_per_label"))
    return say(
        "task_row",
        language,
        id=task_id if isinstance(task_id := task.get("task_id"), int) else quoted(task_id, 24),
        reward=reward,
        title=quoted(task.get("title", "")),
    )


def _chain_lines(transactions: list[dict[str, Any]], hashes: list[str], language: str) -> list[str]:
    """One line per transaction (hash, and the explorer link where the network has one), then
    the fee all of them burnt."""
    lines = []
    described = {t.get("tx_hash"): t for t in transactions}
    fee = 0
    for tx_hash in hashes:
        tx = described.get(tx_hash, {})
        link = tx.get("explorer")
        lines.append(say("tx", language, tx=f"{tx_hash}  {link}" if link else tx_hash))
        fee += int(tx.get("fee") or 0)
    if hashes:
        lines.append(say("fee", language, fee=display_amount(fee, NEAR_DECIMALS)))
    return lines
