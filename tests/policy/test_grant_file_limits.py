"""Grants files that are not UTF-8, nested absurdly deep, or hold absurd periods or look-alikes.

Each is refused with a GrantFileError naming the file and the problem, never a bare Python error
and never a grant whose every later decision fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.grants import (
    MAX_DURATION_S,
    GrantFileError,
    load_grants_file,
    parse_duration,
    parse_grants,
)
from tests.policy.helpers import grants_doc, transfer_grant


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "grants.yaml"
    path.write_bytes(data)
    return path


def good_yaml() -> bytes:
    return yaml.safe_dump(grants_doc(transfer_grant())).encode()


def test_non_utf8_file_names_the_file_and_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path, b"grants:\n  - id: \xff\xfe\n")
    with pytest.raises(GrantFileError, match="not UTF-8") as info:
        load_grants_file(path)
    assert info.value.source == str(path) and "0xff" in str(info.value)


def test_latin1_text_is_refused_not_misread(tmp_path: Path) -> None:
    path = write(tmp_path, good_yaml() + "# café\n".encode("latin-1"))
    with pytest.raises(GrantFileError, match="UTF-8"):
        load_grants_file(path)


def test_utf8_with_a_byte_order_mark_still_loads(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + good_yaml())
    assert load_grants_file(path).grants[0].id == "pay"


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_deep_nesting_is_a_grant_file_error(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, b"grants: " + b"[" * depth + b"]" * depth)
    with pytest.raises(GrantFileError, match="nested too deeply") as info:
        load_grants_file(path)
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    "value",
    [
        MAX_DURATION_S + 1,
        10**30,
        "3651d",
        "87601h",
        "999999999999d",
        "9" * 5_000 + "s",
    ],
)
def test_periods_over_ten_years_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="longer than 10 years") as info:
        parse_duration(value)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("value", [MAX_DURATION_S, "3650d", "87600h", "24h", "1d12h", 90])
def test_periods_up_to_ten_years_are_kept(value: Any) -> None:
    assert 0 < parse_duration(value) <= MAX_DURATION_S


@pytest.mark.parametrize("field", ["min_interval", "quote_max_age"])
def test_every_grant_duration_is_capped(field: str) -> None:
    with pytest.raises(GrantFileError, match="longer than 10 years"):
        parse_grants(grants_doc(transfer_grant(**{field: "4000d"})))


def test_a_ceiling_period_is_capped() -> None:
    doc = grants_doc(transfer_grant(), ceiling=[{"token": "NEAR", "amount": "1", "period": 10**12}])
    with pytest.raises(GrantFileError, match=r"global\.windows: .*longer than 10 years"):
        parse_grants(doc)


@pytest.mark.parametrize("value", ["٢٤h", "२d", "1h\n5m"])
def test_durations_take_ascii_digits_only(value: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("hours", ["٠٩:٠٠-١٧:٠٠", "09:00-17:00\nx"])
def test_hours_take_ascii_digits_only(hours: str) -> None:
    with pytest.raises(GrantFileError, match="HH:MM-HH:MM"):
        parse_grants(grants_doc(transfer_grant(hours_utc=[hours])))


@pytest.mark.parametrize("grant_id", ["pay\n", "pay٣"])
def test_grant_ids_are_ascii_and_whole(grant_id: str) -> None:
    with pytest.raises(GrantFileError, match="use 1-64 of a-z"):
        parse_grants(grants_doc(transfer_grant(id=grant_id)))


def test_recipient_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(GrantFileError, match="not a valid NEAR account id"):
        parse_grants(grants_doc(transfer_grant(recipients=["bob.test.near\n"])))


def test_a_grants_file_with_hidden_characters_is_refused_showing_them(tmp_path: Path) -> None:
    """An account written with a right-to-left override displays as another account."""
    path = tmp_path / "grants.yaml"
    path.write_text(
        "grants:\n  - id: pay\n    expires_at: '2099-01-01T00:00:00Z'\n    kinds: [transfer]\n"
        "    recipients: ['\u202eraen.tset.bob']\n",
        encoding="utf-8",
    )
    with pytest.raises(GrantFileError) as refused:
        load_grants_file(path)
    assert "line 5" in str(refused.value) and "\\u202e" in str(refused.value)
