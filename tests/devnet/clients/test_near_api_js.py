"""near-api-js (npm) drives the devnet; each assertion is nearcore's behaviour, with its source.

The scenarios live in js/scenario.mjs; they print what each step answered and these tests judge
it. Responses also pass @near-js/jsonrpc-client's validated functions (the zod schemas of
@near-js/jsonrpc-types).
"""

from __future__ import annotations

import pytest

from devnet.server import RunningDevnet
from tests.devnet.clients.conftest import run_scenario

pytestmark = [pytest.mark.node, pytest.mark.slow]

NEAR = 10**24
STORAGE_PRICE = 10**19
# runtime/runtime/src/access_keys.rs: a key costs borsh(public key) + borsh(access key) + 40
FULL_ACCESS_KEY_BYTES = 33 + 9 + 40
NEW_ACCOUNT_BYTES = 100 + FULL_ACCESS_KEY_BYTES  # num_bytes_account + one full-access key


def test_accounts_keys_transfers_and_tokens(node_project, fresh_devnet: RunningDevnet):
    seen = run_scenario(node_project, "accounts_and_tokens", fresh_devnet)

    assert seen["create_status"] == {"SuccessValue": ""}
    assert seen["sub_view"]["storage_usage"] == NEW_ACCOUNT_BYTES == 182
    assert seen["sub_state"]["storageUsage"] == 182
    assert int(seen["sub_state"]["balance"]["usedOnStorage"]) == 182 * STORAGE_PRICE
    assert seen["keys_after_add"] == 2
    # a function-call key for usdc.test.near allowing ft_transfer with an allowance:
    # nonce 8, tag 1, Some(u128) 17, receiver 4+14, one method name 4 + (4+11)
    fc_key_bytes = 33 + (8 + 1 + 17 + (4 + 14) + (4 + 4 + 11)) + 40
    assert seen["storage_after_add"] == 182 + fc_key_bytes
    assert seen["keys_after_delete"] == 1
    assert seen["transfer_status"] == {"SuccessValue": ""}
    assert int(seen["bob_gain"]) == NEAR // 10

    assert seen["ft_transfer_status"] == {"SuccessValue": ""}
    assert seen["sub_ft"] == "2500000"
    # the receiver has no code: ft_on_transfer fails, ft_resolve_transfer refunds it all
    assert seen["transfer_call_result"] == "0"
    assert seen["alice_ft_after"] == seen["alice_ft_before"]
    assert seen["bob_ft_after"] == "0"
    no_code = {"CompilationError": {"CodeDoesNotExist": {"account_id": "bob.test.near"}}}
    assert seen["transfer_call_failures"] == [
        {"Failure": {"ActionError": {"index": 0, "kind": {"FunctionCallError": no_code}}}}
    ]

    assert seen["status_matches"] is True
    assert seen["status_receipts"] == seen["transfer_call_receipts"]
    assert seen["receipt"]["receipt_id"] == seen["receipt_id"]
    for check in ("validated_tx", "validated_tx_status", "validated_receipt"):
        assert "ok" in seen[check], (check, seen[check])


