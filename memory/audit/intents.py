"""Reading one intent's entries: what was asked, by whom, what happened, what it moved.

Pure functions over the entries of one correlation id, oldest first. :func:`summarise` gives the
facts the activity index stores (base units, raw text); :func:`row` turns them into an
``IntentRow`` for display. The last telling entry decides the outcome, so a run that went on
after a step (a later step denied, a fire that ended waiting for approval) reads as it ended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from memory.audit.log import AuditEntry, AuditKind
from memory.audit.rows import Amount, IntentRow, Outcome, TokenUnits
from memory.audit.text import shown

Facts = dict[str, Any]
"""A summarised intent as stored in the activity index (JSON; amounts in base units)."""

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_SURFACES = ("console", "mcp")
# The outflows that are the point of an action (not wrapping, deposits of 1 yoctoNEAR, storage).
_MOVED = frozenset({"transfer", "swap_in"})
_FIRE_OUTCOMES: dict[str, Outcome] = {
    "started": "pending",
    "done": "done",
    "failed": "failed",
    "refused": "refused",
    "denied": "denied",
    "declined": "declined",
    "unknown": "unknown",
    "awaiting_approval": "needs_approval",
    "abandoned": "skipped",
    "skipped": "skipped",
    "not_run": "skipped",
}


def actor_of(entry: AuditEntry) -> str:
    """Who acted: the entry's actor, an MCP call's with its client (``mcp:<client>``, the name
    the client gave itself), or the surface an entry records in ``data.via``."""
    client = entry.data.get("client")
    if entry.actor == "mcp" and isinstance(client, str) and client:
        return f"mcp:{client}"
    via = entry.data.get("via")
    if isinstance(via, str) and via.split(":", 1)[0] in _SURFACES:
        return via
    return entry.actor


def deciding_rules(decision: dict[str, Any]) -> list[dict[str, str]]:
    """The trace lines that did not simply allow: the rules that decided."""
    trace = decision.get("trace") or []
    return [t for t in trace if isinstance(t, dict) and t.get("result") not in (None, "allow")]


def rule_words(line: dict[str, Any]) -> str:
    """``per_action (grant g): 50 NEAR exceeds 5 NEAR per action`` (or the rule's code)."""
    words = str(line.get("detail") or line.get("code") or "")
    grant = f" (grant {line['grant']})" if line.get("grant") else ""
    return f"{line.get('rule', '?')}{grant}: {words}"


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (entries are data, not promises)."""
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _add(total: dict[str, int], token: Any, units: Any) -> None:
    amount = _int(units)
    if isinstance(token, str) and amount is not None:
        total[token] = total.get(token, 0) + amount


def _asked_amounts(action: dict[str, Any]) -> dict[str, int]:
    """What the action moves, as the user would say it: the swap's input, the transfers."""
    out: dict[str, int] = {}
    quote = action.get("quote")
    if isinstance(quote, dict) and quote.get("token_in"):
        _add(out, quote.get("token_in"), quote.get("amount_in"))
    for flow in action.get("outflows") or []:
        if isinstance(flow, dict) and flow.get("purpose") in _MOVED:
            if flow.get("purpose") == "swap_in" and isinstance(quote, dict):
                continue  # the quote already says it, in the token the user named
            _add(out, flow.get("token"), flow.get("amount"))
    return out


def _near_outflow(action: dict[str, Any]) -> int:
    return sum(
        _int(f.get("amount")) or 0
        for f in action.get("outflows") or []
        if isinstance(f, dict) and f.get("token") == "near"
    )


def _explicit_fee(result: dict[str, Any]) -> int | None:
    """Gas burnt, when the result records it (``fee`` or ``tokens_burnt`` per transaction)."""
    found = None
    for tx in result.get("transactions") or []:
        if isinstance(tx, dict):
            value = _int(tx.get("fee", tx.get("tokens_burnt")))
            if value is not None:
                found = (found or 0) + value
    return found


def _error_words(data: dict[str, Any]) -> str:
    for key in ("message", "error", "reason", "note"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class _Reader:
    """Walks the entries once, keeping what the row needs."""

    def __init__(self) -> None:
        self.outcome: Outcome | None = None
        self.detail = ""
        self.asked = ""
        self.tools: list[str] = []
        self.strategy: str | None = None
        self.amounts: dict[str, int] = {}
        self.changes: dict[str, int] = {}
        self.near_sent = 0  # NEAR the actions that reached an outcome sent on purpose
        self.near_prepared = 0  # ... and the one prepared last, until its outcome arrives
        self.fee: int | None = None
        self.fee_known = True
        self.tx_hashes: list[str] = []

    def tool(self, name: str | None) -> None:
        if name and name not in self.tools:
            self.tools.append(name)

    def tx(self, tx_hash: Any) -> None:
        if isinstance(tx_hash, str) and tx_hash and tx_hash not in self.tx_hashes:
            self.tx_hashes.append(tx_hash)

    def read(self, e: AuditEntry) -> None:
        d, kind, status = e.data, e.kind, e.status
        self.tool(e.tool)
        if isinstance(d.get("strategy_id"), str) and self.strategy is None:
            self.strategy = d["strategy_id"]
        if kind == AuditKind.USER_MESSAGE:
            self.asked = self.asked or str(d.get("text", ""))
            # a message with a status is a whole read-only call (an MCP check or query): no
            # action follows it; without one, the action it asks for is on its way
            if status == "refused":
                self.outcome, self.detail = "refused", _error_words(d) or "refused"
            else:
                self.outcome = "pending" if status is None else "recorded"
        elif kind == AuditKind.PLAN:
            self.asked = self.asked or str(d.get("intent", ""))
            if status == "refused":
                self.outcome, self.detail = "refused", str(d.get("error") or "not understood")
        elif kind == AuditKind.ACTION_PREPARED:
            action = as_dict(d.get("action"))
            for token, units in _asked_amounts(action).items():
                _add(self.amounts, token, units)
            self.near_prepared = _near_outflow(action)
            self.asked = self.asked or str(action.get("preview", ""))
            self.outcome = "pending"
        elif kind == AuditKind.POLICY_DECISION:
            if status == "deny":
                self.outcome = "denied"
                self.detail = "; ".join(rule_words(t) for t in deciding_rules(d)) or ", ".join(
                    str(r) for r in d.get("reasons") or []
                )
        elif kind == AuditKind.APPROVAL_REQUESTED:
            self.outcome = "needs_approval"
            self.detail = str(d.get("preview", ""))
        elif kind == AuditKind.APPROVAL_GRANTED:
            self.outcome = "pending"
        elif kind == AuditKind.APPROVAL_DENIED:
            self.outcome, self.detail = "declined", "nothing was sent"
        elif kind == AuditKind.APPROVAL_EXPIRED:
            self.outcome, self.detail = "expired", "the approval request expired"
        elif kind == AuditKind.TX_SUBMITTED:
            self.tx(d.get("tx_hash"))
            self.outcome = "pending"
        elif kind == AuditKind.TX_OUTCOME:
            self._outcome(d, status)
        elif kind == AuditKind.ERROR:
            if status in ("refused", "failed", "unknown"):
                self.outcome, self.detail = status, _error_words(d)  # type: ignore[assignment]
        elif kind == AuditKind.SCHEDULE_FIRED:
            self._fired(d, status)
        elif kind == AuditKind.LABEL_SUBMITTED:
            self.tx(d.get("tx_hash"))
            if status == "hash_mismatch":
                self.outcome = "failed"
                self.detail = "the contract recorded a different content hash"
        else:  # grant changes, pauses, anchors: a record, not an action
            self.tx(d.get("tx_hash"))
            if self.outcome is None:
                self.outcome = "recorded"
            self.asked = self.asked or _record_words(e)

    def _outcome(self, d: dict[str, Any], status: str | None) -> None:
        result: dict[str, Any] | None = as_dict(d["result"]) if "result" in d else None
        if result is not None:
            self.near_sent += self.near_prepared
            self.near_prepared = 0
            for tx_hash in result.get("tx_hashes") or []:
                self.tx(tx_hash)
            for token, units in (result.get("balance_changes") or {}).items():
                _add(self.changes, token, units)
            fee = _explicit_fee(result)
            if fee is None:
                self.fee_known = False
            else:
                self.fee = (self.fee or 0) + fee
        if status == "ok":
            self.outcome = "done"
            self.detail = str((result or {}).get("summary", "")).removeprefix("Done: ")
        elif status == "left_to_reconcile":
            self.outcome, self.detail = "unknown", _error_words(d)
        elif status == "failed":
            self.outcome, self.detail = "failed", _error_words(d)

    def _fired(self, d: dict[str, Any], status: str | None) -> None:
        for tx_hash in d.get("tx_hashes") or []:
            self.tx(tx_hash)
        step = d.get("step")
        if isinstance(step, dict):
            self.tool(step.get("tool"))
        word = (status or "").removeprefix("recovered_")
        outcome = _FIRE_OUTCOMES.get(word)
        if outcome is None:
            return
        if outcome == "pending" and self.outcome is not None:
            return  # "started" says nothing new after the run's own entries
        self.outcome = outcome
        words = _error_words(d)
        if words and (outcome != "done" or not self.detail):
            self.detail = words

    def fee_units(self) -> int | None:
        """Recorded gas when every outcome recorded it; otherwise NEAR spent beyond what the
        actions sent on purpose (an estimate: None when it does not add up)."""
        if self.fee is not None and self.fee_known:
            return self.fee
        near = self.changes.get("near")
        if near is None:
            return None
        estimate = -near - self.near_sent
        return estimate if estimate >= 0 else None


def _record_words(e: AuditEntry) -> str:
    d = e.data
    kind = e.kind
    if kind == AuditKind.GRANT_ADDED:
        what = d.get("grant_id") or d.get("onchain_public_key") or ""
        version = f" version {d['version']}" if d.get("version") is not None else ""
        return f"grant {what}{version} added".replace("  ", " ")
    if kind == AuditKind.GRANT_REVOKED:
        return f"grant {d.get('grant_id') or d.get('onchain_public_key') or ''} revoked"
    if kind in (AuditKind.PAUSED, AuditKind.RESUMED):
        who = f"strategy {d['strategy_id']}" if d.get("strategy_id") else "the agent"
        return f"{who} {kind.value}" + (f": {d['reason']}" if d.get("reason") else "")
    if kind == AuditKind.ANCHOR:
        return f"anchored {d.get('entries', '?')} entries in tx {d.get('tx_hash', '?')}"
    return kind.value.replace("_", " ")


def summarise(entries: list[AuditEntry]) -> Facts:
    """The facts of one intent from its entries (oldest first, at least one)."""
    reader = _Reader()
    for entry in entries:
        reader.read(entry)
    first, last = entries[0], entries[-1]
    actor = next(
        (actor_of(e) for e in entries if e.kind == AuditKind.USER_MESSAGE), actor_of(first)
    )
    return {
        "intent_id": first.correlation_id,
        "started_at": first.ts,
        "ended_at": last.ts,
        "first_entry": first.id,
        "last_entry": last.id,
        "entry_count": len(entries),
        "actor": actor,
        "strategy": reader.strategy,
        "asked": reader.asked or (f"strategy {reader.strategy} fired" if reader.strategy else ""),
        "tools": reader.tools,
        "outcome": reader.outcome or "recorded",
        "detail": reader.detail,
        "amounts": [[t, str(u)] for t, u in reader.amounts.items()],
        "balance_changes": [[t, str(u)] for t, u in reader.changes.items()],
        "fee": None if (fee := reader.fee_units()) is None else str(fee),
        "tx_hashes": reader.tx_hashes,
    }


def search_text(facts: Facts) -> str:
    """What a text filter matches: the words asked, tx hashes, the intent id, tools, strategy."""
    parts = [facts["asked"], facts["intent_id"], *facts["tx_hashes"], *facts["tools"]]
    if facts.get("strategy"):
        parts.append(facts["strategy"])
    return "\n".join(str(p) for p in parts).casefold()


def _when(ts: str) -> datetime:
    return datetime.strptime(ts, _TS_FORMAT).replace(tzinfo=UTC)


def _amount(token: str, units: str, known: TokenUnits, *, signed: bool = False) -> Amount:
    return Amount(token=token, units=units, display=known.show(token, int(units), signed=signed))


def row(facts: Facts, units: TokenUnits, network: str | None) -> IntentRow:
    """The display row of stored facts (text made safe with :func:`shown`)."""
    fee = facts.get("fee")
    return IntentRow(
        intent_id=facts["intent_id"],
        started_at=_when(facts["started_at"]),
        ended_at=_when(facts["ended_at"]),
        first_entry=facts["first_entry"],
        last_entry=facts["last_entry"],
        entry_count=facts["entry_count"],
        actor=shown(facts["actor"]),
        strategy=None if facts.get("strategy") is None else shown(facts["strategy"]),
        asked=shown(facts["asked"]),
        tools=[shown(t) for t in facts["tools"]],
        outcome=facts["outcome"],
        detail=shown(facts["detail"]),
        amounts=[_amount(t, u, units) for t, u in facts["amounts"]],
        balance_changes=[_amount(t, u, units, signed=True) for t, u in facts["balance_changes"]],
        fee=None if fee is None else _amount("near", fee, units),
        tx_hashes=[shown(h) for h in facts["tx_hashes"]],
        network=network,
    )
