"""The account-id rule of tools.network: ASCII only, and the whole string."""

from __future__ import annotations

import pytest

from tools.errors import InvalidAccountIdError
from tools.network import check_account_id, is_valid_account_id


@pytest.mark.parametrize(
    "text",
    [
        "bob.near\n",
        "ab\n",
        "bob.near\r\n",
        "\nbob.near",
        "bob\n.near",
        "bob٣.near",
        "١٢٣",
        "bob१.near",
        "ｂob.near",
        "bob.nеar",
    ],
)
def test_newlines_and_non_ascii_characters_are_not_account_ids(text: str) -> None:
    assert not is_valid_account_id(text)
    with pytest.raises(InvalidAccountIdError):
        check_account_id(text)


@pytest.mark.parametrize("text", ["ab", "bob.near", "a-b_c.d1.near", "0" * 64, "x1.y2"])
def test_valid_ids_still_pass(text: str) -> None:
    assert is_valid_account_id(text)
    assert check_account_id(text) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("bob.near\n", "whitespace or invisible"),
        ("bob\u200b.near", "whitespace or invisible"),
        ("bob٣.near", "non-ASCII"),
    ],
)
def test_look_alike_ids_say_why_they_are_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidAccountIdError, match=reason) as info:
        check_account_id(text, "receiver")
    assert "not a valid NEAR receiver id" in info.value.message


def test_an_ordinary_bad_id_gets_only_the_rule() -> None:
    with pytest.raises(InvalidAccountIdError) as info:
        check_account_id("bob..near")
    assert "ASCII" not in info.value.message and "whitespace" not in info.value.message
