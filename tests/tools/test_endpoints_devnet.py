"""The chain client over real endpoints: failover, 429 with Retry-After, the request budget,
and learning that a hash is unknown from a node that answers a waiting lookup with HTTP 408.

Each test runs a fresh devnet over HTTP; a dead endpoint is a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import base58
import pytest

from tests.tools.conftest import ALICE, make_context
from tools.action import TransactionSpec, TransferSpec
from tools.chain import ChainClient
from tools.endpoints import RateLimitedError, RequestBudgetExceeded
from tools.keys import Credentials

BOB = "bob.test.near"
UNSEEN = base58.b58encode(bytes(range(32))).decode()


def dead_url() -> str:
    """A URL on 127.0.0.1 that refuses connections (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def creds_of(devnet: Any) -> Credentials:
    return make_context(devnet).require_credentials()


def pay(amount: int) -> TransactionSpec:
    return TransactionSpec(
        signer_id=ALICE, receiver_id=BOB, actions=(TransferSpec(deposit=amount),)
    )


def run_with(chain: ChainClient, scenario: Any) -> Any:
    async def main() -> Any:
        try:
            return await scenario()
        finally:
            await chain.close()

    return asyncio.run(main())


def test_a_dead_endpoint_passes_requests_to_the_next(chain_env: Any) -> None:
    dead = dead_url()
    chain = ChainClient(dead, urls=[dead, chain_env.rpc_url], retries=0)

    async def scenario() -> tuple[int, int]:
        first = (await chain.near_balance(BOB))["total"]
        outcome = await chain.send(creds_of(chain_env), pay(7))
        assert outcome.ok
        return first, (await chain.near_balance(BOB))["total"]

    before, after = run_with(chain, scenario)
    assert after - before == 7
    # the dead endpoint was tried once; the live one answered and stayed preferred
    assert chain.requests.by_endpoint[dead] == 1
    assert chain.requests.by_endpoint[chain_env.rpc_url] == chain.requests.total - 1
    assert chain_env.signed_by(ALICE) and len(chain_env.signed_by(ALICE)) == 1


def test_every_endpoint_dead_is_one_error_naming_them(chain_env: Any) -> None:
    first, second = dead_url(), dead_url()
    chain = ChainClient(first, urls=[first, second], retries=0)

    async def scenario() -> BaseException:
        with pytest.raises(Exception) as info:
            await chain.near_balance(BOB)
        return info.value

    error = run_with(chain, scenario)
    assert "no RPC endpoint answered" in str(error)
    assert first in str(error) and second in str(error)


def test_429_retry_after_is_waited_out(chain_env: Any) -> None:
    chain_env.set_rate_limit("2/s")
    chain = ChainClient(chain_env.rpc_url, retries=0)

    async def scenario() -> float:
        started = time.monotonic()
        for _ in range(3):  # the third is refused with Retry-After: 1, then served
            await chain.near_balance(BOB)
        return time.monotonic() - started

    elapsed = run_with(chain, scenario)
    counts = chain_env.request_counts()
    assert counts["rate_limited"] == {"query": 1}
    assert chain.requests.rate_limited[chain_env.rpc_url] == 1
    assert elapsed >= 0.9  # the client waited as asked, not less
    assert chain.requests.by_method["query"] == 4  # three reads, one of them sent twice


def test_a_retry_after_beyond_the_cap_is_a_clear_error(chain_env: Any) -> None:
    chain_env.set_rate_limit("1/min")
    chain = ChainClient(chain_env.rpc_url, retries=2, max_retry_after_s=5)

    async def scenario() -> tuple[RateLimitedError, float]:
        await chain.near_balance(BOB)
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as info:
            await chain.near_balance(BOB)
        return info.value, time.monotonic() - started

    error, elapsed = run_with(chain, scenario)
    assert chain_env.rpc_url in error.message and "429" in error.message
    assert "asks to wait 60 s" in error.message and "5 s" in error.message
    assert elapsed < 5  # it neither slept 60 s nor hammered the endpoint
    assert chain_env.request_counts()["rate_limited"] == {"query": 1}


def test_the_budget_refuses_before_signing(chain_env: Any) -> None:
    chain = ChainClient(chain_env.rpc_url, retries=0, max_requests=2)

    async def scenario() -> RequestBudgetExceeded:
        with pytest.raises(RequestBudgetExceeded) as info:
            await chain.send(creds_of(chain_env), pay(7))
        return info.value

    error = run_with(chain, scenario)
    assert "nothing was signed" in error.message and "rpc.max_requests" in error.message
    assert chain_env.signed_by(ALICE) == []
    assert chain.requests.total == 0


def test_the_budget_never_cuts_off_a_sent_transactions_lookups(chain_env: Any) -> None:
    """Exactly enough for the nonce, the block and the send; the answer is lost, so learning
    the outcome takes lookups beyond the budget: they are made, and the hash is not lost."""
    chain_env.faults.lose_response(next_n=1, methods=["send_tx"])
    chain = ChainClient(chain_env.rpc_url, retries=2, backoff_s=0.01, max_requests=3)

    async def scenario() -> Any:
        return await chain.send(creds_of(chain_env), pay(7))

    outcome = run_with(chain, scenario)
    assert outcome.ok
    assert chain_env.signed_by(ALICE) == [outcome.tx_hash]
    assert chain.requests.total > 3
    assert chain.requests.by_method["tx"] >= 1


def test_an_unseen_hash_is_unknown_without_waiting_for_the_408(chain_env: Any) -> None:
    """Asked to wait for FINAL, the node polls and answers HTTP 408 TIMEOUT_ERROR; the client
    asks first without waiting and learns UNKNOWN_TRANSACTION at once."""
    chain_env.set_tx_wait(5.0)
    chain = ChainClient(chain_env.rpc_url, retries=0)

    async def scenario() -> tuple[Any, float]:
        started = time.monotonic()
        found = await chain.tx_status(UNSEEN, ALICE)
        return found, time.monotonic() - started

    found, elapsed = run_with(chain, scenario)
    assert found is None
    assert elapsed < 2.5  # never waited out the node's 5 s poll


def test_a_408_not_observed_is_unknown(chain_env: Any) -> None:
    """A node that only answers the waiting form (every lookup waits) still says NOT_OBSERVED."""
    chain_env.set_tx_wait(0.1)
    chain = ChainClient(chain_env.rpc_url, retries=0, wait_until="FINAL")

    async def scenario() -> Any:
        return await chain._tx_query(chain.transport, UNSEEN, ALICE, "FINAL")

    from tools.rpc_errors import UnknownTransaction

    with pytest.raises(UnknownTransaction):
        run_with(chain, scenario)


def test_a_journalled_hash_is_looked_up_on_the_archival_endpoint(chain_env: Any) -> None:
    chain = ChainClient(chain_env.rpc_url, archival_urls=[chain_env.archival_url], retries=0)

    async def scenario() -> tuple[Any, Any]:
        outcome = await chain.send(creds_of(chain_env), pay(3))
        for _ in range(3):  # later blocks: the regular endpoint will have forgotten the first
            await chain.send(creds_of(chain_env), pay(1))
        chain_env.set_retention(1)
        regular = await chain.tx_status(outcome.tx_hash, ALICE)
        archival = await chain.tx_status(outcome.tx_hash, ALICE, archival=True)
        return regular, archival

    regular, archival = run_with(chain, scenario)
    assert regular is None
    assert archival is not None and archival.ok
    assert chain.requests.by_endpoint[chain_env.archival_url] >= 1


def test_the_api_key_comes_from_the_environment_as_a_bearer_header(
    chain_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.hardening.lying_proxy import LyingProxy
    from tools.chain_setup import RpcSettings, chain_client_for
    from tools.network import devnet_from_manifest
    from tools.secret_text import holds_registered

    key = "rpc-key-from-the-environment-7f3a"
    monkeypatch.setenv("TEST_NEAR_RPC_KEY", key)

    async def scenario() -> list[str | None]:
        async with LyingProxy(chain_env.rpc_url) as proxy:
            network = devnet_from_manifest(dict(chain_env.manifest), rpc_url=proxy.url)
            chain = chain_client_for(network, rpc=RpcSettings(api_key_env="TEST_NEAR_RPC_KEY"))
            try:
                await chain.near_balance(BOB)
            finally:
                await chain.close()
            return proxy.authorizations

    assert asyncio.run(scenario()) == [f"Bearer {key}"]
    assert holds_registered(f"the node echoed {key}")  # redacted wherever it is printed


def test_another_header_name_carries_the_bare_key() -> None:
    from tools.endpoints import api_key_headers

    assert api_key_headers("k", "x-api-key") == {"x-api-key": "k"}
    assert api_key_headers("k", "authorization") == {"Authorization": "Bearer k"}
    assert api_key_headers(None) == {}
