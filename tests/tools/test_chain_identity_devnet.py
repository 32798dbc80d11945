"""Every endpoint but the primary is held to the network's chain (tools/chain_identity.py):
two devnets over HTTP, whose genesis hashes differ; a dead endpoint is a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from devnet.server import RunningDevnet, start_devnet
from tests.tools.conftest import manifest_of
from tests.tools.test_endpoints_devnet import BOB, UNSEEN, dead_url, run_with
from tools.chain import ChainClient
from tools.chain_identity import ChainGuard, ChainMismatchError
from tools.chain_setup import RpcSettings, chain_client_for
from tools.endpoints import FailoverTransport
from tools.network import Network, custom_network, devnet_from_manifest
from tools.transport import HttpTransport, read_result


def devnet_network(node: RunningDevnet) -> Network:
    manifest, _ = manifest_of(node)
    return devnet_from_manifest(manifest, rpc_url=node.rpc_url)


def client(network: Network, **rpc: Any) -> ChainClient:
    return chain_client_for(network, retries=0, rpc=RpcSettings(**rpc))


def test_the_devnet_manifest_records_the_genesis_hash_its_status_answers(
    fresh_devnet: RunningDevnet,
) -> None:
    manifest = json.loads((fresh_devnet.state_dir / "manifest.json").read_text())
    chain = ChainClient(fresh_devnet.rpc_url, retries=0)
    status = run_with(chain, lambda: chain.rpc("status", []))
    assert manifest["genesis_hash"] == status["genesis_hash"]
    assert manifest["chain_id"] == status["chain_id"]


def test_the_primary_endpoint_costs_no_chain_check(fresh_devnet: RunningDevnet) -> None:
    chain = client(devnet_network(fresh_devnet), urls=(fresh_devnet.rpc_url, dead_url()))
    run_with(chain, lambda: chain.near_balance(BOB))
    assert chain.requests.by_method["status"] == 0


def test_a_failover_endpoint_of_another_chain_is_named_and_never_used_again(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet
) -> None:
    chain = client(devnet_network(fresh_devnet), urls=(dead_url(), devnet.rpc_url))

    async def scenario() -> list[str]:
        messages = []
        for _ in range(2):
            with pytest.raises(ChainMismatchError) as info:
                await chain.near_balance(BOB)
            messages.append(info.value.message)
        return messages

    messages = run_with(chain, scenario)
    genesis = fresh_devnet.manifest["genesis_hash"]
    for message in messages:
        assert f"endpoint {devnet.rpc_url} serves chain devnet (genesis " in message
        assert f"not chain devnet (genesis {genesis})" in message
    # asked once which chain it serves, and nothing else, ever
    assert chain.requests.by_endpoint[devnet.rpc_url] == 1
    assert chain.requests.by_method["status"] == 1


def test_a_failover_endpoint_of_the_same_chain_is_checked_once(
    fresh_devnet: RunningDevnet,
) -> None:
    chain = client(devnet_network(fresh_devnet), urls=(dead_url(), fresh_devnet.rpc_url))
    sibling = chain.sibling()  # another thread's client: it shares what was verified

    async def scenario() -> None:
        await chain.near_balance(BOB)
        await chain.near_balance(BOB)
        try:
            await sibling.near_balance(BOB)
        finally:
            await sibling.close()

    run_with(chain, scenario)
    assert chain.requests.by_method["status"] == 1
    assert chain.requests.by_endpoint[fresh_devnet.rpc_url] == 3  # status, then two reads
    assert sibling.requests.by_method["status"] == 0


def test_an_archival_endpoint_of_another_chain_is_never_believed(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet
) -> None:
    chain = client(devnet_network(fresh_devnet), archival_urls=(devnet.rpc_url,))

    async def scenario() -> None:
        with pytest.raises(ChainMismatchError, match=f"endpoint {devnet.rpc_url} serves"):
            await chain.tx_status(UNSEEN, BOB, archival=True)

    run_with(chain, scenario)
    assert chain.requests.by_method["tx"] == 0


def test_a_custom_networks_chain_is_its_first_endpoints(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet
) -> None:
    same = client(custom_network(fresh_devnet.rpc_url), archival_urls=(fresh_devnet.archival_url,))
    other = client(custom_network(fresh_devnet.rpc_url), archival_urls=(devnet.rpc_url,))
    assert run_with(same, lambda: same.tx_status(UNSEEN, BOB, archival=True)) is None
    assert same.requests.by_method["status"] == 2  # the first endpoint's, then the archival's

    async def refused() -> None:
        with pytest.raises(ChainMismatchError, match=f"endpoint {devnet.rpc_url} serves"):
            await other.tx_status(UNSEEN, BOB, archival=True)

    run_with(other, refused)


def test_a_custom_network_whose_first_endpoint_is_down_fails_over(
    fresh_devnet: RunningDevnet,
) -> None:
    first = dead_url()
    chain = client(custom_network(first), urls=(first, fresh_devnet.rpc_url))

    async def scenario() -> None:
        await chain.near_balance(BOB)
        await chain.near_balance(BOB)

    run_with(chain, scenario)
    # each endpoint asked once which chain it serves (the dead one could not say)
    assert chain.requests.by_method["status"] == 2
    assert chain.requests.by_endpoint[first] == 1
    assert chain.requests.by_endpoint[fresh_devnet.rpc_url] == 3  # status, then two reads


def test_a_custom_networks_first_endpoint_is_held_to_the_chain_another_named(
    fresh_devnet: RunningDevnet, tmp_path: Path
) -> None:
    """Down at first, the first endpoint comes back serving another chain: never used."""
    first = dead_url()
    chain = client(custom_network(first), urls=(first, fresh_devnet.rpc_url))
    assert run_with(chain, lambda: chain.near_balance(BOB))["total"]
    other = start_devnet(tmp_path / "other", port=int(first.rsplit(":", 1)[1]), reset=True)
    try:
        fresh_devnet.stop()

        async def refused() -> None:
            with pytest.raises(ChainMismatchError, match=f"endpoint {first} serves chain devnet"):
                await chain.near_balance(BOB)

        run_with(chain, refused)
    finally:
        other.stop()
    # tried once while down, then asked which chain it serves: nothing else, ever
    assert chain.requests.by_endpoint[first] == 2


def test_a_custom_networks_archival_endpoint_is_checked_while_its_first_endpoint_is_down(
    fresh_devnet: RunningDevnet,
) -> None:
    first = dead_url()
    chain = client(
        custom_network(first),
        urls=(first, fresh_devnet.rpc_url),
        archival_urls=(fresh_devnet.archival_url,),
    )
    assert run_with(chain, lambda: chain.tx_status(UNSEEN, BOB, archival=True)) is None


def test_an_archival_endpoint_held_to_the_chain_the_regular_endpoints_name(
    fresh_devnet: RunningDevnet, devnet: RunningDevnet
) -> None:
    """Given the regular endpoints as its reference, an archival transport learns a custom
    network's chain from the first of them to answer (the first is down), and holds its own
    endpoints to it."""
    first = dead_url()
    guard = ChainGuard(None, "a custom network")
    regular = FailoverTransport(
        [(HttpTransport(u), u) for u in (first, fresh_devnet.rpc_url)], guard=guard
    )

    def archival(url: str) -> FailoverTransport:
        return FailoverTransport(
            [(HttpTransport(url), url)],
            meter=regular.meter,
            guard=guard,
            trust_first=False,
            reference=(regular, regular.where),
        )

    same, other = archival(fresh_devnet.archival_url), archival(devnet.rpc_url)

    async def scenario() -> None:
        try:
            reply = await same.request("status", [])
            assert read_result(reply, "status", "archival")["chain_id"] == "devnet"
            with pytest.raises(ChainMismatchError, match=f"endpoint {devnet.rpc_url} serves"):
                await other.request("status", [])
        finally:
            for transport in (regular, same, other):
                await transport.close()

    asyncio.run(scenario())
    assert guard.expected is not None
    assert guard.expected.genesis_hash == fresh_devnet.manifest["genesis_hash"]
    # the dead one tried once; the live one, then each archival endpoint, asked once
    assert regular.meter.by_method["status"] == 4


def test_a_status_request_that_checks_an_endpoint_is_sent_once(
    fresh_devnet: RunningDevnet,
) -> None:
    chain = client(custom_network(fresh_devnet.rpc_url))
    status = run_with(chain, lambda: chain.rpc("status", []))
    assert status["genesis_hash"] == fresh_devnet.manifest["genesis_hash"]
    assert chain.requests.by_method["status"] == 1


def test_a_devnet_with_mainnets_names_is_reached_through_its_own_node() -> None:
    network = devnet_from_manifest(
        {"rpc_url": "http://127.0.0.1:9", "network_id": "mainnet", "chain_id": "devnet"}
    )
    assert client(network).transport.where == "http://127.0.0.1:9"
