"""Sealing one key file's secret with a passphrase: scrypt + AES-256-GCM, bound to its owner.

Why its own module: reading a single key file (tools/keys.py) and managing the agent's key
folder (tools/keystore.py) both need it, and neither should import the other for it.
"""

from __future__ import annotations

import base64
import getpass
import os
import sys
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tools.errors import CredentialsError
from tools.keypair import KeyPair

FORMAT = "near-agent-key/1"
PASSPHRASE_ENV = "NEAR_AGENT_PASSPHRASE"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
VERIFIER = b"near-agent keystore"


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


def owner_aad(account_id: str, public_key: str) -> bytes:
    return f"{account_id}\n{public_key}".encode()


def is_encrypted_file(raw: Mapping[str, Any]) -> bool:
    return isinstance(raw.get("encrypted"), Mapping)


def decrypt_key_file(raw: Mapping[str, Any], passphrase: str, where: str) -> KeyPair:
    """The key pair inside an encrypted key file (checked against its public key)."""
    account, public = raw.get("account_id"), raw.get("public_key")
    if not isinstance(account, str) or not isinstance(public, str):
        raise CredentialsError(f"{where}: an encrypted key file needs account_id and public_key")
    secret = open_box(raw["encrypted"], passphrase, owner_aad(account, public), where)
    try:
        pair = KeyPair.from_secret_key(secret.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise CredentialsError(f"{where}: the decrypted key is not an ed25519 key") from None
    if pair.public_key != public:
        raise CredentialsError(f"{where}: the decrypted key does not match its public_key")
    return pair
