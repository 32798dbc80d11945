"""Which NEAR network the agent talks to: RPC URL, contracts, verified tokens, explorer links.

Devnet is described by the manifest the local node writes; testnet and mainnet by the shipped
catalog (``tools.network_catalog``); "custom" is any RPC URL (no explorer, contracts from the
caller). On every network agent.yaml may override the contracts, the token list and the
stablecoins (``NetworkOverrides``); a conflicting override is refused naming its field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeGuard

from tools.account_id import is_near_implicit, is_valid_account_id
from tools.chain_identity import ChainIdentity
from tools.endpoints import default_endpoints
from tools.errors import InvalidAccountIdError, NetworkConfigError, NotConfiguredError
from tools.network_catalog import (
    CONTRACT_ROLES,
    DEFAULT_STABLECOIN_SYMBOLS,
    DEVNET_ONLY_ROLES,
    WNEAR_DECIMALS,
    WNEAR_SYMBOL,
    ContractRole,
    shipped,
)

_PUBLIC: dict[str, dict[str, Any]] = {  # endpoints: tools/endpoints.py, DEFAULT_ENDPOINTS
    "testnet": {"explorer": "https://testnet.nearblocks.io/txns/{tx_hash}"},
    "mainnet": {"explorer": "https://nearblocks.io/txns/{tx_hash}"},
}

# A token symbol: a letter, then up to 15 letters or digits, and an optional short suffix after
# one dot (USDC.e, USDT.e: bridged tokens are named apart from the native ones).
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}(?:\.[A-Za-z][A-Za-z0-9]{0,3})?", re.ASCII)
_ETH_IMPLICIT = re.compile(r"0x[0-9a-f]{40}", re.ASCII)


def is_token_symbol(text: object) -> TypeGuard[str]:
    """Whether ``text`` is written like a token symbol (USDC, wNEAR, USDC.e)."""
    return isinstance(text, str) and _SYMBOL.fullmatch(text) is not None


def is_implicit_account(text: str) -> bool:
    """A 64-hex (NEAR implicit) or 0x-40-hex (ETH implicit) account id."""
    return is_near_implicit(text) or (
        isinstance(text, str) and _ETH_IMPLICIT.fullmatch(text) is not None
    )


def names_a_contract(text: str) -> bool:
    """Whether a token name is a contract id, not a symbol: a valid account id with a dot, or an
    implicit (hex) account. A bare word ("usdc") is a symbol, never a top-level account."""
    return is_valid_account_id(text) and ("." in text or is_implicit_account(text))


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
    stablecoins: tuple[str, ...] = ()  # listed symbols prices are read against, first = default
    accounts: tuple[dict[str, Any], ...] = ()  # devnet: [{account_id, key_file, public_key}]
    manifest_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # the real testnet or mainnet (public_network), not a devnet standing in for one under its
    # name: only then do its default endpoints apply and its caches share the network's name
    public: bool = False
    # the chain its endpoints were found to serve (tools.chain_setup.identified); None: not asked
    chain_identity: ChainIdentity | None = None

    @property
    def endpoint_scope(self) -> str:
        """The network and endpoint a cache describes before the chain behind it is known."""
        return self.network_id if self.public else f"{self.network_id}@{self.rpc_url}"

    @property
    def chain_scope(self) -> str:
        """Which chain a cache in the home describes: a public network by its name; any other
        (a devnet, even one shaped like mainnet, or a custom network) by its endpoint and the
        chain found there (chain id and genesis hash), since a devnet reset and served again
        at the same URL is another chain: nothing cached about the old one may describe it.
        Without a known chain, the endpoint alone (good for this process's memory only)."""
        chain = self.chain_identity
        if self.public or chain is None:
            return self.endpoint_scope
        return f"{self.endpoint_scope}#{chain.chain_id}:{chain.genesis_hash or ''}"

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

    def contract(self, role: ContractRole) -> str | None:
        """The contract id configured for a role (exchange, wrap, tasks, notary), or None."""
        return getattr(self, f"{role}_id")

    def missing(self, role: ContractRole, what: str) -> str | None:
        """Why ``what`` cannot run here for want of a ``role`` contract; None when it can."""
        if self.contract(role):
            return None
        article = "an" if role[0] in "aeiou" else "a"
        own = (
            f" (the {role} contract is near-agent's own; it exists on the devnet, and on "
            f"{self.network_id} only where you deploy it)"
            if role in DEVNET_ONLY_ROLES and self.network_id != "devnet"
            else ""
        )
        return (
            f"{what} needs {article} {role} contract; none is configured on "
            f"{self.network_id}{own}; set contracts.{role} in agent.yaml"
        )

    def require(self, role: ContractRole, what: str) -> str:
        """The contract id for ``role``; NotConfiguredError saying why and what to set."""
        reason = self.missing(role, what)
        if reason is not None:
            raise NotConfiguredError(reason, role=role, network=self.network_id)
        contract = self.contract(role)
        assert contract is not None
        return contract


@dataclass(frozen=True)
class NetworkOverrides:
    """What agent.yaml says over a network's defaults (``contracts``, ``tokens``,
    ``stablecoins``). Empty values change nothing."""

    contracts: Mapping[str, str] = field(default_factory=dict)  # role -> contract id
    tokens: tuple[Mapping[str, Any], ...] = ()  # {symbol, contract_id, decimals}
    stablecoins: tuple[str, ...] | None = None

    def __bool__(self) -> bool:
        return bool(self.contracts or self.tokens or self.stablecoins is not None)


def public_network(name: str, rpc_url: str | None = None) -> Network:
    """testnet or mainnet with the shipped contracts and tokens, optionally through another RPC."""
    catalog = shipped(name)
    if name not in _PUBLIC or catalog is None:
        raise NetworkConfigError(f"unknown network {name!r}; expected testnet or mainnet")
    spec = _PUBLIC[name]
    contracts = catalog.contracts
    return Network(
        network_id=name,
        rpc_url=rpc_url or default_endpoints(name).urls[0],
        explorer_tx_template=spec["explorer"],
        wrap_id=contracts["wrap"],
        exchange_id=contracts["exchange"],
        tasks_id=contracts["tasks"],
        notary_id=contracts["notary"],
        tokens=tuple(t.as_entry() for t in catalog.tokens),
        stablecoins=catalog.stablecoins,
        public=True,
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
    where = f"devnet manifest {path or '(inline)'}"
    if not isinstance(data, dict) or not (rpc_url or data.get("rpc_url")):
        raise NetworkConfigError(f"{where} has no rpc_url")
    tokens = check_tokens(_listed(data, "tokens", where), "tokens", where)
    accounts = _listed(data, "accounts", where)
    if not all(isinstance(a, dict) for a in accounts):
        raise NetworkConfigError(f"{where}: every entry of accounts must be an object")
    wrap_id = data.get("wrap_id")
    for token in tokens:
        if token["symbol"].casefold() in ("wnear", "wrap.near"):
            wrap_id = wrap_id or token["contract_id"]
    network = Network(
        network_id=str(data.get("network_id") or "devnet"),
        rpc_url=rpc_url or data["rpc_url"],
        explorer_tx_template=None,
        wrap_id=wrap_id,
        exchange_id=_contract(data, "exchange"),
        tasks_id=_contract(data, "tasks"),
        notary_id=_contract(data, "notary"),
        tokens=tokens,
        accounts=tuple(accounts),
        manifest_path=path,
        extra={k: v for k, v in data.items() if k not in ("tokens", "accounts")},
    )
    stablecoins = data.get("stablecoins")
    if stablecoins is None:
        return replace(
            network,
            stablecoins=tuple(
                found["symbol"]
                for s in DEFAULT_STABLECOIN_SYMBOLS
                if (found := _find(tokens, s)) is not None
            ),
        )
    if not isinstance(stablecoins, list) or not all(isinstance(s, str) for s in stablecoins):
        raise NetworkConfigError(f"{where}: stablecoins must be a list of token symbols")
    checked = _check_stablecoins(stablecoins, tokens, "stablecoins", wrap_id)
    return replace(network, stablecoins=checked)


def _listed(data: Mapping[str, Any], name: str, where: str) -> list[Any]:
    value = data.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetworkConfigError(
            f"{where}: {name} must be a list of objects, not {type(value).__name__}"
        )
    return value


def configured_network(
    name: str,
    *,
    rpc_url: str | None = None,
    devnet_manifest: Path | None = None,
    home_devnet_dir: Path | None = None,
    overrides: NetworkOverrides | None = None,
) -> Network:
    """The network agent.yaml names: one resolution for the tools, the CLI and the policy facts.

    A devnet is read from ``devnet_manifest``, else from the manifest in ``home_devnet_dir``;
    ``rpc_url`` overrides the endpoint of any network; ``overrides`` (agent.yaml's contracts,
    tokens and stablecoins) go over the network's own. NetworkConfigError says what is missing.
    """
    if name == "devnet":
        manifest = devnet_manifest or (
            home_devnet_dir / "manifest.json" if home_devnet_dir else None
        )
        if manifest is None:
            raise NetworkConfigError("devnet needs devnet_manifest (the manifest path)")
        network = devnet_from_manifest(Path(manifest), rpc_url=rpc_url)
    elif name in _PUBLIC:
        network = public_network(name, rpc_url)
    else:
        network = custom_network(rpc_url or "")
    return apply_overrides(network, overrides) if overrides else network


def apply_overrides(network: Network, overrides: NetworkOverrides) -> Network:
    """``network`` with agent.yaml's contracts, tokens and stablecoins over its own.

    A listed token replaces every token of the network that has its symbol (in any case) or its
    contract id; the wrap contract is always listed as wNEAR. NetworkConfigError names the
    agent.yaml field of any conflict: a symbol twice, a symbol that is another token's contract
    id, a contract listed under two symbols, a stablecoin that is not listed.
    """
    contracts: dict[str, Any] = {}
    for role, contract_id in overrides.contracts.items():
        if role not in CONTRACT_ROLES:
            raise NetworkConfigError(
                f"contracts.{role}: unknown contract role (known: {', '.join(CONTRACT_ROLES)})"
            )
        contracts[f"{role}_id"] = _checked_id(contract_id, f"contracts.{role}")
    network = replace(network, **contracts)
    mine = check_tokens(list(overrides.tokens), "tokens", "agent.yaml")
    symbols = {t["symbol"].casefold() for t in mine}
    ids = {t["contract_id"] for t in mine}
    kept = [
        t
        for t in network.tokens
        if t["symbol"].casefold() not in symbols
        and t["contract_id"] not in ids
        and not (t["symbol"] == WNEAR_SYMBOL and "wrap" in overrides.contracts)
    ]
    merged = (*kept, *mine)
    if network.wrap_id and not any(t["contract_id"] == network.wrap_id for t in merged):
        merged = (
            *merged,
            {"symbol": WNEAR_SYMBOL, "contract_id": network.wrap_id, "decimals": WNEAR_DECIMALS},
        )
    _check_together(merged, mine, network)
    stablecoins = (
        _check_stablecoins(list(overrides.stablecoins), merged, "stablecoins", network.wrap_id)
        if overrides.stablecoins is not None
        else tuple(s for s in network.stablecoins if _find(merged, s) is not None)
    )
    return replace(network, tokens=merged, stablecoins=stablecoins)


def check_tokens(entries: Sequence[Any], name: str, where: str) -> tuple[dict[str, Any], ...]:
    """A token list as plain entries, each checked; NetworkConfigError naming ``name[i].field``.

    Within the list a symbol (compared without case) and a contract id may appear once, and no
    symbol may be another entry's contract id.
    """
    out: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        at = f"{name}[{index}]"
        if not isinstance(entry, Mapping):
            raise NetworkConfigError(
                f"{where}: {at} must be an object with symbol, contract_id and decimals, "
                f"not {type(entry).__name__}"
            )
        symbol = entry.get("symbol")
        if not is_token_symbol(symbol):
            raise NetworkConfigError(
                f"{where}: {at}.symbol {symbol!r} is not a token symbol (a letter, then up to "
                "15 letters or digits, optionally .e-style suffix: USDC, wNEAR, USDC.e)"
            )
        if symbol.upper() == "NEAR":
            raise NetworkConfigError(
                f"{where}: {at}.symbol 'NEAR' is native NEAR, which is not a token contract"
            )
        contract_id = _checked_id(entry.get("contract_id"), f"{at}.contract_id", where)
        decimals = entry.get("decimals")
        if decimals is not None and (
            isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36
        ):
            raise NetworkConfigError(
                f"{where}: {at}.decimals must be a whole number from 0 to 36, not {decimals!r}"
            )
        out.append({"symbol": symbol, "contract_id": contract_id, "decimals": decimals})
    _check_together(out, out, None, name=name, where=where)
    return tuple(out)


def _check_together(
    tokens: Sequence[Mapping[str, Any]],
    mine: Sequence[Mapping[str, Any]],
    network: Network | None,
    *,
    name: str = "tokens",
    where: str = "agent.yaml",
) -> None:
    """Conflicts in a whole list; the message names the entry of ``mine`` involved."""

    def field_of(token: Mapping[str, Any], part: str) -> str:
        for index, own in enumerate(mine):
            if own is token:
                return f"{name}[{index}].{part}"
        if network is not None and token["contract_id"] == network.wrap_id:
            return f"contracts.wrap ({token['symbol']})"
        home = network.network_id if network is not None else "this network"
        return f"{home}'s listed {token['symbol']}"

    by_symbol: dict[str, Mapping[str, Any]] = {}
    by_id: dict[str, Mapping[str, Any]] = {}
    for token in tokens:
        folded = token["symbol"].casefold()
        if folded in by_symbol:
            first = by_symbol[folded]
            raise NetworkConfigError(
                f"{where}: {field_of(token, 'symbol')} {token['symbol']!r} is the same symbol as "
                f"{field_of(first, 'symbol')} {first['symbol']!r} (symbols are compared without "
                "case); list each symbol once"
            )
        by_symbol[folded] = token
        if token["contract_id"] in by_id:
            first = by_id[token["contract_id"]]
            raise NetworkConfigError(
                f"{where}: {field_of(token, 'contract_id')} {token['contract_id']!r} is already "
                f"listed as {first['symbol']!r} ({field_of(first, 'contract_id')}); list each "
                "contract once"
            )
        by_id[token["contract_id"]] = token
    for token in tokens:
        other = by_id.get(token["symbol"].casefold())
        if other is not None and other is not token:
            raise NetworkConfigError(
                f"{where}: {field_of(token, 'symbol')} {token['symbol']!r} is the contract id of "
                f"{other['symbol']!r}; a symbol must not name another token's contract"
            )


def _check_stablecoins(
    symbols: Sequence[str],
    tokens: Sequence[Mapping[str, Any]],
    name: str,
    wrap_id: str | None = None,
) -> tuple[str, ...]:
    """The listed symbols, refusing one that is not listed, listed twice, or NEAR itself
    (native or wrapped: its price is what the stablecoins measure, never a dollar)."""
    out: list[str] = []
    for index, symbol in enumerate(symbols):
        found = _find(tokens, symbol)
        if found is None:
            known = ", ".join(t["symbol"] for t in tokens) or "none"
            raise NetworkConfigError(
                f"{name}[{index}] {symbol!r} is not a listed token here (listed: {known}); "
                "add it under tokens first"
            )
        if found["symbol"] in out:
            raise NetworkConfigError(f"{name}[{index}] {symbol!r} is listed twice")
        if found.get("contract_id") is None or found.get("contract_id") == wrap_id:
            raise NetworkConfigError(
                f"{name}[{index}] {symbol!r} is NEAR, not a USD stablecoin; "
                "list only tokens worth one dollar (USDC, USDt)"
            )
        out.append(found["symbol"])
    return tuple(out)


def _find(tokens: Sequence[Mapping[str, Any]], symbol: str) -> Mapping[str, Any] | None:
    folded = symbol.casefold() if isinstance(symbol, str) else None
    return next((t for t in tokens if t["symbol"].casefold() == folded), None)


def _checked_id(value: Any, name: str, where: str = "agent.yaml") -> str:
    if not isinstance(value, str) or not is_valid_account_id(value):
        hint = (
            f" (did you mean {value.lower()!r}?)"
            if isinstance(value, str) and is_valid_account_id(value.lower())
            else ""
        )
        raise NetworkConfigError(f"{where}: {name} {value!r} is not a valid NEAR account id{hint}")
    return value


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
