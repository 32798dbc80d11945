"""The token registry: what "USDC" or "usdc.test.near" means on this network, and its decimals.

Symbols come from the network's token list (the devnet manifest, or the verified list shipped
for testnet/mainnet in ``tools.network_catalog``, with agent.yaml's overrides), never from the
model. Decimals come from the token's own ``ft_metadata`` (cached), because a wrong decimals value
moves amounts by orders of magnitude; the listed value is only a fallback when the token cannot
answer. "NEAR" is the native token (24 decimals); "wNEAR" is the wrap contract. A contract that
is not listed is shown under its contract id, never under the symbol its own metadata claims:
anyone can deploy a token that calls itself "USDC", or an instruction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from tools.action import NEAR
from tools.chain import ChainClient
from tools.errors import ToolError, UnknownTokenError, ViewCallError
from tools.network import Network, names_a_contract

log = logging.getLogger(__name__)

NEAR_DECIMALS = 24


@dataclass(frozen=True)
class TokenInfo:
    """A resolved token. ``contract_id`` is None for native NEAR.

    ``symbol`` is what previews show: a listed symbol, or the contract id when ``verified`` is
    False, because an unlisted token's self-declared symbol is not to be trusted.
    """

    symbol: str
    contract_id: str | None
    decimals: int
    verified: bool = True

    def __post_init__(self) -> None:
        """Refuse an unverified token named by anything but its id, whoever builds it."""
        if not self.verified and self.symbol != self.contract_id:
            raise ValueError(
                f"an unverified token is shown by its contract id {self.contract_id!r}, "
                f"not by the symbol {self.symbol!r}"
            )

    @property
    def is_native(self) -> bool:
        return self.contract_id is None

    @property
    def flow_id(self) -> str:
        """The id used in TokenFlow.token: "near" or the contract id."""
        return NEAR if self.contract_id is None else self.contract_id


NATIVE_NEAR = TokenInfo(symbol="NEAR", contract_id=None, decimals=NEAR_DECIMALS)


def names_native_near(name: str) -> bool:
    """Whether a token name the user wrote means native NEAR (any case), not a fungible token."""
    return name.strip().upper() == "NEAR"


METADATA_TTL_S = 24 * 3600.0
"""How long a token's ``ft_metadata`` kept in the home is trusted: a token's decimals do not
change in practice, and a contract upgrade that changed them is seen within a day."""


class MetadataCache(Protocol):
    """Where a home keeps the ``ft_metadata`` tokens answered (memory/pool_index.py), so a
    later command does not ask again: one RPC request saved per token per command."""

    def get(self, contract_id: str, max_age_s: float) -> dict[str, Any] | None: ...

    def put(self, contract_id: str, metadata: Mapping[str, Any]) -> None: ...


class TokenRegistry:
    """Resolves token names for one network; caches ``ft_metadata``."""

    def __init__(
        self, chain: ChainClient, listed: Iterable[Mapping[str, Any]], wrap_id: str | None = None
    ) -> None:
        self.chain = chain
        self.wrap_id = wrap_id
        self._listed: list[dict[str, Any]] = []
        for entry in listed:
            if entry.get("symbol") and entry.get("contract_id"):
                self._listed.append(dict(entry))
        if wrap_id and not any(e["contract_id"] == wrap_id for e in self._listed):
            self._listed.append({"symbol": "wNEAR", "contract_id": wrap_id, "decimals": 24})
        self._metadata: dict[str, dict[str, Any]] = {}
        self.cache: MetadataCache | None = None  # the home's, when the session gives one

    @classmethod
    def for_network(cls, chain: ChainClient, network: Network) -> TokenRegistry:
        """The network's own token list (already merged with agent.yaml's, see tools.network)."""
        return cls(chain, network.tokens, wrap_id=network.wrap_id)

    @property
    def listed(self) -> tuple[dict[str, Any], ...]:
        return tuple(self._listed)

    def symbols(self) -> list[str]:
        return ["NEAR", *(e["symbol"] for e in self._listed)]

    async def resolve(self, name: str) -> TokenInfo:
        """A symbol (any case), a contract id (named, or implicit 64-hex), or "NEAR";
        UnknownTokenError otherwise."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownTokenError("no token named; say NEAR or a token symbol like USDC")
        text = name.strip()
        if names_native_near(text):
            return NATIVE_NEAR
        folded = text.casefold()
        for entry in self._listed:
            if entry["symbol"].casefold() == folded or entry["contract_id"] == folded:
                return await self._info(entry["contract_id"], entry)
        if folded in ("wnear", "wrap") and self.wrap_id:
            return await self._info(self.wrap_id, {"symbol": "wNEAR"})
        if names_a_contract(folded):
            try:
                meta = await self.metadata(folded)
            except ToolError:
                meta = None
            if meta is not None:
                return TokenInfo(
                    symbol=folded,
                    contract_id=folded,
                    decimals=_decimals(meta, folded),
                    verified=False,
                )
        raise UnknownTokenError(
            f"unknown token {name!r}; known tokens here: {', '.join(self.symbols())}", token=name
        )

    async def by_contract(self, contract_id: str) -> TokenInfo:
        """The token a contract id names; an unlisted one is unverified, shown by its id."""
        if contract_id == NEAR:
            return NATIVE_NEAR
        entry = next((e for e in self._listed if e["contract_id"] == contract_id), None)
        if entry is None:
            info = await self._info(contract_id, {"symbol": contract_id})
            return replace(info, verified=False)
        return await self._info(contract_id, entry)

    async def all_listed(self) -> list[TokenInfo]:
        """NEAR and every listed token that answers on this network."""
        tokens = [NATIVE_NEAR]
        for entry in self._listed:
            try:
                tokens.append(await self._info(entry["contract_id"], entry))
            except ToolError as exc:
                log.warning("token %s unavailable: %s", entry["contract_id"], exc)
        return tokens

    async def metadata(self, contract_id: str) -> dict[str, Any]:
        if contract_id not in self._metadata:
            kept = self.cache.get(contract_id, METADATA_TTL_S) if self.cache else None
            if kept is not None:
                self._metadata[contract_id] = kept
                return kept
            meta = await self.chain.view(contract_id, "ft_metadata", {})
            if not isinstance(meta, Mapping):
                raise ViewCallError(f"{contract_id}.ft_metadata returned {meta!r}")
            self._metadata[contract_id] = dict(meta)
            if self.cache is not None:
                self.cache.put(contract_id, meta)
        return self._metadata[contract_id]

    async def _info(self, contract_id: str, entry: Mapping[str, Any]) -> TokenInfo:
        try:
            meta = await self.metadata(contract_id)
            decimals = _decimals(meta, contract_id)
            listed = entry.get("decimals")
            if listed is not None and int(listed) != decimals:
                log.warning(
                    "%s: listed decimals %s differ from ft_metadata %s; using metadata",
                    contract_id,
                    listed,
                    decimals,
                )
        except ViewCallError:
            if entry.get("decimals") is None:
                raise
            decimals = int(entry["decimals"])
        return TokenInfo(
            symbol=str(entry.get("symbol") or contract_id),
            contract_id=contract_id,
            decimals=decimals,
        )


def _decimals(meta: Mapping[str, Any], contract_id: str) -> int:
    value = meta.get("decimals")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36:
        raise UnknownTokenError(f"{contract_id} reports invalid decimals {value!r}")
    return value
