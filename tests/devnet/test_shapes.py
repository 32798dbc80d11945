"""Every response validates against nearcore's published schema (near_jsonrpc_models)."""

from __future__ import annotations

import base64
import json

import base58
import near_jsonrpc_models as m
from py_near import transactions

from tests.devnet.helpers import NEAR, http_status, rpc, secret_of


def _signed_tx(net, account_id, receiver, actions):
    secret = secret_of(net, account_id)
    pk = base58.b58decode(secret.split(":")[1])
    public = "ed25519:" + base58.b58encode(pk[32:]).decode()
    key = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "account_id": account_id,
            "public_key": public,
            "finality": "optimistic",  # the final head lags: a nonce just used may not be final
        },
    )["result"]
    head = rpc(net, "status", [])["result"]["sync_info"]["latest_block_hash"]
    return transactions.sign_and_serialize_transaction(
        account_id, pk, receiver, key["nonce"] + 1, actions, base58.b58decode(head)
    )


def _ok(model, response, variant=None):
    parsed = model.model_validate(response)
    assert "result" in response, response
    if variant is not None:
        variant.model_validate(response["result"])
    return parsed


def _err(model, response):
    model.model_validate(response)
    error = response["error"]
    assert {"name", "cause", "code", "message", "data"} <= set(error)
    return error


def test_status_block_gas_price_shapes(net):
    _ok(m.JsonRpcResponseForRpcStatusResponseAndRpcStatusError, rpc(net, "status", []))
    for params in ({"finality": "final"}, [1], {"block_id": 1}, {"sync_checkpoint": "genesis"}):
        _ok(m.JsonRpcResponseForRpcBlockResponseAndRpcBlockError, rpc(net, "block", params))
    head = rpc(net, "block", {"finality": "final"})["result"]["header"]["hash"]
    _ok(m.JsonRpcResponseForRpcBlockResponseAndRpcBlockError, rpc(net, "block", [head]))
    for params in ([None], {"block_id": None}, [1]):
        response = rpc(net, "gas_price", params)
        _ok(m.JsonRpcResponseForRpcGasPriceResponseAndRpcGasPriceError, response)
        assert response["result"]["gas_price"] == "100000000"
    _err(m.JsonRpcResponseForRpcBlockResponseAndRpcBlockError, rpc(net, "block", [10**9]))


def test_query_shapes(net):
    model = m.JsonRpcResponseForRpcQueryResponseAndRpcQueryError
    secret = secret_of(net, "alice.devnet")
    public = "ed25519:" + base58.b58encode(base58.b58decode(secret[8:])[32:]).decode()
    base = {"account_id": "alice.devnet", "finality": "final"}
    _ok(
        model,
        rpc(net, "query", {"request_type": "view_account", **base}),
        m.RpcQueryResponseAccountView,
    )
    for key_text in (public, public[len("ed25519:") :]):
        response = rpc(
            net, "query", {"request_type": "view_access_key", "public_key": key_text, **base}
        )
        _ok(model, response, m.RpcQueryResponseAccessKeyView)
        assert set(response["result"]) == {"nonce", "permission", "block_height", "block_hash"}
    listed = rpc(net, "query", {"request_type": "view_access_key_list", **base})
    _ok(model, listed, m.RpcQueryResponseAccessKeyList)
    assert set(listed["result"]["keys"][0]) == {"public_key", "access_key"}
    call = {
        "request_type": "call_function",
        "account_id": "counter.devnet",
        "method_name": "get",
        "args_base64": base64.b64encode(b"{}").decode(),
    }
    for ref in ({"finality": "optimistic"}, {"block_id": 1}):
        response = rpc(net, "query", {**call, **ref})
        _ok(model, response, m.RpcQueryResponseCallResult)
        assert set(response["result"]) == {"result", "logs", "block_height", "block_hash"}
    _ok(
        model,
        rpc(
            net,
            "query",
            {
                "request_type": "view_state",
                "account_id": "counter.devnet",
                "prefix_base64": "",
                "finality": "final",
            },
        ),
        m.RpcQueryResponseViewStateResult,
    )
    _ok(
        model,
        rpc(
            net,
            "query",
            {"request_type": "view_code", "account_id": "counter.devnet", "finality": "final"},
        ),
        m.RpcQueryResponseContractCodeView,
    )
    unknown = _err(
        model,
        rpc(
            net,
            "query",
            {"request_type": "view_account", "account_id": "ghost.devnet", "finality": "final"},
        ),
    )
    assert unknown["cause"]["name"] == "UNKNOWN_ACCOUNT"
    invalid = _err(
        model,
        rpc(
            net,
            "query",
            {"request_type": "view_account", "account_id": "Bad..Id", "finality": "final"},
        ),
    )
    assert invalid["cause"]["name"] == "INVALID_ACCOUNT"
    _err(
        model,
        rpc(
            net,
            "query",
            {"request_type": "view_account", "account_id": "alice.devnet", "block_id": 10**9},
        ),
    )


