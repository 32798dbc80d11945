"""near-kit (PyPI, pinned in the test extra) drives the devnet; assertions are nearcore's.

near-kit classifies nearcore's answers into typed errors, so a devnet answer of another shape
shows here as the wrong class or message.
"""

from __future__ import annotations

import pytest

from devnet.server import RunningDevnet
from tests.devnet.helpers import secret_of

near = pytest.importorskip("near", reason="near-kit (the test extra) is not installed")
from near import actions  # noqa: E402
from near.errors import ContractPanicError, InsufficientBalanceError, RpcError  # noqa: E402
from near.keys import generate_key  # noqa: E402

pytestmark = pytest.mark.slow

NEAR = 10**24


def _client(devnet: RunningDevnet, account_id: str, secret: str | None = None):
    return near.Near(
        rpc_url=devnet.rpc_url,
        account_id=account_id,
        private_key=secret or secret_of(devnet, account_id),
        retries=0,
    )


def test_accounts_transfers_tokens_and_status(fresh_devnet: RunningDevnet):
    alice = _client(fresh_devnet, "alice.test.near")
    try:
        assert alice.account().storage_usage == 182  # 100 + one full-access key (82)

        key = generate_key()
        created = alice.send_transaction(
            "kit.alice.test.near",
            [
                actions.create_account(),
                actions.transfer("1 NEAR"),
                actions.add_full_access_key(key.public_key),
            ],
        )
        assert created.status == {"SuccessValue": ""}
        assert alice.account("kit.alice.test.near").storage_usage == 182

        bob_before = int(alice.account("bob.test.near").amount)
        sent = alice.send("bob.test.near", "0.5 NEAR")
        assert int(alice.account("bob.test.near").amount) == bob_before + NEAR // 2

        # ft_transfer with register=True batches storage_deposit (a call with a deposit)
        alice.ft_transfer("usdc.test.near", "kit.alice.test.near", "2.5", register=True)
        assert str(alice.ft_balance("usdc.test.near", "kit.alice.test.near")) == "2.5 USDC"

        # the receiver has no code: its ft_on_transfer fails and the token refunds it all
        before = alice.ft_balance("usdc.test.near")
        with pytest.raises(ContractPanicError, match="CodeDoesNotExist"):
            alice.ft_transfer_call("usdc.test.near", "bob.test.near", "1", "", register=True)
        assert alice.ft_balance("usdc.test.near") == before
        assert str(alice.ft_balance("usdc.test.near", "bob.test.near")) == "0 USDC"

        status = alice.transaction_status(sent.transaction["hash"], wait_until="FINAL")
        assert status.status == {"SuccessValue": ""}
    finally:
        alice.close()


def test_nearcore_errors_as_near_kit_classifies_them(fresh_devnet: RunningDevnet):
    alice = _client(fresh_devnet, "alice.test.near")
    try:
        with pytest.raises(ContractPanicError) as no_code:
            alice.view("bob.test.near", "anything")
        assert 'CompilationError(CodeDoesNotExist { account_id: "bob.test.near" })' in str(
            no_code.value
        )
        with pytest.raises(ContractPanicError) as panic:
            alice.view("usdc.test.near", "ft_balance_of", {})
        assert 'HostError(GuestPanic { panic_msg: "Failed to deserialize input from JSON." })' in (
            str(panic.value)
        )
        with pytest.raises(InsufficientBalanceError):
            alice.send("bob.test.near", "1000 NEAR")
        # chain/jsonrpc/src/api/transactions.rs: a status request names its sender
        with pytest.raises(RpcError) as parse:
            alice.rpc("tx", {"tx_hash": "11111111111111111111111111111111"})
    finally:
        alice.close()
    assert "PARSE_ERROR" in str(parse.value), parse.value


def test_meta_transactions_are_relayed_as_nearcore_does(fresh_devnet: RunningDevnet):
    """NEP-366: alice signs a delegate action, bob relays it and pays; a replay is refused with
    nearcore's ActionErrorKind (runtime/runtime/src/actions.rs)."""
    alice = _client(fresh_devnet, "alice.test.near")
    bob = _client(fresh_devnet, "bob.test.near")
    try:
        before = {a: int(alice.balance(a)) for a in ("alice.test.near", "carol.test.near")}
        signed = alice.sign_delegate("carol.test.near", [actions.transfer("1 NEAR")])
        relayed = bob.send_delegate(signed, wait_until="FINAL")
        assert relayed.status == {"SuccessValue": ""}
        assert int(alice.balance()) == before["alice.test.near"]  # the relayer paid it all
        assert int(alice.balance("carol.test.near")) == before["carol.test.near"] + NEAR
        with pytest.raises(ContractPanicError, match="DelegateActionInvalidNonce"):
            bob.send_delegate(signed, wait_until="FINAL")
        # (an expired one is in the near-api-js test: near-kit 1.3.0 cannot read a failure
        # whose kind is a plain string, as nearcore writes DelegateActionExpired)
    finally:
        alice.close()
        bob.close()


def test_receipts_run_in_later_blocks_and_the_final_head_trails(fresh_devnet: RunningDevnet):
    """nearcore's timing as near-kit reads it: a call's receipt runs in the block after its
    transaction's, the unused gas comes back (executed on the signer) in a later block still,
    and ``finality: final`` names a block two below the optimistic head."""
    alice = _client(fresh_devnet, "alice.test.near")
    try:
        moved = alice.ft_transfer(
            "usdc.test.near", "bob.test.near", "1", register=True, wait_until="FINAL"
        )
        assert moved.final_execution_status == "FINAL"

        def height(block_hash: str) -> int:
            return alice.rpc("block", {"block_id": block_hash})["header"]["height"]

        included = height(moved.transaction_outcome.block_hash)
        call, *later = moved.receipts_outcome
        assert call.outcome["executor_id"] == "usdc.test.near"
        assert height(call.block_hash) == included + 1  # one hop: the next block
        refund = later[-1]  # the last receipt of the call: its gas refund to the signer
        assert refund.outcome["executor_id"] == "alice.test.near"
        assert height(refund.block_hash) > height(call.block_hash)

        optimistic = alice.rpc("block", {"finality": "optimistic"})["header"]
        final = alice.rpc("block", {"finality": "final"})["header"]
        assert final["height"] == optimistic["height"] - 2
        assert optimistic["last_final_block"] == final["hash"]
    finally:
        alice.close()
