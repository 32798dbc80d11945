"""Fault injection: latency, dropped connections, timeouts, 5xx, and applied-but-lost answers."""

from __future__ import annotations

import asyncio
import http.client
import time
import urllib.error

import pytest
from py_near import transactions
from py_near.exceptions.exceptions import RpcEmptyResponse
from py_near.exceptions.provider import InternalError

from tests.devnet.helpers import NEAR, balance, near_account, rpc, signed_by_alice


def _tx(net, amount=NEAR):
    return signed_by_alice(net, "bob.devnet", [transactions.create_transfer_action(amount)])


def test_faults_are_off_by_default(net):
    assert net.faults.rules == []
    assert "result" in rpc(net, "status", [])


def test_latency_for_chosen_methods(net):
    net.faults.latency(0.4, next_n=1, methods=["status"])
    started = time.monotonic()
    rpc(net, "gas_price", [None])
    assert time.monotonic() - started < 0.3
    started = time.monotonic()
    rpc(net, "status", [])
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    rpc(net, "status", [])
    assert time.monotonic() - started < 0.3


def test_dropped_and_5xx_requests_apply_nothing(net):
    before = balance(net, "bob.devnet")

    async def scenario():
        alice = await near_account(net, "alice.devnet")
        net.faults.drop(next_n=1, methods=["broadcast_tx_commit"])
        with pytest.raises(RpcEmptyResponse):
            await alice.send_money("bob.devnet", NEAR)
        net.faults.http_error(503, next_n=1, methods=["broadcast_tx_commit"])
        with pytest.raises(InternalError):
            await alice.send_money("bob.devnet", NEAR)
        outcome = await alice.send_money("bob.devnet", NEAR)  # faults used up
        await alice.shutdown()
        return outcome

    outcome = asyncio.run(scenario())
    assert "SuccessValue" in outcome.status
    assert balance(net, "bob.devnet") == before + NEAR
    assert net.faults.fired["drop"] == 1 and net.faults.fired["http_error"] == 1


def test_timeout_answers(net):
    before = balance(net, "bob.devnet")
    net.faults.timeout(next_n=1, methods=["broadcast_tx_commit"])
    tx = _tx(net)
    error = rpc(net, "broadcast_tx_commit", [tx])["error"]
    assert error["cause"]["name"] == "TIMEOUT_ERROR"
    assert balance(net, "bob.devnet") == before  # not applied
    net.faults.timeout(next_n=1, methods=["broadcast_tx_commit"], applied=True)
    error = rpc(net, "broadcast_tx_commit", [tx])["error"]
    assert error["cause"]["name"] == "TIMEOUT_ERROR"
    assert balance(net, "bob.devnet") == before + NEAR  # applied, answer was a timeout
    outcome = rpc(net, "broadcast_tx_commit", [tx])["result"]
    assert outcome["status"] == {"SuccessValue": ""}
    assert balance(net, "bob.devnet") == before + NEAR  # resubmitting did not apply it twice


def test_lost_response_is_applied_once(net):
    before = balance(net, "bob.devnet")
    tx = _tx(net)
    net.faults.lose_response(next_n=1, methods=["broadcast_tx_commit"])
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        rpc(net, "broadcast_tx_commit", [tx])
    assert balance(net, "bob.devnet") == before + NEAR
    tx_hash = None
    resent = rpc(net, "broadcast_tx_commit", [tx])["result"]
    tx_hash = resent["transaction"]["hash"]
    assert rpc(net, "tx", [tx_hash, "alice.devnet"])["result"]["status"] == {"SuccessValue": ""}
    assert balance(net, "bob.devnet") == before + NEAR


def test_probability_faults_until_cleared(net):
    net.faults.http_error(500, probability=1.0, methods=["gas_price"])
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as info:
            rpc(net, "gas_price", [None])
        assert info.value.code == 500
    assert "result" in rpc(net, "status", [])
    net.faults.clear()
    assert "result" in rpc(net, "gas_price", [None])
    with pytest.raises(ValueError):
        net.faults.drop()  # neither a count nor a probability
