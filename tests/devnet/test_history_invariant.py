"""Invariant of the state history: for any run of blocks, the state answered at every height the
window keeps is the state the chain had right after that block; older heights are refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devnet import gas
from devnet.history import StateGarbageCollected
from devnet.runtime import Runtime
from devnet.transaction import (
    ED25519,
    AccessKeySpec,
    AddKey,
    FunctionCall,
    PublicKey,
    Signature,
    SignedTransaction,
    Transfer,
)
from tests.devnet.helpers import small_genesis
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS

PEOPLE = ("alice.devnet", "bob.devnet")
WATCHED = (*PEOPLE, "counter.devnet", "panicker.devnet")

operation = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(["pay", "count", "panic", "key"]),
    st.integers(min_value=1, max_value=10**24),
)


def _state(acc: Any) -> Any:
    if acc is None:
        return None
    keys = {pk: (k.nonce, k.allowance) for pk, k in acc.keys.items()}
    return (acc.amount, acc.locked, acc.storage_usage(), keys, dict(acc.storage))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=st.lists(st.lists(operation, min_size=1, max_size=3), min_size=1, max_size=12),
    window=st.integers(min_value=0, max_value=6),
)
def test_every_kept_height_answers_the_state_after_that_block(blocks, window):
    rt = Runtime(small_genesis(), SAMPLE_CONTRACTS, history_blocks=window)
    keys = {a: next(iter(rt.accounts[a].keys)) for a in PEOPLE}
    nonces = dict.fromkeys(PEOPLE, 1)
    seen = {rt.head.height: {a: _state(rt.accounts.get(a)) for a in WATCHED}}
    serial = 0
    for ops in blocks:
        txs = []
        for signer, kind, amount in ops:
            serial += 1
            other = PEOPLE[1 - PEOPLE.index(signer)]
            if kind == "pay":
                receiver, actions = other, (Transfer(amount),)
            elif kind == "count":
                args = b'{"by":%d}' % (amount % 7)
                receiver, actions = (
                    "counter.devnet",
                    (FunctionCall("increment", args, gas.TGAS * 20, 0),),
                )
            elif kind == "panic":
                args = b'{"note":"x"}'
                receiver = "panicker.devnet"
                actions = (FunctionCall("boom", args, gas.TGAS * 20, amount % 1000),)
            else:
                new = PublicKey(ED25519, hashlib.sha256(b"key%d" % serial).digest())
                receiver, actions = signer, (AddKey(new, AccessKeySpec(0, "FullAccess")),)
            tx_hash = hashlib.sha256(b"tx%d" % serial).digest()
            signature = Signature(ED25519, bytes(64))
            txs.append(
                SignedTransaction(
                    signer,
                    keys[signer],
                    nonces[signer],
                    receiver,
                    rt.head.hash,
                    actions,
                    signature,
                    tx_hash,
                    b"",
                )
            )
            nonces[signer] += 1
        block, _ = rt.apply_block(rt.head.timestamp_ns + 1, txs, verify_signatures=False)
        assert block is not None
        seen[block.height] = {a: _state(rt.accounts.get(a)) for a in WATCHED}
    while rt.incoming:  # receipts on their way carry value (deposits, gas) no account holds yet
        block, _ = rt.apply_block(rt.head.timestamp_ns + 1, [], verify_signatures=False)
        seen[block.height] = {a: _state(rt.accounts.get(a)) for a in WATCHED}
    head = rt.head.height
    for height, states in seen.items():
        block = rt.block_at(height)
        assert block is not None
        if height < head - window:
            with pytest.raises(StateGarbageCollected):
                rt.account_at("alice.devnet", block)
            continue
        for account_id, expected in states.items():
            assert _state(rt.account_at(account_id, block)) == expected, (height, account_id)
        supply = sum(a.amount + a.locked for a in rt.accounts.values()) if height == head else None
        if supply is not None:
            assert block.total_supply == supply
