"""Which NEAR network the agent talks to: RPC URL, well-known contracts, explorer links.

Devnet is described by the manifest the local node writes; testnet and mainnet by constants here;
"custom" is any RPC URL (no explorer, contracts from the caller).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.account_id import is_valid_account_id
from tools.errors import InvalidAccountIdError, NetworkConfigError

_PUBLIC: dict[str, dict[str, Any]] = {
    "testnet": {
        "rpc_url": "https://rpc.testnet.near.org",
        "explorer": "https://testnet.nearblocks.io/txns/{tx_hash}",
        "wrap_id": "wrap.testnet",
        "exchange_id": "ref-finance-101.testnet",
    },
    "mainnet": {
        "rpc_url": "https://rpc.mainnet.near.org",
        "explorer": "https://nearblocks.io/txns/{tx_hash}",
        "wrap_id": "wrap.near",
        "exchange_id": "v2.ref-finance.near",
    },
}


@dataclass(frozen=True)
class Network:
    """Everything about a network the tools need; built by the constructors below."""

    network_id: str  # "devnet", "testnet", "mainnet", "custom"
    rpc_url: str
    explorer_tx_template: str | None = None
    wrap_id: str | None = None  # wNEAR contract
    exchange_id: str | None = None  # Ref-compatible exchange
    tasks_id: str | None = None
    notary_id: str | None = None
    tokens: tuple[dict[str, Any], ...] = ()  # [{symbol, contract_id, decimals?}]
    accounts: tuple[dict[str, Any], ...] = ()  # devnet: [{account_id, key_file, public_key}]
    manifest_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def explorer_tx_url(self, tx_hash: str) -> str | None:
        """A block-explorer link for a transaction, or None where no explorer exists (devnet)."""
        if not self.explorer_tx_template:
            return None
        return self.explorer_tx_template.format(tx_hash=tx_hash)

    def key_file_for(self, account_id: str) -> Path | None:
        """The key file the devnet manifest lists for an account (relative to the manifest)."""
        for entry in self.accounts:
            if entry.get("account_id") == account_id and entry.get("key_file"):
                path = Path(entry["key_file"])
                if not path.is_absolute() and self.manifest_path is not None:
                    path = self.manifest_path.parent / path
                return path
        return None


def public_network(name: str, rpc_url: str | None = None) -> Network:
    """testnet or mainnet, optionally through another RPC endpoint."""
    if name not in _PUBLIC:
        raise NetworkConfigError(f"unknown network {name!r}; expected testnet or mainnet")
    spec = _PUBLIC[name]
    return Network(
        network_id=name,
        rpc_url=rpc_url or spec["rpc_url"],
        explorer_tx_template=spec["explorer"],
        wrap_id=spec["wrap_id"],
        exchange_id=spec["exchange_id"],
    )


def custom_network(rpc_url: str, **contracts: Any) -> Network:
    """Any NEAR-compatible RPC; contracts (wrap_id, exchange_id, ...) as keyword arguments."""
    if not rpc_url:
        raise NetworkConfigError("a custom network needs an rpc_url")
    return Network(network_id="custom", rpc_url=rpc_url, **contracts)


def devnet_from_manifest(manifest: Path | dict[str, Any], rpc_url: str | None = None) -> Network:
    """The local network described by the manifest `near-agent devnet` writes."""
    path: Path | None = None
    if isinstance(manifest, Path | str):
        path = Path(manifest)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise NetworkConfigError(
                f"devnet manifest {path} does not exist: start the network with "
                "`near-agent devnet` first"
            ) from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise NetworkConfigError(f"devnet manifest {path} is unreadable: {exc}") from exc
    else:
        data = manifest
    if not isinstance(data, dict) or not (rpc_url or data.get("rpc_url")):
        raise NetworkConfigError(f"devnet manifest {path or '(inline)'} has no rpc_url")
    tokens = tuple(t for t in data.get("tokens", []) if isinstance(t, dict))
    wrap_id = None
    for token in tokens:
        if str(token.get("symbol", "")).lower() in ("wnear", "wrap.near"):
            wrap_id = token.get("contract_id")
    return Network(
        network_id=str(data.get("network_id") or "devnet"),
        rpc_url=rpc_url or data["rpc_url"],
        explorer_tx_template=None,
        wrap_id=data.get("wrap_id") or wrap_id,
        exchange_id=_contract(data, "exchange"),
        tasks_id=_contract(data, "tasks"),
        notary_id=_contract(data, "notary"),
        tokens=tokens,
        accounts=tuple(a for a in data.get("accounts", []) if isinstance(a, dict)),
        manifest_path=path,
        extra={k: v for k, v in data.items() if k not in ("tokens", "accounts")},
    )


def configured_network(
    name: str,
    *,
    rpc_url: str | None = None,
    devnet_manifest: Path | None = None,
    home_devnet_dir: Path | None = None,
) -> Network:
    """The network agent.yaml names: one resolution for the tools, the CLI and the policy facts.

    A devnet is read from ``devnet_manifest``, else from the manifest in ``home_devnet_dir``;
    ``rpc_url`` overrides the endpoint of any network. NetworkConfigError says what is missing.
    """
    if name == "devnet":
        manifest = devnet_manifest or (
            home_devnet_dir / "manifest.json" if home_devnet_dir else None
        )
        if manifest is None:
            raise NetworkConfigError("devnet needs devnet_manifest (the manifest path)")
        return devnet_from_manifest(Path(manifest), rpc_url=rpc_url)
    if name in _PUBLIC:
        return public_network(name, rpc_url)
    return custom_network(rpc_url or "")


def _contract(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if isinstance(value, dict):
        return value.get("contract_id")
    if isinstance(value, str):
        return value
    return None


def check_account_id(account_id: str, what: str = "account") -> str:
    """Return the id when valid; InvalidAccountIdError naming the rule it breaks otherwise."""
    if not isinstance(account_id, str) or not account_id:
        raise InvalidAccountIdError(f"the {what} id is empty")
    if account_id != account_id.lower():
        raise InvalidAccountIdError(
            f"{account_id!r} is not a valid NEAR {what} id: ids are lowercase "
            f"(did you mean {account_id.lower()!r}?)",
            account_id=account_id,
        )
    if not is_valid_account_id(account_id):
        raise InvalidAccountIdError(
            f"{account_id!r} is not a valid NEAR {what} id{_invalid_because(account_id)} "
            "(2-64 characters of a-z, 0-9, '-', '_', '.', no leading, trailing or doubled "
            "separators)",
            account_id=account_id,
        )
    return account_id


def _invalid_because(account_id: str) -> str:
    """The reason look-alike ids fail, which the general rule alone does not make obvious."""
    if any(ch.isspace() or not ch.isprintable() for ch in account_id):
        return ": it contains whitespace or invisible characters"
    if not account_id.isascii():
        return ": it contains non-ASCII characters"
    return ""
