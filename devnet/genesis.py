"""The devnet's starting state: accounts, keys, deployed contracts and the calls that set them up.

A genesis is data (JSON-serialisable, keys included) so that a state dir can rebuild the exact
same chain on restart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class GenesisAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str
    balance: int  # yoctoNEAR
    secret_keys: list[str]  # full-access keys, "ed25519:<base58 64 bytes>"
    code_name: str | None = None  # a contract from devnet.contracts.CONTRACTS


class SetupCall(BaseModel):
    """A function call applied at genesis as if ``signer_id`` had sent it (no signature needed)."""

    model_config = ConfigDict(extra="forbid")

    signer_id: str
    receiver_id: str
    method_name: str
    args: dict[str, Any]
    deposit: int = 0


class Genesis(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain_id: str = "devnet"
    genesis_time_ns: int
    accounts: list[GenesisAccount]
    setup_calls: list[SetupCall] = []
    manifest: dict[str, Any] = {}  # tokens, exchange, pools, tasks: merged into the manifest
