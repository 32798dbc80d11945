"""The activity index: caught up piece by piece it says what a rebuild from the entries says,
and shown() leaves no character that could break or hide a line of a view."""

from __future__ import annotations

import sqlite3
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.audit import AuditDraft, AuditKind, AuditLog
from memory.audit.activity import ActivityFilter, IntentRow, list_activity
from memory.audit.text import shown

from .tampering import open_raw

# One step of some intent: (intent number, what happens)
STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["message", "deny", "allow", "sent", "done", "failed", "ask", "no"]),
    ),
    min_size=1,
    max_size=40,
)
CUTS = st.lists(st.integers(min_value=1, max_value=40), max_size=5)


def _draft(intent: int, step: str) -> AuditDraft:
    cid = f"{intent:032x}"
    if step == "message":
        return AuditDraft(AuditKind.USER_MESSAGE, "user", cid, {"text": f"send {intent} NEAR"})
    if step in ("deny", "allow"):
        decision = {"trace": [{"rule": "per_action", "result": step, "detail": "words"}]}
        return AuditDraft(AuditKind.POLICY_DECISION, "user", cid, decision, "transfer", step)
    if step == "sent":
        return AuditDraft(AuditKind.TX_SUBMITTED, "user", cid, {"tx_hash": f"T{intent}"}, "t")
    if step == "ask":
        return AuditDraft(AuditKind.APPROVAL_REQUESTED, "user", cid, {"preview": "p"}, "t")
    if step == "no":
        return AuditDraft(AuditKind.APPROVAL_DENIED, "user", cid, {}, "t")
    result = {"tx_hashes": [f"T{intent}"], "balance_changes": {"near": "-5"}}
    status = "ok" if step == "done" else "failed"
    return AuditDraft(AuditKind.TX_OUTCOME, "user", cid, {"result": result}, "t", status)


def _all(path: Path) -> list[IntentRow]:
    return list_activity(path, limit=1000).items


def _rebuilt(path: Path) -> list[IntentRow]:
    conn = sqlite3.connect(str(path))
    conn.execute("DELETE FROM activity_state")
    conn.commit()
    conn.close()
    return _all(path)


@settings(max_examples=40, deadline=None)
@given(steps=STEPS, cuts=CUTS)
def test_caught_up_in_pieces_it_equals_a_rebuild(steps: list, cuts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        drafts = [_draft(i, s) for i, s in steps]
        with AuditLog(path) as log:
            done = 0
            for cut in sorted(set(cuts)) + [len(drafts)]:
                if cut > done:
                    log.append_many(drafts[done:cut])
                    done = cut
                    _all(path)  # the index reads up to here, then more is appended
        pieces = _all(path)
        assert pieces == _rebuilt(path)
        assert len(pieces) == len({i for i, _ in steps})
        paged, cursor = [], None
        while True:
            page = list_activity(path, limit=2, before_cursor=cursor)
            paged += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        assert paged == pieces
        for outcome in ("done", "denied", "failed", "declined"):
            chosen = list_activity(path, ActivityFilter(outcome=outcome), limit=1000).items
            assert chosen == [r for r in pieces if r.outcome == outcome]


def test_a_rechained_log_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditLog(path) as log:
        log.append(
            AuditKind.USER_MESSAGE, actor="user", correlation_id="a" * 32, data={"text": "x"}
        )
    assert _all(path)[0].asked == "x"
    with open_raw(path) as conn:  # rewrite the entry and its hash, as a re-chaining would
        body = conn.execute("SELECT body FROM entries WHERE id = 1").fetchone()[0]
        conn.execute(
            "UPDATE entries SET body = ?, hash = ? WHERE id = 1",
            (body.replace('"x"', '"y"'), "f" * 64),
        )
    assert _all(path)[0].asked == "y"


def _breaks_or_hides(ch: str) -> bool:
    return ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" or unicodedata.category(ch) in (
        "Cc",
        "Cf",
        "Zl",
        "Zp",
    )


@given(st.text())
def test_shown_text_holds_no_character_that_breaks_or_hides_a_line(text: str) -> None:
    out = shown(text)
    assert not any(_breaks_or_hides(ch) for ch in out)
    assert len(out.splitlines()) <= 1
