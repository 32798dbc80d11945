"""Exporting the audit log for other tools: JSON Lines (lossless) or CSV (for spreadsheets).

Both carry ``prev_hash`` and ``hash`` so an exported copy can be checked against a recorded head.
"""

from __future__ import annotations

import csv
import json
from typing import Literal, TextIO

from memory.audit import AuditLog

ExportFormat = Literal["jsonl", "csv"]
CSV_COLUMNS = (
    "id",
    "ts",
    "kind",
    "actor",
    "correlation_id",
    "tool",
    "status",
    "data",
    "prev_hash",
    "hash",
)


def export(log: AuditLog, out: TextIO, fmt: ExportFormat = "jsonl") -> int:
    """Write every entry in order to ``out``; returns how many were written."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format {fmt!r}: use jsonl or csv")
    count = 0
    if fmt == "jsonl":
        for entry in log.iter_all():
            out.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for entry in log.iter_all():
        row = entry.to_dict()
        row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
        count += 1
    return count
