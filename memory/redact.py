"""Redaction: secrets must never reach a database file, a log line or the terminal.

The audit log is append-only and hash-chained, so a secret written once could never be removed
without breaking the chain. Everything the log and the memory stores keep, every log record and
everything the CLI prints passes through :func:`redact_text` first: secrets are found by shape
and by value (every key and API key this process loaded, see ``tools.secret_text``), so an API
key with no recognisable prefix is hidden wherever it is echoed back.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tools.secret_text import (
    BARE_B58,
    BEARER,
    ED25519_VALUE,
    MIN_SECRET_CHARS,
    OPENAI_KEY,
    decoded_size,
    hide_registered,
    is_held_public_key,
    secrets_generation,
)

REDACTED = "[REDACTED]"

_SECRET_FIELD = re.compile(
    r"(private[_-]?key|secret[_-]?key|secret|api[_-]?key|access[_-]?token|auth[_-]?token|"
    r"refresh[_-]?token|passphrase|password|passwd|seed[_-]?phrase|mnemonic|credentials?)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """Fields whose value is a secret whatever it looks like (``private_key``, ``password``...)."""
    return bool(_SECRET_FIELD.search(name))


def _ed25519_secret(match: re.Match[str]) -> str:
    """Always hidden: a 64-byte value is a secret key, and so may be a 32-byte one (a seed)."""
    return f"ed25519:{REDACTED}"


def _public_key(match: re.Match[str]) -> str:
    """Under a field named as a public key, a 32-byte value is the key that signed: keep it."""
    return match.group(0) if decoded_size(match.group(1)) == 32 else f"ed25519:{REDACTED}"


_PUBLIC_KEY_FIELD = re.compile(r"(?i)(^|_)(public_key|pk)$")

# The same label written out in text: JSON or YAML ("public_key": "ed25519:...") or words
# ("public key ed25519:..."), just before the value.
_PUBLIC_KEY_LABEL = re.compile(r"""(?i)public[_ ]key["']?\s*[:=]?\s*["']?$""")


def _ed25519_in_text(match: re.Match[str]) -> str:
    """A value labelled as a public key keeps a 32-byte key (as under a public_key field), and
    so does the public key of a key this process holds; anything else is hidden."""
    if is_held_public_key(match.group(1)):
        return match.group(0)
    before = match.string[max(0, match.start() - 24) : match.start()]
    return _public_key(match) if _PUBLIC_KEY_LABEL.search(before) else _ed25519_secret(match)


def _bare_secret(match: re.Match[str]) -> str:
    return REDACTED if decoded_size(match.group(0)) == 64 else match.group(0)


# What short texts read once redacted, for as long as no new secret is registered: an audit
# entry repeats the same rule names, account ids and tokens, so most texts were seen before.
_SEEN_MAX_CHARS = 256
_SEEN_MAX_TEXTS = 8192
_seen: dict[tuple[str, bool], tuple[int, str]] = {}


def redact_text(text: str, *, public_key_field: bool = False) -> str:
    """Replace secret keys, ``sk-`` API keys, Bearer tokens and registered secrets in ``text``.

    Any 64-byte ed25519 value is treated as a secret key, with or without its ``ed25519:``
    prefix (a signature looks the same and loses nothing by being hidden). Registered values
    (``tools.secret_text.register_secret``) are replaced wherever they occur, whatever they
    look like.
    """
    if len(text) < MIN_SECRET_CHARS:
        return text  # shorter than every shape below and every registered value, even disguised
    if len(text) > _SEEN_MAX_CHARS:
        return _redacted(text, public_key_field)
    # Read before redacting: an answer found under an older generation may miss a secret
    # registered since, so it is only reused under the generation it was found in.
    generation = secrets_generation()
    key = (text, public_key_field)
    seen = _seen.get(key)
    if seen is not None and seen[0] == generation:
        return seen[1]
    clean = _redacted(text, public_key_field)
    if len(_seen) >= _SEEN_MAX_TEXTS:
        _seen.clear()
    _seen[key] = (generation, clean)
    return clean


def _redacted(text: str, public_key_field: bool) -> str:
    lower = text.lower()
    if "ed25519:" in lower:
        text = ED25519_VALUE.sub(_public_key if public_key_field else _ed25519_in_text, text)
    if len(text) >= 64:
        text = BARE_B58.sub(_bare_secret, text)
    if "sk-" in text:
        text = OPENAI_KEY.sub(REDACTED, text)
    if "bearer" in lower:
        text = BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return hide_registered(text, REDACTED)


@lru_cache(maxsize=4096)
def _is_public_key_field(name: str) -> bool:
    return bool(_PUBLIC_KEY_FIELD.search(name))


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced, recursing through dicts and lists."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                out[key] = redact(item)
                continue
            clean_key = redact_text(key)
            if is_secret_field(key) and item not in (None, ""):
                out[clean_key] = REDACTED
            elif isinstance(item, str) and _is_public_key_field(key):
                out[clean_key] = redact_text(item, public_key_field=True)
            else:
                out[clean_key] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
