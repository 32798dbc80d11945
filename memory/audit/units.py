"""The token decimals and symbols a home already knows, for showing audit amounts in whole tokens.

Read from the ``ft_metadata`` cache in pools.db (written by the token registry as it met each
token), read-only: a view never creates or changes the file, and a damaged or missing one just
leaves tokens in base units.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from memory.audit.rows import TokenUnits

_MAX_DECIMALS = 64


def known_token_units(pools_db: Path) -> TokenUnits:
    """Decimals and symbol of every token in the home's metadata cache (any network)."""
    if not pools_db.is_file():
        return TokenUnits()
    known: dict[str, tuple[int, str]] = {}
    try:
        conn = sqlite3.connect(f"file:{pools_db}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = conn.execute("SELECT contract_id, metadata FROM token_metadata").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return TokenUnits()
    for contract_id, text in rows:
        try:
            meta = json.loads(text)
        except (TypeError, ValueError):
            continue
        decimals = meta.get("decimals") if isinstance(meta, dict) else None
        symbol = meta.get("symbol") if isinstance(meta, dict) else None
        if not isinstance(decimals, int) or isinstance(decimals, bool):
            continue
        if 0 <= decimals <= _MAX_DECIMALS and isinstance(symbol, str) and symbol:
            known[str(contract_id)] = (decimals, symbol)
    return TokenUnits(known)
