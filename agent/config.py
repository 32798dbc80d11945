"""The user's configuration (agent.yaml): network, account, keys, planner, contracts, tokens,
stablecoins, defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from yaml import YAMLError

from memory.user_files import UnusableFile, load_yaml
from policies.pricing import PriceRules
from tools.endpoints import (
    DEFAULT_API_KEY_HEADER,
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RETRY_AFTER_S,
)
from tools.errors import InvalidAccountIdError, NetworkConfigError
from tools.network import (
    NetworkOverrides,
    apply_overrides,
    check_account_id,
    check_tokens,
    public_network,
)
from tools.network_catalog import DEFAULT_STABLECOIN_SYMBOLS
from tools.secret_text import register_secret
from tools.tokens import names_native_near
from tools.validation import describe_validation_error


class ConfigError(Exception):
    """agent.yaml is missing or invalid; the message names the file and the field."""


class ConfigFileError(ConfigError, UnusableFile):
    """agent.yaml itself cannot be used: unreadable, not YAML, or a setting is invalid."""

    def __init__(self, path: Path, problem: str, remedy: str = "") -> None:
        UnusableFile.__init__(
            self,
            path,
            problem,
            remedy
            or "Fix it (every setting is documented in the project's agent.yaml), or "
            "write a new one with `near-agent init --force`.",
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannerConfig(_Strict):
    kind: Literal["offline", "llm"] = "offline"
    base_url: str | None = None  # any OpenAI-compatible endpoint
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"  # the key itself never lives in agent.yaml
    timeout_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _llm_needs_endpoint(self) -> PlannerConfig:
        if self.kind == "llm" and not (self.base_url and self.model):
            raise ValueError("planner.kind 'llm' needs planner.base_url and planner.model")
        return self


class RpcConfig(_Strict):
    """How the network's RPC endpoints are reached (tools/endpoints.py); no key lives here."""

    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    # endpoints in order of preference; empty: rpc_url, else the network's defaults
    urls: list[str] = []
    archival_urls: list[str] = []  # for lookups of old transactions (reconcile)
    api_key_env: str | None = None  # the environment variable holding the providers' API key
    api_key_header: str = DEFAULT_API_KEY_HEADER  # "Authorization" sends "Bearer KEY"
    max_requests: int | None = Field(default=None, ge=1)  # per command; None: no limit
    max_retry_after_s: float = Field(default=DEFAULT_MAX_RETRY_AFTER_S, ge=0, le=3600)
    # seconds a command may wait on the network without an answer (retries, failovers included)
    deadline_s: float = Field(default=DEFAULT_DEADLINE_S, gt=0, le=3600)

    @field_validator("urls", "archival_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("api_key_header")
    @classmethod
    def _header_name(cls, name: str) -> str:
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(f"{name!r} is not an HTTP header name")
        return name


class Defaults(_Strict):
    max_slippage_bps: int = Field(default=50, ge=0, le=10_000)
    token: str = "NEAR"
    # what USD limits are priced against, through the exchange's pools; unset: the network's
    # first stablecoin (USDC on testnet and mainnet), filled in by AgentConfig
    stablecoin: str | None = None

    @field_validator("stablecoin")
    @classmethod
    def _stablecoin_is_a_token(cls, value: str | None) -> str | None:
        """Prices come from the exchange's pools, which hold fungible tokens, never native NEAR."""
        if value is not None and names_native_near(value):
            raise ValueError(
                "the stablecoin must be a fungible token that pools price against (USDC, or its "
                "contract id), not native NEAR"
            )
        return value


_RULES = PriceRules()


class PricingConfig(_Strict):
    """The price mechanism's knobs (policies/pricing.py explains each default); one set for the
    policy's USD caps and quotes and for the scheduler's triggers."""

    min_liquidity_usd: int = Field(default=_RULES.min_liquidity_usd, ge=0)
    max_spread_bps: int = Field(default=_RULES.max_spread_bps, ge=0, le=9_999)
    min_sources: int = Field(default=_RULES.min_sources, ge=1)
    sole_source_min_liquidity_usd: int = Field(default=_RULES.sole_source_min_liquidity_usd, ge=0)

    def rules(self) -> PriceRules:
        return PriceRules(**self.model_dump())


class ContractsConfig(_Strict):
    """Contract ids over the network's own (unset: the network's; see tools/network_catalog.py)."""

    exchange: str | None = None  # a Ref-compatible exchange
    wrap: str | None = None  # wNEAR
    tasks: str | None = None  # near-agent's tasks contract (devnet-only unless you deploy it)
    notary: str | None = None  # near-agent's notary, for `audit anchor` (likewise)

    @field_validator("exchange", "wrap", "tasks", "notary")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        try:
            return None if value is None else check_account_id(value, "contract")
        except InvalidAccountIdError as exc:
            raise ValueError(exc.message) from None


class TokenConfig(_Strict):
    """One token to list on the network (over a listed one with its symbol or contract)."""

    symbol: str
    contract_id: str
    decimals: int = Field(ge=0, le=36)


class SchedulerConfig(_Strict):
    """How the daemon runs strategies (agent/scheduler/core.py)."""

    # fires acting at once; one strategy's fires never overlap, and one access key still sends
    # one transaction at a time (tools/nonce_ledger.py), whatever this says
    max_concurrent_fires: int = Field(default=16, ge=1, le=1024)


class AgentConfig(_Strict):
    network: Literal["devnet", "testnet", "mainnet", "custom"] = "devnet"
    rpc_url: str | None = None  # required for custom; overrides the default for the others
    devnet_manifest: Path | None = None  # default: HOME/devnet/manifest.json
    account_id: str
    key_file: Path | None = None  # near-cli credentials file; default ~/.near-credentials/...
    planner: PlannerConfig = PlannerConfig()
    rpc: RpcConfig = RpcConfig()
    contracts: ContractsConfig = ContractsConfig()
    tokens: list[TokenConfig] = []  # listed over the network's own verified tokens
    stablecoins: list[str] | None = None  # symbols prices are read against; unset: the network's
    defaults: Defaults = Defaults()
    pricing: PricingConfig = PricingConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    # No longer read: grants live only in the grant store and change only through
    # `near-agent grants add` (or `init --grants`). Accepted so an older agent.yaml still loads;
    # the CLI says once that it is ignored (agent/grant_changes.py).
    grants_file: Path | None = None
    strategies: list[dict[str, Any]] = []

    @field_validator("strategies")
    @classmethod
    def _typed_strategies(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each entry must be a valid strategy (agent/scheduler/strategies.py)."""
        from agent.scheduler.strategies import parse_strategies

        parse_strategies(items)
        return items

    @model_validator(mode="after")
    def _custom_needs_rpc(self) -> AgentConfig:
        if self.network == "custom" and not self.rpc_url:
            raise ValueError("network 'custom' needs rpc_url")
        return self

    @model_validator(mode="after")
    def _overrides_fit_the_network(self) -> AgentConfig:
        """Conflicting contracts, tokens or stablecoins are refused when the file is read, naming
        the field; a devnet's own list is known only from its manifest, checked when it is read.
        The unset ``defaults.stablecoin`` becomes the network's first stablecoin."""
        try:
            if self.network in ("testnet", "mainnet"):
                network = apply_overrides(public_network(self.network), self.network_overrides)
                stablecoins: tuple[str, ...] = network.stablecoins
            else:
                check_tokens([t.model_dump() for t in self.tokens], "tokens", "agent.yaml")
                stablecoins = tuple(self.stablecoins or DEFAULT_STABLECOIN_SYMBOLS)
        except NetworkConfigError as exc:
            raise ValueError(exc.message.removeprefix("agent.yaml: ")) from None
        if self.defaults.stablecoin is None:
            chosen = stablecoins[0] if stablecoins else "USDC"
            self.defaults = self.defaults.model_copy(update={"stablecoin": chosen})
        return self

    @property
    def stablecoin(self) -> str:
        """What USD limits are priced against: ``defaults.stablecoin``, filled in when unset."""
        assert self.defaults.stablecoin is not None  # _overrides_fit_the_network fills it
        return self.defaults.stablecoin

    @property
    def network_overrides(self) -> NetworkOverrides:
        """agent.yaml's contracts, tokens and stablecoins, as tools.network applies them."""
        return NetworkOverrides(
            contracts=self.contracts.model_dump(exclude_none=True),
            tokens=tuple(t.model_dump() for t in self.tokens),
            stablecoins=tuple(self.stablecoins) if self.stablecoins is not None else None,
        )


def load_config(path: Path) -> AgentConfig:
    """Read agent.yaml; relative paths inside it are relative to the file's folder."""
    if not path.exists():
        raise ConfigFileError(
            path, "the file does not exist.", "Run `near-agent init --account ID` first."
        )
    try:
        raw = load_yaml(path.read_bytes().decode("utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            path, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})."
        ) from exc
    except (OSError, RecursionError, YAMLError) as exc:
        raise ConfigFileError(path, f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigFileError(path, "it must hold a mapping of settings (`name: value` lines).")
    try:
        config = AgentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigFileError(path, describe_validation_error(exc)) from exc
    # the key's value is redacted wherever it appears (an endpoint may echo it back)
    register_secret(os.environ.get(config.planner.api_key_env))
    if config.rpc.api_key_env:
        register_secret(os.environ.get(config.rpc.api_key_env))
    base = path.resolve().parent
    updates = {
        name: (base / value) if value is not None and not value.is_absolute() else value
        for name in ("devnet_manifest", "key_file", "grants_file")
        if (value := getattr(config, name)) is not None
    }
    return config.model_copy(update=updates)
