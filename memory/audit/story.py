"""Each audit entry as a sentence, and one intent's story as steps: for ``audit show``, the
per-entry view, the web console and "why did you do that?".

Amounts are in whole tokens (``TokenUnits``), a policy check says its deciding rule in the
rule's own words (as the policy engine recorded them in the decision's trace, the same words
``grants check`` prints), and every piece of data is passed through :func:`shown`.
"""

from __future__ import annotations

from typing import Any

from memory.audit.intents import as_dict, deciding_rules, rule_words
from memory.audit.log import AuditEntry, AuditKind
from memory.audit.rows import RuleVerdict, StoryStage, StoryStep, TokenUnits
from memory.audit.text import shown

_STAGES: dict[AuditKind, StoryStage] = {
    AuditKind.USER_MESSAGE: "message",
    AuditKind.PLAN: "plan",
    AuditKind.ACTION_PREPARED: "prepared",
    AuditKind.POLICY_DECISION: "check",
    AuditKind.APPROVAL_REQUESTED: "approval",
    AuditKind.APPROVAL_GRANTED: "approval",
    AuditKind.APPROVAL_DENIED: "approval",
    AuditKind.APPROVAL_EXPIRED: "approval",
    AuditKind.TX_SUBMITTED: "transaction",
    AuditKind.TX_OUTCOME: "outcome",
    AuditKind.ERROR: "error",
    AuditKind.SCHEDULE_FIRED: "schedule",
    AuditKind.LABEL_SUBMITTED: "outcome",
}


def _text(value: Any) -> str:
    return shown(value if value is not None else "")


def _quoted(value: Any) -> str:
    return f'"{_text(value)}"'


