"""Any single change to the stored log makes verify fail and name the entry."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from memory.audit import AuditDraft, AuditKind, AuditLog, VerifyReport
from tests.support.sqlite_copy import copy_database

from .tampering import flip_byte, insert_forged, open_raw, rehash_all, swap_rows

N = 12
CopyOf = Callable[[], Path]
COLUMNS = ("body", "prev_hash", "hash")


def _draft(i: int) -> AuditDraft:
    kinds = list(AuditKind)
    return AuditDraft(
        kinds[i % len(kinds)],
        ("user", "scheduler", "system")[i % 3],
        f"intent-{i // 3}",
        {"i": i, "amount": str(10**24 * i), "note": "スワップ 交换 ✓", "nested": {"k": [i, None]}},
        tool="swap" if i % 2 else None,
        status="final" if i % 4 == 0 else None,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "audit.db"
    with AuditLog(path) as log:
        log.append_many([_draft(i) for i in range(N)])
    return path


@pytest.fixture
def copy_of(pristine: Path) -> Iterator[CopyOf]:
    folders: list[str] = []

    def make() -> Path:
        folder = tempfile.mkdtemp()
        folders.append(folder)
        return copy_database(pristine, Path(folder) / "audit.db")

    yield make
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _verify(path: Path, **kwargs: Any) -> VerifyReport:
    with AuditLog(path) as log:
        return log.verify(**kwargs)


_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_pristine_log_verifies(pristine: Path) -> None:
    report = _verify(pristine)
    assert report.ok and report.count == N and report.first_bad_id is None


@_settings
@given(
    entry=st.integers(1, N),
    column=st.sampled_from(COLUMNS),
    pos=st.integers(0, 10_000),
    xor=st.integers(1, 255),
)
def test_any_changed_byte_is_named(
    copy_of: CopyOf, entry: int, column: str, pos: int, xor: int
) -> None:
    path = copy_of()
    with open_raw(path) as conn:
        flip_byte(conn, entry, column, pos, xor)
    report = _verify(path)
    assert not report.ok
    assert report.first_bad_id == entry, report.reason
    assert report.count == entry - 1


@_settings
@given(entry=st.integers(1, N), new_id=st.integers(-50, 3 * N))
def test_a_changed_id_is_named(copy_of: CopyOf, entry: int, new_id: int) -> None:
    assume(not 1 <= new_id <= N)
    path = copy_of()
    with open_raw(path) as conn:
        conn.execute("UPDATE entries SET id=? WHERE id=?", (new_id, entry))
    report = _verify(path)
    assert not report.ok
    assert report.first_bad_id in {entry, new_id}, report.reason


@_settings
@given(entry=st.integers(1, N))
def test_a_deleted_entry_is_named(copy_of: CopyOf, entry: int) -> None:
    path = copy_of()
    head = None
    with AuditLog(path) as log:
        head = log.head()
    with open_raw(path) as conn:
        conn.execute("DELETE FROM entries WHERE id=?", (entry,))
    report = _verify(path, expected_head=head)
    assert not report.ok
    assert report.first_bad_id == entry, report.reason


@_settings
@given(pair=st.lists(st.integers(1, N), min_size=2, max_size=2, unique=True))
def test_a_swapped_pair_is_named(copy_of: CopyOf, pair: list[int]) -> None:
    path = copy_of()
    with open_raw(path) as conn:
        swap_rows(conn, *pair)
    report = _verify(path)
    assert not report.ok
    assert report.first_bad_id == min(pair), report.reason


@_settings
@given(at=st.integers(1, N))
def test_an_inserted_entry_is_named(copy_of: CopyOf, at: int) -> None:
    path = copy_of()
    with open_raw(path) as conn:
        insert_forged(conn, at)
    report = _verify(path)
    assert not report.ok
    # The forged entry links correctly to its predecessor; the break shows at the next one.
    assert report.first_bad_id in {at, at + 1}, report.reason


def test_a_consistent_rewrite_is_caught_by_the_recorded_head(copy_of: CopyOf) -> None:
    path = copy_of()
    with AuditLog(path) as log:
        head = log.head()
    with open_raw(path) as conn:
        body = conn.execute("SELECT body FROM entries WHERE id=3").fetchone()[0]
        conn.execute("UPDATE entries SET body=? WHERE id=3", (body.replace("final", "FINAL"),))
        conn.execute(
            "UPDATE entries SET body=? WHERE id=4",
            (conn.execute("SELECT body FROM entries WHERE id=4").fetchone()[0].replace("1", "2"),),
        )
        rehash_all(conn)
    assert _verify(path).ok  # self-consistent after the rewrite...
    report = _verify(path, expected_head=head)
    assert not report.ok  # ...but not the chain whose head was recorded
    assert report.first_bad_id == N and "rewritten" in report.reason


def test_a_cut_tail_is_caught_by_the_recorded_head(copy_of: CopyOf) -> None:
    path = copy_of()
    with AuditLog(path) as log:
        head = log.head()
    with open_raw(path) as conn:
        conn.execute("DELETE FROM entries WHERE id > ?", (N - 3,))
    assert _verify(path).ok
    report = _verify(path, expected_head=head)
    assert not report.ok and report.first_bad_id == N - 2 and "truncated" in report.reason