def test_unknown_access_key_is_a_result_holding_error(net):
    stranger = "ed25519:" + base58.b58encode(bytes(range(32))).decode()
    response = rpc(
        net,
        "query",
        {
            "request_type": "view_access_key",
            "finality": "final",
            "account_id": "alice.devnet",
            "public_key": stranger,
        },
    )
    assert "does not exist while viewing" in response["result"]["error"]
    assert isinstance(response["result"]["block_height"], int)


def test_transaction_shapes(net):
    model = m.JsonRpcResponseForRpcTransactionResponseAndRpcTransactionError
    commit = rpc(
        net,
        "broadcast_tx_commit",
        [
            _signed_tx(
                net, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(NEAR)]
            )
        ],
    )
    _ok(model, commit, m.RpcTransactionResponse)
    tx_hash = commit["result"]["transaction"]["hash"]
    for params in (
        [tx_hash, "alice.devnet"],
        {"tx_hash": tx_hash, "sender_account_id": "alice.devnet", "wait_until": "FINAL"},
    ):
        assert _ok(model, rpc(net, "tx", params))
        status = rpc(net, "EXPERIMENTAL_tx_status", params)
        _ok(model, status, m.RpcTransactionResponseFinalExecutionOutcomeWithReceiptView)
        assert status["result"]["receipts"]
    call = transactions.create_function_call_action(
        "relay",
        json.dumps({"target": "panicker.devnet", "method": "boom"}).encode(),
        100 * 10**12,
        0,
    )
    sent = rpc(
        net,
        "send_tx",
        {
            "signed_tx_base64": _signed_tx(net, "alice.devnet", "caller.devnet", [call]),
            "wait_until": "EXECUTED_OPTIMISTIC",
        },
    )
    _ok(model, sent, m.RpcTransactionResponse)
    assert any("Failure" in r["outcome"]["status"] for r in sent["result"]["receipts_outcome"])
    included = rpc(
        net,
        "send_tx",
        {
            "signed_tx_base64": _signed_tx(
                net, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(1)]
            ),
            "wait_until": "INCLUDED",
        },
    )
    # nearcore answers INCLUDED with the outcome so far: the transaction's own, its receipt not
    # yet run (view_client_actor.rs, get_tx_status; chain.rs, get_execution_status: Started)
    _ok(model, included, m.RpcTransactionResponse)
    assert included["result"]["final_execution_status"] == "INCLUDED"
    assert included["result"]["status"] == "Started"
    assert included["result"]["receipts_outcome"] == []
    assert included["result"]["transaction_outcome"]["outcome"]["receipt_ids"]
    async_hash = rpc(
        net,
        "broadcast_tx_async",
        [_signed_tx(net, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(1)])],
    )
    _ok(m.JsonRpcResponseForCryptoHashAndRpcTransactionError, async_hash)
    assert rpc(net, "tx", [async_hash["result"], "alice.devnet"])["result"]["status"] == {
        "SuccessValue": ""
    }
    unseen = "11111111111111111111111111111111"
    lookup = {"tx_hash": unseen, "sender_account_id": "alice.devnet", "wait_until": "NONE"}
    unknown = _err(model, rpc(net, "tx", lookup))
    assert unknown["cause"]["name"] == "UNKNOWN_TRANSACTION"
    # asked to wait for an outcome (the array form waits for EXECUTED_OPTIMISTIC), nearcore
    # polls until its timeout and answers HTTP 408 TIMEOUT_ERROR (cause NOT_OBSERVED)
    net.set_tx_wait(0.2)
    waited = _err(model, rpc(net, "tx", [unseen, "alice.devnet"]))
    assert waited["cause"] == {"name": "TIMEOUT_ERROR", "info": {"cause": "NOT_OBSERVED"}}
    assert http_status(net, "tx", {**lookup, "wait_until": "FINAL"}) == 408
    assert http_status(net, "tx", lookup) == 200
    assert http_status(net, "tx", ["not-a-hash", "alice.devnet"]) == 400
    twice = _signed_tx(net, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(1)])
    first = rpc(net, "broadcast_tx_commit", [twice])
    height = net.runtime.head.height
    again = rpc(net, "broadcast_tx_commit", [twice])  # the same signed tx again: same outcome
    assert again["result"] == first["result"]
    assert net.runtime.head.height == height