def test_nearcore_refusals(node_project, fresh_devnet: RunningDevnet):
    seen = run_scenario(node_project, "errors", fresh_devnet)

    # runtime/runtime/src/verifier.rs: nonce >= height x ACCESS_KEY_NONCE_RANGE_MULTIPLIER
    assert seen["nonce_too_large_client"]["error"]["class"] == "NonceTooLargeError"
    error = seen["nonce_too_large"]["body"]["error"]
    assert error["cause"] == {"name": "INVALID_TRANSACTION", "info": {}}
    refused = error["data"]["TxExecutionError"]["InvalidTxError"]["NonceTooLarge"]
    assert refused["tx_nonce"] == 10**15
    assert refused["upper_bound"] % 1_000_000 == 0 and refused["upper_bound"] < 10**15
    assert seen["nonce_too_large_schema"] is None

    # 0.001 NEAR covers no storage; up to 770 bytes needs none (NEP-448): 182 + 7 keys x 82 =
    # 756 bytes is free, the eighth key (838 bytes) must be paid for
    assert seen["poor_keys_added"] == 7
    assert seen["poor_refusal"]["class"] == "LackBalanceForStateActionError"
    assert seen["poor_view"]["storage_usage"] == 182 + 7 * FULL_ACCESS_KEY_BYTES == 756

    # state_viewer's call_function runs the VM, which finds no code or a guest panic
    assert seen["no_code"]["body"]["result"]["error"] == (
        "wasm execution failed with error: "
        'CompilationError(CodeDoesNotExist { account_id: "bob.test.near" })'
    )
    assert seen["no_code_client"]["error"]["class"] == "ContractCodeDoesNotExistError"
    assert seen["panic"]["body"]["result"]["error"] == (
        "wasm execution failed with error: "
        'HostError(GuestPanic { panic_msg: "Failed to deserialize input from JSON." })'
    )

    # chain/jsonrpc/src/api/transactions.rs: sender_account_id is required, wait_until by name
    for key in ("tx_without_sender", "tx_positional_hash_only", "send_tx_positional_wait"):
        assert seen[key]["body"]["error"]["cause"]["name"] == "PARSE_ERROR", seen[key]
        assert seen[key]["body"]["error"]["code"] == -32700
    assert "result" in seen["tx_with_sender"]["body"]
    assert seen["send_tx_schema"] is None


def test_surface_validates_against_the_published_schemas(node_project, fresh_devnet: RunningDevnet):
    seen = run_scenario(node_project, "surface", fresh_devnet)
    for method in (
        "status",
        "block_final",
        "block_by_height",
        "chunk_by_block",
        "chunk_by_hash",
        "gas_price",
        "protocol_config",
        "validators",
        "health",
        "account_changes",
        "access_key_changes",
        "changes_in_block",
        "view_account",
    ):
        assert "ok" in seen[method], (method, seen[method])
    assert seen["tx_hash"] in seen["chunk_tx_hashes"]
    # the transaction charges alice in its block; its receipt credits bob in a later one
    assert seen["heights"]["receipt"] > seen["heights"]["tx"]
    changes = seen["account_changes"]["ok"]["changes"]
    assert [(c["change"]["accountId"], c["cause"]["type"]) for c in changes] == [
        ("alice.test.near", "transaction_processing")
    ]
    later = seen["receipt_account_changes"]["ok"]["changes"]
    assert ("bob.test.near", "receipt_processing") in [
        (c["change"]["accountId"], c["cause"]["type"]) for c in later
    ]
    key_changes = seen["key_changes_client"]["changes"]
    assert [c["change"]["access_key"]["nonce"] for c in key_changes] == [seen["tx_nonce"]]
    config = seen["protocol_config"]["ok"]["runtimeConfig"]
    assert config["storageAmountPerByte"] == str(STORAGE_PRICE)
    assert seen["state"]["storageUsage"] == 182
    balance = seen["state"]["balance"]
    assert int(balance["available"]) == int(balance["total"]) - 182 * STORAGE_PRICE
    assert [v["account_id"] for v in seen["validators_client"]["current_validators"]] == ["devnet"]


def test_meta_transaction_relayed(node_project, fresh_devnet: RunningDevnet):
    """NEP-366 through near-api-js's createSignedMetaTransaction and relayMetaTransaction."""
    seen = run_scenario(node_project, "meta_transaction", fresh_devnet)
    assert seen["status"] == {"SuccessValue": ""}
    assert seen["receipts"] == 2  # the delegate action's receipt, then the inner transfer
    assert len(set(seen["receipt_blocks"])) == 2  # one hop per block
    assert int(seen["alice_change"]) == 0 and int(seen["carol_change"]) == NEAR
    assert seen["replay"]["error"]["class"] == "DelegateActionInvalidNonceActionError"
    assert seen["expired"]["error"]["class"] == "DelegateActionExpiredActionError"
    assert int(seen["carol_after_expired"]) == NEAR
