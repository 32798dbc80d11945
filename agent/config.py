"""The user's configuration (agent.yaml): network, account, keys, planner, grants, defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tools.secret_text import register_secret


class ConfigError(Exception):
    """agent.yaml is missing or invalid; the message names the file and the field."""


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
    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)


class Defaults(_Strict):
    max_slippage_bps: int = Field(default=50, ge=0, le=10_000)
    token: str = "NEAR"
    stablecoin: str = "USDC"  # what USD limits are priced against, through the exchange's pools


class AgentConfig(_Strict):
    network: Literal["devnet", "testnet", "mainnet", "custom"] = "devnet"
    rpc_url: str | None = None  # required for custom; overrides the default for the others
    devnet_manifest: Path | None = None  # default: HOME/devnet/manifest.json
    account_id: str
    key_file: Path | None = None  # near-cli credentials file; default ~/.near-credentials/...
    planner: PlannerConfig = PlannerConfig()
    rpc: RpcConfig = RpcConfig()
    defaults: Defaults = Defaults()
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


def load_config(path: Path) -> AgentConfig:
    """Read agent.yaml; relative paths inside it are relative to the file's folder."""
    if not path.exists():
        raise ConfigError(f"{path} does not exist: run `near-agent init` first")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings")
    try:
        config = AgentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from exc
    # the key's value is redacted wherever it appears (an endpoint may echo it back)
    register_secret(os.environ.get(config.planner.api_key_env))
    base = path.resolve().parent
    updates = {
        name: (base / value) if value is not None and not value.is_absolute() else value
        for name in ("devnet_manifest", "key_file", "grants_file")
        if (value := getattr(config, name)) is not None
    }
    return config.model_copy(update=updates)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, ``field.path: message``, without pydantic's links."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
    )
