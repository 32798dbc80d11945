"""ed25519 key pairs in NEAR's text forms (``ed25519:<base58>``), as near-cli writes them.

A leaf module (no project imports): the tools sign with it and the devnet checks signatures
with it, so neither layer has to import the other.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import base58
from nacl.signing import SigningKey

PREFIX = "ed25519:"


def decode_public_key(text: str) -> bytes:
    """32 raw bytes from ``ed25519:<base58>`` or bare base58; ValueError when it is not a key."""
    body = text[len(PREFIX) :] if text.startswith(PREFIX) else text
    try:
        raw = base58.b58decode(body)
    except ValueError as exc:
        raise ValueError(f"public key {text!r} is not base58") from exc
    if len(raw) != 32:
        raise ValueError(f"public key {text!r} is {len(raw)} bytes, an ed25519 key is 32")
    return raw


def encode_public_key(raw: bytes) -> str:
    return PREFIX + base58.b58encode(raw).decode()


@dataclass(frozen=True)
class KeyPair:
    """A signing key; ``secret_key`` is the 64-byte seed+public form near-cli and py-near use."""

    seed: bytes  # 32 bytes

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(os.urandom(32))

    @classmethod
    def from_secret_key(cls, text: str) -> KeyPair:
        body = text[len(PREFIX) :] if text.startswith(PREFIX) else text
        raw = base58.b58decode(body)
        if len(raw) not in (32, 64):
            raise ValueError("an ed25519 secret key is 32 or 64 bytes")
        return cls(raw[:32])

    @property
    def public_bytes(self) -> bytes:
        return bytes(SigningKey(self.seed).verify_key)

    @property
    def public_key(self) -> str:
        return encode_public_key(self.public_bytes)

    @property
    def secret_key(self) -> str:
        return PREFIX + base58.b58encode(self.seed + self.public_bytes).decode()

    def sign(self, message: bytes) -> bytes:
        return SigningKey(self.seed).sign(message).signature

    def write_credentials(self, path: Path, account_id: str) -> None:
        """Write a near-cli credentials file readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "account_id": account_id,
            "public_key": self.public_key,
            "private_key": self.secret_key,
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(body, fh, indent=2)
        os.chmod(path, 0o600)
