"""What the home caches about a chain is dropped once another chain answers at the same endpoint
(a devnet reset at the same URL), and nothing else is (memory/pool_index.py,
``forget_other_chains``): the current chain's pools and tokens stay, and so do every other
endpoint's and every public network's."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.pool_index import SqlitePoolIndexStore
from tools.chain_identity import ChainIdentity
from tools.network import Network, public_network
from tools.pool_index import IndexedPool, index_scope

EXCHANGES = ("exchange.test.near", "v2.ref-finance.near")
POOL = IndexedPool(0, "SIMPLE_POOL", ("wrap.test.near", "usdc.test.near"), 30)

# a network as the home met it: its id, its endpoint, the genesis behind it (None: cached by
# an earlier version, keyed by the endpoint alone)
networks = st.tuples(
    st.sampled_from(("devnet", "custom", "mainnet")),
    st.sampled_from(("http://127.0.0.1:3030", "http://127.0.0.1:3031", "https://rpc.example/v1")),
    st.one_of(st.none(), st.sampled_from(("G1", "G2", "G3"))),
)


def network(met: tuple[str, str, str | None]) -> Network:
    network_id, url, genesis = met
    chain = None if genesis is None else ChainIdentity("devnet", genesis)
    return Network(network_id=network_id, rpc_url=url, chain_identity=chain)


def cache(store: SqlitePoolIndexStore, net: Network) -> set[str]:
    """The pools of each exchange and a token's metadata, as a session caches them."""
    for exchange in EXCHANGES:
        scope = index_scope(net.chain_scope, exchange)
        store.save(scope, [POOL], known=1, full_scan_at=0.0, replace=True)
        store.establish(scope, [0], 1.0)
    store.token_metadata(net.chain_scope).put("usdc.test.near", {"decimals": 6})
    return cache_scopes(net)


def cache_scopes(net: Network) -> set[str]:
    return {index_scope(net.chain_scope, e) for e in EXCHANGES} | {net.chain_scope}


def held(store: SqlitePoolIndexStore) -> set[str]:
    tables = ("pool_index_meta", "pools", "pool_tokens", "established_pools", "token_metadata")
    return {row[0] for t in tables for row in store.conn.execute(f"SELECT DISTINCT scope FROM {t}")}


@settings(max_examples=80, deadline=None)
@given(met=st.lists(networks, max_size=6), now=networks)
def test_only_other_chains_at_the_same_endpoint_are_forgotten(
    met: list[tuple[str, str, str | None]], now: tuple[str, str, str | None]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SqlitePoolIndexStore(Path(folder) / "pools.db")
        try:
            current = network((now[0], now[1], now[2] or "G1"))
            public = public_network("mainnet")
            before = {s for m in met for s in cache(store, network(m))}
            before |= cache(store, public) | cache(store, current)
            store.forget_other_chains(current.endpoint_scope, current.chain_scope)
            expected = {
                s
                for m in met
                for s in cache_scopes(network(m))
                if network(m).endpoint_scope != current.endpoint_scope
            }
            expected |= cache_scopes(public) | cache_scopes(current)
            assert held(store) == expected
            assert expected <= before
        finally:
            store.close()
