"""Writing a working home: agent.yaml for a network and an account (``near-agent init``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeGuard, get_args

import yaml

from agent.config import AgentConfig, ConfigError
from agent.home import Home

Network = Literal["devnet", "testnet", "mainnet"]
NETWORKS: tuple[Network, ...] = get_args(Network)


def is_network(name: str) -> TypeGuard[Network]:
    """Whether ``init`` can write a home for a network of this name."""
    return name in NETWORKS


def devnet_key_file(manifest_path: Path, account_id: str) -> Path:
    """The key file a devnet manifest lists for ``account_id``; ConfigError if it lists none."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no devnet manifest at {manifest_path}: start one with `near-agent devnet`"
        ) from exc
    for entry in manifest.get("accounts", []):
        if entry.get("account_id") == account_id:
            path = Path(entry["key_file"])
            return path if path.is_absolute() else manifest_path.parent / path
    known = ", ".join(e.get("account_id", "?") for e in manifest.get("accounts", []))
    raise ConfigError(f"the devnet has no account {account_id!r} (it has: {known})")


def write_config(
    home: Home,
    *,
    network: Network,
    account_id: str,
    key_file: Path | None = None,
    devnet_manifest: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Validate and write HOME/agent.yaml; refuses to replace an existing one unless asked."""
    if home.config_file.exists() and not overwrite:
        raise ConfigError(f"{home.config_file} already exists (pass --force to replace it)")
    if network == "devnet":
        devnet_manifest = (devnet_manifest or home.devnet_dir / "manifest.json").resolve()
        key_file = key_file or devnet_key_file(devnet_manifest, account_id)
    body: dict[str, object] = {"network": network, "account_id": account_id}
    if devnet_manifest is not None:
        body["devnet_manifest"] = str(devnet_manifest)
    if key_file is not None:
        body["key_file"] = str(Path(key_file).expanduser().resolve())
    AgentConfig.model_validate(body)  # the same rules load_config applies
    home.make()
    header = (
        "# Written by `near-agent init`; every setting is documented in the project's agent.yaml.\n"
    )
    home.config_file.write_text(header + yaml.safe_dump(body, sort_keys=False))
    return home.config_file
