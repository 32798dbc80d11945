"""The agent's own key folder (HOME/keys), optionally encrypted with a passphrase.

Why: near-cli keeps secrets in plain JSON; a user who wants the agent's keys protected at rest
turns encryption on, and from then on every key the agent stores (imported, function-call, the
trading sub-account's) is sealed with scrypt + AES-256-GCM. The plaintext secret is only ever
held in memory: files are written whole, with mode 0600, holding ciphertext when encrypted.

A key file is near-cli's ``{"account_id", "public_key", "private_key"}`` or, encrypted,
``{"account_id", "public_key", "encrypted": {...}}``; either may carry ``permission`` (a
function-call key's receiver, methods and allowance; absent means full access) and ``pool``
(a further full-access key of the account's key pool, tools.key_pool: ``pending`` from when its
secret is written until the transaction adding it lands, ``active`` after).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tools.errors import CredentialsError
from tools.key_sealing import (
    PASSPHRASE_ENV as PASSPHRASE_ENV,  # re-exported: callers name it here
)
from tools.key_sealing import (
    VERIFIER,
    decrypt_key_file,
    is_encrypted_file,
    open_box,
    owner_aad,
    passphrase_from_env_or_prompt,
    seal,
)
from tools.keypair import KeyPair, decode_public_key
from tools.keys import check_permissions, load_credentials
from tools.secret_text import register_held_public_key, register_key_secret

MARKER = "keystore.json"
PassphraseSource = Callable[[], str]
POOL_PENDING = "pending"  # the secret is held; the key may not be on chain yet
POOL_ACTIVE = "active"  # on chain: the key ring signs with it
POOL_STATES = (POOL_PENDING, POOL_ACTIVE)


def write_private_file(path: Path, body: Mapping[str, Any]) -> None:
    """Write JSON readable by its owner only, atomically (a crash leaves the old file or none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(dict(body), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class FunctionCallPermission:
    """What a function-call access key may do: call ``method_names`` on ``receiver_id``."""

    receiver_id: str
    method_names: tuple[str, ...] = ()
    allowance: int | None = None  # yoctoNEAR for gas; None = unlimited

    def to_json(self) -> dict[str, Any]:
        return {
            "receiver_id": self.receiver_id,
            "method_names": list(self.method_names),
            "allowance": None if self.allowance is None else str(self.allowance),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FunctionCallPermission:
        allowance = raw.get("allowance")
        return cls(
            receiver_id=str(raw["receiver_id"]),
            method_names=tuple(str(m) for m in raw.get("method_names") or ()),
            allowance=None if allowance is None else int(allowance),
        )


@dataclass(frozen=True)
class KeyEntry:
    """One stored key, described without its secret."""

    path: Path
    account_id: str
    public_key: str
    encrypted: bool
    permission: FunctionCallPermission | None = None  # None = full access
    note: str = ""
    pool: str = ""  # "" = not a pool key, else one of POOL_STATES

    @property
    def full_access(self) -> bool:
        return self.permission is None

    @property
    def pool_active(self) -> bool:
        return self.pool == POOL_ACTIVE


@dataclass
class Keystore:
    """HOME/keys: where the agent stores the keys it imported or created."""

    root: Path
    passphrase: PassphraseSource = field(default=passphrase_from_env_or_prompt, repr=False)
    _cached: str | None = field(default=None, repr=False)

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def encrypted(self) -> bool:
        """Encryption is a property of the whole folder, set once by :meth:`enable_encryption`."""
        try:
            return bool(json.loads(self.marker.read_text()).get("encrypted"))
        except (OSError, ValueError, AttributeError):
            return False

    def _passphrase(self) -> str:
        if self._cached is None:
            value = self.passphrase()
            self._check(value)
            self._cached = value
        return self._cached

    def _check(self, passphrase: str) -> None:
        try:
            raw = json.loads(self.marker.read_text())
        except (OSError, ValueError) as exc:
            raise CredentialsError(f"{self.marker} is unreadable") from exc
        open_box(raw.get("verifier") or {}, passphrase, VERIFIER, str(self.marker))

    def enable_encryption(self, passphrase: str | None = None) -> None:
        """Turn encryption on (keys already stored in plain are sealed with the passphrase)."""
        if self.encrypted:
            if passphrase is None:
                self._passphrase()
            else:
                self._check(passphrase)
                self._cached = passphrase
            return
        value = passphrase if passphrase is not None else self.passphrase()
        verifier = seal(VERIFIER, value, VERIFIER)
        plain = [e for e in self.entries() if not e.encrypted]
        pairs = [(e, self._load_plain(e.path)) for e in plain]
        write_private_file(self.marker, {"encrypted": True, "verifier": verifier})
        self._cached = value
        for entry, pair in pairs:
            self.store(
                entry.account_id,
                pair,
                permission=entry.permission,
                note=entry.note,
                path=entry.path,
                pool=entry.pool,
            )

    def path_for(
        self,
        account_id: str,
        public_key: str,
        permission: FunctionCallPermission | None,
        *,
        pool: bool = False,
    ) -> Path:
        """One file for an account's main full-access key; pool keys and function-call keys
        are also named by their key."""
        tag = public_key.removeprefix("ed25519:")[:12]
        if pool:
            return self.root / f"{account_id}.pool.{tag}.json"
        if permission is None:
            return self.root / f"{account_id}.json"
        return self.root / f"{account_id}.fc.{permission.receiver_id}.{tag}.json"

    def store(
        self,
        account_id: str,
        pair: KeyPair,
        *,
        permission: FunctionCallPermission | None = None,
        note: str = "",
        path: Path | None = None,
        pool: str = "",
    ) -> KeyEntry:
        """Write one key (sealed when the keystore is encrypted); returns its description.
        ``pool`` (one of POOL_STATES) stores a full-access key of the account's pool."""
        if pool and (pool not in POOL_STATES or permission is not None):
            raise CredentialsError(f"a pool key is a full-access key in state {POOL_STATES}")
        target = path or self.path_for(account_id, pair.public_key, permission, pool=bool(pool))
        body: dict[str, Any] = {"account_id": account_id, "public_key": pair.public_key}
        if self.encrypted:
            body["encrypted"] = seal(
                pair.secret_key.encode("ascii"),
                self._passphrase(),
                owner_aad(account_id, pair.public_key),
            )
        else:
            body["private_key"] = pair.secret_key
        if permission is not None:
            body["permission"] = permission.to_json()
        if note:
            body["note"] = note
        if pool:
            body["pool"] = pool
        write_private_file(target, body)
        register_key_secret(pair.seed, pair.public_bytes)  # hidden from here on, shown public
        return KeyEntry(
            target, account_id, pair.public_key, "encrypted" in body, permission, note, pool
        )

    def set_pool_state(self, entry: KeyEntry, state: str) -> KeyEntry:
        """Mark a pool key ``state`` (rewriting its file whole; the secret is not opened)."""
        if not entry.pool or state not in POOL_STATES:
            raise CredentialsError(f"{entry.path} is not a pool key, or {state!r} no pool state")
        check_permissions(entry.path)
        raw = json.loads(entry.path.read_text())
        raw["pool"] = state
        write_private_file(entry.path, raw)
        return replace(entry, pool=state)

    def entries(self) -> list[KeyEntry]:
        """Every stored key, read without decrypting anything."""
        out: list[KeyEntry] = []
        if not self.root.is_dir():
            return out
        for path in sorted(self.root.glob("*.json")):
            if path.name == MARKER:
                continue
            try:
                raw = json.loads(path.read_text())
                perm = raw.get("permission")
                out.append(
                    KeyEntry(
                        path=path,
                        account_id=str(raw["account_id"]),
                        public_key=str(raw["public_key"]),
                        encrypted=is_encrypted_file(raw),
                        permission=FunctionCallPermission.from_json(perm) if perm else None,
                        note=str(raw.get("note", "")),
                        pool=_pool_state(raw),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not one of ours; never fatal for listing
            with contextlib.suppress(ValueError):  # a key the user holds: shown where printed
                decode_public_key(out[-1].public_key)
                register_held_public_key(out[-1].public_key)
        return out

    def load(self, entry: KeyEntry) -> KeyPair:
        """The key pair of a stored entry (asks for the passphrase once when encrypted)."""
        check_permissions(entry.path)
        if not entry.encrypted:
            return self._load_plain(entry.path)
        raw = json.loads(entry.path.read_text())
        return decrypt_key_file(raw, self._passphrase(), str(entry.path))

    def _load_plain(self, path: Path) -> KeyPair:
        return load_credentials(path).key_pair

    def remove(self, entry: KeyEntry) -> None:
        entry.path.unlink(missing_ok=True)


def _pool_state(raw: Mapping[str, Any]) -> str:
    """A file's pool state; a value this version does not know is read as pending (never
    signed with), and a function-call key is never a pool key."""
    state = raw.get("pool")
    if not state or raw.get("permission"):
        return ""
    return state if state in POOL_STATES else POOL_PENDING
