"""Writing a working home: agent.yaml for a network and an account (``near-agent init``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeGuard, get_args

import yaml

from agent.config import AgentConfig, ConfigError
from agent.home import Home
from tools.errors import InvalidAccountIdError
from tools.keys import default_credentials_path
from tools.network import check_account_id

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


def check_key_file(path: Path, account_id: str, *, explicit: bool = True) -> None:
    """ConfigError unless ``path`` holds a key of ``account_id`` that only its owner can read.

    An encrypted key is checked without its passphrase (its account and its mode); its secret
    is first opened when the agent signs."""
    from tools.errors import CredentialsError
    from tools.key_sealing import is_encrypted_file
    from tools.keys import check_permissions, load_credentials

    if not path.is_file():
        how = (
            "pass the right --key-file"
            if explicit
            else "pass --key-file FILE (a near-cli credentials file), or log in with near-cli"
        )
        raise ConfigError(f"no key file at {path}: {how}; nothing was written")
    try:
        raw = json.loads(path.read_text())
        if isinstance(raw, dict) and is_encrypted_file(raw):
            if raw.get("account_id") not in (None, account_id):
                raise CredentialsError(f"key file {path} is for {raw['account_id']!r}")
            check_permissions(path)
        else:
            load_credentials(path, account_id)
    except (OSError, ValueError):
        raise ConfigError(
            f"key file {path} is unreadable or not JSON; nothing was written"
        ) from None
    except CredentialsError as exc:
        raise ConfigError(f"{exc.message}; nothing was written") from exc


def check_devnet_answers(manifest_path: Path, *, deadline_s: float = 5.0) -> None:
    """ConfigError unless the devnet a manifest describes is running and is that very chain
    (same chain id and genesis hash): a manifest left by a devnet since reset or stopped would
    make a home that signs for a chain that is not there."""
    import asyncio

    from tools.chain_identity import identity_from_status
    from tools.chain_setup import RpcSettings, chain_client_for, manifest_chain
    from tools.errors import ToolError
    from tools.network import devnet_from_manifest

    network = devnet_from_manifest(manifest_path)
    expected = manifest_chain(network)

    async def served() -> object:
        chain = chain_client_for(
            network, timeout_s=deadline_s, retries=0, rpc=RpcSettings(deadline_s=deadline_s)
        )
        try:
            return await chain.rpc("status", [])
        finally:
            await chain.close()

    try:
        status = asyncio.run(served())
        identity = identity_from_status(status, network.rpc_url)
    except ToolError as exc:
        raise ConfigError(
            f"the devnet of the manifest {manifest_path} does not answer: {exc.message} "
            "Or pass the running devnet's manifest with --manifest. Nothing was written."
        ) from exc
    if expected is not None and not expected.admits(identity):
        raise ConfigError(
            f"the manifest {manifest_path} is stale: the devnet at {network.rpc_url} serves "
            f"another chain (chain {identity.chain_id}, genesis {identity.genesis_hash}; the "
            f"manifest names chain {expected.chain_id}, genesis {expected.genesis_hash}). Pass "
            "the running devnet's manifest with --manifest; nothing was written"
        )


def write_config(
    home: Home,
    *,
    network: Network,
    account_id: str,
    key_file: Path | None = None,
    devnet_manifest: Path | None = None,
    overwrite: bool = False,
    check_node: bool = False,
) -> Path:
    """Validate and write HOME/agent.yaml; refuses to replace an existing one unless asked.

    ConfigError, nothing written, for an invalid account id, a key file that is missing, for
    another account or readable by others, and (``check_node``, as ``init`` asks) a devnet
    manifest whose devnet is not running or is another chain now."""
    if home.config_file.exists() and not overwrite:
        raise ConfigError(f"{home.config_file} already exists (pass --force to replace it)")
    try:
        check_account_id(account_id)
    except InvalidAccountIdError as exc:
        raise ConfigError(f"{exc.message}; nothing was written") from exc
    if network == "devnet":
        devnet_manifest = (devnet_manifest or home.devnet_dir / "manifest.json").resolve()
        key_file = key_file or devnet_key_file(devnet_manifest, account_id)
    check_key_file(
        Path(key_file).expanduser()
        if key_file is not None
        else default_credentials_path(network, account_id),
        account_id,
        explicit=key_file is not None,
    )
    if check_node and network == "devnet" and devnet_manifest is not None:
        check_devnet_answers(devnet_manifest)
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
