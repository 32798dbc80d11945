"""The deciding rules of a policy decision in their own words, for people.

A decision's ``reasons`` are codes (``per_action_cap``) for scripts and the audit log; each
rule also wrote why in its trace entry ("10 NEAR exceeds 5 NEAR per action"). Every place that
tells a person why (``do``, ``chat``, ``plan``, ``grants check``) reads those words here, so a
denial is never explained by a bare code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.evaluator import ALLOW, Decision


def deciding_words(decision: Decision | Mapping[str, Any]) -> list[str]:
    """Why the decision came out as it did: each deciding rule's words, once each, in order.

    Takes a Decision or its ``to_dict()`` (as the audit log and a step report keep it). A rule
    that left no words is named by its code. Empty for an allow.
    """
    data = decision.to_dict() if isinstance(decision, Decision) else decision
    outcome = data.get("outcome")
    if outcome == ALLOW:
        return []
    reasons = [str(r) for r in data.get("reasons") or []]
    words: list[str] = []
    for entry in data.get("trace") or []:
        if not isinstance(entry, Mapping) and hasattr(entry, "_asdict"):
            entry = entry._asdict()
        if not isinstance(entry, Mapping) or entry.get("result") != outcome:
            continue
        if reasons and entry.get("code") not in reasons:
            continue
        text = str(entry.get("detail") or entry.get("code") or "")
        if text and text not in words:
            words.append(text)
    return words or reasons