def test_invalid_transaction_error_shape(net):
    model = m.JsonRpcResponseForRpcTransactionResponseAndRpcTransactionError
    tx = _signed_tx(
        net, "alice.devnet", "bob.devnet", [transactions.create_transfer_action(10**9 * NEAR)]
    )
    error = _err(model, rpc(net, "broadcast_tx_commit", [tx]))
    assert error["cause"]["name"] == "INVALID_TRANSACTION"
    invalid = error["data"]["TxExecutionError"]["InvalidTxError"]
    m.InvalidTxError.model_validate(invalid)
    assert invalid["NotEnoughBalance"]["signer_id"] == "alice.devnet"


def test_failure_status_matches_schema(net):
    call = transactions.create_function_call_action("boom", b"{}", 30 * 10**12, 0)
    response = rpc(
        net, "broadcast_tx_commit", [_signed_tx(net, "alice.devnet", "panicker.devnet", [call])]
    )
    _ok(
        m.JsonRpcResponseForRpcTransactionResponseAndRpcTransactionError,
        response,
        m.RpcTransactionResponse,
    )
    m.FinalExecutionStatus.model_validate(response["result"]["status"])
    assert "Failure" in response["result"]["status"]


def test_plain_get_status(net):
    import urllib.request

    with urllib.request.urlopen(net.rpc_url + "/status", timeout=10) as response:
        body = json.loads(response.read())
    m.RpcStatusResponse.model_validate(body)
    assert body["chain_id"] == "devnet"


def test_session_devnet_fixture_serves_the_default_genesis(devnet):
    status = rpc(devnet, "status", [])["result"]
    assert status["chain_id"] == devnet.manifest["chain_id"]
    for entry in devnet.manifest["accounts"]:
        view = rpc(
            devnet,
            "query",
            {
                "request_type": "view_account",
                "account_id": entry["account_id"],
                "finality": "final",
            },
        )
        _ok(
            m.JsonRpcResponseForRpcQueryResponseAndRpcQueryError,
            view,
            m.RpcQueryResponseAccountView,
        )


def test_health_and_context_manager(tmp_path):
    from devnet.server import start_devnet
    from tests.devnet.helpers import small_genesis
    from tests.devnet.sample_contracts import SAMPLE_CONTRACTS

    with start_devnet(tmp_path / "s", genesis=small_genesis(), contracts=SAMPLE_CONTRACTS) as node:
        health = rpc(node, "health", [])
        m.JsonRpcResponseForNullableRpcHealthResponseAndRpcStatusError.model_validate(health)
        assert health["result"] is None
        import urllib.request

        with urllib.request.urlopen(node.rpc_url.rstrip("/") + "/health", timeout=10) as reply:
            assert reply.status == 200  # nearcore's GET /health, which load balancers probe
            assert reply.read() == b"null"
        url = node.rpc_url
    try:
        rpc(node, "status", [])
    except OSError:
        pass
    else:
        raise AssertionError(f"{url} still answers after the context exited")
