"""The exact bytes an audit entry's hash covers, and the payload rules that keep them exact.

An entry is stored as its canonical JSON (``body``): ``{"id":N,`` first, then every other field
with sorted keys, compact separators, UTF-8. ``hash = sha256(prev_hash_hex + body)``. Verifying
therefore hashes the stored bytes directly; the queryable columns are derived from ``body`` by
SQLite, so they cannot disagree with what was hashed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

GENESIS_HASH = "0" * 64


class AuditPayloadError(ValueError):
    """A payload the audit log refuses (a float, a non-string key, an unsupported type)."""


def normalize(value: Any, path: str = "data") -> Any:
    """Plain JSON values only; money stays an int or a decimal string, never a float.

    Decimals become their exact string, datetimes ISO 8601, pydantic models their JSON dump.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise AuditPayloadError(
            f"{path} is a float ({value!r}): pass amounts as int base units or decimal strings"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AuditPayloadError(f"{path} is not a finite number ({value!r})")
        return str(value)
    if isinstance(value, Enum):
        return normalize(value.value, path)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        # JSON mode: a CanonicalAction is stored exactly as its action_hash covers it.
        return normalize(value.model_dump(mode="json"), path)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditPayloadError(f"{path} has a non-string key {key!r}")
            out[key] = normalize(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [normalize(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise AuditPayloadError(
        f"{path} has a value of type {type(value).__name__} the log cannot store"
    )


def dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, compact, UTF-8 kept as is, NaN refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def body_for(entry_id: int, fields: dict[str, Any]) -> bytes:
    """The canonical bytes of entry ``entry_id`` with ``fields`` (everything but the id)."""
    rest = dumps(fields)
    return (f'{{"id":{entry_id},' + rest[1:]).encode()


def chain_hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()
