"""Decoding the borsh bytes py-near signs, for every action kind, and refusing anything else."""

from __future__ import annotations

import base64
import functools
import hashlib
import time

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_near import transactions
from py_near_primitives import DeleteAccountAction

from devnet.borsh import BorshError
from devnet.genesis import Genesis, GenesisAccount, SetupCall
from devnet.runtime import Runtime, SetupCallFailed
from devnet.transaction import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FunctionCall,
    FunctionCallPermission,
    Stake,
    Transfer,
    decode_signed_transaction,
    signature_valid,
)
from tests.devnet.sample_contracts import SAMPLE_CONTRACTS
from tools.keypair import KeyPair


def test_decodes_every_action_py_near_builds():
    pair = KeyPair.generate()
    other = KeyPair.generate()
    secret = base58.b58decode(pair.secret_key[8:])
    actions = [
        transactions.create_create_account_action(),
        transactions.create_deploy_contract_action(b"pycontract:test_counter"),
        transactions.create_function_call_action("go", b'{"a":1}', 5 * 10**12, 7),
        transactions.create_transfer_action(2**100),
        transactions.create_staking_action(3, other.public_bytes),
        transactions.create_full_access_key_action(other.public_key),
        transactions.create_function_call_access_key_action(
            other.public_key, 10**20, "c.near", ["a", "b"]
        ),
        transactions.create_delete_access_key_action(other.public_key),
        DeleteAccountAction("ben.near"),
    ]
    block = hashlib.sha256(b"block").digest()
    encoded = transactions.sign_and_serialize_transaction(
        "me.near", secret, "you.near", 42, actions, block
    )
    expected_hash = transactions.calc_trx_hash("me.near", secret, "you.near", 42, actions, block)
    tx = decode_signed_transaction(base64.b64decode(encoded))
    assert base58.b58encode(tx.hash).decode() == expected_hash
    assert signature_valid(tx)
    assert (tx.signer_id, tx.receiver_id, tx.nonce, tx.block_hash) == (
        "me.near",
        "you.near",
        42,
        block,
    )
    kinds = [type(a) for a in tx.actions]
    assert kinds == [
        CreateAccount,
        DeployContract,
        FunctionCall,
        Transfer,
        Stake,
        AddKey,
        AddKey,
        DeleteKey,
        DeleteAccount,
    ]
    assert tx.actions[2] == FunctionCall("go", b'{"a":1}', 5 * 10**12, 7)
    assert tx.actions[3].deposit == 2**100
    assert tx.actions[6].access_key.permission == FunctionCallPermission(
        10**20, "c.near", ("a", "b")
    )
    assert tx.actions[8].beneficiary_id == "ben.near"


def test_tampering_breaks_signature_and_garbage_is_refused():
    pair = KeyPair.generate()
    secret = base58.b58decode(pair.secret_key[8:])
    raw = base64.b64decode(
        transactions.sign_and_serialize_transaction(
            "me.near", secret, "you.near", 1, [transactions.create_transfer_action(5)], bytes(32)
        )
    )
    tampered = bytearray(raw)
    tampered[-70] ^= 1  # inside the transfer amount
    assert not signature_valid(decode_signed_transaction(bytes(tampered)))
    for bad in (raw[:-1], raw + b"\0", b"", b"\xff" * 10, raw[:20]):
        with pytest.raises(BorshError):
            decode_signed_transaction(bad)


def test_failing_setup_call_stops_genesis():
    genesis = Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=[
            GenesisAccount(
                account_id="owner.devnet",
                balance=10**25,
                secret_keys=[KeyPair.generate().secret_key],
            ),
            GenesisAccount(
                account_id="boom.devnet", balance=10**25, secret_keys=[], code_name="test_panicker"
            ),
        ],
        setup_calls=[
            SetupCall(
                signer_id="owner.devnet", receiver_id="boom.devnet", method_name="boom", args={}
            )
        ],
    )
    with pytest.raises(SetupCallFailed, match="boom"):
        Runtime(genesis, SAMPLE_CONTRACTS)


def test_setup_calls_apply_with_deposit():
    genesis = Genesis(
        genesis_time_ns=time.time_ns(),
        accounts=[
            GenesisAccount(
                account_id="owner.devnet",
                balance=10**25,
                secret_keys=[KeyPair.generate().secret_key],
            ),
            GenesisAccount(
                account_id="count.devnet", balance=10**25, secret_keys=[], code_name="test_counter"
            ),
        ],
        setup_calls=[
            SetupCall(
                signer_id="owner.devnet",
                receiver_id="count.devnet",
                method_name="donate",
                args={},
                deposit=10**24,
            )
        ],
    )
    rt = Runtime(genesis, SAMPLE_CONTRACTS)
    assert rt.accounts["owner.devnet"].amount == 9 * 10**24
    assert rt.accounts["count.devnet"].amount == 11 * 10**24
    assert rt.accounts["count.devnet"].storage["donated"] == str(10**24)


@functools.cache
def _sample_raw() -> bytes:
    pair = KeyPair.generate()
    secret = base58.b58decode(pair.secret_key[8:])
    return base64.b64decode(
        transactions.sign_and_serialize_transaction(
            "me.near",
            secret,
            "you.near",
            1,
            [
                transactions.create_function_call_action("go", b"{}", 10**12, 0),
                transactions.create_function_call_access_key_action(
                    pair.public_key, None, "c.near", ["m"]
                ),
            ],
            bytes(32),
        )
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0), st.integers(0, 255))
def test_garbage_and_mutations_never_crash_the_decoder(noise, position, byte):
    raw = _sample_raw()
    mutated = bytearray(raw)
    mutated[position % len(raw)] = byte
    for data in (noise, bytes(mutated), raw[: position % len(raw)]):
        try:
            tx = decode_signed_transaction(data)
        except BorshError:
            continue
        assert isinstance(signature_valid(tx), bool)
