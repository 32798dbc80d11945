"""The agent's own key folder (HOME/keys), optionally encrypted with a passphrase.

Why: near-cli keeps secrets in plain JSON; a user who wants the agent's keys protected at rest
turns encryption on, and from then on every key the agent stores (imported, function-call, the
trading sub-account's) is sealed with scrypt + AES-256-GCM. The plaintext secret is only ever
held in memory: files are written whole, with mode 0600, holding ciphertext when encrypted.

A key file is near-cli's ``{"account_id", "public_key", "private_key"}`` or, encrypted,
``{"account_id", "public_key", "encrypted": {...}}``; either may carry ``permission`` (a
function-call key's receiver, methods and allowance; absent means full access).
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from devnet.keys import KeyPair
from tools.errors import CredentialsError

PASSPHRASE_ENV = "NEAR_AGENT_PASSPHRASE"
MARKER = "keystore.json"
FORMAT = "near-agent-key/1"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_VERIFIER = b"near-agent keystore"

PassphraseSource = Callable[[], str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal(plaintext: bytes, passphrase: str, aad: bytes) -> dict[str, Any]:
    """Encrypt ``plaintext``; ``aad`` (account and public key) binds the box to its owner."""
    if not passphrase:
        raise CredentialsError("an empty passphrase cannot protect a key")
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "format": FORMAT,
        "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
        "cipher": {"name": "aes-256-gcm", "nonce": _b64(nonce)},
        "ciphertext": _b64(AESGCM(key).encrypt(nonce, plaintext, aad)),
    }


def open_box(box: Mapping[str, Any], passphrase: str, aad: bytes, where: str) -> bytes:
    """Decrypt a box from :func:`seal`; a wrong passphrase (or a tampered box) says so."""
    try:
        if box.get("format") != FORMAT:
            raise ValueError(f"unknown format {box.get('format')!r}")
        kdf, cipher = box["kdf"], box["cipher"]
        if kdf.get("name") != "scrypt" or cipher.get("name") != "aes-256-gcm":
            raise ValueError("unsupported kdf or cipher")
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if not (2**14 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
            raise ValueError("kdf parameters out of range")
        key = _derive(passphrase, _unb64(kdf["salt"]), n, r, p)
        nonce, data = _unb64(cipher["nonce"]), _unb64(box["ciphertext"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CredentialsError(f"{where}: the encrypted key is damaged ({exc})") from None
    try:
        return AESGCM(key).decrypt(nonce, data, aad)
    except InvalidTag:
        raise CredentialsError(
            f"{where}: wrong passphrase (or the encrypted key was altered)"
        ) from None


def passphrase_from_env_or_prompt(*, confirm: bool = False, interactive: bool | None = None) -> str:
    """``$NEAR_AGENT_PASSPHRASE`` if set, else a prompt on the terminal, else a clear error."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise CredentialsError(
            f"the keystore is encrypted: set {PASSPHRASE_ENV} or run in a terminal to be asked"
        )
    first = getpass.getpass("Keystore passphrase: ")
    if confirm and getpass.getpass("Repeat the passphrase: ") != first:
        raise CredentialsError("the two passphrases differ; nothing was changed")
    if not first:
        raise CredentialsError("an empty passphrase cannot protect a key")
    return first


def _aad(account_id: str, public_key: str) -> bytes:
    return f"{account_id}\n{public_key}".encode()


def is_encrypted_file(raw: Mapping[str, Any]) -> bool:
    return isinstance(raw.get("encrypted"), Mapping)


def decrypt_key_file(raw: Mapping[str, Any], passphrase: str, where: str) -> KeyPair:
    """The key pair inside an encrypted key file (checked against its public key)."""
    account, public = raw.get("account_id"), raw.get("public_key")
    if not isinstance(account, str) or not isinstance(public, str):
        raise CredentialsError(f"{where}: an encrypted key file needs account_id and public_key")
    secret = open_box(raw["encrypted"], passphrase, _aad(account, public), where)
    try:
        pair = KeyPair.from_secret_key(secret.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise CredentialsError(f"{where}: the decrypted key is not an ed25519 key") from None
    if pair.public_key != public:
        raise CredentialsError(f"{where}: the decrypted key does not match its public_key")
    return pair


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

    @property
    def full_access(self) -> bool:
        return self.permission is None


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
        open_box(raw.get("verifier") or {}, passphrase, _VERIFIER, str(self.marker))

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
        verifier = seal(_VERIFIER, value, _VERIFIER)
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
            )

    def path_for(
        self, account_id: str, public_key: str, permission: FunctionCallPermission | None
    ) -> Path:
        """One file per full-access account; function-call keys are also named by their key."""
        if permission is None:
            return self.root / f"{account_id}.json"
        tag = public_key.removeprefix("ed25519:")[:12]
        return self.root / f"{account_id}.fc.{permission.receiver_id}.{tag}.json"

    def store(
        self,
        account_id: str,
        pair: KeyPair,
        *,
        permission: FunctionCallPermission | None = None,
        note: str = "",
        path: Path | None = None,
    ) -> KeyEntry:
        """Write one key (sealed when the keystore is encrypted); returns its description."""
        target = path or self.path_for(account_id, pair.public_key, permission)
        body: dict[str, Any] = {"account_id": account_id, "public_key": pair.public_key}
        if self.encrypted:
            body["encrypted"] = seal(
                pair.secret_key.encode("ascii"),
                self._passphrase(),
                _aad(account_id, pair.public_key),
            )
        else:
            body["private_key"] = pair.secret_key
        if permission is not None:
            body["permission"] = permission.to_json()
        if note:
            body["note"] = note
        write_private_file(target, body)
        return KeyEntry(target, account_id, pair.public_key, "encrypted" in body, permission, note)

    def entries(self) -> list[KeyEntry]:
        """Every stored key, read without decrypting anything."""
        out = []
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
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not one of ours; never fatal for listing
        return out

    def load(self, entry: KeyEntry) -> KeyPair:
        """The key pair of a stored entry (asks for the passphrase once when encrypted)."""
        from tools.keys import check_permissions

        check_permissions(entry.path)
        if not entry.encrypted:
            return self._load_plain(entry.path)
        raw = json.loads(entry.path.read_text())
        return decrypt_key_file(raw, self._passphrase(), str(entry.path))

    def _load_plain(self, path: Path) -> KeyPair:
        from tools.keys import load_credentials

        return load_credentials(path).key_pair

    def remove(self, entry: KeyEntry) -> None:
        entry.path.unlink(missing_ok=True)
