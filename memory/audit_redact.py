"""Redaction at the audit log's door: secrets must never reach the database file.

The log is append-only and hash-chained, so a secret written once could never be removed without
breaking the chain. Everything the log stores passes through :func:`redact` first.
"""

from __future__ import annotations

import re
from typing import Any

import base58

REDACTED = "[REDACTED]"

_SECRET_FIELD = re.compile(
    r"(private[_-]?key|secret[_-]?key|secret|api[_-]?key|access[_-]?token|auth[_-]?token|"
    r"refresh[_-]?token|passphrase|password|passwd|seed[_-]?phrase|mnemonic|credentials?)",
    re.IGNORECASE,
)
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519 = re.compile(rf"(?i:ed25519):([{_B58}]{{40,100}})")
_BARE_B58 = re.compile(rf"(?<![{_B58}])[{_B58}]{{64,90}}(?![{_B58}])")
_OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")


def is_secret_field(name: str) -> bool:
    """Fields whose value is a secret whatever it looks like (``private_key``, ``password``...)."""
    return bool(_SECRET_FIELD.search(name))


def _ed25519_secret(match: re.Match[str]) -> str:
    """Always hidden: a 64-byte value is a secret key, and so may be a 32-byte one (a seed)."""
    return f"ed25519:{REDACTED}"


def _public_key(match: re.Match[str]) -> str:
    """Under a field named as a public key, a 32-byte value is the key that signed: keep it."""
    try:
        size = len(base58.b58decode(match.group(1)))
    except ValueError:
        size = 0
    return match.group(0) if size == 32 else f"ed25519:{REDACTED}"


_PUBLIC_KEY_FIELD = re.compile(r"(?i)(^|_)(public_key|pk)$")


def _bare_secret(match: re.Match[str]) -> str:
    try:
        size = len(base58.b58decode(match.group(0)))
    except ValueError:
        size = 0
    return REDACTED if size == 64 else match.group(0)


def redact_text(text: str, *, public_key_field: bool = False) -> str:
    """Replace secret keys, ``sk-`` API keys and Bearer tokens found anywhere inside ``text``.

    Any 64-byte ed25519 value is treated as a secret key, with or without its ``ed25519:``
    prefix (a signature looks the same and loses nothing by being hidden).
    """
    if "ed25519:" in text.lower():
        text = _ED25519.sub(_public_key if public_key_field else _ed25519_secret, text)
    if len(text) >= 64:
        text = _BARE_B58.sub(_bare_secret, text)
    if "sk-" in text:
        text = _OPENAI_KEY.sub(REDACTED, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced, recursing through dicts and lists."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            clean_key = redact_text(key) if isinstance(key, str) else key
            if isinstance(key, str) and is_secret_field(key) and item not in (None, ""):
                out[clean_key] = REDACTED
            elif isinstance(key, str) and isinstance(item, str) and _PUBLIC_KEY_FIELD.search(key):
                out[clean_key] = redact_text(item, public_key_field=True)
            else:
                out[clean_key] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
