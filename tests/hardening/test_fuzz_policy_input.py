"""Hostile actions handed to the policy engine: a DENY with a reason, never a crash or a budget.

The engine must not trust what it is given: a mutated canonical action (wrong types, huge or
negative amounts, homoglyph recipients, missing fields) is decided without raising, and anything
that is not a valid canonical action is denied as malformed without reserving any budget.
"""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policies.evaluator import DENY
from tests.policy.helpers import BOB, YOCTO, grants_doc, make_engine, near_transfer, transfer_grant
from tools.action import CanonicalAction

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE = near_transfer(BOB, YOCTO).model_dump(mode="json")
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["bоb.test.near", "BOB.TEST.NEAR", "-1", str(2**128), "1e30", "near", ""]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
PATHS = [
    ("tool",),
    ("signer_id",),
    ("recipients",),
    ("recipients", 0),
    ("transactions",),
    ("transactions", 0, "receiver_id"),
    ("transactions", 0, "actions", 0, "deposit"),
    ("transactions", 0, "actions", 0, "kind"),
    ("outflows", 0, "amount"),
    ("outflows", 0, "token"),
    ("outflows", 0, "recipient"),
    ("outflows",),
    ("preview",),
]


def mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    action = copy.deepcopy(BASE)
    node = action
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return action


def reservations(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
    finally:
        conn.close()


@FUZZ
@given(st.sampled_from(PATHS), GARBAGE)
def test_mutated_actions_are_denied_or_valid(
    tmp_path_factory: Any, path: tuple[Any, ...], value: Any
) -> None:
    db = tmp_path_factory.mktemp("policy") / "policy.db"
    engine, _ = make_engine(db, grants_doc(transfer_grant(confirm={})))
    action = mutate(path, value)
    try:
        CanonicalAction.model_validate(action)
        valid = True
    except (ValidationError, ValueError, TypeError):
        valid = False
    dry = engine.dry_run(action)
    decision = engine.reserve(action)
    assert dry.outcome == decision.outcome or valid
    if not valid:
        assert decision.outcome == DENY and "malformed_action" in decision.reasons
        assert decision.reservation_id is None and reservations(db) == 0
    elif decision.outcome == DENY:
        assert decision.reasons and decision.reservation_id is None


@FUZZ
@given(st.one_of(GARBAGE, st.dictionaries(st.text(max_size=8), GARBAGE, max_size=4)))
def test_anything_that_is_not_an_action_is_denied(tmp_path_factory: Any, junk: Any) -> None:
    db = tmp_path_factory.mktemp("policy") / "policy.db"
    engine, _ = make_engine(db, grants_doc(transfer_grant()))
    decision = engine.reserve(junk)
    assert decision.outcome == DENY and decision.reservation_id is None
    assert reservations(db) == 0
