"""Meta-transactions (NEP-366) refused as nearcore refuses them, through py-near over HTTP.

runtime/runtime/src/actions.rs (apply_delegate_action): a bad signature, a relay to another
account than the sender, a nonce at or past the bound; runtime/runtime/src/verifier.rs: at most
one delegate action per transaction. A refused delegate action changes nothing but the relayer's
gas.
"""

from __future__ import annotations

import asyncio

from nacl.signing import SigningKey
from py_near import transactions

from tests.devnet.helpers import NEAR, balance, near_account


async def _delegate(net, signer_key: bytes | None = None, nonce: int | None = None):
    """alice's delegate action sending 1 NEAR to bob.devnet, signed by her key (or another)."""
    alice = await near_account(net, "alice.devnet")
    model = await alice.create_delegate_action(
        [transactions.create_transfer_action(NEAR)], "bob.devnet"
    )
    await alice.shutdown()
    if nonce is not None:
        model.nonce = nonce
    seed = signer_key if signer_key is not None else alice._signers[0][:32]
    signature = SigningKey(seed).sign(model.nep461_hash).signature
    return transactions.create_signed_delegate(model.near_delegate_action, signature)


def _kind(outcome) -> object:
    return outcome.status["Failure"]["ActionError"]["kind"]


def test_refused_delegate_actions(net):
    async def scenario():
        relayer = await near_account(net, "caller.devnet")
        forged = await _delegate(net, signer_key=SigningKey.generate().encode())
        bad_signature = await relayer.sign_and_submit_tx("alice.devnet", [forged])
        honest = await _delegate(net)
        elsewhere = await relayer.sign_and_submit_tx("bob.devnet", [honest])
        far = await _delegate(net, nonce=10**15)
        too_large = await relayer.sign_and_submit_tx("alice.devnet", [far])
        await relayer.shutdown()
        return bad_signature, elsewhere, too_large

    before = balance(net, "bob.devnet")
    bad_signature, elsewhere, too_large = asyncio.run(scenario())
    assert _kind(bad_signature) == "DelegateActionInvalidSignature"
    assert _kind(elsewhere) == {
        "DelegateActionSenderDoesNotMatchTxReceiver": {
            "sender_id": "alice.devnet",
            "receiver_id": "bob.devnet",
        }
    }
    nonce_error = _kind(too_large)["DelegateActionNonceTooLarge"]
    assert nonce_error["delegate_nonce"] == 10**15
    assert nonce_error["upper_bound"] % 1_000_000 == 0
    assert balance(net, "bob.devnet") == before


def test_one_delegate_action_per_transaction(net):
    async def scenario():
        relayer = await near_account(net, "caller.devnet")
        first = await _delegate(net)
        try:
            await relayer.sign_and_submit_tx("alice.devnet", [first, first])
        except Exception as exc:  # py-near raises on the node's refusal
            return exc
        finally:
            await relayer.shutdown()
        return None

    refused = asyncio.run(scenario())
    assert refused is not None and "DelegateActionMustBeOnlyOne" in str(refused)


def test_relayed_transfer_is_paid_by_the_relayer(net):
    async def scenario():
        relayer = await near_account(net, "caller.devnet")
        signed = await _delegate(net)
        outcome = await relayer.sign_and_submit_tx("alice.devnet", [signed])
        await relayer.shutdown()
        return outcome

    before = {a: balance(net, a) for a in ("alice.devnet", "bob.devnet", "caller.devnet")}
    outcome = asyncio.run(scenario())
    assert outcome.status == {"SuccessValue": ""}
    assert balance(net, "alice.devnet") == before["alice.devnet"]
    assert balance(net, "bob.devnet") == before["bob.devnet"] + NEAR
    assert balance(net, "caller.devnet") < before["caller.devnet"] - NEAR  # and the gas
