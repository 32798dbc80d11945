"""Which chain an RPC endpoint serves, and the guard that keeps a client's endpoints on one chain.

Why: an endpoint list is configuration, and a wrong URL (another network's provider, a devnet
that was reset) answers every read truthfully about *another* chain: balances, nonces, and
"unknown transaction", which reconcile would read as "never landed". nearcore's ``status``
names the chain an endpoint serves (``chain_id`` and ``genesis_hash``), so every endpoint other
than the primary is asked once, before its first use, and refused for the rest of the client's
life (its siblings included) when it serves another chain.

The reference a network's endpoints are held to: ``chain_id`` "mainnet" / "testnet" for the
public networks; the chain id and genesis hash the devnet wrote in its manifest; for a custom
network, which configuration cannot name, whatever the first of its endpoints to answer serves
(``rpc.urls`` in order: the first, unless it is down). A custom network's endpoints are all
asked, the first too: with no reference to trust, none is trusted unasked, and so a first
endpoint that is down fails over like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.errors import RpcError
from tools.rpc_values import short


@dataclass(frozen=True)
class ChainIdentity:
    """A chain as nearcore's ``status`` names it; ``genesis_hash`` None = any genesis (a public
    network's id alone is the reference: testnet's genesis changes when it is reset)."""

    chain_id: str
    genesis_hash: str | None = None

    def admits(self, served: ChainIdentity) -> bool:
        """Whether an endpoint serving ``served`` serves this chain."""
        return self.chain_id == served.chain_id and (
            self.genesis_hash is None or self.genesis_hash == served.genesis_hash
        )

    def __str__(self) -> str:
        genesis = f" (genesis {self.genesis_hash})" if self.genesis_hash else ""
        return f"chain {self.chain_id}{genesis}"


class ChainMismatchError(RpcError):
    """An endpoint serves another chain than the network's (or cannot be checked): it is never
    used. An RpcError, so a transaction that may have been sent is still looked up by hash."""

    code = "rpc_wrong_chain"


def identity_from_status(result: Any, where: str) -> ChainIdentity:
    """The chain a ``status`` result names; RpcError when it names none."""
    chain_id = result.get("chain_id") if isinstance(result, Mapping) else None
    genesis = result.get("genesis_hash") if isinstance(result, Mapping) else None
    if not isinstance(chain_id, str) or not chain_id:
        raise RpcError(f"RPC {where} answered status without a chain_id: {short(result)}")
    return ChainIdentity(chain_id, genesis if isinstance(genesis, str) and genesis else None)


class ChainGuard:
    """The chain a client's endpoints must serve, and what each endpoint URL was found to serve.

    Shared by a client's regular and archival transports and by its siblings, so each endpoint
    is asked at most once per process. ``expected`` None: the chain is whatever the first
    endpoint to answer serves (a custom network), learned when it is checked (``establish``).
    """

    def __init__(self, expected: ChainIdentity | None, source: str) -> None:
        self._expected = expected
        self.configured = expected is not None  # the reference comes from configuration
        self.source = source  # where the reference comes from, for messages
        self._served: dict[str, ChainIdentity] = {}
        self._refused: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def expected(self) -> ChainIdentity | None:
        return self._expected

    @property
    def counted_on(self) -> str:
        """The chain a key's nonces are counted on (``NonceKey.chain``): a chain named by its
        genesis (a devnet's, a custom network's once an endpoint answered), so that a chain
        reset at the same URL counts its keys afresh; "" for a public network, one chain under
        its name, and for a custom network none of whose endpoints has answered yet."""
        expected = self._expected
        return str(expected) if expected is not None and expected.genesis_hash else ""

    def verified(self, where: str) -> bool:
        with self._lock:
            return where in self._served and where not in self._refused

    def refusal(self, where: str) -> str | None:
        """Why an endpoint is never used again, or None."""
        with self._lock:
            return self._refused.get(where)

    def establish(self, where: str, served: ChainIdentity) -> ChainIdentity:
        """Take what ``where`` serves as the chain, unless an endpoint answered first (a custom
        network); the chain every endpoint is held to from now on."""
        with self._lock:
            if self._expected is None:
                self._expected = served
                self.source = f"{self.source}; {where} answered first, serving {served}"
            return self._expected

    def judge(self, where: str, served: ChainIdentity) -> None:
        """Record what ``where`` serves; ChainMismatchError (and never again) if another chain."""
        expected = self._expected
        if expected is None:
            raise AssertionError("judge needs the reference chain established first")
        with self._lock:
            if not expected.admits(served):
                why = (
                    f"endpoint {where} serves {served}, not {expected} ({self.source}); "
                    "it is not used (check rpc.urls and rpc.archival_urls in agent.yaml)"
                )
                self._refused[where] = why
                raise ChainMismatchError(why, endpoint=where, chain_id=served.chain_id)
            self._served[where] = served
