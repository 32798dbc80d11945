"""Signing credentials from near-cli key files.

A near-cli file is ``{"account_id", "public_key", "private_key"}``; the default location is
``~/.near-credentials/<network>/<account_id>.json``. A file others can read is refused before it
is read (a leaked full-access key loses the whole account), and an encrypted file from the
agent's keystore is opened with the passphrase. The secret never appears in a repr, a log line
or an error message.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools import key_sealing
from tools.errors import CredentialsError
from tools.keypair import KeyPair
from tools.secret_text import register_key_secret


@dataclass(frozen=True)
class Credentials:
    """An account and the key that signs for it."""

    account_id: str
    key_pair: KeyPair = field(repr=False)

    def __post_init__(self) -> None:
        # every loaded key is redacted wherever it appears in this process (stores, logs, output)
        register_key_secret(self.key_pair.seed, self.key_pair.public_bytes)

    @property
    def public_key(self) -> str:
        return self.key_pair.public_key

    def __repr__(self) -> str:
        return f"Credentials(account_id={self.account_id!r}, public_key={self.public_key!r})"


def default_credentials_path(network_id: str, account_id: str, home: Path | None = None) -> Path:
    """Where near-cli keeps an account's key for a network."""
    base = home if home is not None else Path.home()
    return base / ".near-credentials" / network_id / f"{account_id}.json"


def check_permissions(path: Path) -> None:
    """Refuse a key file that its group or other users can read or write (like ssh does)."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError as exc:
        raise CredentialsError(f"key file {path} does not exist") from exc
    except OSError as exc:
        raise CredentialsError(f"key file {path} is unreadable") from exc
    if mode & 0o077:
        raise CredentialsError(
            f"key file {path} is accessible by other users (mode {mode:04o}); a key must be "
            f"readable by its owner only. Fix it with: chmod 600 {path}",
            path=str(path),
        )


def load_credentials(
    path: Path,
    account_id: str | None = None,
    *,
    passphrase: Callable[[], str] | None = None,
) -> Credentials:
    """Read a near-cli (or encrypted keystore) key file.

    Refuses it when others can read it, when it is for another account or its key is broken.
    ``passphrase`` is asked only for an encrypted file (default: $NEAR_AGENT_PASSPHRASE or a
    terminal prompt).
    """
    path = Path(path).expanduser()
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise CredentialsError(f"key file {path} does not exist") from exc
    except (OSError, ValueError):
        raise CredentialsError(f"key file {path} is unreadable or not JSON") from None
    if not isinstance(raw, dict):
        raise CredentialsError(f"key file {path} must hold a JSON object")
    if key_sealing.is_encrypted_file(raw):
        check_permissions(path)
        ask = passphrase or key_sealing.passphrase_from_env_or_prompt
        pair = key_sealing.decrypt_key_file(raw, ask(), str(path))
    else:
        secret = raw.get("private_key") or raw.get("secret_key")
        if not isinstance(secret, str):
            raise CredentialsError(f"key file {path} has no private_key")
        try:
            pair = KeyPair.from_secret_key(secret)
        except ValueError:
            raise CredentialsError(
                f"key file {path}: the private_key is not an ed25519 key"
            ) from None
    file_account = raw.get("account_id")
    if account_id and file_account and file_account != account_id:
        raise CredentialsError(f"key file {path} is for {file_account!r}, not {account_id!r}")
    chosen = account_id or file_account
    if not chosen:
        raise CredentialsError(f"key file {path} names no account_id; pass the account")
    declared = raw.get("public_key")
    if declared and declared.removeprefix("ed25519:") != pair.public_key.removeprefix("ed25519:"):
        raise CredentialsError(f"key file {path}: public_key does not match the private_key")
    check_permissions(path)  # after the content checks, so a broken file says what is broken
    return Credentials(account_id=chosen, key_pair=pair)


def find_credentials(
    network_id: str,
    account_id: str,
    key_file: Path | None = None,
    home: Path | None = None,
) -> Credentials:
    """The explicit key file if given, else near-cli's default location."""
    path = key_file or default_credentials_path(network_id, account_id, home)
    return load_credentials(path, account_id)
