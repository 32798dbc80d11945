"""Building the chain client a network and the user's ``rpc:`` settings call for.

Why apart from tools.chain: the client itself knows transports, not configuration; this is the
one place that turns agent.yaml's endpoints, API key and budget into a client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from tools.chain import ChainClient
from tools.chain_identity import (
    ChainGuard,
    ChainIdentity,
    ChainMismatchError,
    identity_from_status,
)
from tools.endpoints import (
    DEFAULT_API_KEY_HEADER,
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RETRY_AFTER_S,
    api_key_headers,
    configured_endpoints,
    default_endpoints,
)
from tools.errors import NetworkConfigError
from tools.network import Network
from tools.nonce_ledger import NonceSource
from tools.secret_text import register_secret
from tools.transport import display_url


@dataclass(frozen=True)
class RpcSettings:
    """agent.yaml's ``rpc_url`` and ``rpc:`` section, as the tools layer reads them."""

    rpc_url: str | None = None
    urls: tuple[str, ...] = ()
    archival_urls: tuple[str, ...] = ()
    api_key_env: str | None = None
    api_key_header: str = DEFAULT_API_KEY_HEADER
    max_requests: int | None = None
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S
    deadline_s: float = DEFAULT_DEADLINE_S

    @classmethod
    def from_config(cls, config: Any) -> RpcSettings:
        rpc = config.rpc
        return cls(
            rpc_url=config.rpc_url,
            urls=tuple(rpc.urls),
            archival_urls=tuple(rpc.archival_urls),
            api_key_env=rpc.api_key_env,
            api_key_header=rpc.api_key_header,
            max_requests=rpc.max_requests,
            max_retry_after_s=rpc.max_retry_after_s,
            deadline_s=rpc.deadline_s,
        )

    def api_key(self) -> str | None:
        """The key from the environment variable the settings name (never from a file)."""
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise NetworkConfigError(
                f"rpc.api_key_env in agent.yaml names the environment variable "
                f"{self.api_key_env}, which is not set: export it, or remove rpc.api_key_env"
            )
        register_secret(key)
        return key


DEVNET_DOWN_HINT = "Is the devnet running? Start it with `near-agent devnet`."


def chain_client_for(
    network: Network,
    *,
    timeout_s: float = 10.0,
    retries: int = 3,
    nonces: NonceSource | None = None,
    rpc: RpcSettings | None = None,
) -> ChainClient:
    """A client over the endpoints the settings name for ``network`` (see configured_endpoints)."""
    rpc = rpc or RpcSettings()
    manifest = manifest_chain(network)
    endpoints = configured_endpoints(
        network.rpc_url,
        defaults=default_endpoints(network.network_id) if network.public else None,
        rpc_url=rpc.rpc_url,
        urls=rpc.urls,
        archival_urls=rpc.archival_urls,
    )
    return ChainClient(
        endpoints.urls[0],
        timeout_s=timeout_s,
        retries=retries,
        nonces=nonces,
        urls=endpoints.urls,
        archival_urls=endpoints.archival_urls,
        headers=api_key_headers(rpc.api_key(), rpc.api_key_header),
        max_requests=rpc.max_requests,
        max_retry_after_s=rpc.max_retry_after_s,
        chain_guard=chain_guard_for(network, manifest, endpoints.urls[0]),
        deadline_s=rpc.deadline_s,
        down_hint=DEVNET_DOWN_HINT if network.manifest_path is not None else "",
    )


def manifest_chain(network: Network) -> ChainIdentity | None:
    """The chain a devnet's manifest names (chain id, and genesis hash when recorded); None for
    a network without a manifest."""
    chain_id, genesis = network.extra.get("chain_id"), network.extra.get("genesis_hash")
    if not isinstance(chain_id, str) or not chain_id:
        return None
    return ChainIdentity(chain_id, genesis if isinstance(genesis, str) and genesis else None)


def chain_guard_for(network: Network, manifest: ChainIdentity | None, first_url: str) -> ChainGuard:
    """The chain every endpoint of ``network`` must serve: a devnet's manifest names its chain
    id and genesis hash; testnet and mainnet are their chain ids; a custom network's chain is
    what the first of its endpoints to answer serves (``first_url`` unless it is down)."""
    if manifest is not None:
        return ChainGuard(manifest, f"the devnet manifest {network.manifest_path or '(inline)'}")
    if network.public:
        return ChainGuard(ChainIdentity(network.network_id), f"the {network.network_id} network")
    return ChainGuard(
        None,
        "a custom network's chain is what the first of its endpoints to answer serves "
        f"({display_url(first_url)} unless it is down)",
    )


async def identified(network: Network, chain: ChainClient) -> Network:
    """``network`` with the chain its endpoints serve, as ``status`` names it (one request):
    what the home's caches of a devnet or custom network are keyed by (``Network.chain_scope``),
    so that a chain reset at the same URL never meets what was cached about the old one. A
    public network is its name (mainnet and testnet are one chain each): not asked. RpcError
    (or another ToolError) when no endpoint answers; ChainMismatchError when a devnet's node
    serves another chain than its manifest names (reset since, or another devnet on its port:
    the manifest's accounts and keys are not that chain's)."""
    if network.public:
        return network
    status = await chain.rpc("status", [])
    served = identity_from_status(status, network.rpc_url)
    expected = manifest_chain(network)
    if expected is not None and not expected.admits(served):
        where = display_url(network.rpc_url)
        raise ChainMismatchError(
            f"the devnet at {where} serves {served}, not the {expected} its manifest "
            f"{network.manifest_path or '(inline)'} names: it was reset, or another devnet "
            "answers on that port. Point agent.yaml's devnet_manifest at the running devnet's "
            "manifest (`near-agent devnet --manifest` prints it); nothing was sent.",
            endpoint=where,
            chain_id=served.chain_id,
        )
    return replace(network, chain_identity=served)
