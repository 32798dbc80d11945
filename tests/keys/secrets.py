"""Every text form a secret key could leak in."""

from __future__ import annotations

import base58

from tools.keypair import KeyPair


def secret_forms(pair: KeyPair) -> list[str]:
    """The 64-byte form with and without ``ed25519:``, and the 32-byte seed (base58 and hex)."""
    full = base58.b58encode(pair.seed + pair.public_bytes).decode()
    seed = base58.b58encode(pair.seed).decode()
    return [pair.secret_key, full, f"ed25519:{seed}", seed, pair.seed.hex()]


def find_leaks(haystack: bytes | str, pairs: list[KeyPair]) -> list[str]:
    """Which secret forms occur in ``haystack`` (named by public key, never by the secret)."""
    data = haystack.encode() if isinstance(haystack, str) else haystack
    found = []
    for pair in pairs:
        for index, form in enumerate(secret_forms(pair)):
            if form.encode() in data or pair.seed in data:
                found.append(f"{pair.public_key} (form {index})")
    return found