def _units(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _amount(units: TokenUnits, token: Any, value: Any, *, signed: bool = False) -> str:
    amount = _units(value)
    if not isinstance(token, str) or amount is None:
        return f"{_text(value)} of {_text(token)}"
    return units.show(token, amount, signed=signed)


def _budget(units: TokenUnits, line: dict[str, Any]) -> str:
    measure = str(line.get("measure", ""))

    def show(value: Any) -> str:
        amount = _units(value)
        if measure == "usd" and amount is not None:
            return units.show_usd(amount)
        return _amount(units, measure, value)

    scope = "all grants" if line.get("scope") == "global" else f"grant {_text(line.get('scope'))}"
    window = _window(line.get("period_s"))
    return f"{show(line.get('left'))} of {show(line.get('cap'))} left{window} ({scope})"


def _window(period: Any) -> str:
    seconds = _units(period)
    if not seconds:
        return ""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f" in the {seconds // size}{unit} window"
    return f" in the {seconds}s window"


def verdicts(decision: dict[str, Any]) -> list[RuleVerdict]:
    """Every rule's verdict in the decision's trace, in order."""
    out = []
    for line in decision.get("trace") or []:
        if isinstance(line, dict):
            out.append(
                RuleVerdict(
                    grant=_text(line.get("grant", "")),
                    rule=_text(line.get("rule", "")),
                    result=_text(line.get("result", "")),
                    code=_text(line.get("code", "")),
                    words=_text(line.get("detail") or line.get("code") or ""),
                )
            )
    return out


def _decision(d: dict[str, Any], status: str | None, units: TokenUnits) -> str:
    grant = d.get("grant_id")
    under = f" under grant {_text(grant)} v{_text(d.get('grant_version'))}" if grant else ""
    rules = "; ".join(_text(rule_words(t)) for t in deciding_rules(d))
    reasons = ", ".join(_text(r) for r in d.get("reasons") or [])
    why = rules or reasons
    budgets = [_budget(units, b) for b in d.get("budgets") or [] if isinstance(b, dict)]
    left = f" Budget: {'; '.join(budgets)}." if budgets and status != "deny" else ""
    check = "The policy check" + (" (a dry run, before reserving)" if d.get("dry_run") else "")
    if status == "deny":
        return f"{check} denied it{under}: {why}."
    if status == "confirm":
        return f"{check} wants your confirmation{under}: {why}.{left}"
    reserved = d.get("reservation_id")
    if reserved:
        return f"The policy allowed it{under} and reserved the budget.{left}"
    return f"{check} allowed it{under}.{left}"


def _result(d: dict[str, Any], status: str | None, units: TokenUnits) -> list[tuple[str, str]]:
    """(stage, sentence) pairs for a tx_outcome: the outcome, its receipts, its balances."""
    result = as_dict(d["result"]) if "result" in d else d  # older entries: fields at the top
    out: list[tuple[str, str]] = []
    if status in ("ok", "success", "final"):
        summary = str(result.get("summary", "")).removeprefix("Done: ")
        out.append(("outcome", f"Done: {_text(summary)}"))
    elif status == "left_to_reconcile":
        out.append(("outcome", f"Left to reconcile: {_text(d.get('message', ''))}"))
    else:
        words = d.get("message") or d.get("error") or "the step failed"
        out.append(("outcome", f"Failed at {_text(d.get('stage', 'execute'))}: {_text(words)}"))
    for tx in result.get("transactions") or []:
        if not isinstance(tx, dict):
            continue
        receipts = [r for r in tx.get("receipts") or [] if isinstance(r, dict)]
        failed = [r for r in receipts if r.get("status") != "success"]
        state = "succeeded" if tx.get("status") == "success" else _text(tx.get("status"))
        where = ", ".join(
            f"{_text(r.get('executor_id'))} {'ok' if r.get('status') == 'success' else 'FAILED'}"
            for r in receipts
        )
        sentence = f"Transaction {_text(tx.get('tx_hash'))} {state}"
        if receipts:
            sentence += f"; {len(receipts)} receipt(s), {len(failed)} failed: {where}"
        if tx.get("error"):
            sentence += f"; error: {_text(tx['error'])}"
        if tx.get("explorer"):
            sentence += f" ({_text(tx['explorer'])})"
        out.append(("receipts", sentence + "."))
    if not result.get("transactions") and result.get("tx_hash"):
        out.append(("receipts", f"Transaction {_text(result['tx_hash'])}."))
    changes = result.get("balance_changes") or {}
    if isinstance(changes, dict) and changes:
        moved = ", ".join(_amount(units, t, v, signed=True) for t, v in changes.items())
        out.append(("balance", f"Balance changes: {moved}."))
    return out


def _fired(d: dict[str, Any], status: str | None) -> str:
    strategy = f"Strategy {_text(d.get('strategy_id', '?'))}"
    if status == "started":
        late = d.get("late_ms")
        when = f" (scheduled at {_text(d.get('scheduled_at'))}, {late} ms late)" if late else ""
        step = as_dict(d.get("step"))
        tool = f" to {_text(step.get('tool'))}" if step.get("tool") else ""
        note = f"; {_text(d['note'])}" if d.get("note") else ""
        return f"{strategy} fired{tool}{when}{note}."
    words = d.get("message") or d.get("note") or ""
    return f"{strategy}'s fire ended {_text(status)}" + (f": {_text(words)}." if words else ".")


def _record(e: AuditEntry, units: TokenUnits) -> str:
    d = e.data
    if e.kind == AuditKind.GRANT_ADDED:
        if d.get("grant_id") and d.get("source"):
            return (
                f"Grant {_text(d['grant_id'])} version {_text(d.get('version'))} was added "
                f"from {_text(d['source'])}."
            )
        if d.get("key_pool"):
            tx = f" in tx {_text(d['tx_hash'])}" if d.get("tx_hash") else " (found there)"
            return (
                f"A pool key, public key {_text(d.get('onchain_public_key'))}, was added on "
                f"chain{tx}."
            )
        what = d.get("onchain_public_key") or d.get("grant_id")
        return f"Grant {_text(what)} was added on chain in tx {_text(d.get('tx_hash'))}."
    if e.kind == AuditKind.GRANT_REVOKED:
        if d.get("key_pool"):
            tx = f" in tx {_text(d['tx_hash'])}" if d.get("tx_hash") else ""
            return f"A pool key, public key {_text(d.get('onchain_public_key'))}, was removed{tx}."
        what = d.get("grant_id") or d.get("onchain_public_key")
        tx = f" in tx {_text(d['tx_hash'])}" if d.get("tx_hash") else ""
        return f"Grant {_text(what)} was revoked{tx}."
    if e.kind in (AuditKind.PAUSED, AuditKind.RESUMED):
        who = f"Strategy {_text(d['strategy_id'])}" if d.get("strategy_id") else "The agent"
        reason = f": {_text(d['reason'])}" if d.get("reason") else ""
        return f"{who} was {e.kind.value}{reason}."
    if e.kind == AuditKind.ANCHOR:
        return (
            f"Anchored the first {_text(d.get('entries'))} entries (head "
            f"{_text(d.get('head_hash'))}) in tx {_text(d.get('tx_hash'))} on "
            f"{_text(d.get('network'))}."
        )
    return f"{e.kind.value.replace('_', ' ').capitalize()}."


def entry_sentences(e: AuditEntry, units: TokenUnits) -> list[tuple[StoryStage, str]]:
    """What one entry says, as (stage, sentence) pairs (a tx outcome gives several)."""
    d, status = e.data, e.status
    kind = e.kind
    stage: StoryStage = _STAGES.get(kind, "record")
    if kind == AuditKind.USER_MESSAGE:
        who = {"user": "You", "scheduler": "The scheduler"}.get(e.actor, _text(e.actor))
        via = f" (through {_text(d['via'])})" if d.get("via") else ""
        said = [(stage, f"{who} asked{via}: {_quoted(d.get('text'))}.")]
        if status == "refused":  # a read-only call refused whole (an MCP check or query)
            said.append((stage, f"Refused: {_text(d.get('error') or 'its arguments')}."))
        return said
    if kind == AuditKind.PLAN:
        planner = f"The {_text(d['planner'])} planner" if d.get("planner") else "The planner"
        if status == "refused":
            return [(stage, f"{planner} refused it: {_text(d.get('error'))}.")]
        steps = [s for s in d.get("steps") or [] if isinstance(s, dict)]
        calls = "; ".join(_call(s) for s in steps) or "nothing"
        return [(stage, f"{planner} made {len(steps)} step(s): {calls}.")]
    if kind == AuditKind.ACTION_PREPARED:
        action = as_dict(d.get("action"))
        return [(stage, f"Prepared: {_text(action.get('preview', e.tool))}.")]
    if kind == AuditKind.POLICY_DECISION:
        return [(stage, _decision(d, status, units))]
    if kind == AuditKind.APPROVAL_REQUESTED:
        if d.get("inbox_id"):
            return [
                (
                    stage,
                    f"Filed in the approval inbox as {_text(d['inbox_id'])} (until "
                    f"{_text(d.get('expires_at'))}): {_text(d.get('preview'))}.",
                )
            ]
        return [(stage, f"Asked for confirmation: {_text(d.get('preview'))}.")]
    if kind == AuditKind.APPROVAL_GRANTED:
        until = f", valid until {_text(d['expires_at'])}" if d.get("expires_at") else ""
        return [(stage, f"Approved (approval {_text(d.get('approval_id'))}{until}).")]
    if kind == AuditKind.APPROVAL_DENIED:
        if d.get("inbox_id"):
            return [(stage, f"Inbox item {_text(d['inbox_id'])} was denied.")]
        return [(stage, "Declined: nothing was sent.")]
    if kind == AuditKind.APPROVAL_EXPIRED:
        return [(stage, f"Inbox item {_text(d.get('inbox_id'))} expired unanswered.")]
    if kind == AuditKind.TX_SUBMITTED:
        nonce = f", nonce {_text(d['nonce'])}" if d.get("nonce") is not None else ""
        return [
            (
                stage,
                f"Signed transaction {_text(d.get('tx_hash'))} from {_text(d.get('signer_id'))} "
                f"to {_text(d.get('receiver_id'))}{nonce}, journalled, then sent.",
            )
        ]
    if kind == AuditKind.TX_OUTCOME:
        return [(s, t) for s, t in _result(d, status, units)]  # type: ignore[misc]
    if kind == AuditKind.ERROR:
        words = d.get("message") or d.get("error") or d.get("code") or ""
        where = f"{_text(d.get('stage', '?'))} ({_text(status)})"
        return [(stage, f"Error at {where}: {_text(words)}.")]
    if kind == AuditKind.SCHEDULE_FIRED:
        return [(stage, _fired(d, status))]
    if kind == AuditKind.LABEL_SUBMITTED:
        checked = "matches" if status == "submitted" else "does NOT match"
        return [
            (
                stage,
                f"Label for task {_text(d.get('task_id'))} item {_text(d.get('item_id'))}: "
                f"content hash {_text(d.get('content_hash'))} (the contract's {checked}), "
                f"tx {_text(d.get('tx_hash'))}.",
            )
        ]
    return [("record", _record(e, units))]


def _call(step: dict[str, Any]) -> str:
    args = as_dict(step.get("args"))
    words = ", ".join(f"{_text(k)} {_text(v)}" for k, v in args.items())
    return f"{_text(step.get('tool'))} ({words})" if words else _text(step.get("tool"))


def entry_sentence(e: AuditEntry, units: TokenUnits | None = None) -> str:
    """The entry in one line of sentences (the per-entry view's details column)."""
    return " ".join(text for _, text in entry_sentences(e, units or TokenUnits()))


def story_steps(entries: list[AuditEntry], units: TokenUnits) -> list[StoryStep]:
    """One intent's steps in order, each with the entries it comes from and, for a policy
    check, every rule's verdict."""
    steps: list[StoryStep] = []
    for e in entries:
        found = verdicts(e.data) if e.kind == AuditKind.POLICY_DECISION else []
        for stage, sentence in entry_sentences(e, units):
            steps.append(
                StoryStep(
                    stage=stage,
                    sentence=sentence,
                    entry_ids=[e.id],
                    verdicts=found if stage == "check" else [],
                )
            )
    return steps
