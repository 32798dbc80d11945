"""Hostile grants files: refused with GrantFileError/GrantsRefused, and nothing stored.

A grants file is the user's, but it may be corrupted, hand-edited badly or planted; whatever it
holds, loading it must name the problem (never raise KeyError/TypeError/...), and storing a bad
one must leave the policy database exactly as it was (every version, the ceiling).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.grants import GrantFileError, PolicyFile, load_grants_file, parse_grants
from policies.store import GrantBook
from policies.store_grants import GrantsRefused, store_grants_file

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

GOOD: dict[str, Any] = {
    "tokens": {"USDC": {"contract_id": "usdc.test.near", "decimals": 6}},
    "global": {"windows": [{"token": "NEAR", "amount": "25", "period": "24h"}]},
    "grants": [
        {
            "id": "pay",
            "expires_at": "2030-01-01T00:00:00Z",
            "kinds": ["transfer"],
            "tokens": ["NEAR", "USDC"],
            "recipients": ["bob.test.near"],
            "per_action": {"NEAR": "5"},
            "windows": [{"token": "NEAR", "amount": "20", "period": "24h"}],
            "confirm": {"above": {"NEAR": "2"}, "first_time_recipient": True},
        }
    ],
}
GARBAGE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**130), max_value=2**130)
    | st.floats(allow_nan=True)
    | st.text(max_size=15)
    | st.sampled_from(
        [
            "-1",
            "1e3",
            "NaN",
            "bоb.near",
            "a" * 65,
            "..",
            "24x",
            "0s",
            "99:99-00:00",
            "1,5",
            "9" * 4000,
            "2000-01-01T00:00:00Z",
            "USDC",
            "evil.near",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
PATHS = [
    ("grants", 0, "id"),
    ("grants", 0, "expires_at"),
    ("grants", 0, "kinds"),
    ("grants", 0, "tokens"),
    ("grants", 0, "recipients"),
    ("grants", 0, "per_action"),
    ("grants", 0, "per_action", "NEAR"),
    ("grants", 0, "windows", 0, "period"),
    ("grants", 0, "windows", 0, "amount"),
    ("grants", 0, "confirm", "above", "NEAR"),
    ("tokens", "USDC", "decimals"),
    ("tokens", "USDC", "contract_id"),
    ("global", "windows"),
    ("global", "windows", 0, "token"),
    ("grants",),
    ("tokens",),
    ("grants", 0, "hours_utc"),
    ("grants", 0, "max_slippage_bps"),
    ("grants", 0, "extra"),
]


def mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@FUZZ
@given(st.sampled_from(PATHS), GARBAGE)
def test_a_garbage_field_is_a_grant_file_error(path: tuple[Any, ...], value: Any) -> None:
    try:
        policy = parse_grants(mutated(path, value))
    except GrantFileError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    assert isinstance(policy, PolicyFile) and policy.grants


@FUZZ
@given(GARBAGE)
def test_any_document_is_a_policy_or_a_grant_file_error(doc: Any) -> None:
    try:
        policy = parse_grants(doc)
    except GrantFileError as exc:
        assert exc.problems
        return
    assert isinstance(policy, PolicyFile) and policy.grants


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---",
        "[]",
        "grants:",
        "grants: []",
        "grants: 5",
        "{",
        "grants: [{id: x}]",
        "grants:\n  - id: pay\n    expires_at: 2030-01-01T00:00:00Z\n    kinds: [transfer]\n"
        "    per_action: {NEAR: 1.5}\n",
        "grants:\n  - &a {id: pay, expires_at: 2030-01-01T00:00:00Z, kinds: [transfer]}\n  - *a\n",
        "!!python/object/apply:os.system ['echo pwned']",
        "\x00\x01",
        "a: b: c",
    ],
    ids=lambda v: repr(v)[:24],
)
def test_bad_files_on_disk_are_grant_file_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "grants.yaml"
    path.write_text(text)
    with pytest.raises(GrantFileError):
        load_grants_file(path)


def snapshot(db: Path) -> tuple[Any, ...]:
    book = GrantBook(db)
    try:
        return (
            tuple((r.grant_id, r.version, r.body) for r in book.grants(history=True)),
            book.ceiling(),
        )
    finally:
        book.close()


@pytest.fixture
def policy_db(tmp_path: Path) -> Path:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(GOOD))
    db = tmp_path / "policy.db"
    store_grants_file(db, good, allow_long_expiry=True)  # GOOD expires in 2030
    return db


@FUZZ
@given(st.sampled_from(PATHS), GARBAGE)
def test_storing_a_bad_file_changes_nothing(
    policy_db: Path, tmp_path: Path, path: tuple[Any, ...], value: Any
) -> None:
    before = snapshot(policy_db)
    bad = tmp_path / "bad.yaml"
    doc = mutated(path, value)
    try:
        parse_grants(doc)
    except GrantFileError:
        bad.write_text(yaml.safe_dump(doc))
        with pytest.raises(GrantsRefused):
            store_grants_file(policy_db, bad)
        assert snapshot(policy_db) == before


def test_an_expired_grant_is_refused_and_nothing_stored(policy_db: Path, tmp_path: Path) -> None:
    before = snapshot(policy_db)
    bad = tmp_path / "old.yaml"
    bad.write_text(yaml.safe_dump(mutated(("grants", 0, "expires_at"), "2001-01-01T00:00:00Z")))
    with pytest.raises(GrantsRefused, match="expired"):
        store_grants_file(policy_db, bad)
    assert snapshot(policy_db) == before


def test_non_utf8_file_is_a_grant_file_error(tmp_path: Path) -> None:
    path = tmp_path / "grants.yaml"
    path.write_bytes(b"grants:\n  - id: \xff\xfe\n")
    with pytest.raises(GrantFileError):
        load_grants_file(path)


def test_deeply_nested_yaml_is_a_grant_file_error(tmp_path: Path) -> None:
    path = tmp_path / "grants.yaml"
    path.write_text("grants: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(GrantFileError):
        load_grants_file(path)


@pytest.mark.parametrize(
    "field,value",
    [
        (("grants", 0, "windows", 0, "period"), 10**30),
        (("grants", 0, "rate_limit"), {"count": 1, "period": 10**30}),
    ],
)
def test_absurd_periods_are_refused_when_loading(field: tuple[Any, ...], value: Any) -> None:
    with pytest.raises(GrantFileError):
        parse_grants(mutated(field, value))
