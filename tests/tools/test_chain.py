"""The chain client against an in-process node: failures are typed, nothing is sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.fake_chain import FakeChain, encode_view
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.errors import (
    OutcomeUnknownError,
    TransactionFailedError,
    TransientRpcError,
    UnknownAccountError,
    ViewCallError,
)
from tools.keypair import KeyPair
from tools.keys import Credentials
from tools.outcome import parse_outcome
from tools.rpc_errors import classify_rpc_error

ALICE, BOB = "alice.test.near", "bob.test.near"
PANIC = "Smart contract panicked: E68: slippage error"


def run(
    scenario: Callable[[FakeChain, ChainClient, Credentials], Awaitable[Any]], **node_kwargs: Any
) -> Any:
    async def main() -> Any:
        key = KeyPair.generate()
        node = FakeChain(
            balances={ALICE: 10**25, BOB: 0}, nonces={(ALICE, key.public_key): 7}, **node_kwargs
        )
        chain = node.client(timeout_s=5, retries=3, backoff_s=0.01)
        try:
            return await scenario(node, chain, Credentials(ALICE, key))
        finally:
            await chain.close()

    return asyncio.run(main())


def transfer(amount: int) -> TransactionSpec:
    return TransactionSpec(
        signer_id=ALICE, receiver_id=BOB, actions=(TransferSpec(deposit=amount),)
    )


def test_send_success_increments_nonce_once() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        outcome = await chain.send(creds, transfer(5))
        assert outcome.ok and outcome.tx_hash in node.txs
        assert node.balances[BOB] == 5 and node.applied == 1
        assert node.nonces[(ALICE, creds.public_key)] == 8

    run(scenario)


@pytest.mark.parametrize("fault", ["lose", "timeout", "drop", "routed"])
def test_transient_fault_neither_loses_nor_duplicates(fault: str) -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.faults = [fault]
        outcome = await chain.send(creds, transfer(5))
        assert outcome.ok
        assert node.applied == 1, "applied exactly once"
        assert node.balances[BOB] == 5
        assert node.nonces[(ALICE, creds.public_key)] == 8, "one nonce used"
        assert len(node.txs) == 1 and outcome.tx_hash in node.txs

    run(scenario)


def test_resend_refused_with_invalid_nonce_is_found_by_hash() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.faults = ["lose", "lose"]
        outcome = await chain.send(creds, transfer(5))
        assert outcome.ok and node.applied == 1 and node.balances[BOB] == 5

    run(scenario, resend_gives_invalid_nonce=True)


def test_lost_tx_whose_nonce_was_taken_is_signed_again_once() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.faults = ["steal"]
        outcome = await chain.send(creds, transfer(5))
        assert outcome.ok and node.applied == 1 and node.balances[BOB] == 5
        assert node.nonces[(ALICE, creds.public_key)] == 9  # 8 taken by the other client

    run(scenario)


def test_stale_nonce_is_resynced_and_signed_again() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.stale_once = True
        outcome = await chain.send(creds, transfer(5))
        assert outcome.ok and node.applied == 1 and node.submissions == 2
        assert node.nonces[(ALICE, creds.public_key)] == 8

    run(scenario)


def test_node_down_after_send_reports_unknown_outcome_without_resigning() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.faults = ["lose"]
        original = node.apply

        def apply_then_go_down(signed: bytes) -> dict:
            result = original(signed)
            node.down = True
            return result

        node.apply = apply_then_go_down  # type: ignore[method-assign]
        with pytest.raises(OutcomeUnknownError) as info:
            await chain.send(creds, transfer(5))
        assert info.value.details["tx_hash"] in node.txs
        assert node.applied == 1 and node.submissions == 1

    run(scenario)


def test_failed_receipt_raises_with_outcome() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        with pytest.raises(TransactionFailedError) as info:
            await chain.send(creds, transfer(5))
        assert info.value.outcome is not None and not info.value.outcome.ok
        assert "boom ✗" in info.value.message
        outcome = await chain.send(creds, transfer(5), raise_on_failure=False)
        assert not outcome.ok and outcome.failed_receipts[0].error == "boom ✗"

    run(scenario, fail_receipt=True)


def test_concurrent_sends_on_one_key_are_serialised() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        outcomes = await asyncio.gather(*(chain.send(creds, transfer(i + 1)) for i in range(5)))
        assert all(o.ok for o in outcomes)
        assert node.applied == 5 and node.balances[BOB] == 15
        assert node.nonces[(ALICE, creds.public_key)] == 12

    run(scenario)


def test_view_decodes_utf8_and_reports_errors() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.view_results["get_text"] = encode_view({"label": "猫 🐈 café"})
        assert await chain.view("c.test.near", "get_text") == {"label": "猫 🐈 café"}
        with pytest.raises(ViewCallError):
            await chain.view("c.test.near", "missing")
        with pytest.raises(UnknownAccountError):
            await chain.view_account("nobody.test.near")
        assert not await chain.account_exists("nobody.test.near")

    run(scenario)


def test_reads_retry_then_give_up_on_a_dead_node() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        node.down = True
        with pytest.raises(TransientRpcError):
            await chain.view_account(ALICE)

    run(scenario)


def test_classify_errors() -> None:
    nonce = classify_rpc_error(
        {
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION"},
            "data": {
                "TxExecutionError": {
                    "InvalidTxError": {"InvalidNonce": {"tx_nonce": 1, "ak_nonce": 9}}
                }
            },
        }
    )
    assert getattr(nonce, "ak_nonce", None) == 9
    assert isinstance(classify_rpc_error({"cause": {"name": "TIMEOUT_ERROR"}}), TransientRpcError)
    # no "data" key: py-near would raise KeyError here
    assert isinstance(
        classify_rpc_error(
            {"cause": {"name": "UNKNOWN_ACCOUNT", "info": {"requested_account_id": "x.near"}}}
        ),
        UnknownAccountError,
    )


def test_parse_outcome_detects_failed_receipt_under_successful_status() -> None:
    outcome = parse_outcome(
        {
            "status": {"SuccessValue": "IjAi"},  # "0"
            "transaction": {"hash": "h", "signer_id": ALICE, "receiver_id": "t"},
            "transaction_outcome": {"id": "h", "outcome": {"tokens_burnt": "3"}},
            "receipts_outcome": [
                {
                    "id": "a",
                    "outcome": {
                        "status": {
                            "Failure": {
                                "ActionError": {
                                    "kind": {"FunctionCallError": {"ExecutionError": PANIC}}
                                }
                            }
                        },
                        "executor_id": "ex",
                        "tokens_burnt": "2",
                    },
                },
                {"id": "b", "outcome": {"status": {"SuccessValue": ""}, "executor_id": "t"}},
            ],
        }
    )
    assert outcome.status_ok and not outcome.ok
    assert outcome.json_value() == "0"
    assert outcome.first_error() == "E68: slippage error"
    assert outcome.tokens_burnt == 5


def test_on_signed_sees_every_hash_before_it_is_sent() -> None:
    async def scenario(node: FakeChain, chain: ChainClient, creds: Credentials) -> None:
        journal: list[tuple[str, bool]] = []
        node.faults = ["steal"]
        outcome = await chain.send(
            creds,
            transfer(5),
            on_signed=lambda s: journal.append((s.tx_hash, s.tx_hash in node.txs)),
        )
        assert len(journal) == 2, "signed again only after the first was proven dead"
        assert all(not known for _, known in journal), "journaled before the node had it"
        assert journal[-1][0] == outcome.tx_hash and journal[0][0] not in node.txs

    run(scenario)
