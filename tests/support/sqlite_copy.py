"""Copying a live SQLite database the way SQLite means it to be copied.

The stores keep their write-ahead log beside the file after closing (``NAME-wal``), so the file
alone may lack the latest commits; SQLite's backup API copies what a reader sees.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_database(source: Path, target: Path) -> Path:
    """A self-contained copy of ``source`` at ``target`` (any old log of ``target`` removed)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target
