"""The notary records audit-log heads per account, idempotently, with the block that saw them."""

from __future__ import annotations

import hashlib

import pytest

from devnet.contracts.notary import Notary
from tests.devnet.contract_harness import Chain

N = "notary.near"
H1 = hashlib.sha256(b"one").hexdigest()
H2 = hashlib.sha256(b"two").hexdigest()


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    c.account("alice.near")
    c.account("bob.near")
    c.deploy(N, Notary)
    return c


def test_anchor_records_block_and_time(chain: Chain) -> None:
    chain.block_height = 777
    out = chain.call(
        N, "anchor", {"head_hash": H1, "entries": 12, "note": "daily"}, by="alice.near"
    )
    assert out.ok, out.error
    record = {
        "head_hash": H1,
        "entries": 12,
        "block_height": 777,
        "timestamp_ns": chain.block_timestamp,
        "note": "daily",
    }
    assert out.value == record
    assert chain.view(N, "get_anchor", account_id="alice.near", head_hash=H1) == record
    assert chain.view(N, "get_anchor", account_id="bob.near", head_hash=H1) is None
    assert out.events[0]["event"] == "anchored"


def test_anchors_are_listed_in_order_and_retry_is_idempotent(chain: Chain) -> None:
    chain.call(N, "anchor", {"head_hash": H1, "entries": 1}, by="alice.near")
    chain.block_height += 5
    chain.call(N, "anchor", {"head_hash": H2, "entries": 2}, by="alice.near")
    retry = chain.call(N, "anchor", {"head_hash": H1, "entries": 1}, by="alice.near")
    assert retry.ok and retry.value["block_height"] == 100  # the original record
    anchors = chain.view(N, "get_anchors", account_id="alice.near")
    assert [a["head_hash"] for a in anchors] == [H1, H2]
    assert (
        chain.view(N, "get_anchors", account_id="alice.near", from_index=1, limit=1)[0]["head_hash"]
        == H2
    )
    assert chain.view(N, "get_latest_anchor", account_id="alice.near")["entries"] == 2
    conflict = chain.call(N, "anchor", {"head_hash": H1, "entries": 5}, by="alice.near")
    assert "already anchored with 1 entries" in conflict.error


@pytest.mark.parametrize("head_hash", ["abc", "g" * 64, H1 + "0", 123])
def test_anchor_refuses_malformed_hash(chain: Chain, head_hash: object) -> None:
    out = chain.call(N, "anchor", {"head_hash": head_hash, "entries": 1}, by="alice.near")
    assert not out.ok
    assert chain.view(N, "get_anchors", account_id="alice.near") == []


def test_anchor_refuses_bad_entries_and_long_notes(chain: Chain) -> None:
    assert not chain.call(N, "anchor", {"head_hash": H1, "entries": -1}, by="alice.near").ok
    assert not chain.call(N, "anchor", {"head_hash": H1, "entries": "3"}, by="alice.near").ok
    assert not chain.call(
        N, "anchor", {"head_hash": H1, "entries": 1, "note": "x" * 300}, by="alice.near"
    ).ok
